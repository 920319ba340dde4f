#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: redis_use_info
short_description: Find where a Django project's code uses Redis or Celery for more than its cache, by file and line
version_added: 1.2.0
description:
  - Parses every Python file under O(path) with Python's C(ast) on the host (no regular expression) and returns each
    use of Redis beyond Django's cache API, with its file and line.
  - "A use is: an import of C(redis), C(django_redis), C(celery) or C(kombu) or a submodule, in any form but the
    relative one (C(import redis), C(import redis.exceptions as e), C(from redis.exceptions import RedisError));
    a call of C(get_redis_connection), C(delay), C(apply_async) or C(send_task); a call, with an argument, of a
    method only django-redis's cache has (C(lock), C(delete_pattern), C(ttl), C(pttl), C(keys), C(iter_keys),
    C(persist), C(expire), C(expire_at), C(pexpire), C(pexpire_at)) on C(cache), C(*_cache), C(self.cache) or
    C(caches[...]); a Celery task decorator (C(@shared_task), C(@periodic_task), C(@app.task),
    C(@celery_app.task)); C(SESSION_ENGINE) set to an engine whose name holds C(redis), or a C(SESSION_REDIS*)
    setting."
  - Virtualenvs (a directory with C(pyvenv.cfg)), hidden directories, C(migrations), C(node_modules),
    C(__pycache__) and the directories of O(excludes) are left out. Symbolic links to directories are not followed.
  - A file that does not parse is listed in RV(unparseable) with its line, not raised.
  - It refuses nothing itself; the caller decides (the preflight role refuses every use but RV(uses[].celery_app)).
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.attributes.read_only
options:
  path:
    description: The project's directory.
    type: path
    required: true
  excludes:
    description: Directories to leave out, by name (anywhere) or by path relative to O(path).
    type: list
    elements: str
    default: []
  extra_modules:
    description: More modules whose import is a use (a module and its submodules), for example C(redis_lock).
    type: list
    elements: str
    default: []
  extra_calls:
    description: More function or method names whose call is a use, whatever they are called on.
    type: list
    elements: str
    default: []
seealso:
  - module: mall.cache_migration.django_settings
    description: Finds the settings on Redis, which the migration changes itself.
'''

EXAMPLES = r'''
- name: Find where the app uses Redis beyond its cache
  mall.cache_migration.redis_use_info:
    path: /srv/mall-server
    excludes: [venv]
    extra_modules: [redis_lock]
  register: __redis_use

- name: Show each use
  ansible.builtin.debug:
    msg: "{{ item.path }}:{{ item.line }}: {{ item.kind }} {{ item.name }}"
  loop: "{{ __redis_use.uses }}"
'''

RETURN = r'''
uses:
  description: Each use, by file and line.
  returned: always
  type: list
  elements: dict
  sample: [{path: /srv/mall-server/orders/locks.py, line: 3, kind: import, name: redis.exceptions, celery_app: false}]
  contains:
    path:
      description: The file.
      type: str
    line:
      description: The line, 1-based.
      type: int
    kind:
      description: C(import), C(call), C(decorator) or C(setting).
      type: str
    name:
      description: The module, the function or method, the decorator, or the setting.
      type: str
    celery_app:
      description:
        - True for C(from celery import Celery) (or C(import celery)) in a file named C(celery.py), the project's
          Celery app, which the settings change unhooks (it removes C(from .celery import app) from the package's
          C(__init__.py)) and pip_sync uninstalls Celery from.
      type: bool
unparseable:
  description: The Python files that do not parse, each with C(path), C(line) and C(error).
  returned: always
  type: list
  elements: dict
  sample: [{path: /srv/mall-server/legacy/py2.py, line: 4, error: "SyntaxError: Missing parentheses in call to 'print'"}]
files:
  description: How many Python files were read.
  returned: always
  type: int
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._redis_use import scan_tree


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            excludes=dict(type='list', elements='str', default=[]),
            extra_modules=dict(type='list', elements='str', default=[]),
            extra_calls=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not os.path.isdir(params['path']):
        module.fail_json(msg='%s is not a directory' % params['path'])
    found = scan_tree(params['path'], params['excludes'], params['extra_modules'], params['extra_calls'])
    module.exit_json(changed=False, **found)


if __name__ == '__main__':
    main()
