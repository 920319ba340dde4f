"""Unit tests of redis_cache_size: the figures it returns besides the count, and its verdict on the set p50,
with the count of Redis's keys replaced (the count itself: tests/integration/targets/redis_cache_size)."""
from __future__ import annotations

import contextlib

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import redis_cache_size

# The fixture below answers for any host.
HOST = dict(host='redis.invalid')
FIGURES = dict(live_keys=18000, complete=True, sampled=1000, sample_bytes=250000, memory_bytes=4500000)
# What the plan page shows of the cache: the count, the sizing, the costs and the verdict.
COSTS = ('live_keys', 'max_entries', 'predicted_set_ms', 'predicted_get_ms', 'redis_set_ms', 'redis_get_ms',
         'max_set_ms', 'set_ms_over_limit')


@pytest.fixture
def counted(monkeypatch):
    """The module sees FIGURES as the keys of any Redis, and never connects."""
    class Connection:
        def command(self, *args):
            return b'OK'

    @contextlib.contextmanager
    def connect(*args):
        yield Connection()

    monkeypatch.setattr(redis_cache_size, 'connect', connect)
    monkeypatch.setattr(redis_cache_size, 'count_keys', lambda conn, match, max_keys, sample: dict(FIGURES))


def test_the_plan_costs_and_todays_are_returned_with_the_verdict(run_module, counted):
    result = run_module(redis_cache_size.main, dict(HOST, backend='database'))
    assert {key: result[key] for key in COSTS} == dict(
        live_keys=18000, max_entries=36000, predicted_set_ms=5.1, predicted_get_ms=0.18, redis_set_ms=0.09,
        redis_get_ms=0.07, max_set_ms=5.0, set_ms_over_limit=True)
    assert result['changed'] is False


@pytest.mark.parametrize('args, over', [
    (dict(backend='database', max_set_ms=6), False),
    (dict(backend='database', max_set_ms=5.09), True),
    (dict(backend='mysql'), False),
    (dict(backend='mysql', max_set_ms=0.2), True),
    (dict(backend='database', max_entries=20000), False),
])
def test_the_verdict_follows_the_limit_the_backend_and_max_entries(run_module, counted, args, over):
    assert run_module(redis_cache_size.main, dict(HOST, **args))['set_ms_over_limit'] is over


@pytest.mark.parametrize('max_set_ms', [0, -1.5])
def test_a_limit_that_is_not_above_zero_is_refused(run_module, counted, max_set_ms):
    result = run_module(redis_cache_size.main, dict(HOST, max_set_ms=max_set_ms))
    assert result['failed'] is True
    assert 'set_ms_over_limit' not in result
