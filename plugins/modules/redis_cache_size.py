#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: redis_cache_size
short_description: Count the live cache keys in Redis and size the database cache that replaces it
version_added: 1.1.0
description:
  - Walks the keys of O(db) that match O(match) with C(SCAN MATCH) (at most O(max_keys)) and asks
    C(MEMORY USAGE) of the first O(sample) of them, to estimate their memory.
  - Sizes C(MAX_ENTRIES) of the database cache from the count, times O(headroom) and at least 10000, unless
    O(max_entries) is given, and predicts the set latency of O(backend) at that size with the model measured in
    issue 12 (Django's C(DatabaseCache) about 0.1416 ms per 1000 rows, since every set counts the table;
    django-mysql's C(MySQLCache) about 0.25 ms), and its get latency (0.18 and 0.12 ms), beside what Redis costs today
    (django-redis, 0.09 ms per set and 0.07 ms per get). RV(sizing_warnings) says, with the figures, when the backend
    would evict live keys or pass 2 ms per set; RV(set_ms_over_limit) whether the set latency passes O(max_set_ms).
  - Only reads; a Redis that does not answer is an error.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.attributes.read_only
  - mall.cache_migration.redis
options:
  db:
    description: The Redis database of the cache (the number at the end of its C(LOCATION)).
    type: int
    default: 0
  match:
    description: The C(SCAN MATCH) pattern of the cache's keys, for example V(mall_server:*) (Django's C(KEY_PREFIX:)).
    type: str
    default: '*'
  max_keys:
    description: Stop counting after this many keys; RV(complete) is then false.
    type: int
    default: 10000000
  sample:
    description: How many of the keys C(MEMORY USAGE) is asked of.
    type: int
    default: 1000
  backend:
    description: The database cache that replaces Redis (C(cache_settings_backend)).
    type: str
    choices: [database, mysql]
    default: database
  headroom:
    description: C(MAX_ENTRIES) is the live key count times this.
    type: float
    default: 2.0
  max_entries:
    description: A C(MAX_ENTRIES) chosen by hand; the warnings judge it instead of the sized one.
    type: int
  max_set_ms:
    description:
      - The set p50 in milliseconds above which RV(set_ms_over_limit) is true (preflight's C(mall_cache_max_set_ms)).
      - Must be above 0.
    type: float
    default: 5.0
    version_added: 1.4.0
seealso:
  - module: mall.cache_migration.django_settings
    description: Writes the MAX_ENTRIES sized here.
'''

EXAMPLES = r'''
- name: Count the cache keys and size the table
  mall.cache_migration.redis_cache_size:
    host: 127.0.0.1
    password: "{{ mall_redis_password }}"
    db: 1
    match: "mall_server:*"
    backend: mysql
  register: __size
'''

RETURN = r'''
live_keys:
  description: The keys that match O(match) (counted up to O(max_keys)).
  returned: success
  type: int
  sample: 1000000
complete:
  description: Whether SCAN went through the whole keyspace.
  returned: success
  type: bool
sampled:
  description: How many keys C(MEMORY USAGE) was asked of.
  returned: success
  type: int
memory_bytes:
  description: Estimated memory of the matching keys (sampled average times RV(live_keys)).
  returned: success
  type: int
max_entries:
  description: The C(MAX_ENTRIES) the database cache gets.
  returned: success
  type: int
predicted_set_ms:
  description: Set p50 of O(backend) at RV(max_entries) rows, by the measured model, in milliseconds.
  returned: success
  type: float
  sample: 141.6
predicted_get_ms:
  description: Get p50 of O(backend), by the measured model (the same at any row count), in milliseconds.
  returned: success
  type: float
  sample: 0.18
  version_added: 1.4.0
redis_set_ms:
  description: Set p50 of django-redis, the cache today, measured by the same model, in milliseconds (for comparison).
  returned: success
  type: float
  sample: 0.09
  version_added: 1.4.0
redis_get_ms:
  description: Get p50 of django-redis, the cache today, measured by the same model, in milliseconds (for comparison).
  returned: success
  type: float
  sample: 0.07
  version_added: 1.4.0
max_set_ms:
  description: The limit the verdict used (O(max_set_ms)).
  returned: success
  type: float
  sample: 5.0
  version_added: 1.4.0
set_ms_over_limit:
  description: Whether RV(predicted_set_ms) is above O(max_set_ms); preflight then refuses the plan unless accepted.
  returned: success
  type: bool
  sample: true
  version_added: 1.4.0
sizing_warnings:
  description: What the chosen backend would do wrong at that size, with the figures (also given as task warnings).
  returned: success
  type: list
  elements: str
'''

import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._cache_sizing import (
    DEFAULT_MAX_SET_MS,
    count_keys,
    size,
)
from ansible_collections.mall.cache_migration.plugins.module_utils._redis_wire import (
    RedisWireError,
    connect,
    redis_common_argument_spec,
)


def main():
    argument_spec = redis_common_argument_spec()
    argument_spec.update(
        db=dict(type='int', default=0),
        match=dict(type='str', default='*'),
        max_keys=dict(type='int', default=10000000, no_log=False),
        sample=dict(type='int', default=1000),
        backend=dict(type='str', choices=['database', 'mysql'], default='database'),
        headroom=dict(type='float', default=2.0),
        max_entries=dict(type='int'),
        max_set_ms=dict(type='float', default=DEFAULT_MAX_SET_MS),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params['headroom'] < 1 or params['max_keys'] < 1 or params['sample'] < 0 or params['max_set_ms'] <= 0:
        module.fail_json(msg='headroom must be at least 1, max_keys at least 1, sample at least 0 and max_set_ms above 0')
    try:
        with connect(params['host'], params['port'], params['timeout'], params['password'],
                     params['username']) as conn:
            conn.command('SELECT', str(params['db']))
            figures = count_keys(conn, params['match'], max_keys=params['max_keys'], sample=params['sample'])
    except (OSError, socket.timeout, RedisWireError) as exc:
        module.fail_json(msg='Cannot count the keys of Redis %s:%d db %d: %s'
                             % (params['host'], params['port'], params['db'], exc))
    sizing = size(params['backend'], figures['live_keys'], params['headroom'], params['max_entries'],
                  params['max_set_ms'])
    warnings = sizing.pop('warnings')
    figures.update(sizing, sizing_warnings=warnings)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, **figures)


if __name__ == '__main__':
    main()
