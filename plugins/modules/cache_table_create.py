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
    (the C(CREATE TABLE) and its C(CREATE INDEX)) in order.
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
      - In check mode the module only looks for the table, without the lock, and reports whether it would create it.
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
    type: list
    elements: str
    required: true
notes:
  - O(login_db) is required (the schema of O(table)).
  - Statements that define tables commit on their own in MySQL and MariaDB; a table whose index failed stays
    created without it (RV(executed) says how far the statements went).
seealso:
  - module: mall.cache_migration.project_command
    description: Runs C(manage.py createcachetable) under the same lock.
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
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.community.mysql.plugins.module_utils.mysql import mysql_driver
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
    if module.check_mode:
        return
    for statement in params['create']:
        cursor.execute(statement)
        result['executed'].append(statement)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        table=dict(type='str', required=True),
        create=dict(type='list', elements='str', required=True),
    )
    argument_spec.update(named_lock_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
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
