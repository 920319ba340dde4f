#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: redis_snapshot
short_description: Fetch an RDB snapshot from a running Redis server over the network
version_added: 1.0.0
description:
  - Fetches a consistent point-in-time snapshot (an RDB file) of a running Redis
    server the way C(redis-cli --rdb) does it, by asking the server for a full
    replication transfer (C(SYNC)) and saving the payload to O(dest).
  - Needs only a TCP connection from the managed host to Redis. It needs neither
    C(redis-cli) nor C(docker exec) nor access to the server's disk, and it uses
    the Python standard library alone.
  - Before the transfer, a separate connection reads C(INFO server) and
    C(INFO keyspace), so the result tells which Redis version wrote the file and
    how many keys each database held, and C(CONFIG GET) of C(dir), C(dbfilename),
    C(appendonly), C(appendfilename) and C(appenddirname), so it tells where that
    server reads its data at start (RV(data_config)).
  - Where C(CONFIG) is renamed or refused, RV(data_config) comes from the server's
    command line (O(command), O(working_dir)); when that does not tell either, the
    module fails before the transfer.
  - The file is written to a temporary file in the directory of O(dest) and
    renamed into place, so O(dest) is either the old or the complete new file.
    The payload is checked for the RDB magic C(REDIS) and for the end-of-file
    opcode followed by the 8-byte checksum; the checksum itself is not recomputed.
  - The snapshot is meant as a restore point. Load it into a Redis server by
    placing it as C(dump.rdb) in the server's C(dir) before the server starts,
    for example with M(community.docker.docker_container_copy_into) into a
    container that was created but not yet started.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
options:
  host:
    description:
      - Host name or IP address of the Redis server, as seen from the managed host.
    type: str
    required: true
    version_added: 1.0.0
  port:
    description:
      - TCP port of the Redis server.
    type: int
    default: 6379
    version_added: 1.0.0
  username:
    description:
      - ACL user to authenticate as (Redis 6 or later), sent as C(AUTH username password).
      - When omitted and O(password) is set, C(AUTH password) authenticates as the C(default) user.
      - The user needs the ACL permissions C(+info), C(+replconf) and C(+sync),
        for example C(ACL SETUSER snapshot on >secret +info +replconf +sync +config|get).
        No key permissions are needed. Without C(+config|get), O(command) must tell
        where the server keeps its data.
    type: str
    version_added: 1.0.0
  password:
    description:
      - Password for C(AUTH). Omit it for a server without authentication.
    type: str
    version_added: 1.0.0
  timeout:
    description:
      - Seconds to wait for the TCP connection and for each read or write on it.
      - It bounds silence, not the whole transfer. While the server forks to
        prepare the snapshot it sends a newline every second, which counts as
        activity, so a large data set does not hit the timeout but a server
        that stops answering does.
    type: int
    default: 60
    version_added: 1.0.0
  dest:
    description:
      - Path of the RDB file to write on the managed host. Its directory must exist.
    type: path
    required: true
    version_added: 1.0.0
  command:
    description:
      - The server's command line (a container's entrypoint and command together), read
        when C(CONFIG GET) is refused or renamed, the way C(redis-server) reads it (C(--dir),
        C(--dbfilename), C(--appendonly), C(--appendfilename), C(--appenddirname), else its defaults).
      - When it names a config file, the command line must itself set C(dir), C(dbfilename) and
        C(appendonly) (and C(appendfilename) with C(--appendonly yes)), since the file is not read.
    type: list
    elements: str
    default: []
    version_added: 1.2.0
  working_dir:
    description:
      - The directory O(command) starts in (a container's C(WorkingDir)), which is the default and
        the base of a relative C(dir).
    type: str
    version_added: 1.2.0
  mode:
    description:
      - Permissions of O(dest), as for M(ansible.builtin.file), for example V('0640').
      - The snapshot holds every cached value, session data included, so the
        default lets only the owner read it.
    type: raw
    default: '0600'
    version_added: 1.0.0
attributes:
  check_mode:
    support: partial
    details:
      - Connects, authenticates and reads C(INFO), so an unreachable server, a wrong
        password or a missing C(+info) permission fail as they would in a real run,
        and RV(keyspace), RV(redis_version) and RV(data_config) are returned.
      - C(SYNC) is not sent, so a missing C(+sync) or C(+replconf) permission and
        failures of the transfer itself are not detected.
      - Always reports a change, since a real run always writes a new snapshot (see O(ignore:attributes.idempotent)).
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Every run takes a new snapshot. The RDB header records the creation time and
        memory usage of the server, so two snapshots of unchanged data almost never
        have the same bytes.
      - C(changed) is V(true) whenever a new file was written. It is V(false) only
        when the new snapshot has the same SHA-256 as the existing O(dest) and its
        mode already matches O(mode); the existing file is then left in place.
notes:
  - TLS is not supported, nor are Unix sockets. Use it on a trusted network, or
    through a tunnel, since the password and all data cross the network in clear text.
  - The server forks to produce the snapshot, as for C(BGSAVE); with a busy data set
    that costs memory through copy-on-write. With disk-based replication
    (C(repl-diskless-sync no)) the server also writes the RDB file into its own C(dir).
  - With diskless replication (the default since Redis 7) the server waits
    C(repl-diskless-sync-delay) seconds (5 by default) before it starts the transfer.
  - The module announces itself with C(REPLCONF capa eof), without which a server
    never uses diskless transfer, and C(REPLCONF rdb-only 1) (Redis 7 or later) so the
    server does not keep streaming commands after the snapshot. Servers that reject
    either still get a plain C(SYNC).
  - RV(keyspace) is read just before the transfer. If clients write in between, the
    snapshot may hold a slightly different number of keys.
seealso:
  - module: community.docker.docker_container_copy_into
    description: Copy the snapshot into a stopped Redis container to restore it.
  - name: Redis replication
    description: How a replica obtains the RDB snapshot that this module saves.
    link: https://redis.io/docs/latest/operate/oss_and_stack/management/replication/
  - name: redis-cli --rdb
    description: The command-line tool's way of taking the same snapshot.
    link: https://redis.io/docs/latest/develop/tools/cli/
'''

EXAMPLES = r'''
- name: Take a restore point of the Redis cache before the migration
  mall.cache_migration.redis_snapshot:
    host: redis.internal
    password: "{{ vault_redis_password }}"
    dest: /var/backups/mall/redis/dump.rdb
  register: __redis_snapshot

- name: Take it as an ACL user that may only replicate and read INFO
  mall.cache_migration.redis_snapshot:
    host: 10.0.3.7
    port: 6380
    username: snapshot
    password: "{{ vault_redis_snapshot_password }}"
    dest: /var/backups/mall/redis/dump.rdb
    mode: '0640'
    timeout: 120

- name: Restore it into a re-created container (created, not started)
  community.docker.docker_container_copy_into:
    container: redis
    path: /var/backups/mall/redis/dump.rdb
    container_path: /data/dump.rdb
    owner_id: 101  # the redis user of the image
    group_id: 102
    mode: '0600'
    mode_parse: modern
'''

RETURN = r'''
dest:
  description: Path of the snapshot file.
  returned: always
  type: str
  sample: /var/backups/mall/redis/dump.rdb
size:
  description: Size of the snapshot in bytes.
  returned: success and not in check mode
  type: int
  sample: 49021
sha256:
  description: SHA-256 of the snapshot, computed while it was received.
  returned: success and not in check mode
  type: str
  sample: 3b5f0c1e0c4a86f3d5a9f9f0e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4
rdb_version:
  description:
    - RDB format version from the file header. A server can load files of its own
      version or older, so restore into a Redis at least as new as RV(redis_version).
  returned: success and not in check mode
  type: int
  sample: 10
sync_mode:
  description:
    - How the server sent the snapshot. V(disk) when it saved an RDB file and sent its
      length first, V(diskless) when it streamed it from the fork with an end mark.
  returned: success and not in check mode
  type: str
  choices: [disk, diskless]
  sample: diskless
redis_version:
  description: Version of the Redis server, from C(INFO server).
  returned: success
  type: str
  sample: 7.0.15
keyspace:
  description:
    - Keys per database, from C(INFO keyspace) just before the transfer.
      Databases without keys are absent.
  returned: success
  type: dict
  sample: {"db0": {"keys": 1000, "expires": 100}}
  contains:
    keys:
      description: Number of keys in the database.
      type: int
      sample: 1000
    expires:
      description: Number of those keys that have a time to live.
      type: int
      sample: 100
data_config:
  description:
    - Where the server reads its data at start, from C(CONFIG GET) or else from O(command)
      (RV(data_config_source)). A restore puts the snapshot at C(dir)/C(dbfilename), or, with
      C(appendonly) V(yes), at C(dir)/C(appendfilename), which Redis 7 takes as the base of its
      append-only file and Redis 4 to 6 as its RDB preamble.
  returned: success
  type: dict
  sample: {"dir": "/data", "dbfilename": "dump.rdb", "appendonly": "yes", "appendfilename": "appendonly.aof", "appenddirname": "appendonlydir"}
  contains:
    dir:
      description: The server's data directory, absolute.
      type: str
    dbfilename:
      description: The RDB file the server loads when C(appendonly) is V(no).
      type: str
    appendonly:
      description: V(yes) when the server loads its append-only file instead of the RDB file.
      type: str
    appendfilename:
      description: The append-only file's name (Redis 7, the base name of its files in C(appenddirname)).
      type: str
    appenddirname:
      description: The directory of the append-only files in C(dir) (Redis 7 or later; absent before).
      type: str
data_config_source:
  description: Where RV(data_config) comes from. V(config) is C(CONFIG GET), V(command) is O(command).
  returned: success
  type: str
  choices: [config, command]
  sample: config
config_error:
  description: Why C(CONFIG GET) gave nothing (the server's error reply), when RV(data_config_source) is V(command).
  returned: when CONFIG GET was refused
  type: str
  sample: "ERR unknown command 'CONFIG', with args beginning with: 'GET' 'dir'"
'''

import hashlib
import os
import socket
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._redis_wire import (
    AuthError,
    ProtocolError,
    RedisWireError,
    ReplyError,
    connect,
    data_config_from_command,
    parse_info,
    parse_int,
    parse_keyspace,
    read_data_config,
    redis_common_argument_spec,
)

# "REDIS" + 4 version digits; the file ends with opcode 0xFF + 8-byte CRC64.
RDB_MAGIC = b'REDIS'
RDB_HEADER_SIZE = 9
RDB_EOF_OPCODE = 0xFF
RDB_TRAILER_SIZE = 9
EOF_MARK_SIZE = 40
SNAPSHOT_ACL = '+info +replconf +sync'


class SnapshotError(Exception):
    """A failure whose message is ready for the user, such as a write error on the managed host."""


class RdbDigest:
    """Hashes a streamed payload and keeps just enough of it to validate the RDB framing."""

    def __init__(self):
        self.size = 0
        self.head = b''
        self.tail = b''
        self._sha = hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._sha.update(chunk)
        if len(self.head) < RDB_HEADER_SIZE:
            self.head += chunk[:RDB_HEADER_SIZE - len(self.head)]
        self.tail = (self.tail + chunk)[-RDB_TRAILER_SIZE:]

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def rdb_version(self) -> int:
        """Validate header and trailer and return the format version."""
        if self.size < RDB_HEADER_SIZE + RDB_TRAILER_SIZE:
            raise ProtocolError('the snapshot is only %d bytes long, too short for an RDB file' % self.size)
        if self.head[:5] != RDB_MAGIC or not self.head[5:].isdigit():
            raise ProtocolError('the snapshot does not start with the RDB magic REDIS<version>: got %r' % self.head)
        if self.tail[0] != RDB_EOF_OPCODE:
            raise ProtocolError('the snapshot does not end with the RDB end-of-file opcode: it is incomplete')
        return int(self.head[5:])


def receive_rdb(reader, write) -> dict:
    """Read the reply to SYNC, passing the payload to write(chunk) as it arrives."""
    reader.skip_keepalives()
    header = reader.read_line()
    if header.startswith(b'-'):
        raise ReplyError(header[1:].decode('utf-8', 'replace'))
    if header.startswith(b'$EOF:'):
        # Diskless: the length is unknown up front; the payload ends with this random mark.
        mark = header[5:]
        if len(mark) != EOF_MARK_SIZE:
            raise ProtocolError('end mark of %d bytes instead of %d' % (len(mark), EOF_MARK_SIZE))
        sync_mode, chunks = 'diskless', reader.iter_until(mark)
    elif header.startswith(b'$'):
        size = parse_int(header[1:])
        if size < 0:
            raise ProtocolError('negative payload length %d' % size)
        sync_mode, chunks = 'disk', reader.iter_exact(size)
    else:
        raise ProtocolError('unexpected reply to SYNC: %r' % header[:40])
    digest = RdbDigest()
    for chunk in chunks:
        digest.update(chunk)
        write(chunk)
    return dict(sync_mode=sync_mode, size=digest.size, sha256=digest.sha256, rdb_version=digest.rdb_version())


def read_server_info(params) -> dict:
    with connect(params['host'], params['port'], params['timeout'],
                 params['password'], params['username']) as conn:
        server = parse_info(conn.command('INFO', 'server'))
        keyspace = parse_keyspace(parse_info(conn.command('INFO', 'keyspace')))
        info = dict(redis_version=server.get('redis_version'), keyspace=keyspace)
        try:
            info.update(data_config=read_data_config(conn), data_config_source='config')
        except ReplyError as exc:
            # Renamed or disabled (rename-command, ACL): the command line may still tell.
            info['config_error'] = exc.message
    return info


def data_config_from_params(params, info) -> dict:
    """data_config and its source from the command line, for a server that refused CONFIG GET."""
    try:
        config = data_config_from_command(params['command'], params['working_dir'])
    except ValueError as exc:
        raise SnapshotError(
            'Redis at %s:%d refused CONFIG GET (%s), and %s, so where it reads its data at start is unknown and a '
            'restore could not put the snapshot there. Allow CONFIG GET (ACL +config|get) or give the command line '
            'that sets --dir, --dbfilename and --appendonly. Nothing was written.'
            % (params['host'], params['port'], info['config_error'], exc if params['command'] else 'no command was given')) from None
    return dict(data_config=config, data_config_source='command')


def fetch_snapshot(params, out) -> dict:
    """Run the replication handshake and stream the RDB payload into the file object out."""
    def write(chunk):
        try:
            out.write(chunk)
        except OSError as exc:
            raise SnapshotError('Cannot write %s: %s' % (out.name, exc)) from None

    with connect(params['host'], params['port'], params['timeout'],
                 params['password'], params['username']) as conn:
        # Without "capa eof" a server never uses diskless transfer; without
        # "rdb-only" it would go on streaming commands. Old servers reject them: fine.
        for option in (('capa', 'eof'), ('rdb-only', '1')):
            try:
                conn.command('REPLCONF', *option)
            except ReplyError:
                pass
        conn.send('SYNC')
        snapshot = receive_rdb(conn.reader, write)
    try:
        out.flush()
        os.fsync(out.fileno())
    except OSError as exc:
        raise SnapshotError('Cannot write %s: %s' % (out.name, exc)) from None
    return snapshot


def sha256_file(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1024 * 1024), b''):
            sha.update(block)
    return sha.hexdigest()


def explain(exc: Exception, command: str, params) -> str:
    """Turn a low-level failure into a message that says what to fix."""
    target = '%s:%d' % (params['host'], params['port'])
    user = params['username'] or 'default'
    if isinstance(exc, SnapshotError):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return 'Connection to Redis at %s refused: is Redis running and listening on that address?' % target
    if isinstance(exc, socket.timeout):
        return ('Redis at %s did not answer within %d seconds (timeout) while running %s.'
                % (target, params['timeout'], command))
    if isinstance(exc, socket.gaierror):
        return "Cannot resolve the Redis host '%s': %s" % (params['host'], exc)
    if isinstance(exc, AuthError):
        return 'Authentication to Redis at %s as user %s failed: %s' % (target, user, exc.message)
    if isinstance(exc, ReplyError):
        if exc.code == 'NOAUTH':
            return 'Redis at %s requires authentication: set password (and username for an ACL user).' % target
        if exc.code == 'NOPERM':
            return ('Redis user %s may not run %s at %s (%s). A snapshot needs the ACL permissions %s, '
                    'for example: ACL SETUSER %s %s' % (user, command, target, exc.message, SNAPSHOT_ACL, user, SNAPSHOT_ACL))
        return 'Redis at %s refused %s: %s' % (target, command, exc.message)
    if isinstance(exc, ProtocolError):
        return 'Unexpected data from Redis at %s during %s: %s' % (target, command, exc)
    return 'Cannot talk to Redis at %s during %s: %s' % (target, command, exc)


def main():
    argument_spec = redis_common_argument_spec()
    argument_spec.update(
        dest=dict(type='path', required=True),
        mode=dict(type='raw', default='0600'),
        command=dict(type='list', elements='str', default=[]),
        working_dir=dict(type='str'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_by={'username': 'password'},
        supports_check_mode=True,
    )
    params = module.params
    dest = params['dest']
    directory = os.path.dirname(dest) or '.'
    if os.path.isdir(dest):
        module.fail_json(msg='dest %s is a directory; give the path of the file to write' % dest)
    # In check mode the directory may be one that an earlier task would have made.
    if not os.path.isdir(directory) and not module.check_mode:
        module.fail_json(msg='The directory of dest, %s, does not exist' % directory)

    try:
        result = read_server_info(params)
    except (OSError, RedisWireError) as exc:
        module.fail_json(msg=explain(exc, 'INFO', params))
    result['dest'] = dest
    if 'data_config' not in result:
        try:
            result.update(data_config_from_params(params, result))
        except SnapshotError as exc:
            module.fail_json(msg=str(exc), **result)
    if module.check_mode:
        module.exit_json(changed=True, **result)

    try:
        fd, tmp_path = tempfile.mkstemp(prefix='.%s.' % os.path.basename(dest), suffix='.tmp', dir=directory)
    except OSError as exc:
        module.fail_json(msg='Cannot create a temporary file in %s: %s' % (directory, exc), **result)
    try:
        # mkstemp made it 0600: the payload is never readable by others while it arrives.
        with os.fdopen(fd, 'wb') as out:
            result.update(fetch_snapshot(params, out))
    except (OSError, SnapshotError, RedisWireError) as exc:
        os.unlink(tmp_path)
        module.fail_json(msg=explain(exc, 'SYNC', params), **result)
    except BaseException:
        os.unlink(tmp_path)
        raise

    try:
        if os.path.exists(dest) and sha256_file(dest) == result['sha256']:
            os.unlink(tmp_path)
            changed = module.set_mode_if_different(dest, params['mode'], False)
        else:
            module.set_mode_if_different(tmp_path, params['mode'], False)
            os.replace(tmp_path, dest)
            changed = True
            # The snapshot is a restore point: make the rename itself durable.
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as exc:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        module.fail_json(msg='Cannot write %s: %s' % (dest, exc), **result)
    module.exit_json(changed=changed, **result)


if __name__ == '__main__':
    main()
