"""Sizing the database cache from the live Redis keys: the measured latency model, its warnings and its verdict."""
from __future__ import annotations

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils._cache_sizing import (
    MIN_MAX_ENTRIES,
    predicted_get_ms,
    predicted_set_ms,
    size,
)

# Today's cost on Redis, for comparison (docs/cache-backends.md, django-redis at 1M keys).
REDIS = dict(redis_set_ms=0.09, redis_get_ms=0.07)


def test_a_small_cache_keeps_the_floor_and_warns_of_nothing():
    assert size('database', 1200) == dict(max_entries=MIN_MAX_ENTRIES, predicted_set_ms=1.42, predicted_get_ms=0.18,
                                          max_set_ms=5.0, set_ms_over_limit=False, warnings=[], **REDIS)


def test_the_model_is_the_measured_one():
    # 141.6 ms at 1M rows (issue 12); MySQLCache does not count the table.
    assert predicted_set_ms('database', 1000000) == 141.6
    assert predicted_set_ms('mysql', 10000000) == 0.25


@pytest.mark.parametrize('backend, get_ms', [('database', 0.18), ('mysql', 0.12)])
def test_the_get_p50_is_the_measured_one_whatever_the_rows(backend, get_ms):
    assert predicted_get_ms(backend) == get_ms
    assert size(backend, 5000000)['predicted_get_ms'] == get_ms


def test_database_backend_sized_for_a_large_cache_warns_with_the_figures_and_passes_the_limit():
    sized = size('database', 500000)
    assert sized['max_entries'] == 1000000
    assert sized['predicted_set_ms'] == 141.6
    assert sized['set_ms_over_limit'] is True
    assert len(sized['warnings']) == 1
    assert '141.6 ms per set' in sized['warnings'][0] and 'cache_settings_backend=mysql' in sized['warnings'][0]


def test_mysql_backend_sized_for_a_large_cache_is_quiet_and_within_the_limit():
    assert size('mysql', 500000, headroom=1.5) == dict(max_entries=750000, predicted_set_ms=0.25, predicted_get_ms=0.12,
                                                       max_set_ms=5.0, set_ms_over_limit=False, warnings=[], **REDIS)


@pytest.mark.parametrize('backend, keys, max_entries, max_set_ms, over', [
    # 5 ms is about 35,300 rows of DatabaseCache: 17,000 keys with the headroom of 2 (4.81 ms) stay under it,
    # 18,000 (5.1 ms) do not.
    ('database', 17000, None, 5.0, False),
    ('database', 18000, None, 5.0, True),
    # A MAX_ENTRIES given by hand is judged instead of the sized one.
    ('database', 10, 40000, 5.0, True),
    ('database', 100000, 30000, 5.0, False),
    # The floor of 10000 rows is 1.42 ms: a limit under it refuses even an empty cache.
    ('database', 0, None, 1.0, True),
    ('database', 0, None, 1.42, False),
    ('mysql', 10000000, None, 5.0, False),
    ('mysql', 0, None, 0.2, True),
])
def test_the_verdict_compares_the_predicted_set_p50_with_the_limit(backend, keys, max_entries, max_set_ms, over):
    sized = size(backend, keys, max_entries=max_entries, max_set_ms=max_set_ms)
    assert sized['set_ms_over_limit'] is over
    assert sized['max_set_ms'] == max_set_ms


@pytest.mark.parametrize('backend', ['database', 'mysql'])
def test_a_max_entries_below_the_live_keys_warns_of_eviction(backend):
    sized = size(backend, 30000, max_entries=20000)
    assert sized['max_entries'] == 20000
    assert any('below the 30000 live keys' in w and 'evict about 10000' in w for w in sized['warnings'])
