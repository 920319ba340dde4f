"""Sizing the database cache from the live Redis keys: the measured latency model and its warnings."""
from __future__ import annotations

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils._cache_sizing import (
    MIN_MAX_ENTRIES,
    predicted_set_ms,
    size,
)


def test_a_small_cache_keeps_the_floor_and_warns_of_nothing():
    assert size('database', 1200) == dict(max_entries=MIN_MAX_ENTRIES, predicted_set_ms=1.42, warnings=[])


def test_the_model_is_the_measured_one():
    # 141.6 ms at 1M rows (issue 12); MySQLCache does not count the table.
    assert predicted_set_ms('database', 1000000) == 141.6
    assert predicted_set_ms('mysql', 10000000) == 0.25


def test_database_backend_sized_for_a_large_cache_warns_with_the_figures():
    sized = size('database', 500000)
    assert sized['max_entries'] == 1000000
    assert sized['predicted_set_ms'] == 141.6
    assert len(sized['warnings']) == 1
    assert '141.6 ms per set' in sized['warnings'][0] and 'cache_settings_backend=mysql' in sized['warnings'][0]


def test_mysql_backend_sized_for_a_large_cache_is_quiet():
    assert size('mysql', 500000, headroom=1.5) == dict(max_entries=750000, predicted_set_ms=0.25, warnings=[])


@pytest.mark.parametrize('backend', ['database', 'mysql'])
def test_a_max_entries_below_the_live_keys_warns_of_eviction(backend):
    sized = size(backend, 30000, max_entries=20000)
    assert sized['max_entries'] == 20000
    assert any('below the 30000 live keys' in w and 'evict about 10000' in w for w in sized['warnings'])
