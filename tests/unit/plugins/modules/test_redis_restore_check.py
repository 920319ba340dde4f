"""Unit tests of redis_restore_check: the whole module run against scripted fake Redis sockets."""
from __future__ import annotations

import socket

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import redis_restore_check
from ansible_collections.mall.cache_migration.tests.unit.plugins.helpers.fake_socket import FakeSocket

RECORDED = {'db0': {'keys': 1000, 'expires': 100}}


def bulk(data: bytes) -> bytes:
    return b'$%d\r\n%s\r\n' % (len(data), data)


def persistence(loading, loaded=0, expired=0):
    return bulk(b'# Persistence\r\nloading:%d\r\nrdb_last_load_keys_expired:%d\r\nrdb_last_load_keys_loaded:%d\r\n'
                % (loading, expired, loaded))


def keyspace(keys, expires):
    return bulk(b'# Keyspace\r\n' + (b'db0:keys=%d,expires=%d,avg_ttl=0\r\n' % (keys, expires) if keys else b''))


@pytest.fixture
def run(run_module, monkeypatch):
    """Run the module against the given fake sockets, one per connection; returns (result, failed)."""
    monkeypatch.setattr(redis_restore_check, 'POLL_SECONDS', 0)

    def call(fakes, **args):
        queue = list(fakes)

        def create_connection(address, timeout):
            item = queue.pop(0)
            if isinstance(item, BaseException):
                raise item
            return item
        monkeypatch.setattr(socket, 'create_connection', create_connection)
        result = run_module(redis_restore_check.main, dict(dict(host='redis', password='pw', keyspace=RECORDED), **args))
        return result, result.get('failed', False)
    return call


def test_waits_for_the_load_and_passes(run):
    result, failed = run([
        ConnectionRefusedError(111, 'Connection refused'),
        FakeSocket(b'+OK\r\n' + persistence(1)),
        FakeSocket(b'+OK\r\n-LOADING Redis is loading the dataset in memory\r\n'),
        FakeSocket(b'+OK\r\n' + persistence(0, loaded=1000) + keyspace(1000, 100)),
    ])
    assert not failed, result
    assert result == dict(changed=False, keyspace=RECORDED, keys_read=1000, short=[])


def test_empty_restore_fails_naming_the_counts(run):
    result, failed = run([FakeSocket(b'+OK\r\n' + persistence(0) + keyspace(0, 0))])
    assert failed
    assert result['keys_read'] == 0
    assert result['short'] == [
        dict(what='keys read from the snapshot at start', expected=1000, found=0),
        dict(what='keys without a TTL in db0', expected=900, found=0),
    ]


def test_expired_ttl_keys_are_not_missing(run):
    result, failed = run([FakeSocket(b'+OK\r\n' + persistence(0, loaded=900, expired=100) + keyspace(900, 0))])
    assert not failed, result
    assert result['short'] == []


def test_never_loaded_fails(run, monkeypatch):
    result, failed = run([FakeSocket(b'+OK\r\n' + persistence(1))] * 2, wait=0)
    assert failed
    assert 'did not finish loading' in result['msg']


@pytest.mark.parametrize('args, match', [
    (dict(keyspace={'db0': {'keys': 1}}), 'keyspace must map'),
    (dict(tolerance=1.5), 'tolerance must be'),
])
def test_bad_input(run, args, match):
    result, failed = run([], **args)
    assert failed
    assert match in result['msg']
