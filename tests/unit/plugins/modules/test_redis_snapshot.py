"""Unit tests of redis_snapshot: the whole module run against scripted fake Redis sockets."""
from __future__ import annotations

import hashlib
import os
import socket
import stat

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.mall.cache_migration.plugins.modules import redis_snapshot
from ansible_collections.mall.cache_migration.tests.unit.plugins.helpers.fake_socket import FakeSocket

# A small but well-formed RDB: magic, version, an aux field, EOF opcode, 8-byte checksum.
RDB = b'REDIS0010' + b'\xfa\x09redis-ver\x067.0.15' + b'\x00\x01k\x01v' + b'\xff' + b'\x12\x34\x56\x78\x9a\xbc\xde\xf0'
MARK = b'f' * 20 + b'0' * 20
INFO_SERVER = b'# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n'
INFO_KEYSPACE = b'# Keyspace\r\ndb0:keys=1000,expires=100,avg_ttl=3599000\r\n'


DATA_CONFIG = {'dir': '/bitnami/redis/data', 'dbfilename': 'dump.rdb', 'appendonly': 'yes',
               'appendfilename': 'appendonly.aof', 'appenddirname': 'appendonlydir'}
CONFIG_REFUSED = b"-ERR unknown command 'CONFIG', with args beginning with: 'GET' 'dir'\r\n"


def bulk(data: bytes) -> bytes:
    return b'$%d\r\n%s\r\n' % (len(data), data)


def config_replies(config=None) -> bytes:
    """The replies to one CONFIG GET per data parameter (Redis 6 has no appenddirname: an empty list)."""
    config = DATA_CONFIG if config is None else config
    replies = b''
    for name in ('dir', 'dbfilename', 'appendonly', 'appendfilename', 'appenddirname'):
        if name in config:
            replies += b'*2\r\n' + bulk(name.encode()) + bulk(config[name].encode())
        else:
            replies += b'*0\r\n'
    return replies


def info_socket(auth=b'+OK\r\n', config=None):
    return FakeSocket(auth + bulk(INFO_SERVER) + bulk(INFO_KEYSPACE) + (config or config_replies()))


def framed(payload: bytes, framing: str) -> bytes:
    if framing == 'disk':
        return b'$%d\r\n' % len(payload) + payload
    return b'$EOF:' + MARK + b'\r\n' + payload + MARK


def sync_socket(sync_reply: bytes, replconf=b'+OK\r\n+OK\r\n', chunk=65536, then=b''):
    return FakeSocket(b'+OK\r\n' + replconf + sync_reply, chunk, then)


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


@pytest.fixture
def sockets(monkeypatch):
    """Serve the given fake sockets, one per connection, and record what was asked for."""
    served = []

    def install(*fakes):
        queue = list(fakes)

        def create_connection(address, timeout):
            served.append(address)
            item = queue.pop(0)
            if isinstance(item, BaseException):
                raise item
            return item
        monkeypatch.setattr(socket, 'create_connection', create_connection)
        return served
    return install


@pytest.fixture
def run(monkeypatch):
    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, msg, **kwargs):
        raise FailJson(dict(kwargs, msg=msg))
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def call(args, check_mode=False):
        if check_mode:
            args = dict(args, _ansible_check_mode=True)
        with patch_module_args(args):
            with pytest.raises((ExitJson, FailJson)) as exc:
                redis_snapshot.main()
        return exc.value.args[0], isinstance(exc.value, FailJson)
    return call


@pytest.fixture
def args(tmp_path):
    return dict(host='redis', password='pw', dest=str(tmp_path / 'dump.rdb'))


def leftovers(path):
    return sorted(name for name in os.listdir(os.path.dirname(path)) if name.endswith('.tmp'))


@pytest.mark.parametrize('framing', ['disk', 'diskless'])
@pytest.mark.parametrize('keepalives', [0, 3])
@pytest.mark.parametrize('chunk', [1, 5, 65536], ids=['1B', '5B', '64KiB'])
def test_snapshot_written(run, sockets, args, framing, keepalives, chunk):
    sync = sync_socket(b'\n' * keepalives + framed(RDB, framing), chunk=chunk)
    served = sockets(info_socket(), sync)

    result, failed = run(args)

    assert not failed, result
    assert result == dict(
        changed=True, dest=args['dest'], size=len(RDB), sha256=hashlib.sha256(RDB).hexdigest(),
        rdb_version=10, sync_mode=framing, redis_version='7.0.15',
        keyspace={'db0': {'keys': 1000, 'expires': 100}},
        data_config=DATA_CONFIG, data_config_source='config',
    )
    with open(args['dest'], 'rb') as f:
        assert f.read() == RDB
    assert stat.S_IMODE(os.stat(args['dest']).st_mode) == 0o600
    assert served == [('redis', 6379), ('redis', 6379)]
    assert bytes(sync.sent) == (
        b'*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n'
        b'*3\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n'
        b'*3\r\n$8\r\nREPLCONF\r\n$8\r\nrdb-only\r\n$1\r\n1\r\n'
        b'*1\r\n$4\r\nSYNC\r\n'
    )
    assert leftovers(args['dest']) == []


def test_old_server_rejecting_replconf(run, sockets, args):
    replconf = b"-ERR Unrecognized REPLCONF option: rdb-only\r\n" * 2
    sockets(info_socket(), sync_socket(framed(RDB, 'disk'), replconf=replconf))
    result, failed = run(args)
    assert not failed, result
    assert result['sync_mode'] == 'disk'


def test_acl_user_and_mode(run, sockets, args):
    info, sync = info_socket(), sync_socket(framed(RDB, 'diskless'))
    sockets(info, sync)
    result, failed = run(dict(args, username='snap', port=6380, mode='0640'))
    assert not failed, result
    assert info.sent.startswith(b'*3\r\n$4\r\nAUTH\r\n$4\r\nsnap\r\n$2\r\npw\r\n')
    assert stat.S_IMODE(os.stat(args['dest']).st_mode) == 0o640


def test_no_password_sends_no_auth(run, sockets, args):
    info = FakeSocket(bulk(INFO_SERVER) + bulk(INFO_KEYSPACE) + config_replies())
    sync = FakeSocket(b'+OK\r\n+OK\r\n' + framed(RDB, 'disk'))
    sockets(info, sync)
    result, failed = run(dict(args, password=None))
    assert not failed, result
    assert info.sent.startswith(b'*2\r\n$4\r\nINFO\r\n')
    assert sync.sent.startswith(b'*3\r\n$8\r\nREPLCONF\r\n')


def test_check_mode_reads_info_only(run, sockets, args):
    served = sockets(info_socket())
    result, failed = run(args, check_mode=True)
    assert not failed, result
    assert result == dict(changed=True, dest=args['dest'], redis_version='7.0.15',
                          keyspace={'db0': {'keys': 1000, 'expires': 100}},
                          data_config=DATA_CONFIG, data_config_source='config')
    assert len(served) == 1
    assert not os.path.exists(args['dest'])


def test_identical_snapshot_is_not_a_change(run, sockets, args):
    with open(args['dest'], 'wb') as f:
        f.write(RDB)
    os.chmod(args['dest'], 0o600)
    sockets(info_socket(), sync_socket(framed(RDB, 'disk')))
    result, failed = run(args)
    assert not failed, result
    assert result['changed'] is False
    assert leftovers(args['dest']) == []


def test_identical_snapshot_with_other_mode_is_a_change(run, sockets, args):
    with open(args['dest'], 'wb') as f:
        f.write(RDB)
    os.chmod(args['dest'], 0o644)
    sockets(info_socket(), sync_socket(framed(RDB, 'disk')))
    result, failed = run(args)
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(args['dest']).st_mode) == 0o600


def test_different_snapshot_replaces_file(run, sockets, args):
    with open(args['dest'], 'wb') as f:
        f.write(b'old')
    sockets(info_socket(), sync_socket(framed(RDB, 'diskless')))
    result, failed = run(args)
    assert result['changed'] is True
    with open(args['dest'], 'rb') as f:
        assert f.read() == RDB


@pytest.mark.parametrize('framing', ['disk', 'diskless'])
@pytest.mark.parametrize('reply, match', [
    # The connection drops before the declared length or the end mark arrived.
    (lambda framing: framed(RDB, framing)[:-20], 'closed the connection'),
    (lambda framing: framed(b'NOTREDIS' + RDB, framing), 'does not start with the RDB magic'),
    (lambda framing: framed(RDB[:-9] + b'\x00' * 9, framing), 'does not end with the RDB end-of-file opcode'),
    (lambda framing: framed(b'REDIS0010', framing), 'too short'),
], ids=['truncated', 'no-magic', 'no-eof-opcode', 'too-short'])
def test_bad_payload_fails_and_keeps_dest(run, sockets, args, framing, reply, match):
    with open(args['dest'], 'wb') as f:
        f.write(b'previous restore point')
    wire = reply(framing)
    sockets(info_socket(), sync_socket(wire))
    result, failed = run(args)
    assert failed
    assert match in result['msg']
    assert 'during SYNC' in result['msg']
    with open(args['dest'], 'rb') as f:
        assert f.read() == b'previous restore point'
    assert leftovers(args['dest']) == []


@pytest.mark.parametrize('fakes, match', [
    ([ConnectionRefusedError(111, 'Connection refused')],
     'Connection to Redis at redis:6379 refused'),
    ([socket.timeout('timed out')],
     'did not answer within 60 seconds (timeout) while running INFO'),
    ([socket.gaierror(-2, 'Name or service not known')],
     "Cannot resolve the Redis host 'redis'"),
    ([FakeSocket(b'-WRONGPASS invalid username-password pair or user is disabled.\r\n')],
     'Authentication to Redis at redis:6379 as user default failed: WRONGPASS'),
    ([FakeSocket(b'+OK\r\n-NOPERM this user has no permissions to run the \'info\' command\r\n')],
     'may not run INFO'),
    ([FakeSocket(b'HTTP/1.1 400 Bad Request\r\n\r\n')],
     'is this a Redis server'),
    ([info_socket(), sync_socket(b"-NOPERM this user has no permissions to run the 'sync' command\r\n")],
     'A snapshot needs the ACL permissions +info +replconf +sync, for example: ACL SETUSER default +info'),
    ([info_socket(), sync_socket(b'-LOADING Redis is loading the dataset in memory\r\n')],
     'Redis at redis:6379 refused SYNC: LOADING'),
    ([info_socket(), sync_socket(b'\n\n', then=socket.timeout('timed out'))],
     'did not answer within 60 seconds (timeout) while running SYNC'),
    ([info_socket(), ConnectionResetError(104, 'Connection reset by peer')],
     'Cannot talk to Redis at redis:6379 during SYNC'),
    ([info_socket(), sync_socket(b'+FULLRESYNC 0 0\r\n')],
     'unexpected reply to SYNC'),
])
def test_failures_are_explained(run, sockets, args, fakes, match):
    sockets(*fakes)
    result, failed = run(args)
    assert failed
    assert match in result['msg']
    assert 'pw' not in result['msg'].split()
    assert not os.path.exists(args['dest'])
    assert leftovers(args['dest']) == []


def test_noauth_asks_for_password(run, sockets, args):
    sockets(FakeSocket(b'-NOAUTH Authentication required.\r\n'))
    result, failed = run(dict(args, password=None))
    assert failed
    assert 'requires authentication: set password' in result['msg']


def test_missing_directory_fails_before_connecting(run, sockets, args, tmp_path):
    served = sockets()
    result, failed = run(dict(args, dest=str(tmp_path / 'missing' / 'dump.rdb')))
    assert failed
    assert 'does not exist' in result['msg']
    assert served == []


def test_check_mode_accepts_a_directory_an_earlier_task_would_make(run, sockets, args, tmp_path):
    """In check mode the restore point's directory was not made: the plan must still go on."""
    dest = tmp_path / 'missing' / 'dump.rdb'
    sockets(info_socket())
    result, failed = run(dict(args, dest=str(dest)), check_mode=True)
    assert not failed, result
    assert result['changed']
    assert not dest.parent.exists()


def test_dest_directory_is_refused(run, sockets, args, tmp_path):
    result, failed = run(dict(args, dest=str(tmp_path)))
    assert failed
    assert 'is a directory' in result['msg']


def test_username_needs_password(run, sockets, args):
    result, failed = run(dict(args, username='snap', password=None))
    assert failed
    assert 'password' in result['msg']


def test_data_config_is_read_with_config_get(run, sockets, args):
    info = info_socket()
    sockets(info, sync_socket(framed(RDB, 'disk')))
    result, failed = run(args)
    assert not failed, result
    assert result['data_config'] == DATA_CONFIG
    assert result['data_config_source'] == 'config'
    assert b'*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$3\r\ndir\r\n' in bytes(info.sent)


def test_redis_6_has_no_appenddirname(run, sockets, args):
    config = {key: value for key, value in DATA_CONFIG.items() if key != 'appenddirname'}
    sockets(info_socket(config=config_replies(config)), sync_socket(framed(RDB, 'disk')))
    result, failed = run(args)
    assert not failed, result
    assert result['data_config'] == config


@pytest.mark.parametrize('refusal', [
    CONFIG_REFUSED,
    b"-NOPERM User snap has no permissions to run the 'config|get' command\r\n",
], ids=['renamed', 'acl'])
def test_config_refused_falls_back_to_the_command(run, sockets, args, refusal):
    sockets(info_socket(config=refusal), sync_socket(framed(RDB, 'disk')))
    result, failed = run(dict(args, command=['docker-entrypoint.sh', 'redis-server', '--appendonly', 'yes'],
                              working_dir='/data'))
    assert not failed, result
    assert result['data_config'] == {'dir': '/data', 'dbfilename': 'dump.rdb', 'appendonly': 'yes',
                                     'appendfilename': 'appendonly.aof', 'appenddirname': 'appendonlydir'}
    assert result['data_config_source'] == 'command'
    assert result['config_error'] == refusal[1:-2].decode()


@pytest.mark.parametrize('command', [
    [],
    ['/opt/bitnami/scripts/redis/entrypoint.sh', '/opt/bitnami/scripts/redis/run.sh'],
    ['redis-server', '/etc/redis/redis.conf'],
], ids=['no-command', 'script', 'config-file'])
def test_unknown_data_dir_fails_before_the_transfer(run, sockets, args, command):
    served = sockets(info_socket(config=CONFIG_REFUSED))
    result, failed = run(dict(args, command=command))
    assert failed
    assert 'refused CONFIG GET' in result['msg'] and 'Nothing was written' in result['msg']
    assert 'data_config' not in result
    assert len(served) == 1
    assert not os.path.exists(args['dest'])
