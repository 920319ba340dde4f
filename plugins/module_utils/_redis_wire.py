# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Minimal Redis client speaking RESP2 over a plain TCP socket.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

It exists so that modules can talk to Redis from the app host with the
Python standard library alone (no redis-py, no redis-cli on the target).
Only what our modules need is here: commands as RESP arrays of bulk
strings, RESP2 replies, AUTH, INFO parsing and the buffered reads that a
replication (SYNC) transfer needs. TLS is not supported.
"""

from __future__ import annotations

import os
import socket

# Guards against reading a non-Redis peer forever when it never sends CRLF.
MAX_LINE = 64 * 1024
CHUNK_SIZE = 64 * 1024


def redis_common_argument_spec():
    """Connection options shared by every module of this collection that talks to Redis."""
    return dict(
        host=dict(type='str', required=True),
        port=dict(type='int', default=6379),
        username=dict(type='str'),
        password=dict(type='str', no_log=True),
        timeout=dict(type='int', default=60),
    )


class RedisWireError(Exception):
    """Base class of the errors raised here."""


class ProtocolError(RedisWireError):
    """The peer sent something that is not valid RESP, or closed the connection early."""


class ReplyError(RedisWireError):
    """An error reply (`-CODE message`) from the server."""

    def __init__(self, line: str):
        super().__init__(line)
        # The first word is the error class: ERR, WRONGPASS, NOAUTH, NOPERM, LOADING...
        self.code = line.split(' ', 1)[0]
        self.message = line


class AuthError(ReplyError):
    """The server rejected AUTH."""


def encode_command(*args) -> bytes:
    """Encode a command as a RESP array of bulk strings."""
    out = [b'*%d\r\n' % len(args)]
    for arg in args:
        if isinstance(arg, int):
            arg = str(arg)
        if isinstance(arg, str):
            arg = arg.encode('utf-8')
        out.append(b'$%d\r\n%s\r\n' % (len(arg), arg))
    return b''.join(out)


def parse_int(raw: bytes) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ProtocolError('expected an integer, got %r' % raw[:40]) from None


class RespReader:
    """Buffered reader over a socket that parses RESP2 replies.

    Besides whole replies it offers the raw reads a SYNC transfer needs:
    skipping keep-alive newlines, a fixed number of bytes, or bytes up to a
    terminating mark, each yielded in chunks so a large payload is never
    held in memory.
    """

    def __init__(self, sock, chunk_size: int = CHUNK_SIZE):
        self._sock = sock
        self._chunk_size = chunk_size
        self._buf = bytearray()

    def _fill(self) -> None:
        data = self._sock.recv(self._chunk_size)
        if not data:
            raise ProtocolError('the server closed the connection')
        self._buf += data

    def read_line(self) -> bytes:
        """Return one line without its CRLF."""
        start = 0
        while True:
            end = self._buf.find(b'\r\n', start)
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[:end + 2]
                return line
            if len(self._buf) > MAX_LINE:
                raise ProtocolError('no line end within %d bytes: is this a Redis server?' % MAX_LINE)
            # A CR may be the last byte so far; search again from there.
            start = max(len(self._buf) - 1, 0)
            self._fill()

    def read_exact(self, size: int) -> bytes:
        while len(self._buf) < size:
            self._fill()
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def skip_keepalives(self) -> None:
        """Drop the bare newlines a master sends while it prepares a SYNC payload."""
        while True:
            if not self._buf:
                self._fill()
            stripped = self._buf.lstrip(b'\n')
            if stripped:
                self._buf = stripped
                return
            self._buf.clear()

    def iter_exact(self, size: int):
        """Yield chunks that add up to exactly `size` bytes."""
        remaining = size
        while remaining:
            if not self._buf:
                self._fill()
            chunk = bytes(self._buf[:remaining])
            del self._buf[:len(chunk)]
            remaining -= len(chunk)
            yield chunk

    def iter_until(self, mark: bytes):
        """Yield chunks of everything before `mark`, consuming the mark too."""
        # Hold back len(mark) - 1 bytes: a mark may straddle two receives.
        keep = len(mark) - 1
        while True:
            idx = self._buf.find(mark)
            if idx >= 0:
                if idx:
                    yield bytes(self._buf[:idx])
                del self._buf[:idx + len(mark)]
                return
            if len(self._buf) > keep:
                cut = len(self._buf) - keep
                yield bytes(self._buf[:cut])
                del self._buf[:cut]
            self._fill()

    def read_reply(self):
        """Read one RESP2 reply; an error reply raises ReplyError."""
        line = self.read_line()
        if not line:
            raise ProtocolError('empty reply line')
        kind, rest = line[:1], line[1:]
        if kind == b'+':
            return rest.decode('utf-8', 'replace')
        if kind == b'-':
            raise ReplyError(rest.decode('utf-8', 'replace'))
        if kind == b':':
            return parse_int(rest)
        if kind == b'$':
            size = parse_int(rest)
            if size < 0:
                return None
            data = self.read_exact(size + 2)
            if data[-2:] != b'\r\n':
                raise ProtocolError('bulk string not terminated by CRLF')
            return data[:-2]
        if kind == b'*':
            count = parse_int(rest)
            if count < 0:
                return None
            return [self.read_reply() for dummy in range(count)]
        raise ProtocolError('unexpected reply %r: is this a Redis server?' % line[:40])


class RedisConnection:
    """One TCP connection to a Redis server; use as a context manager."""

    def __init__(self, host: str, port: int, timeout: float):
        # timeout bounds the connect and every single read or write, not the whole exchange.
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = RespReader(self.sock)

    def send(self, *args) -> None:
        self.sock.sendall(encode_command(*args))

    def command(self, *args):
        self.send(*args)
        return self.reader.read_reply()

    def auth(self, password: str, username: str | None = None) -> None:
        args = ('AUTH', username, password) if username else ('AUTH', password)
        try:
            self.command(*args)
        except ReplyError as exc:
            raise AuthError(exc.message) from None

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def connect(host: str, port: int, timeout: float,
            password: str | None = None, username: str | None = None) -> RedisConnection:
    """Open a connection and authenticate when a password is given."""
    conn = RedisConnection(host, port, timeout)
    try:
        if password is not None:
            conn.auth(password, username)
    except BaseException:
        conn.close()
        raise
    return conn


def parse_info(text) -> dict:
    """Turn an INFO reply into a flat dict of field -> string value."""
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    fields = {}
    for line in text.splitlines():
        if not line or line.startswith('#') or ':' not in line:
            continue
        key, value = line.split(':', 1)
        fields[key] = value
    return fields


def parse_keyspace(info: dict) -> dict:
    """Map `db0:keys=1,expires=0,avg_ttl=0` fields to {'db0': {'keys': 1, 'expires': 0}}.

    avg_ttl and newer counters are left out: they drift between two calls
    while the data is unchanged.
    """
    keyspace = {}
    for key, value in info.items():
        if not (key.startswith('db') and key[2:].isdigit()):
            continue
        counters = dict(item.split('=', 1) for item in value.split(',') if '=' in item)
        keyspace[key] = {
            'keys': int(counters.get('keys', 0)),
            'expires': int(counters.get('expires', 0)),
        }
    return keyspace


# Where redis-server keeps its data: what a restore needs to put the snapshot where the server reads it.
# appenddirname exists from Redis 7 on; CONFIG GET of an unknown parameter answers nothing.
DATA_CONFIG = ('dir', 'dbfilename', 'appendonly', 'appendfilename', 'appenddirname')
# redis-server's defaults when neither a config file nor the command line sets them; dir is the working directory.
DATA_CONFIG_DEFAULTS = {
    'dbfilename': 'dump.rdb',
    'appendonly': 'no',
    'appendfilename': 'appendonly.aof',
    'appenddirname': 'appendonlydir',
}


def parse_config_get(reply) -> dict:
    """Turn a CONFIG GET reply (a flat list: name, value, name, value...) into a dict of strings."""
    if not isinstance(reply, list) or len(reply) % 2:
        raise ProtocolError('unexpected reply to CONFIG GET: %r' % (reply,))
    text = [item.decode('utf-8', 'replace') if isinstance(item, bytes) else str(item) for item in reply]
    return dict(zip(text[0::2], text[1::2]))


def read_data_config(conn) -> dict:
    """The DATA_CONFIG parameters the server reports (one CONFIG GET each: Redis before 7 takes one pattern)."""
    config = {}
    for name in DATA_CONFIG:
        config.update(parse_config_get(conn.command('CONFIG', 'GET', name)))
    return config


def data_config_from_command(argv, working_dir=None) -> dict:
    """What a redis-server command line says of DATA_CONFIG, the way redis-server reads it.

    argv is the container's entrypoint and command together. Raises ValueError saying why when
    they do not tell: no redis-server in them, or a config file that may set a parameter the
    command line leaves out.
    """
    names = [os.path.basename(arg) for arg in argv]
    if 'redis-server' not in names:
        raise ValueError('the command %s does not run redis-server' % ' '.join(argv))
    args = argv[names.index('redis-server') + 1:]
    config_file = args[0] if args and not args[0].startswith('--') else None
    options = {}
    name = None
    for arg in args[1 if config_file else 0:]:
        if arg.startswith('--'):
            name = arg[2:].lower()
            options[name] = []
        elif name is not None:
            options[name].append(arg)
    given = {key: ' '.join(values) for key, values in options.items() if key in DATA_CONFIG}
    if config_file is None:
        config = dict(DATA_CONFIG_DEFAULTS, dir=working_dir or '/')
        config.update(given)
    else:
        needed = ['dir', 'dbfilename', 'appendonly'] + (['appendfilename'] if given.get('appendonly') == 'yes' else [])
        missing = [key for key in needed if key not in given]
        if missing:
            raise ValueError('redis-server reads the config file %s, which may set %s: the command line does not'
                             % (config_file, ', '.join(missing)))
        config = given
    # redis-server changes into dir at start: a relative one is relative to where it was started.
    config['dir'] = os.path.normpath(os.path.join(working_dir or '/', config['dir']))
    return config


def restore_shortfall(recorded: dict, keyspace: dict, persistence: dict, tolerance: float) -> list:
    """What a Redis that has just loaded a snapshot lacks, compared with the snapshot's record.

    recorded and keyspace are parse_keyspace() results (at the snapshot; now), persistence the
    INFO persistence fields. Two rules, each with `tolerance` (a fraction) for the keys written or
    deleted between the count and the snapshot:
    - the keys Redis read from the file (loaded plus dropped as expired while loading, Redis 7)
      are the recorded keys: a server that ignored the file read none;
    - per database, the keys without a TTL are all back: they cannot have expired.
    Keys with a TTL may have expired since the snapshot, so they are not counted against it.
    Returns one dict per failed rule: what, expected (at least), found.
    """
    def at_least(count):
        return int(count - count * tolerance)

    short = []
    if 'rdb_last_load_keys_loaded' in persistence:
        read = int(persistence['rdb_last_load_keys_loaded']) + int(persistence.get('rdb_last_load_keys_expired', 0))
        expected = sum(counts['keys'] for counts in recorded.values())
        if read < at_least(expected):
            short.append(dict(what='keys read from the snapshot at start', expected=expected, found=read))
    for db, counts in sorted(recorded.items()):
        now = keyspace.get(db, {'keys': 0, 'expires': 0})
        expected = counts['keys'] - counts['expires']
        found = now['keys'] - now['expires']
        if found < at_least(expected):
            short.append(dict(what='keys without a TTL in %s' % db, expected=expected, found=found))
    return short
