"""Unit tests of the cache_table_columns filter: the cache_table role's rule is cache_verify's."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mall.cache_migration.plugins.filter import cache_table_columns
from ansible_collections.mall.cache_migration.plugins.module_utils import _cache_verify


@pytest.mark.parametrize('backend, columns', [
    ('database', ['cache_key', 'expires', 'value']),
    ('mysql', ['cache_key', 'expires', 'value', 'value_type']),
])
def test_the_columns_are_the_ones_cache_verify_requires(backend, columns):
    assert cache_table_columns.cache_table_columns(backend) == columns == sorted(_cache_verify.REQUIRED_COLUMNS_OF[backend])
    assert cache_table_columns.FilterModule().filters()['cache_table_columns'](backend) == columns


@pytest.mark.parametrize('backend', ['redis', '', None])
def test_an_unknown_backend_is_refused(backend):
    with pytest.raises(AnsibleFilterError, match='takes one of database, mysql'):
        cache_table_columns.cache_table_columns(backend)
