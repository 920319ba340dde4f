#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cache_warm_up
short_description: Copy the live keys of a Django cache into another cache of the project, with their TTL
version_added: 1.2.0
description:
  - At a cutover from Redis to the database cache (or back), copies the live keys under the app's key prefix
    from the old cache into the new one, so that the app does not start on a cold cache.
  - A probe runs in the project's virtualenv with the project directory as working directory and
    E(DJANGO_SETTINGS_MODULE) set to O(settings), the same probe as M(mall.cache_migration.session_carryover).
    It builds the old cache from O(source), an entry of C(CACHES) as Django holds it, and writes into the alias
    O(target_alias) of the project's current settings. Values are read and written through both Django backends,
    so they are serialised as the app reads them.
  - The source is django-redis or Django's C(RedisCache) (the keys are listed with C(SCAN) under the prefix
    C(make_key) gives, with their C(TTL)), or a C(DatabaseCache) or django-mysql's C(MySQLCache) (the rows under
    that prefix that have not expired). A key keeps its remaining TTL; a key without one keeps none. Keys are copied in batches of
    O(batch_size); on a database each batch is one transaction. After each batch the source is read again, and a
    key the app changed meanwhile is written again with its newer value.
  - With O(source_alias) and no O(source), nothing is copied; the module returns the C(CACHES) entry of that alias
    of the current settings as RV(source_config), to pass as O(source) once the settings have changed.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.django_project
options:
  source:
    description:
      - The C(CACHES) entry of the cache to copy from (C(BACKEND), C(LOCATION), C(OPTIONS), C(KEY_PREFIX),
        C(VERSION), C(KEY_FUNCTION)), usually RV(source_config) of an earlier run with O(source_alias).
      - Never logged (the location of a Redis often holds its password).
    type: dict
  source_alias:
    description:
      - Alias of the current settings whose C(CACHES) entry to return as RV(source_config). Used only without
        O(source).
    type: str
    default: default
  target_alias:
    description:
      - Alias of the current settings to copy into.
    type: str
    default: default
  max_keys:
    description:
      - Copy at most this many keys; the others are counted in RV(skipped) as C(max_keys). C(0) is no cap.
    type: int
    default: 0
  max_bytes:
    description:
      - Copy keys while their stored size adds up to at most this many bytes; the others are counted in
        RV(skipped) as C(max_bytes). C(0) is no cap.
    type: int
    default: 0
  batch_size:
    description:
      - Keys read and written at a time.
    type: int
    default: 500
  only_changed:
    description:
      - Skip a key the target already holds with the same value (counted in RV(skipped) as C(unchanged)). A
        rollback sets it, as the restored Redis snapshot holds the keys as they were, so only those written or
        changed since the cutover go back.
    type: bool
    default: false
  only_missing:
    description:
      - Skip every key the target already holds, whatever its value (counted in RV(skipped) as C(present)). The
        migration sets it when another host of the fleet already uses the table, as what that host wrote there is
        newer than what Redis holds.
      - Mutually exclusive with O(only_changed) (both V(true) is refused).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details:
      - In check mode the source is listed and nothing is written; RV(copied) and RV(bytes) are what a real run
        would copy.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - A second run copies the keys again (the same values with the same TTL) unless O(only_changed) or
        O(only_missing) is set.
requirements:
  - Django and the project's cache client (django-redis or redis-py) in the project's virtualenv.
notes:
  - The database user of the project's C(DATABASES) needs C(INSERT), C(UPDATE) and C(DELETE) on the cache table.
  - Keys written to the source after the copy and before the app restarts on the new settings are not copied;
    run the module as close to that restart as the virtualenv still holding the Redis client allows.
  - Keys whose stored name does not start with the prefix C(make_key) gives (a custom C(KEY_FUNCTION)) are not
    found.
seealso:
  - module: mall.cache_migration.session_carryover
  - name: Django's cache framework
    description: CACHES, KEY_PREFIX, VERSION and timeouts.
    link: https://docs.djangoproject.com/en/4.2/topics/cache/
'''

EXAMPLES = r'''
- name: Remember the Redis cache before the settings change
  mall.cache_migration.cache_warm_up:
    project_dir: /srv/mall-server
    settings: mall_server.settings.production
  register: redis_cache
  no_log: true

# ... the settings change to DatabaseCache and the table is created ...

- name: Copy the live keys from Redis into the cache table
  mall.cache_migration.cache_warm_up:
    project_dir: /srv/mall-server
    settings: mall_server.settings.production
    source: "{{ redis_cache.source_config }}"
    max_keys: 10000
  register: warm_up

- name: Report the warm-up
  ansible.builtin.debug:
    msg: "{{ warm_up.copied }} keys ({{ warm_up.bytes }} bytes) in {{ warm_up.seconds }} s, skipped {{ warm_up.skipped }}"
'''

RETURN = r'''
source_config:
  description: The C(CACHES) entry of O(source_alias), to pass as O(source) later. It holds the cache's location.
  returned: without O(source)
  type: dict
  sample: {BACKEND: django_redis.cache.RedisCache, LOCATION: "redis://:secret@redis:6379/1"}
source_kind:
  description: What O(source_alias) is; V(database) for C(DatabaseCache) and django-mysql's C(MySQLCache).
  returned: without O(source)
  type: str
  choices: [redis, database, other]
  sample: redis
source_backend:
  description: Class of the source cache (of O(source_alias) without O(source)).
  returned: when the source cache was built
  type: str
  sample: django_redis.cache.RedisCache
target_backend:
  description: Class of the cache of O(target_alias).
  returned: when keys were written
  type: str
  sample: django.core.cache.backends.db.DatabaseCache
found:
  description: Live keys under the prefix in the source.
  returned: with O(source)
  type: int
  sample: 520
copied:
  description: Keys written to the target (in check mode, that would be written).
  returned: with O(source)
  type: int
  sample: 520
recopied:
  description: Keys the app changed in the source while their batch was copied, written again with the newer value.
  returned: with O(source)
  type: int
  sample: 0
bytes:
  description: Stored size in the source of the keys copied (Redis C(STRLEN), or the length of the table's value).
  returned: with O(source)
  type: int
  sample: 48213
seconds:
  description: How long the listing and copy took.
  returned: with O(source)
  type: float
  sample: 1.42
batches:
  description: Batches written.
  returned: with O(source)
  type: int
  sample: 2
skipped:
  description:
    - Keys found and not copied, by reason. C(expired) gone between the listing and the read, C(unchanged) the
      target holds the same value (O(only_changed)), C(present) the target holds the key (O(only_missing)),
      C(max_keys) and C(max_bytes) over a cap.
  returned: with O(source)
  type: dict
  sample: {expired: 1, max_keys: 0}
'''

import inspect
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mall.cache_migration.plugins.module_utils import _session_probe
from ansible_collections.mall.cache_migration.plugins.module_utils._app_environment import mask_secret_environment
from ansible_collections.mall.cache_migration.plugins.module_utils._venv import (
    django_project_argument_spec,
    project_venv,
    run_project_probe,
    venv_python,
)

COPY_FIELDS = ('found', 'copied', 'recopied', 'bytes', 'seconds', 'batches', 'skipped', 'source_backend',
               'target_backend')


def argument_spec():
    spec = django_project_argument_spec()
    spec.update(
        source=dict(type='dict', no_log=True),
        source_alias=dict(type='str', default='default'),
        target_alias=dict(type='str', default='default'),
        max_keys=dict(type='int', default=0, no_log=False),
        max_bytes=dict(type='int', default=0),
        batch_size=dict(type='int', default=500),
        only_changed=dict(type='bool', default=False),
        only_missing=dict(type='bool', default=False),
    )
    return spec


def probe_params(params, check_mode):
    if params['source'] is None:
        return {'task': 'capture', 'alias': params['source_alias']}
    return {'task': 'copy', 'source': params['source'], 'target_alias': params['target_alias'],
            'max_keys': params['max_keys'], 'max_bytes': params['max_bytes'], 'batch_size': params['batch_size'],
            'keep': 'present' if params['only_missing'] else 'unchanged' if params['only_changed'] else None,
            'dry_run': check_mode}


def run_probe(module, python):
    return run_project_probe(module, python, inspect.getsource(_session_probe), probe_params(module.params, module.check_mode))


def capture_result(report):
    kind = 'redis' if report['is_redis'] else 'database' if report['is_database'] else 'other'
    return {'changed': False, 'source_config': report['config'], 'source_kind': kind,
            'source_backend': report['backend']}


def copy_result(report):
    result = {field: report[field] for field in COPY_FIELDS if field in report}
    result['changed'] = result['copied'] > 0
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    mask_secret_environment(module)
    params = module.params
    if not os.path.isdir(params['project_dir']):
        module.fail_json(msg='project_dir %s is not a directory' % params['project_dir'])
    # Not mutually_exclusive: that refuses both given, even as false, as the roles give them.
    if params['only_changed'] and params['only_missing']:
        module.fail_json(msg='only_changed and only_missing are mutually exclusive')
    for name in ('max_keys', 'max_bytes'):
        if params[name] < 0:
            module.fail_json(msg='%s must be 0 (no cap) or more, not %d' % (name, params[name]))
    if params['batch_size'] < 1:
        module.fail_json(msg='batch_size must be 1 or more, not %d' % params['batch_size'])
    report = run_probe(module, venv_python(module, project_venv(params)))
    if 'error' in report:
        module.fail_json(msg='The warm-up stopped: %s' % report['error'] if params['source'] is not None
                         else 'Cannot read CACHES: %s' % report['error'])
    module.exit_json(**(copy_result(report) if params['source'] is not None else capture_result(report)))


if __name__ == '__main__':
    main()
