"""Unit tests of the probe that cache_verify runs in the project's Python (plugins/module_utils/_django_probe.py).

Fake caches stand in for Django's: they implement the calls the probe makes.
"""
from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _django_probe as probe

BROKEN = "AbstractConnection.__init__() got an unexpected keyword argument 'CLIENT_CLASS'"
ROUND_TRIP_CHECKS = ['set', 'get', 'touch', 'add', 'set_many', 'get_many', 'incr', 'delete']


class DictCache:
    """Behaves like a working Django cache; refuses clear(), which the probe must never call."""

    key_prefix = 'mall_server'

    def __init__(self, data=None):
        self.data = dict(data or {})

    def set(self, key, value, timeout=None):
        self.data[key] = value

    def get(self, key, default=None):
        return self.data.get(key, default)

    def touch(self, key, timeout=None):
        return key in self.data

    def add(self, key, value, timeout=None):
        if key in self.data:
            return False
        self.data[key] = value
        return True

    def set_many(self, mapping, timeout=None):
        self.data.update(mapping)
        return []

    def get_many(self, keys):
        return {key: self.data[key] for key in keys if key in self.data}

    def incr(self, key, delta=1):
        self.data[key] += delta
        return self.data[key]

    def delete(self, key):
        return self.data.pop(key, KeyError) is not KeyError

    def delete_many(self, keys):
        for key in keys:
            self.data.pop(key, None)

    def clear(self):
        raise AssertionError('the probe must never clear the cache')


class BrokenCache(DictCache):
    """Every call fails, like Django's RedisCache given django-redis' CLIENT_CLASS."""

    def __getattribute__(self, name):
        if name in ('set', 'get', 'touch', 'add', 'set_many', 'get_many', 'incr', 'delete', 'delete_many'):
            def fail(*args, **kwargs):
                raise TypeError(BROKEN)
            return fail
        return super().__getattribute__(name)


class OverwritingAddCache(DictCache):
    def add(self, key, value, timeout=None):
        self.data[key] = value
        return True


class ForgetfulCache(DictCache):
    """Keeps only every other key, like a cache that evicts while the probe writes."""

    def __init__(self):
        super().__init__()
        self.sets = 0

    def set(self, key, value, timeout=None):
        self.sets += 1
        if self.sets % 2:
            super().set(key, value, timeout)


class InterruptedCache(DictCache):
    def get(self, key, default=None):
        if key.endswith(':10'):
            raise KeyboardInterrupt
        return super().get(key, default)


def test_probe_keys_are_namespaced_unique_and_remembered():
    keys = probe.ProbeKeys()
    issued = [keys.new() for index in range(3)]
    assert all(re.fullmatch(r'cache_verify:[0-9a-f]{32}:\d+', key) for key in issued)
    assert [key.rsplit(':', 1)[1] for key in issued] == ['0', '1', '2']
    assert keys.issued == issued
    assert probe.ProbeKeys().run_id != keys.run_id


def test_exercise_cache_passes_and_leaves_only_foreign_keys():
    cache = DictCache({'mall_server:1:someone_else': 'keep me'})
    report = {}
    probe.exercise_cache(cache, report, 20, is_database_cache=False)
    assert report['round_trip'] == {name: {'ok': True} for name in ROUND_TRIP_CHECKS}
    assert len(report['latency']['set_ms']) == len(report['latency']['get_ms']) == 20
    assert report['latency']['misses'] == 0
    assert report['cleanup'] == {'keys': 26, 'remaining': 0}
    assert cache.data == {'mall_server:1:someone_else': 'keep me'}
    assert 'write_guard' not in report


def test_exercise_cache_reports_each_exception_of_a_broken_cache():
    report = {}
    probe.exercise_cache(BrokenCache(), report, 5, is_database_cache=False)
    assert report['round_trip'] == {name: {'ok': False, 'error': 'TypeError: ' + BROKEN} for name in ROUND_TRIP_CHECKS}
    assert report['latency'] == {'set_ms': [], 'get_ms': [], 'misses': 0, 'error': 'TypeError: ' + BROKEN}
    assert report['cleanup'] == {'keys': 11, 'error': 'TypeError: ' + BROKEN}


def test_keys_are_deleted_even_when_the_probe_is_interrupted():
    cache = InterruptedCache({'someone_else': 'keep me'})
    report = {}
    with pytest.raises(KeyboardInterrupt):
        probe.exercise_cache(cache, report, 20, is_database_cache=False)
    assert report['cleanup']['remaining'] == 0
    assert cache.data == {'someone_else': 'keep me'}


def test_round_trip_names_what_a_call_got_wrong():
    keys = probe.ProbeKeys()
    results = probe.round_trip(OverwritingAddCache(), probe.allocate_round_trip_keys(keys), keys.run_id)
    assert results['add'] == {'ok': False, 'error': 'add() of an existing key returned True'}
    assert all(results[name]['ok'] for name in ROUND_TRIP_CHECKS if name != 'add')


class NoneDeleteCache(DictCache):
    """django-mysql's MySQLCache: delete() returns None, not whether the key existed."""

    def delete(self, key):
        super().delete(key)


class FalseDeleteCache(DictCache):
    def delete(self, key):
        return False


def test_delete_that_returns_none_passes_when_the_key_is_gone_and_false_fails():
    keys = probe.ProbeKeys()
    results = probe.round_trip(NoneDeleteCache(), probe.allocate_round_trip_keys(keys), keys.run_id)
    assert results['delete'] == {'ok': True}
    keys = probe.ProbeKeys()
    results = probe.round_trip(FalseDeleteCache(), probe.allocate_round_trip_keys(keys), keys.run_id)
    assert results['delete'] == {'ok': False, 'error': 'delete() of an existing key returned False'}


def test_measure_latency_counts_gets_that_miss():
    keys = probe.ProbeKeys()
    latency = probe.measure_latency(ForgetfulCache(), [keys.new() for index in range(10)])
    assert latency['misses'] == 5
    assert all(sample >= 0 for sample in latency['set_ms'] + latency['get_ms'])


class ScanClient:
    def __init__(self, pages):
        self.pages = pages
        self.calls = []

    def scan(self, cursor, match, count):
        self.calls.append((cursor, match, count))
        return self.pages[len(self.calls) - 1]


def test_count_prefix_keys_follows_the_cursor_to_zero():
    client = ScanClient([(7, ['a', 'b']), (3, []), (0, ['c'])])
    assert probe.count_prefix_keys(client, 'mall_server:*') == (3, True)
    assert [call[0] for call in client.calls] == [0, 7, 3]


def test_count_prefix_keys_stops_at_its_bound(monkeypatch):
    monkeypatch.setattr(probe, 'REDIS_SCAN_CALLS', 3)
    client = ScanClient([(cursor, ['k']) for cursor in range(1, 10)])
    assert probe.count_prefix_keys(client, '*') == (3, False)


class RedisServer:
    def __init__(self, fail=None):
        self.fail = fail

    def ping(self):
        if self.fail:
            raise self.fail
        return True

    def scan(self, cursor, match, count):
        return 0, ['mall_server:1:a', 'mall_server:1:b']

    def info(self, section):
        return {'used_memory': 1048576, 'used_memory_human': '1.00M', 'maxmemory_policy': 'noeviction'}


class DjangoRedisClient:
    def __init__(self, server):
        self.server = server

    def get_client(self, write=True):
        assert write is False
        return self.server


class CacheWith:
    key_prefix = 'mall_server'

    def __init__(self, **attributes):
        self.__dict__.update(attributes)


def test_redis_client_finds_django_redis_and_builtin_clients():
    server = RedisServer()
    assert probe.redis_client(CacheWith(client=DjangoRedisClient(server))) is server
    assert probe.redis_client(CacheWith(_cache=CacheWith(get_client=lambda: server))) is server
    assert probe.redis_client(CacheWith(_cache={})) is None
    assert probe.redis_report(DictCache()) is None


def test_redis_report():
    report = probe.redis_report(CacheWith(client=DjangoRedisClient(RedisServer())))
    assert report == {
        'ping': True, 'pattern': 'mall_server:*', 'prefix_keys': 2, 'prefix_keys_complete': True,
        'used_memory': 1048576, 'used_memory_human': '1.00M', 'maxmemory_policy': 'noeviction',
    }


def test_redis_report_of_an_unreachable_server():
    server = RedisServer(fail=ConnectionError('Error 111 connecting to 127.0.0.1:6379. Connection refused.'))
    report = probe.redis_report(CacheWith(client=DjangoRedisClient(server)))
    assert report == {'ping': False, 'error': 'ConnectionError: Error 111 connecting to 127.0.0.1:6379. Connection refused.'}


def test_caches_referencing_redis():
    caches = {
        'default': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache', 'LOCATION': 'mall_server_cache'},
        'sessions': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',
                     'LOCATION': 'redis://127.0.0.1:6379/2'},
        'api': {'BACKEND': 'myapp.Cache', 'OPTIONS': {'CLIENT_CLASS': 'django_redis.client.DefaultClient'}},
        'redis_named_but_local': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'},
    }
    assert probe.caches_referencing_redis(caches) == ['api', 'sessions']


def test_installed_packages_lists_only_installed_ones():
    assert list(probe.installed_packages(['pytest', 'surely-not-installed-cache-verify'])) == ['pytest']


def test_the_probe_runs_as_a_script_and_keeps_project_output_off_its_json(tmp_path):
    # A stand-in "django" whose setup() talks and then fails, like a broken settings module.
    fake_django = tmp_path / 'django'
    fake_django.mkdir()
    (fake_django / '__init__.py').write_text(
        "def get_version():\n    return '9.9'\n\n"
        "def setup():\n    print('noise from the project')\n    raise RuntimeError('settings are broken')\n")
    completed = subprocess.run(
        [sys.executable, '-c', inspect.getsource(probe)], cwd=tmp_path, capture_output=True, text=True,
        input=json.dumps(dict(alias='default', operations=5, packages=['pytest'], want_database=False)), check=True,
    )
    assert json.loads(completed.stdout) == {
        'python': '%d.%d.%d' % sys.version_info[:3],
        'packages': {'pytest': pytest.__version__},
        'django_version': '9.9',
        'error': 'Django could not start: RuntimeError: settings are broken',
    }
    assert 'noise from the project' in completed.stderr
