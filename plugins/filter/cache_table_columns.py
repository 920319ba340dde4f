# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The columns a cache table of a backend has, from the definition cache_verify checks against."""

from __future__ import annotations

DOCUMENTATION = r"""
name: cache_table_columns
short_description: The columns of the cache table of a cache backend
version_added: 1.0.0
description:
  - The column names, sorted, of the table that a backend's C(createcachetable) makes (C(database), Django's
    DatabaseCache) or that django-mysql's schema makes (C(mysql), MySQLCache). They come from the same
    definition that M(mall.cache_migration.cache_verify) checks a table against, so the cache_table role
    refuses a foreign table by the rule that later verifies the cache.
options:
  _input:
    description: The backend, as C(cache_settings_backend) names it.
    type: str
    choices: [database, mysql]
    required: true
"""

EXAMPLES = r"""
- name: Fail when the table is not a Django cache table
  ansible.builtin.assert:
    that: columns.query_result[0] | map(attribute='COLUMN_NAME') | sort == 'database' | mall.cache_migration.cache_table_columns
"""

RETURN = r"""
_value:
  description: The column names, sorted.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.mall.cache_migration.plugins.module_utils import _cache_verify


def cache_table_columns(backend):
    if backend not in _cache_verify.REQUIRED_COLUMNS_OF:
        raise AnsibleFilterError("cache_table_columns takes one of %s, not %r"
                                 % (", ".join(sorted(_cache_verify.REQUIRED_COLUMNS_OF)), backend))
    return sorted(_cache_verify.REQUIRED_COLUMNS_OF[backend])


class FilterModule:
    def filters(self):
        return {"cache_table_columns": cache_table_columns}
