"""Unit tests of cache_warm_up: the copy logic of the probe (_session_probe.py) with fake caches and Redis
clients, and the module's parameters and results.

The live test is the Molecule scenario default (migrate under a loopback load: every planted key in the
table, those without a TTL without expiry) and rollback (the keys written since back on Redis).
"""
from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _session_probe as probe
from ansible_collections.mall.cache_migration.plugins.modules import cache_warm_up

MARKER = 'mall_server:1:'


class FakeCache:
    def __init__(self, data=None):
        self.data = dict(data or {})
        self.reads = 0
        self.changes_after_read = {}

    def get_many(self, keys):
        self.reads += 1
        found = {key: self.data[key] for key in keys if key in self.data}
        # The app writes while the copy runs: the next read sees the newer value.
        self.data.update(self.changes_after_read)
        self.changes_after_read = {}
        return found


def written_into(target):
    def write(values, timeouts):
        for key, value in values.items():
            target.data[key] = value
            target.timeouts[key] = timeouts[key]
    target.timeouts = {}
    return write


def fresh_report():
    return {'found': 0, 'copied': 0, 'recopied': 0, 'bytes': 0, 'skipped': {}, 'batches': 0}


@pytest.mark.parametrize('ttl, timeout', [(-1, None), (-2, 0), (0, 0), (42, 42)])
def test_a_redis_ttl_becomes_a_django_timeout(ttl, timeout):
    assert probe.ttl_seconds(ttl) == timeout


def test_like_escape_keeps_wildcards_of_the_prefix_literal():
    assert probe.like_escape('mall_server:1:50%\\x') == 'mall\\_server:1:50\\%\\\\x'


def test_caps_count_what_they_leave_out():
    keys = [('a', None, 10), ('b', 5, 10), ('c', 5, 10), ('d', 5, 1)]
    assert probe.apply_caps(keys, 0, 0) == (keys, {})
    assert probe.apply_caps(keys, 2, 0) == (keys[:2], {'max_keys': 2})
    # A key over the byte cap is skipped; a smaller one after it still fits.
    assert probe.apply_caps(keys, 0, 21) == ([keys[0], keys[1], keys[3]], {'max_bytes': 1})


def test_a_batch_copies_values_with_their_timeouts_and_bytes():
    source, target = FakeCache({'a': 1, 'b': 'two'}), FakeCache()
    report = fresh_report()
    probe.copy_batch(source, target, [('a', None, 3), ('b', 60, 5), ('gone', 60, 7)], False, report,
                     written_into(target))
    assert target.data == {'a': 1, 'b': 'two'}
    assert target.timeouts == {'a': None, 'b': 60}
    assert (report['copied'], report['bytes'], report['skipped']) == (2, 8, {'expired': 1})


def test_a_key_changed_during_the_copy_ends_with_the_newer_value():
    source, target = FakeCache({'a': 'old', 'b': 'same'}), FakeCache()
    source.changes_after_read = {'a': 'new'}
    report = fresh_report()
    probe.copy_batch(source, target, [('a', 30, 1), ('b', 30, 1)], None, report, written_into(target))
    assert target.data == {'a': 'new', 'b': 'same'}
    assert (report['copied'], report['recopied']) == (2, 1)


def test_only_changed_leaves_what_the_target_holds_already():
    source, target = FakeCache({'a': 1, 'b': 2, 'c': 3}), FakeCache({'a': 1, 'b': 'older'})
    report = fresh_report()
    probe.copy_batch(source, target, [('a', None, 1), ('b', None, 1), ('c', None, 1)], 'unchanged', report,
                     written_into(target))
    assert target.data == {'a': 1, 'b': 2, 'c': 3}
    assert sorted(target.timeouts) == ['b', 'c']
    assert report['skipped'] == {'unchanged': 1}


def test_only_missing_leaves_every_key_the_target_holds():
    # Another host of the fleet wrote 'b' into the table after the cutover: newer than Redis's.
    source, target = FakeCache({'a': 1, 'b': 'older', 'c': 3}), FakeCache({'a': 1, 'b': 'newer'})
    report = fresh_report()
    probe.copy_batch(source, target, [('a', None, 1), ('b', None, 1), ('c', None, 1)], 'present', report,
                     written_into(target))
    assert target.data == {'a': 1, 'b': 'newer', 'c': 3}
    assert sorted(target.timeouts) == ['c']
    assert report['skipped'] == {'present': 2} and report['copied'] == 1


def test_the_module_asks_the_probe_to_keep_what_the_options_say():
    params = {'source': {'BACKEND': 'django_redis.cache.RedisCache'}, 'source_alias': 'default', 'target_alias': 'default',
              'max_keys': 0, 'max_bytes': 0, 'batch_size': 100, 'only_changed': False, 'only_missing': False}
    assert cache_warm_up.probe_params(params, False)['keep'] is None
    assert cache_warm_up.probe_params(dict(params, only_changed=True), False)['keep'] == 'unchanged'
    assert cache_warm_up.probe_params(dict(params, only_missing=True), False)['keep'] == 'present'


class FakePipeline:
    def __init__(self, client):
        self.client, self.answers = client, []

    def ttl(self, key):
        self.answers.append(self.client.keys[key][0])

    def strlen(self, key):
        self.answers.append(self.client.keys[key][1])

    def execute(self):
        return self.answers


class FakeRedis:
    def __init__(self, keys):
        self.keys = keys

    def scan_iter(self, match, count):
        assert match == 'mall_server:1:*'
        return iter(self.keys)

    def pipeline(self, transaction):
        return FakePipeline(self)


class FakeRedisCache:
    def __init__(self, client):
        self.client = type('Client', (), {'get_client': lambda self, write: client})()


def test_redis_listing_keeps_live_keys_of_the_prefix_with_ttl_and_size():
    client = FakeRedis({b'mall_server:1:a': (-1, 4), b'mall_server:1:b': (120, 9), b'mall_server:1:c': (-2, 1),
                        b'mall_server:1:': (-1, 1)})
    assert probe.redis_live_keys(FakeRedisCache(client), MARKER) == [('a', None, 4), ('b', 120, 9)]


def test_the_module_asks_the_probe_to_capture_without_source_and_to_copy_with_it():
    params = {'source': None, 'source_alias': 'default', 'target_alias': 'default', 'max_keys': 5,
              'max_bytes': 0, 'batch_size': 100, 'only_changed': False, 'only_missing': False}
    assert cache_warm_up.probe_params(params, False) == {'task': 'capture', 'alias': 'default'}
    params['source'] = {'BACKEND': 'django_redis.cache.RedisCache'}
    copy = cache_warm_up.probe_params(params, True)
    assert copy['task'] == 'copy' and copy['dry_run'] is True and copy['max_keys'] == 5


def test_results_say_what_was_copied_and_what_the_source_was():
    result = cache_warm_up.copy_result({'found': 3, 'copied': 2, 'recopied': 0, 'bytes': 10, 'seconds': 0.1,
                                        'batches': 1, 'skipped': {'max_keys': 1}})
    assert result['changed'] is True and result['skipped'] == {'max_keys': 1}
    assert cache_warm_up.copy_result({'copied': 0})['changed'] is False
    captured = cache_warm_up.capture_result({'config': {'BACKEND': 'x'}, 'backend': 'x', 'is_redis': False,
                                             'is_database': True})
    assert captured['source_kind'] == 'database' and captured['changed'] is False


def test_the_probe_source_runs_alone_as_the_module_runs_it():
    """The module sends the probe's source to `python -c` in the project's venv: it must run with the standard
    library alone (-S: no site-packages, so no ansible), read its parameters on stdin and print one JSON report,
    here that Django is missing."""
    source = inspect.getsource(probe)
    run = subprocess.run([sys.executable, '-I', '-S', '-c', source], input=json.dumps({'task': 'capture', 'alias': 'default'}),
                         capture_output=True, text=True, timeout=60, check=False)
    assert (run.returncode, run.stderr) == (0, '')
    assert json.loads(run.stdout) == {'error': "ModuleNotFoundError: No module named 'django'"}
