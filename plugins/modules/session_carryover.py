#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: session_carryover
short_description: Carry the sessions of a Django project over from its Redis cache into django_session
version_added: 1.0.0
description:
  - Before a Django project leaves Redis, copies the sessions that Django's C(cache) session engine keeps there
    into the C(django_session) table, so that the C(cached_db) engine the migration switches to finds them and
    nobody is logged out.
  - A probe runs in the project's virtualenv with the project directory as working directory and
    E(DJANGO_SETTINGS_MODULE) set to O(settings), with the project's B(current) settings (still on Redis).
    It reads the effective C(SESSION_ENGINE) and C(SESSION_CACHE_ALIAS).
  - With the C(cache) engine on a Redis cache (django-redis or Django's own C(RedisCache)) it lists the session
    keys with C(SCAN) on the cache's own client, reads each session and its remaining TTL, and writes each one
    that C(django_session) does not have yet, encoded as C(cached_db) does, with C(expire_date) now plus the TTL
    (the session's own expiry when the key has no TTL).
  - With the C(db) or C(cached_db) engine the sessions are in the database already, and with C(file),
    C(signed_cookies) or a cache that is not Redis they are not on Redis, and nothing is copied. Where every call to
    the session cache raises (Django's C(RedisCache) given django-redis' C(OPTIONS.CLIENT_CLASS)), no session can
    have been stored, so nothing is copied either. RV(reason) says which case it was.
  - The module fails, and copies nothing, when the sessions are on Redis and it cannot carry them over (a
    third-party engine that keeps them on Redis itself; sessions on the cache without C(django.contrib.sessions)
    installed or its table created), with the file and line of C(SESSION_ENGINE) and what to do. Run it in check
    mode before any change to get that refusal early.
  - Session keys and session data stay in the probe; the module returns counts only.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.django_project
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is written; RV(copied) is the number of sessions a real run would copy.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A session already in C(django_session) is counted in RV(skipped_existing) and not written again.
requirements:
  - Django and the project's cache client (django-redis or redis-py) in the project's virtualenv.
notes:
  - Logins between the copy and the restart of the app on the new settings are not carried over; run the module
    as close to that restart as the migration allows.
  - The database user of the project's C(DATABASES) needs C(INSERT) on C(django_session).
seealso:
  - name: Django's session engines
    description: The cache, cached_db and db engines and SESSION_CACHE_ALIAS.
    link: https://docs.djangoproject.com/en/4.2/topics/http/sessions/#configuring-the-session-engine
  - module: mall.cache_migration.cache_verify
'''

EXAMPLES = r'''
- name: Refuse early a session engine on Redis that cannot be carried over
  mall.cache_migration.session_carryover:
    project_dir: /srv/mall-server
    settings: mall_server.settings.production
  check_mode: true

- name: Carry the sessions over before the settings leave Redis
  mall.cache_migration.session_carryover:
    project_dir: /srv/mall-server
    venv: /opt/venvs/mall-server
    settings: mall_server.settings.production
    environment:
      MALL_ENV_FILE: /srv/mall-server/.env.production
  register: sessions

- name: Show how many sessions were carried over
  ansible.builtin.debug:
    msg: "{{ sessions.copied }} of {{ sessions.found }} sessions copied: {{ sessions.reason }}"
'''

RETURN = r'''
engine:
  description: The effective C(SESSION_ENGINE).
  returned: when Django loaded the settings
  type: str
  sample: django.contrib.sessions.backends.cache
alias:
  description: The effective C(SESSION_CACHE_ALIAS).
  returned: when Django loaded the settings
  type: str
  sample: default
backend:
  description: Class of the session cache, when the engine is the C(cache) engine.
  returned: when the engine is C(cache)
  type: str
  sample: django_redis.cache.RedisCache
kind:
  description: Where the engine keeps the sessions.
  returned: when Django loaded the settings
  type: str
  choices: [cache, cached_db, db, redis, other]
  sample: cache
defined_in:
  description: Where the project's settings modules assign C(SESSION_ENGINE), as C(<file> line <n>).
  returned: always
  type: list
  elements: str
  sample: [/srv/mall-server/mall_server/settings/base.py line 88]
found:
  description: Sessions found on Redis.
  returned: always
  type: int
  sample: 3
copied:
  description: Sessions written to C(django_session) (in check mode, that would be written).
  returned: always
  type: int
  sample: 3
skipped_existing:
  description: Sessions found on Redis that C(django_session) already holds.
  returned: always
  type: int
  sample: 0
reason:
  description: What was done and why, or why there was nothing to do.
  returned: always
  type: str
  sample: 3 sessions on Redis, 3 copied to django_session, 0 there already
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

COUNTS = ('found', 'copied', 'skipped_existing')
RESULT_FIELDS = ('engine', 'alias', 'backend', 'kind', 'defined_in', 'reason') + COUNTS


def run_probe(module, python):
    return run_project_probe(module, python, inspect.getsource(_session_probe), {'dry_run': module.check_mode})


def build_result(report):
    """The module's result from the probe's report, and the message to fail with (None when it did not fail)."""
    result = {field: report[field] for field in RESULT_FIELDS if field in report}
    for field in COUNTS:
        result.setdefault(field, 0)
    result.setdefault('defined_in', [])
    result['changed'] = result['copied'] > 0
    failure = report.get('refusal') or report.get('error')
    if failure:
        result['changed'] = False
        result.setdefault('reason', failure)
    return result, failure


def main():
    module = AnsibleModule(
        argument_spec=django_project_argument_spec(),
        supports_check_mode=True,
    )
    mask_secret_environment(module)
    params = module.params
    if not os.path.isdir(params['project_dir']):
        module.fail_json(msg='project_dir %s is not a directory' % params['project_dir'])
    python = venv_python(module, project_venv(params))
    result, failure = build_result(run_probe(module, python))
    if failure:
        module.fail_json(msg='%s Nothing was changed.' % failure, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
