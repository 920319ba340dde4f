# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""An answer of a community.mysql.mysql_query result, read by its column's name instead of its statement's position."""

from __future__ import annotations

DOCUMENTATION = r"""
name: query_column
short_description: The values of one named column of a mysql_query result of several statements
version_added: 1.4.0
description:
  - M(community.mysql.mysql_query) returns the rows of each of its statements in order, as C(query_result), a list
    of lists. A task that runs several statements on one connection (a decision under a named lock) names each
    answer by a column alias of its own, and reads it with this filter, whichever statement gave it; a statement
    added or moved changes nothing.
  - Refuses a column that rows of two statements have, so that an answer is never read from the wrong one.
options:
  _input:
    description: The registered result of M(community.mysql.mysql_query).
    type: dict
    required: true
  column:
    description: The name of the column, as its statement's C(AS) gives it.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Remove the container when this host's claim won it
  community.docker.docker_container:
    name: "{{ redis_id }}"
    state: absent
  when: claim | mall.cache_migration.query_column('claimed') | sum > 0
"""

RETURN = r"""
_value:
  description: The column's values, one per row of the statement that has it; empty when no row has it.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleFilterError


def query_column(result, column):
    if not isinstance(result, dict) or not isinstance(result.get('query_result'), list):
        raise AnsibleFilterError('query_column takes the result of community.mysql.mysql_query, with query_result, not %r'
                                 % (result,))
    answering = [number for number, rows in enumerate(result['query_result'], 1) if any(column in row for row in rows)]
    if len(answering) > 1:
        raise AnsibleFilterError('query_column: the column %r is answered by statements %s; give each answer a name of its own'
                                 % (column, ' and '.join(map(str, answering))))
    return [row[column] for number in answering for row in result['query_result'][number - 1]]


class FilterModule:
    def filters(self):
        return {'query_column': query_column}
