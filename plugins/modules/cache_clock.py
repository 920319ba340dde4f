#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cache_clock
short_description: Ask a Django project for the time its database cache compares expires with
version_added: 1.1.0
description:
  - Runs a probe with the project's own Python and settings and returns 'now' as the cache alias O(alias) stores
    C(expires) - Django's C(DatabaseCache) a naive datetime in the database connection's time zone (right also with
    C(USE_TZ = False) or a C(TIME_ZONE) in C(DATABASES)), django-mysql's C(MySQLCache) milliseconds since the epoch.
  - The maintain role deletes the rows whose C(expires) is before it.
  - Only reads.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.attributes.read_only
  - mall.cache_migration.django_project
options:
  alias:
    description: The cache alias of C(CACHES).
    type: str
    default: default
seealso:
  - module: mall.cache_migration.cache_verify
    description: Reads the same clock to count the expired rows of the cache table.
'''

EXAMPLES = r'''
- name: Ask Django for the time its cache compares expires with
  mall.cache_migration.cache_clock:
    project_dir: /srv/mall-server
    settings: mall_server.settings.production
  register: __clock
'''

RETURN = r'''
now:
  description: The current time as the cache stores C(expires), as text (C(2026-11-26 07:12:03), or C(1795000323000) for RV(unit=ms)).
  returned: success
  type: str
  sample: '2026-11-26 07:12:03'
unit:
  description: C(datetime) for Django's C(DatabaseCache), C(ms) for django-mysql's C(MySQLCache).
  returned: success
  type: str
  sample: datetime
backend:
  description: The class of the cache alias.
  returned: success
  type: str
  sample: django.core.cache.backends.db.DatabaseCache
'''

import inspect
import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils import _cache_clock_probe
from ansible_collections.mall.cache_migration.plugins.module_utils._app_environment import mask_secret_environment
from ansible_collections.mall.cache_migration.plugins.module_utils._venv import (
    django_project_argument_spec,
    project_environment,
    project_venv,
    tail,
    venv_python,
)


def main():
    module = AnsibleModule(argument_spec=dict(django_project_argument_spec(), alias=dict(type='str', default='default')),
                           supports_check_mode=True)
    mask_secret_environment(module)
    params = module.params
    python = venv_python(module, project_venv(params))
    project_dir = os.path.realpath(params['project_dir'])
    rc, out, err = module.run_command(
        [python, '-c', inspect.getsource(_cache_clock_probe)], cwd=project_dir,
        environ_update=project_environment(module), data=json.dumps(dict(project_dir=project_dir, alias=params['alias'])))
    try:
        report = json.loads(out)
    except ValueError:
        report = {'error': 'the probe printed no report (rc %d): %s' % (rc, tail(err or out))}
    if 'error' in report:
        module.fail_json(msg='Cannot read the clock of cache %r with %s: %s' % (params['alias'], python, report['error']))
    module.exit_json(changed=False, **report)


if __name__ == '__main__':
    main()
