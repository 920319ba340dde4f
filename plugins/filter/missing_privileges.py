# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The privileges a user's SHOW GRANTS does not give on a whole database: preflight's grant check."""

from __future__ import annotations

DOCUMENTATION = r"""
name: missing_privileges
short_description: The privileges that the lines of SHOW GRANTS do not give on a whole database
version_added: 1.2.0
description:
  - Reads the lines of C(SHOW GRANTS FOR CURRENT_USER()) and returns the privileges of O(privileges) that no
    line gives on every table of O(database), a grant C(ON *.*) or C(ON `database`.*), of that privilege or of
    C(ALL PRIVILEGES). A grant on one table or on some columns does not count, nor does a role's (its
    privileges are not in these lines).
  - Preflight refuses, naming what is missing, before any change.
options:
  _input:
    description:
      - The lines of C(SHOW GRANTS), as strings, or the rows community.mysql's mysql_query returns for it (one
        column each).
    type: list
    elements: raw
    required: true
  database:
    description: The database.
    type: str
    required: true
  privileges:
    description: The privileges wanted, as MySQL names them (C(SELECT), C(SHOW VIEW), ...).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Fail when the app's user may not dump the database
  ansible.builtin.assert:
    that: __missing | length == 0
    fail_msg: "{{ mall_db_user }} lacks {{ __missing | join(', ') }} on {{ mall_db_name }}"
  vars:
    __missing: "{{ mall_db_grants.query_result[0] | mall.cache_migration.missing_privileges(mall_db_name, ['SELECT', 'SHOW VIEW']) }}"
"""

RETURN = r"""
_value:
  description: The privileges of O(privileges) that are not given, in their order.
  type: list
  elements: str
"""

import re
from collections.abc import Mapping

# GRANT <privileges> ON <database>.* TO ...: the database quoted with backticks (doubled inside) or bare.
GRANT_LINE = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<database>\*|`(?:[^`]|``)*`|[^\s.`]+)\.\* TO ")


def _granted(line, database):
    """The privileges one line gives on every table of the database (ALL PRIVILEGES as such)."""
    match = GRANT_LINE.match(line)
    if match is None:
        return set()
    on = match.group("database")
    if on.startswith("`"):
        on = on[1:-1].replace("``", "`")
    if on not in ("*", database):
        return set()
    # A column list "SELECT (`id`, `name`)" gives the privilege on those columns only.
    return {privilege.strip().upper() for privilege in re.sub(r"\([^)]*\)", "(columns)", match.group("privileges")).split(",")
            if not privilege.strip().endswith("(columns)")}


def granted_privileges(grants, database):
    """The privileges the lines give on every table of the database, sorted; never the lines (they may hold a hash)."""
    lines = [value for grant in grants for value in (grant.values() if isinstance(grant, Mapping) else [grant])]
    return sorted(set().union(*(_granted(str(line), database) for line in lines)))


def missing_privileges(grants, database, privileges):
    granted = set(granted_privileges(grants, database))
    if "ALL PRIVILEGES" in granted or "ALL" in granted:
        return []
    return [privilege for privilege in privileges if privilege.upper() not in granted]


class FilterModule:
    def filters(self):
        return {"missing_privileges": missing_privileges}
