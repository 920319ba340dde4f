#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cache_table_create
short_description: Create a cache table and its indexes once, however many hosts of a fleet find it missing together
version_added: 1.3.0
description:
  - Looks for the table O(table) in the schema O(login_db) and, when it is missing, runs the statements O(create)
    (the C(CREATE TABLE) and its C(CREATE INDEX)) in order, or the command O(command) (C(manage.py createcachetable)).
  - The verdict of a command is the table's, never its words nor its exit code alone. RV(created) is V(true) when the
    table was missing and exists after it; the task fails when it is still missing.
  - With O(lock), the look and the statements happen while this module holds the MySQL/MariaDB named lock of that
    name (C(GET_LOCK)) on one connection, so of the hosts of a fleet that found the table missing at the same
    time one creates it and the others find it made (RV(created) V(false)), instead of failing on
    C(already exists) or on the duplicate index.
author:
  - mall.cache_migration contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    details:
      - In check mode the module only looks for the table, without the lock, and reports whether it would create it;
        where it is missing, it runs O(command) with O(dry_run_args), which show what it would do and change nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A table that exists is left as it is, whatever its columns and indexes.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - community.mysql.mysql
  - mall.cache_migration.database
  - mall.cache_migration.database.named_lock
options:
  table:
    description:
      - Name of the table, in the schema O(login_db).
    type: str
    required: true
  create:
    description:
      - The statements that create the table and its indexes, run in order when the table is missing.
      - Exactly one of O(create) and O(command) is required.
    type: list
    elements: str
  command:
    description:
      - A command that creates the table and its indexes (the venv's C(python manage.py createcachetable)), run in
        O(chdir), not through a shell, when the table is missing.
    type: list
    elements: str
    version_added: 1.4.0
  dry_run_args:
    description:
      - Arguments added to O(command) in check mode, with which it only shows what it would do (C(--dry-run) of
        C(createcachetable), which prints its SQL). Without them, check mode runs no command.
    type: list
    elements: str
    default: []
    version_added: 1.4.0
  chdir:
    description:
      - The working directory of O(command).
    type: path
    version_added: 1.4.0
  environment:
    description:
      - Environment variables for O(command), on top of the module's own, shown in its invocation except those that
        look secret. The filter P(mall.cache_migration.app_environment#filter) splits an environment in two.
    type: dict
    default: {}
    version_added: 1.4.0
  secret_environment:
    description:
      - Environment variables for O(command) whose values are never logged nor returned.
    type: dict
    default: {}
    version_added: 1.4.0
notes:
  - O(login_db) is required (the schema of O(table)).
  - Statements that define tables commit on their own in MySQL and MariaDB; a table whose index failed stays
    created without it (RV(executed) says how far the statements went).
seealso:
  - module: mall.cache_migration.project_command
    description: Runs a command of the project under the same lock, without a table's verdict.
'''

EXAMPLES = r'''
- name: Create the MySQLCache table, once in the fleet
  mall.cache_migration.cache_table_create:
    login_host: db.example
    login_user: mall_user
    login_password: "{{ mall_db_password }}"
    login_db: mall_server
    table: mall_server_cache
    create:
      - "{{ mysql_cache_schema.stdout }}"
      - CREATE INDEX `mall_server_cache_expires` ON `mall_server`.`mall_server_cache` (`expires`)
    lock: mall.cache_migration/mall_server

- name: Create Django's database cache table with createcachetable, once in the fleet (the login of ~/.my.cnf)
  mall.cache_migration.cache_table_create:
    config_file: /root/.my.cnf
    login_db: mall_server
    table: mall_server_cache
    command: [/srv/mall-server/venv/bin/python, manage.py, createcachetable, mall_server_cache]
    dry_run_args: [--dry-run]
    chdir: /srv/mall-server
    environment: "{{ mall_app_environment | mall.cache_migration.app_environment('plain') }}"
    secret_environment: "{{ mall_app_environment | mall.cache_migration.app_environment('secret') }}"
    lock: mall.cache_migration/mall_server
'''

RETURN = r'''
created:
  description: Whether this run created the table (in check mode, would create it). V(false) when it existed.
  returned: always
  type: bool
  sample: true
executed:
  description: The statements of O(create) that ran, in order.
  returned: always
  type: list
  elements: str
lock_waited:
  description: Seconds spent waiting for O(lock).
  returned: with O(lock), except in check mode
  type: float
  sample: 0.01
cmd:
  description: The command that ran, with O(dry_run_args) in check mode (the environment is not shown).
  returned: when O(command) ran
  type: list
  elements: str
  version_added: 1.4.0
rc:
  description: The command's exit code.
  returned: when O(command) ran
  type: int
  sample: 0
  version_added: 1.4.0
stdout:
  description: The command's standard output; in check mode, what it would do (createcachetable's SQL).
  returned: when O(command) ran
  type: str
  version_added: 1.4.0
stderr:
  description: The command's standard error, which says why a command that left the table missing failed.
  type: str
  returned: when O(command) ran
  version_added: 1.4.0
table_exists:
  description: Whether the table exists after the command; an exit code other than 0 on a table that exists is
    another creator's win, not a failure.
  returned: when O(command) ran, except in check mode
  type: bool
  version_added: 1.4.0
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.community.mysql.plugins.module_utils.mysql import mysql_driver
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


def table_exists(cursor, table):
    """Whether the connection's schema (login_db) has the table."""
    cursor.execute('SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s',
                   (table,))
    return cursor.fetchone()[0] > 0


def create_table(module, cursor, result):
    """Take the lock (not in check mode), look for the table and create it when missing; fills result."""
    params = module.params
    if params['lock'] and not module.check_mode:
        started = time.monotonic()
        holder = take_lock(cursor, params['lock'], params['lock_timeout'])
        result['lock_waited'] = round(time.monotonic() - started, 3)
        if holder:
            login = {key: params[key] for key in connection_argument_spec()}
            module.fail_json(msg='The database lock %s on %s was held for %s s by %s: another host of the fleet is running '
                                 'a database-wide step. Run again when it is done. Nothing was changed.'
                                 % (params['lock'], describe_server(login), params['lock_timeout'], holder), **result)
    if table_exists(cursor, params['table']):
        return
    result['created'] = result['changed'] = True
    if params['command']:
        run_command(module, cursor, result)
        return
    if module.check_mode:
        return
    for statement in params['create']:
        cursor.execute(statement)
        result['executed'].append(statement)


def run_command(module, cursor, result):
    """Run the command that creates the missing table (in check mode, its dry run) and judge it by the table."""
    params = module.params
    if module.check_mode and not params['dry_run_args']:
        return
    argv = params['command'] + (params['dry_run_args'] if module.check_mode else [])
    # As given: no ~ or $VAR expansion (no shell would see one either).
    rc, out, err = module.run_command(argv, cwd=params['chdir'], environ_update=app_environment(module),
                                      expand_user_and_vars=False)
    result.update(cmd=argv, rc=rc, stdout=out, stderr=err)
    if module.check_mode:
        if rc != 0:
            module.fail_json(msg='%s exited with %d in its dry run' % (argv[0], rc), **result)
        return
    result['table_exists'] = table_exists(cursor, params['table'])
    if not result['table_exists']:
        result['created'] = result['changed'] = False
        module.fail_json(msg='%s exited with %d and %s is still missing' % (argv[0], rc, params['table']), **result)
    if rc != 0:
        result['created'] = result['changed'] = False
        module.warn('%s exited with %d, but %s exists: another creator made it meanwhile' % (argv[0], rc, params['table']))


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        table=dict(type='str', required=True),
        create=dict(type='list', elements='str'),
        command=dict(type='list', elements='str'),
        dry_run_args=dict(type='list', elements='str', default=[]),
        chdir=dict(type='path'),
    )
    argument_spec.update(app_environment_argument_spec())
    argument_spec.update(named_lock_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=[('create', 'command')],
                           required_one_of=[('create', 'command')], supports_check_mode=True)
    mask_secret_environment(module)
    # Not required in the spec: login_db is documented, optional, in the shared doc fragment.
    if not module.params['login_db']:
        module.fail_json(msg='login_db is required: the schema of the table')
    login = {key: module.params[key] for key in connection_argument_spec()}
    result = dict(changed=False, created=False, executed=[])
    try:
        connection = connect(login)
    except (DatabaseConnectionError, ImportError) as exc:
        module.fail_json(msg='Cannot connect to the database: %s' % exc, **result)
    try:
        create_table(module, connection.cursor(), result)
    except mysql_driver.Error as exc:
        module.fail_json(msg='Creating %s failed: %s' % (module.params['table'], exc), **result)
    finally:
        connection.close()  # the lock goes with its connection
    module.exit_json(**result)


if __name__ == '__main__':
    main()
