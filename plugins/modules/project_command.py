#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: project_command
short_description: Run a command of the Django project with its environment kept out of command lines and logs
version_added: 1.0.0
description:
  - Runs a command (C(manage.py createcachetable), C(manage.py check), the app's restart command) in the project
    directory with the app's extra environment (O(environment)).
  - Unlike the C(environment) keyword of a task, which puts C(NAME=value) pairs on the command line of the shell
    that runs the module (visible in C(ps) on the managed host and in C(-vvv) output on the controller), the values
    travel inside the module's arguments and reach the command only through its process environment (readable by
    its own user and root alone, C(/proc/<pid>/environ)). The values of O(secret_environment) are C(no_log), never
    logged nor returned, and masked in the command's output.
  - With O(lock), the command runs while this module holds the MySQL/MariaDB named lock of that name (C(GET_LOCK)),
    for a database-wide step (the cache table's creation) that the app hosts of a fleet would otherwise race on.
author:
  - mall.cache_migration contributors (!UNKNOWN)
attributes:
  check_mode:
    support: none
    details:
      - The command's effect is unknown to the module, so in check mode the task is skipped, as with
        M(ansible.builtin.command); set C(check_mode) to V(false) on a command that only reads.
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Whether the command changes anything again is the command's; the module always reports changed.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - community.mysql.mysql
  - mall.cache_migration.database
  - mall.cache_migration.database.named_lock
options:
  argv:
    description:
      - The command and its arguments, not run through a shell. Mutually exclusive with O(cmd).
    type: list
    elements: str
  cmd:
    description:
      - The command as one string, split like a shell would split it (no shell runs it). Mutually exclusive with O(argv).
    type: str
  chdir:
    description:
      - The working directory of the command.
    type: path
    required: true
  environment:
    description:
      - Environment variables for the command, on top of the module's own. Values are passed as strings.
      - These values are shown in the module's invocation, except those whose names look secret (a word
        C(PASSWORD), C(SECRET), C(TOKEN), ..., or C(KEY) last) or that are URLs with a password, which are masked
        in the result. Put secrets in O(secret_environment), which is never logged, not even in the managed
        host's syslog.
    type: dict
    default: {}
  secret_environment:
    description:
      - Environment variables for the command whose values are never logged nor returned (E(SECRET_KEY),
        passwords). Ansible masks each value wherever it occurs in the result, so keep common words and numbers
        in O(environment).
      - The filter P(mall.cache_migration.app_environment#filter) splits an environment into the two options.
    type: dict
    default: {}
    version_added: 1.1.0
notes:
  - The connection options are used only with O(lock).
  - A command that exits with a code other than 0 fails the task; set C(failed_when) to judge it otherwise.
'''

EXAMPLES = r'''
- name: Create the cache table, one host of the fleet at a time
  mall.cache_migration.project_command:
    argv: [/srv/mall-server/venv/bin/python, manage.py, createcachetable, mall_server_cache]
    chdir: /srv/mall-server
    environment: "{{ mall_app_environment | mall.cache_migration.app_environment('plain') }}"
    secret_environment: "{{ mall_app_environment | mall.cache_migration.app_environment('secret') }}"
    lock: mall.cache_migration/mall_server
    login_host: db.example
    login_user: mall_user
    login_password: "{{ mall_db_password }}"

- name: Restart the app with its own command
  mall.cache_migration.project_command:
    cmd: /srv/mall-server/bin/mall-serverctl restart
    chdir: /srv/mall-server
    environment: "{{ mall_app_environment | mall.cache_migration.app_environment('plain') }}"
    secret_environment: "{{ mall_app_environment | mall.cache_migration.app_environment('secret') }}"
'''

RETURN = r'''
cmd:
  description: The command that ran (its arguments; the environment is not shown).
  returned: always
  type: list
  elements: str
  sample: [/srv/mall-server/venv/bin/python, manage.py, check]
rc:
  description: The command's exit code.
  returned: always
  type: int
  sample: 0
stdout:
  description: The command's standard output.
  returned: always
  type: str
stderr:
  description: The command's standard error.
  returned: always
  type: str
lock_waited:
  description: Seconds spent waiting for O(lock).
  returned: with O(lock)
  type: float
  sample: 0.01
'''

import shlex
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._app_environment import (
    app_environment,
    app_environment_argument_spec,
    mask_secret_environment,
)
from ansible_collections.mall.cache_migration.plugins.module_utils.database import (
    DatabaseConnectionError,
    connect,
    connection_argument_spec,
    describe_server,
    named_lock_argument_spec,
    take_lock,
)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(app_environment_argument_spec())
    argument_spec.update(
        argv=dict(type='list', elements='str'),
        cmd=dict(type='str'),
        chdir=dict(type='path', required=True),
    )
    argument_spec.update(named_lock_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=[('argv', 'cmd')],
                           required_one_of=[('argv', 'cmd')], supports_check_mode=False)
    mask_secret_environment(module)
    params = module.params
    argv = params['argv'] or shlex.split(params['cmd'])
    result = dict(changed=True, cmd=argv)
    connection = None
    if params['lock']:
        login = {key: params[key] for key in connection_argument_spec()}
        started = time.monotonic()
        try:
            connection = connect(login)
            holder = take_lock(connection.cursor(), params['lock'], params['lock_timeout'])
        except (DatabaseConnectionError, ImportError) as exc:
            module.fail_json(msg='Cannot take the database lock %s: %s' % (params['lock'], exc), **result)
        result['lock_waited'] = round(time.monotonic() - started, 3)
        if holder:
            module.fail_json(msg='The database lock %s on %s was held for %s s by %s: another host of the fleet is running '
                                 'a database-wide step. Run again when it is done. Nothing was changed.'
                                 % (params['lock'], describe_server(login), params['lock_timeout'], holder), **result)
    try:
        # As given: no ~ or $VAR expansion (no shell would see one either).
        rc, out, err = module.run_command(argv, cwd=params['chdir'], environ_update=app_environment(module),
                                          expand_user_and_vars=False)
    finally:
        if connection is not None:
            connection.close()  # the lock goes with its connection
    result.update(rc=rc, stdout=out, stderr=err)
    if rc != 0:
        module.fail_json(msg='%s exited with %d' % (argv[0], rc), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
