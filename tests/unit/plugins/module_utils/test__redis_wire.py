"""Unit tests of the private RESP client, against a scripted fake socket."""
from __future__ import annotations

import socket

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _redis_wire as wire
from ansible_collections.mall.cache_migration.tests.unit.plugins.helpers.fake_socket import FakeSocket


CHUNKS = pytest.mark.parametrize('chunk', [1, 3, 65536], ids=['1B', '3B', '64KiB'])


def reader(data: bytes, chunk: int = 65536, then=b'') -> wire.RespReader:
    return wire.RespReader(FakeSocket(data, chunk, then))


@pytest.mark.parametrize('args, expected', [
    (('PING',), b'*1\r\n$4\r\nPING\r\n'),
    (('AUTH', 'user', 'p\xe4ss'), b'*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$5\r\np\xc3\xa4ss\r\n'),
    (('REPLCONF', 'rdb-only', 1), b'*3\r\n$8\r\nREPLCONF\r\n$8\r\nrdb-only\r\n$1\r\n1\r\n'),
    (('SET', b'k', b'a\r\nb', ''), b'*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n$0\r\n\r\n'),
])
def test_encode_command(args, expected):
    assert wire.encode_command(*args) == expected


@CHUNKS
@pytest.mark.parametrize('data, expected', [
    (b'+OK\r\n', 'OK'),
    (b':42\r\n', 42),
    (b':-1\r\n', -1),
    (b'$5\r\nhello\r\n', b'hello'),
    (b'$4\r\na\r\nb\r\n', b'a\r\nb'),
    (b'$0\r\n\r\n', b''),
    (b'$-1\r\n', None),
    (b'*-1\r\n', None),
    (b'*0\r\n', []),
    (b'*3\r\n:1\r\n$1\r\nx\r\n*1\r\n+OK\r\n', [1, b'x', ['OK']]),
])
def test_read_reply(data, expected, chunk):
    r = reader(data + b'+NEXT\r\n', chunk)
    assert r.read_reply() == expected
    # Exactly one reply was consumed: the next one is intact.
    assert r.read_reply() == 'NEXT'


@pytest.mark.parametrize('line, code', [
    (b'-WRONGPASS invalid username-password pair or user is disabled.', 'WRONGPASS'),
    (b'-NOAUTH Authentication required.', 'NOAUTH'),
    (b"-NOPERM this user has no permissions to run the 'sync' command", 'NOPERM'),
    (b'-ERR', 'ERR'),
])
def test_error_reply_raises_with_code(line, code):
    with pytest.raises(wire.ReplyError) as exc:
        reader(line + b'\r\n').read_reply()
    assert exc.value.code == code
    assert exc.value.message == line[1:].decode()


@pytest.mark.parametrize('data, match', [
    (b'HTTP/1.1 400 Bad Request\r\n', 'is this a Redis server'),
    (b'\r\n', 'empty reply'),
    (b':abc\r\n', 'expected an integer'),
    (b'$3\r\nabcde', 'not terminated by CRLF'),
    (b'$10\r\nshort', 'closed the connection'),
    (b'+OK', 'closed the connection'),
    (b'x' * (wire.MAX_LINE + 10), 'no line end'),
])
def test_read_reply_protocol_errors(data, match):
    with pytest.raises(wire.ProtocolError, match=match):
        reader(data, chunk=4096).read_reply()


def test_timeout_propagates():
    with pytest.raises(socket.timeout):
        reader(b'+O', then=socket.timeout('timed out')).read_reply()


@CHUNKS
def test_skip_keepalives_then_line(chunk):
    r = reader(b'\n\n\n$12\r\n', chunk)
    r.skip_keepalives()
    assert r.read_line() == b'$12'


def test_skip_keepalives_until_close():
    with pytest.raises(wire.ProtocolError):
        reader(b'\n\n').skip_keepalives()


@CHUNKS
def test_iter_exact_leaves_the_rest(chunk):
    r = reader(b'0123456789+REST\r\n', chunk)
    chunks = list(r.iter_exact(10))
    assert b''.join(chunks) == b'0123456789'
    assert r.read_reply() == 'REST'


def test_iter_exact_truncated():
    with pytest.raises(wire.ProtocolError):
        list(reader(b'01234').iter_exact(10))


MARK = b'0123456789abcdef0123456789abcdef01234567'


@pytest.mark.parametrize('chunk', [1, 7, 39, 40, 41, 65536])
@pytest.mark.parametrize('payload', [b'', b'x', b'payload' * 100, MARK[:-1] + b'payload' + MARK[:20]])
def test_iter_until_mark(payload, chunk):
    r = reader(payload + MARK + b'+REST\r\n', chunk)
    assert b''.join(r.iter_until(MARK)) == payload
    assert r.read_reply() == 'REST'


def test_iter_until_truncated():
    with pytest.raises(wire.ProtocolError):
        list(reader(b'data without its end mark', chunk=4).iter_until(MARK))


@pytest.fixture
def fake_connections(monkeypatch):
    """Serve scripted sockets to socket.create_connection, in order."""
    served = []

    def install(*sockets):
        queue = list(sockets)

        def create_connection(address, timeout):
            served.append((address, timeout))
            return queue.pop(0)
        monkeypatch.setattr(socket, 'create_connection', create_connection)
        return served
    return install


@pytest.mark.parametrize('username, sent', [
    (None, b'*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n'),
    ('snap', b'*3\r\n$4\r\nAUTH\r\n$4\r\nsnap\r\n$2\r\npw\r\n'),
])
def test_connect_authenticates(fake_connections, username, sent):
    sock = FakeSocket(b'+OK\r\n')
    served = fake_connections(sock)
    with wire.connect('redis', 6380, 5, 'pw', username) as conn:
        assert conn.sock is sock
    assert served == [(('redis', 6380), 5)]
    assert bytes(sock.sent) == sent
    assert sock.closed


def test_connect_without_password_sends_nothing(fake_connections):
    sock = FakeSocket(b'')
    fake_connections(sock)
    wire.connect('redis', 6379, 5).close()
    assert sock.sent == b''


def test_connect_auth_failure_closes(fake_connections):
    sock = FakeSocket(b'-WRONGPASS invalid username-password pair or user is disabled.\r\n')
    fake_connections(sock)
    with pytest.raises(wire.AuthError) as exc:
        wire.connect('redis', 6379, 5, 'bad')
    assert exc.value.code == 'WRONGPASS'
    assert sock.closed


def test_command_round_trip(fake_connections):
    sock = FakeSocket(b'$11\r\nredis_mode:\r\n')
    fake_connections(sock)
    with wire.connect('redis', 6379, 5) as conn:
        assert conn.command('INFO', 'server') == b'redis_mode:'
    assert bytes(sock.sent) == b'*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n'


INFO_SERVER = (
    b'# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n'
    b'executable:/usr/bin/redis-server\r\nconfig_file:\r\n\r\n'
)


def test_parse_info():
    info = wire.parse_info(INFO_SERVER)
    assert info == {
        'redis_version': '7.0.15',
        'redis_git_sha1': '00000000',
        'executable': '/usr/bin/redis-server',
        'config_file': '',
    }


@pytest.mark.parametrize('text, expected', [
    (b'# Keyspace\r\n', {}),
    (b'# Keyspace\r\ndb0:keys=1000,expires=100,avg_ttl=3599123\r\n',
     {'db0': {'keys': 1000, 'expires': 100}}),
    # Redis 7.4 adds subexpiry; db numbers need not be contiguous.
    (b'# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0,subexpiry=0\r\ndb15:keys=1,expires=1,avg_ttl=5\r\n',
     {'db0': {'keys': 2, 'expires': 0}, 'db15': {'keys': 1, 'expires': 1}}),
])
def test_parse_keyspace(text, expected):
    assert wire.parse_keyspace(wire.parse_info(text)) == expected


def test_common_argument_spec_hides_password():
    spec = wire.redis_common_argument_spec()
    assert spec['password']['no_log'] is True
    assert spec['host']['required'] is True
    assert spec['port']['default'] == 6379


@pytest.mark.parametrize('reply, expected', [
    ([b'dir', b'/data'], {'dir': '/data'}),
    ([], {}),
    ([b'dir', b'/bitnami/redis/data', b'dbfilename', b'dump.rdb'], {'dir': '/bitnami/redis/data', 'dbfilename': 'dump.rdb'}),
])
def test_parse_config_get(reply, expected):
    assert wire.parse_config_get(reply) == expected


@pytest.mark.parametrize('reply', [[b'dir'], b'/data', None])
def test_parse_config_get_rejects_other_replies(reply):
    with pytest.raises(wire.ProtocolError):
        wire.parse_config_get(reply)


DEFAULTS = {'dbfilename': 'dump.rdb', 'appendonly': 'no', 'appendfilename': 'appendonly.aof', 'appenddirname': 'appendonlydir'}


@pytest.mark.parametrize('argv, working_dir, expected', [
    # The official image: docker-entrypoint.sh redis-server, in /data.
    (['docker-entrypoint.sh', 'redis-server'], '/data', dict(DEFAULTS, dir='/data')),
    (['redis-server', '--dir', '/bitnami/redis/data', '--appendonly', 'yes'], None,
     dict(DEFAULTS, dir='/bitnami/redis/data', appendonly='yes')),
    (['/usr/bin/redis-server', '--requirepass', 'pw', '--dir', 'data', '--dbfilename', 'cache.rdb'], '/srv',
     dict(DEFAULTS, dir='/srv/data', dbfilename='cache.rdb')),
    (['redis-server', '--save', '', '--DIR', '/d/'], None, dict(DEFAULTS, dir='/d')),
    # A config file: the command line must set what a restore needs.
    (['redis-server', '/etc/redis.conf', '--dir', '/data', '--dbfilename', 'dump.rdb', '--appendonly', 'no'], None,
     {'dir': '/data', 'dbfilename': 'dump.rdb', 'appendonly': 'no'}),
], ids=['official-image', 'bitnami-dir', 'relative-dir', 'case-and-empty-value', 'config-file-overridden'])
def test_data_config_from_command(argv, working_dir, expected):
    assert wire.data_config_from_command(argv, working_dir) == expected


@pytest.mark.parametrize('argv, match', [
    (['/opt/bitnami/scripts/redis/run.sh'], 'does not run redis-server'),
    (['redis-server', '/etc/redis.conf'], 'may set dir, dbfilename, appendonly'),
    (['redis-server', '/etc/redis.conf', '--dir', '/data', '--dbfilename', 'd.rdb', '--appendonly', 'yes'],
     'may set appendfilename'),
])
def test_data_config_from_command_refuses(argv, match):
    with pytest.raises(ValueError, match=match):
        wire.data_config_from_command(argv)


RECORDED = {'db0': {'keys': 1000, 'expires': 100}, 'db1': {'keys': 10, 'expires': 0}}
LOADED_ALL = {'rdb_last_load_keys_loaded': '1010', 'rdb_last_load_keys_expired': '0'}


@pytest.mark.parametrize('keyspace, persistence, tolerance, expected', [
    # Everything back.
    (RECORDED, LOADED_ALL, 0, []),
    # The TTL keys expired in between: Redis dropped them while loading, the rest is there.
    ({'db0': {'keys': 900, 'expires': 0}, 'db1': {'keys': 10, 'expires': 0}},
     {'rdb_last_load_keys_loaded': '910', 'rdb_last_load_keys_expired': '100'}, 0, []),
    # Redis ignored the file (appendonly yes, or another dir): empty.
    ({}, {'rdb_last_load_keys_loaded': '0', 'rdb_last_load_keys_expired': '0'}, 0,
     [dict(what='keys read from the snapshot at start', expected=1010, found=0),
      dict(what='keys without a TTL in db0', expected=900, found=0),
      dict(what='keys without a TTL in db1', expected=10, found=0)]),
    # Redis before 7 does not count what it loaded: the keys without a TTL still tell.
    ({'db0': {'keys': 500, 'expires': 0}}, {}, 0,
     [dict(what='keys without a TTL in db0', expected=900, found=500),
      dict(what='keys without a TTL in db1', expected=10, found=0)]),
    # A few keys deleted between the count and the snapshot, within the tolerance.
    ({'db0': {'keys': 995, 'expires': 100}, 'db1': {'keys': 10, 'expires': 0}},
     {'rdb_last_load_keys_loaded': '1005', 'rdb_last_load_keys_expired': '0'}, 0.01, []),
], ids=['all-back', 'ttl-keys-expired', 'empty', 'redis-6-short', 'within-tolerance'])
def test_restore_shortfall(keyspace, persistence, tolerance, expected):
    assert wire.restore_shortfall(RECORDED, keyspace, persistence, tolerance) == expected
