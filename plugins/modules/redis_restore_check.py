#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: redis_restore_check
short_description: Check that a Redis restored from a snapshot holds the snapshot's keys
version_added: 1.2.0
description:
  - Waits until a Redis that has just started has loaded its data (C(loading:0) in C(INFO persistence)),
    then compares its C(INFO keyspace) with the key counts that M(mall.cache_migration.redis_snapshot)
    recorded (its RV(mall.cache_migration.redis_snapshot#module:keyspace)).
  - Two rules, each allowing O(tolerance) for keys written or deleted between the count and the snapshot.
    The keys Redis read from the file at start (C(rdb_last_load_keys_loaded) plus C(rdb_last_load_keys_expired),
    Redis 7 or later) are the recorded keys, since a server that ignored the file (an append-only file loaded
    instead, another C(dir)) read none. And per database, the keys without a TTL are all back.
  - Keys with a TTL that expired between the snapshot and the restore are not missing. Redis drops them
    while it loads (and counts them as expired), so they are not compared.
  - Fails naming each count that is short (RV(short)). Only reads.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.attributes.read_only
  - mall.cache_migration.redis
options:
  keyspace:
    description: The keys per database at the snapshot, as M(mall.cache_migration.redis_snapshot) returns them.
    type: dict
    required: true
  tolerance:
    description: The fraction of the recorded keys that may be missing (written or deleted between the count and the snapshot).
    type: float
    default: 0.01
  wait:
    description: Seconds to wait for Redis to accept connections and to finish loading its data.
    type: int
    default: 60
seealso:
  - module: mall.cache_migration.redis_snapshot
    description: Takes the snapshot and records its key counts.
'''

EXAMPLES = r'''
- name: Check that the restored Redis holds the snapshot's keys
  mall.cache_migration.redis_restore_check:
    host: 127.0.0.1
    password: "{{ mall_redis_password }}"
    keyspace: "{{ snapshot_record.keyspace }}"
'''

RETURN = r'''
keyspace:
  description: Keys per database now, from C(INFO keyspace).
  returned: success or when short
  type: dict
  sample: {"db0": {"keys": 1000, "expires": 100}}
keys_read:
  description: Keys Redis read from its data files at start, expired ones included (Redis 7 or later; none before).
  returned: success or when short
  type: int
  sample: 1000
short:
  description: One entry per count that is short; empty when the restore holds the snapshot's keys.
  returned: success or when short
  type: list
  elements: dict
  sample: [{"what": "keys read from the snapshot at start", "expected": 1000, "found": 0}]
  contains:
    what:
      description: What was counted.
      type: str
    expected:
      description: The count at the snapshot.
      type: int
    found:
      description: The count now.
      type: int
'''

import socket
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._redis_wire import (
    RedisWireError,
    ReplyError,
    connect,
    parse_info,
    parse_keyspace,
    redis_common_argument_spec,
    restore_shortfall,
)

POLL_SECONDS = 0.2


def read_loaded(params, deadline):
    """INFO persistence and keyspace once Redis answers and has loaded its data (or raise at the deadline)."""
    while True:
        try:
            with connect(params['host'], params['port'], params['timeout'], params['password'],
                         params['username']) as conn:
                persistence = parse_info(conn.command('INFO', 'persistence'))
                if persistence.get('loading') == '0':
                    return persistence, parse_keyspace(parse_info(conn.command('INFO', 'keyspace')))
        except (ConnectionRefusedError, ConnectionResetError):
            pass  # not listening yet
        except ReplyError as exc:
            if exc.code != 'LOADING':
                raise
        if time.monotonic() > deadline:
            raise TimeoutError('Redis did not finish loading its data within %d seconds' % params['wait'])
        time.sleep(POLL_SECONDS)


def main():
    argument_spec = redis_common_argument_spec()
    argument_spec.update(
        keyspace=dict(type='dict', required=True, no_log=False),
        tolerance=dict(type='float', default=0.01),
        wait=dict(type='int', default=60),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not 0 <= params['tolerance'] < 1:
        module.fail_json(msg='tolerance must be at least 0 and below 1, not %s' % params['tolerance'])
    try:
        recorded = {db: {'keys': int(counts['keys']), 'expires': int(counts['expires'])}
                    for db, counts in params['keyspace'].items()}
    except (KeyError, TypeError, ValueError):
        module.fail_json(msg='keyspace must map each database to its keys and expires, as redis_snapshot returns it')
    try:
        persistence, keyspace = read_loaded(params, time.monotonic() + params['wait'])
    except (OSError, socket.timeout, RedisWireError) as exc:
        module.fail_json(msg='Cannot read the key counts of Redis %s:%d: %s' % (params['host'], params['port'], exc))
    short = restore_shortfall(recorded, keyspace, persistence, params['tolerance'])
    keys_read = (int(persistence['rdb_last_load_keys_loaded']) + int(persistence.get('rdb_last_load_keys_expired', 0))
                 if 'rdb_last_load_keys_loaded' in persistence else None)
    result = dict(changed=False, keyspace=keyspace, keys_read=keys_read, short=short)
    if short:
        module.fail_json(
            msg='Redis %s:%d does not hold the snapshot\'s keys: %s.' % (
                params['host'], params['port'],
                '; '.join('%s: %d, the snapshot had %d' % (item['what'], item['found'], item['expected']) for item in short)),
            **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
