#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cache_verify
short_description: Verify the cache of a Django project, on the database or on Redis
version_added: 1.0.0
description:
  - Checks that the cache a Django project is configured with really works, with the project's
    own settings and its own virtualenv, before and after a move between Redis and Django's
    C(DatabaseCache) on MySQL or MariaDB.
  - A probe runs inside the project's virtualenv (O(venv) or O(python)) with the project directory
    as working directory and E(DJANGO_SETTINGS_MODULE) set to O(settings). It calls C(django.setup),
    opens the cache O(cache_alias) and reports what it finds as JSON.
  - The probe runs a round trip of C(set), C(get), C(touch), C(add), C(set_many), C(get_many), C(incr)
    and C(delete) on keys of its own, named C(cache_verify:<uuid>:<n>), then times O(operations) sets
    and gets. It deletes every key it wrote in a C(finally), even when a check fails. It never calls
    C(cache.clear) and never deletes a key it did not write.
  - Each cache call is checked on its own, and an exception is reported with its class and text.
    A setting that Django accepts at start-up but that fails on the first cache call is reported like that,
    for example Django's own C(django.core.cache.backends.redis.RedisCache) given django-redis'
    C(OPTIONS.CLIENT_CLASS), which raises C(TypeError) on every call.
  - For a C(DatabaseCache), and whenever O(expected_backend=database), the module connects to the database
    itself and inspects O(table) - columns, an index on C(expires), rows, expired rows, value sizes and
    expiry range. Expired rows are counted against the current time as Django stores it in that
    column, so they are right with and without C(USE_TZ).
  - For a Redis backend the probe uses the cache's own client to send C(PING), count the keys under the
    C(KEY_PREFIX) with a bounded C(SCAN) and read C(INFO memory).
  - It reports leftovers of Redis - packages still installed in the virtualenv, Redis or Celery keys
    still set in env files, other cache aliases that still point at Redis - and runs C(manage.py check).
  - Each check returns its verdict in RV(checks), with its figures and, when it failed, the reason, so
    a caller reads verdicts as data. Every failed check also becomes a sentence in RV(failures). If there
    is any, the module fails with them as message and still returns all the data. It never reports a change.
author:
  - mall.cache_migration contributors (!UNKNOWN)
options:
  python:
    description:
      - Python interpreter of the project, for a project that does not live in a virtualenv.
      - Mutually exclusive with O(venv).
    type: path
    version_added: 1.0.0
  cache_alias:
    description:
      - The alias in C(CACHES) to verify.
    type: str
    default: default
    version_added: 1.0.0
  expected_backend:
    description:
      - The kind of cache the alias must use. C(database) is a database cache (Django's C(DatabaseCache), a subclass,
        or django-mysql's C(MySQLCache)), C(mysql) only C(MySQLCache), C(redis) is django-redis or Django's own
        C(RedisCache). With C(any), every backend passes this check.
      - A C(MySQLCache) table must also have its C(value_type) column; its C(expires) is compared with the
        milliseconds since the epoch that C(MySQLCache) stores.
      - With C(database), O(table) is inspected even if the alias still uses another backend, to check the
        table before the switch.
    type: str
    choices: [database, mysql, redis, any]
    default: any
    version_added: 1.0.0
  table:
    description:
      - The cache table to inspect. With a C(DatabaseCache), its C(LOCATION) must name this table.
      - Defaults to the C(LOCATION) of a C(DatabaseCache). Set it to check the table while the cache is not a
        C(DatabaseCache) yet, with O(expected_backend=database); without it, that check fails.
    type: str
    version_added: 1.0.0
  operations:
    description:
      - How many sets and then gets of its own keys the probe times for RV(latency).
      - With a C(DatabaseCache), the probe writes nothing if the table rows plus the probe's keys would exceed
        C(MAX_ENTRIES), because Django would then cull entries the module did not write. Lower it, or raise
        C(MAX_ENTRIES), if RV(write_guard.blocked) is true.
    type: int
    default: 100
    version_added: 1.0.0
  max_set_p50_ms:
    description:
      - Fail when the median time of a C(set) is above this many milliseconds.
    type: float
    version_added: 1.0.0
  max_get_p50_ms:
    description:
      - Fail when the median time of a C(get) is above this many milliseconds.
    type: float
    version_added: 1.0.0
  env_files:
    description:
      - Env files to scan for O(leftover_keys), such as C(.env.development).
      - They are read as M(mall.cache_migration.env_file_keys) reads them, the way python-dotenv does.
        C(KEY=value), C(export KEY=value) and a bare C(KEY) line count. Comments and the lines inside a quoted
        value that spans lines do not. Only key names, files and line numbers are returned, never values.
      - A file that cannot be read is a failure, and so is one that is not UTF-8 text or UTF-16 or UTF-32 text
        with a byte order mark.
    type: list
    elements: path
    default: []
    version_added: 1.0.0
  leftover_keys:
    description:
      - Variable names that should be gone from O(env_files) after the move to the database.
      - The roles of this collection pass C(mall_redis_env_keys). Empty, no key is looked for.
    type: list
    elements: str
    default: []
    version_added: 1.0.0
  leftover_packages:
    description:
      - Distribution names that should be gone from the virtualenv after the move to the database.
      - The roles of this collection pass C(mall_redis_packages). Empty, no package is looked for.
    type: list
    elements: str
    default: []
    version_added: 1.0.0
  run_check:
    description:
      - Run C(manage.py check) with the project's Python and report its exit code and output in RV(check).
    type: bool
    default: true
    version_added: 1.0.0
  fail_on_leftovers:
    description:
      - Whether leftovers found (see RV(leftovers)) are failures. They are always reported.
      - Defaults to V(true) when O(expected_backend) is V(database) or V(mysql), else to V(false).
      - An unreadable file in O(env_files) is a failure either way.
    type: bool
    version_added: 1.0.0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.django_project
  - community.mysql.mysql
  - mall.cache_migration.database
attributes:
  check_mode:
    support: full
    details:
      - The module changes no configuration and runs the same way in check mode.
      - In both modes the probe writes keys of its own into the cache and deletes them again, since a cache
        cannot be verified without writing to it.
  diff_mode:
    support: N/A
    details:
      - The module changes nothing, so there is no diff.
  idempotent:
    support: full
    details:
      - The figures it reads (rows, latency, keys) follow the traffic of the application.
requirements:
  - Django in the project's Python (the probe runs there, not in the module's Python).
notes:
  - Without O(login_user), the module connects for the table checks with the project's own C(DATABASES) entry,
    as the probe reads it (the database that C(DatabaseCache) routes to, else C(default)). O(login_db)
    defaults to that entry's C(NAME) in both cases.
  - The probe reads the database password from the project settings to connect for the table checks; it is
    passed to the module on a pipe, never on a command line, and is masked in every returned value.
  - The cache LOCATION is returned with passwords in URLs replaced by C(********).
  - The table figures come from one query that reads every row of the cache table, values included,
    so on a table of millions of rows it takes a while.
  - The probe's own keys expire after 120 seconds, so even a probe that is killed leaves nothing lasting.
  - A probe that cannot reach a Redis server waits for the connection timeout of the project's settings.
    Set the task keyword C(timeout) to bound the whole task.
seealso:
  - name: Django's cache framework
    description: The cache backends and their options, such as MAX_ENTRIES and KEY_PREFIX.
    link: https://docs.djangoproject.com/en/4.2/topics/cache/
  - module: community.mysql.mysql_info
'''

EXAMPLES = r'''
- name: Verify the database cache after the move away from Redis
  mall.cache_migration.cache_verify:
    project_dir: /srv/mall-server
    settings: mall_server.settings.production
    environment:
      MALL_ENV_FILE: /srv/mall-server/.env.production
    expected_backend: database
    env_files:
      - /srv/mall-server/.env.production
    leftover_keys: [REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, CELERY_BROKER_URL, CELERY_RESULT_BACKEND]
    leftover_packages: [redis, django-redis, celery, kombu]
    max_set_p50_ms: 15
    max_get_p50_ms: 5

- name: Verify Redis after a rollback, without failing on Redis packages
  mall.cache_migration.cache_verify:
    project_dir: /srv/mall-server
    venv: /opt/venvs/mall-server
    settings: mall_server.settings.production
    expected_backend: redis

- name: Check the cache table with an administrative account before switching the settings
  mall.cache_migration.cache_verify:
    project_dir: /srv/mall-server
    settings: mall_server.settings.production
    expected_backend: database
    table: mall_server_cache
    fail_on_leftovers: false
    login_user: root
    login_unix_socket: /run/mysqld/mysqld.sock
  register: cache_before
  ignore_errors: true

- name: Show what is still wrong
  ansible.builtin.debug:
    var: cache_before.failures

- name: Go on only when the table is ready, whatever the cache uses now
  ansible.builtin.assert:
    that: cache_before.checks.table.ok
    fail_msg: "{{ cache_before.checks.table.reason }}"
'''

RETURN = r'''
backend:
  description: The C(BACKEND) setting of the cache alias.
  returned: when the probe could read C(CACHES)
  type: str
  sample: django.core.cache.backends.db.DatabaseCache
location:
  description: The C(LOCATION) setting of the cache alias (a list joined by commas), with passwords masked.
  returned: when the probe could read C(CACHES)
  type: str
  sample: redis://:********@127.0.0.1:6379/1
backend_kind:
  description: The kind of backend, from its class and base classes.
  returned: when the probe could read C(CACHES)
  type: str
  choices: [database, redis, locmem, other]
  sample: database
database_backend:
  description: For a database cache, which one, from its class and base classes.
  returned: when RV(backend_kind) is C(database)
  type: str
  choices: [database, mysql]
  sample: mysql
matches_expected:
  description: Whether RV(backend_kind) is what O(expected_backend) asks for.
  returned: when the probe could read C(CACHES)
  type: bool
  sample: true
django_version:
  description: Django version of the project's Python.
  returned: when Django could be imported
  type: str
  sample: 4.2.30
round_trip:
  description:
    - One entry per cache operation, each with C(ok) and, when not ok, C(error).
    - C(error) is the exception, as its class and text, or what the call returned that it should not have.
  returned: when the probe could open the cache and wrote its keys
  type: dict
  contains:
    set:
      description: C(set) of a key of the probe.
      type: dict
      sample: {ok: true}
    get:
      description: C(get) returns the value just set.
      type: dict
      sample: {ok: false, error: "TypeError: AbstractConnection.__init__() got an unexpected keyword argument 'CLIENT_CLASS'"}
    touch:
      description: C(touch) of an existing key returns true.
      type: dict
    add:
      description: C(add) stores a new key and leaves an existing one alone.
      type: dict
    set_many:
      description: C(set_many) stores every key.
      type: dict
    get_many:
      description: C(get_many) returns every key just stored.
      type: dict
    incr:
      description: C(incr) of 41 gives 42.
      type: dict
    delete:
      description: C(delete) returns true and the key is gone.
      type: dict
  sample:
    set: {ok: true}
    get: {ok: true}
    touch: {ok: true}
    add: {ok: true}
    set_many: {ok: true}
    get_many: {ok: true}
    incr: {ok: true}
    delete: {ok: true}
latency:
  description: Timings of O(operations) sets and then as many gets of the probe's own keys, one call at a time.
  returned: when the probe could open the cache and wrote its keys
  type: dict
  contains:
    operations:
      description: The number of sets and of gets.
      type: int
      sample: 100
    set:
      description: Timings of the sets.
      type: dict
      contains:
        count:
          description: Number of timed calls that completed.
          type: int
        p50_ms:
          description: Median, in milliseconds (linear interpolation between ranks).
          type: float
        p99_ms:
          description: 99th percentile, in milliseconds.
          type: float
        total_ms:
          description: Sum of all calls, in milliseconds.
          type: float
    get:
      description: Timings of the gets, like RV(latency.set), plus C(misses), the gets that did not return the value set.
      type: dict
    error:
      description: The exception that stopped the timing.
      type: str
      returned: when a call raised
  sample:
    operations: 100
    set: {count: 100, p50_ms: 0.61, p99_ms: 1.93, total_ms: 68.2}
    get: {count: 100, p50_ms: 0.12, p99_ms: 0.4, total_ms: 13.9, misses: 0}
write_guard:
  description: For a C(DatabaseCache), whether the probe's writes could make Django cull entries, decided before writing.
  returned: when the backend is a C(DatabaseCache)
  type: dict
  contains:
    rows:
      description: Rows in the table before the probe wrote.
      type: int
    max_entries:
      description: C(MAX_ENTRIES) of the cache (Django's default is 300).
      type: int
    cull_frequency:
      description: C(CULL_FREQUENCY) of the cache; 0 means a cull empties the whole table.
      type: int
    keys_needed:
      description: Keys the probe would have in the table at once.
      type: int
    blocked:
      description: True when the probe wrote nothing because rows plus its keys exceed C(MAX_ENTRIES).
      type: bool
    error:
      description: Why the rows could not be counted (a missing table, for example); the probe then writes anyway.
      type: str
  sample: {rows: 12, max_entries: 300, cull_frequency: 3, keys_needed: 106, blocked: false}
cleanup:
  description: The deletion of the probe's own keys.
  returned: when the probe wrote keys
  type: dict
  contains:
    keys:
      description: Keys the probe handed out (and deleted).
      type: int
    remaining:
      description: Of those, how many could still be read afterwards.
      type: int
    error:
      description: The exception that stopped the deletion.
      type: str
  sample: {keys: 106, remaining: 0}
database:
  description: The cache table, inspected over a connection of the module's own.
  returned: when the backend is a C(DatabaseCache) or O(expected_backend=database)
  type: dict
  contains:
    server:
      description: Where the module connected, as C(user@host:port/database), without the password.
      type: str
      sample: mall@127.0.0.1:3306/mall
    credentials:
      description: Where the connection parameters came from, C(login options) or C(DATABASES['<alias>']).
      type: str
      sample: DATABASES['default']
    schema:
      description: The database that holds the table.
      type: str
    table:
      description: The inspected table, O(table).
      type: str
    exists:
      description: Whether the table exists.
      type: bool
    columns:
      description: Column names and their SQL types.
      type: dict
      sample: {cache_key: varchar(255), value: longtext, expires: datetime(6)}
    expires_indexes:
      description: Names of the indexes that start with the C(expires) column.
      type: list
      elements: str
      sample: [mall_server_cache_expires]
    rows:
      description: Rows in the table.
      type: int
    expired_rows:
      description: Rows whose C(expires) is before RV(database.now). Django deletes them only when a set finds the table over C(MAX_ENTRIES).
      type: int
    never_expiring_rows:
      description: Rows set with C(timeout=None), which Django stores with the largest datetime.
      type: int
    avg_value_bytes:
      description: Average size of the stored (pickled, base64 encoded) values.
      type: float
    total_value_bytes:
      description: Total size of the stored values.
      type: int
    oldest_expiry:
      description: The earliest C(expires), as stored.
      type: str
      sample: '2025-11-26 07:14:03'
    newest_expiry:
      description: The latest C(expires), as stored; C(9999-12-31 23:59:59) when a row never expires.
      type: str
    now:
      description: The current time as Django stores C(expires) for this project (UTC with C(USE_TZ), else local time).
      type: str
      sample: '2025-11-26 07:12:03'
    skipped:
      description: Why the table was not inspected (a database that is not MySQL or MariaDB).
      type: str
    error:
      description: Why the table could not be inspected (no PyMySQL, no connection).
      type: str
redis:
  description: The Redis server behind the cache, through the cache's own client.
  returned: when the backend is a Redis cache
  type: dict
  contains:
    ping:
      description: Whether the server answered C(PING).
      type: bool
    pattern:
      description: The C(SCAN) pattern, C(<KEY_PREFIX>:*).
      type: str
      sample: 'mall_server:*'
    prefix_keys:
      description: Keys that match RV(redis.pattern).
      type: int
    prefix_keys_complete:
      description: False when the count stopped at its bound (1000 C(SCAN) calls of 1000 keys).
      type: bool
    used_memory:
      description: C(used_memory) of C(INFO memory), in bytes.
      type: int
    used_memory_human:
      description: C(used_memory_human) of C(INFO memory).
      type: str
    maxmemory_policy:
      description: C(maxmemory_policy) of C(INFO memory).
      type: str
    error:
      description: The exception from the client.
      type: str
  sample: {ping: true, pattern: 'mall_server:*', prefix_keys: 3, prefix_keys_complete: true, used_memory: 1048576,
           used_memory_human: 1.00M, maxmemory_policy: noeviction}
leftovers:
  description: What is left of Redis in the project.
  returned: always
  type: dict
  contains:
    packages:
      description: Which of O(leftover_packages) are installed in the project's Python, with their versions.
      type: dict
      sample: {redis: 5.0.1, django-redis: 5.4.0}
    env_keys:
      description: Each assignment of one of O(leftover_keys) in O(env_files), with file, line and key.
      type: list
      elements: dict
      sample: [{file: /srv/mall-server/.env.production, line: 9, key: REDIS_URL}]
    unreadable_env_files:
      description: Files of O(env_files) that could not be read, with the reason.
      type: list
      elements: dict
      sample: [{file: /srv/mall-server/.env.production, error: No such file or directory}]
    caches_reference_redis:
      description: Aliases in C(CACHES) whose backend, location or options mention Redis.
      type: list
      elements: str
      sample: [default]
check:
  description: The result of C(manage.py check).
  returned: when O(run_check=true)
  type: dict
  contains:
    rc:
      description: Exit code.
      type: int
      sample: 0
    output:
      description: Standard output and error, stripped.
      type: str
      sample: 'System check identified no issues (0 silenced).'
checks:
  description:
    - The verdict of each check that ran, by name. C(backend) and C(leftovers) always run;
      C(round_trip) when the probe opened the cache, C(table) when the table was to be inspected, C(redis) with
      a Redis backend, C(latency) when the probe wrote its keys, C(manage_check) with O(run_check=true).
    - C(backend) is the kind of cache against O(expected_backend) (and whether the probe could read it at all);
      C(round_trip) the cache operations, the write guard and the clean-up of the probe's keys; C(table) the
      table's columns and index, and that C(LOCATION) names O(table); C(redis) the C(PING);
      C(latency) the timings against O(max_set_p50_ms) and O(max_get_p50_ms); C(leftovers) what is left of
      Redis (a failure only with O(fail_on_leftovers)), and unreadable O(env_files); C(manage_check) the exit
      code of C(manage.py check).
  returned: always
  type: dict
  contains:
    ok:
      description: Whether the check passed.
      type: bool
      sample: true
    figures:
      description:
        - What the check measured, as data. C(backend) has C(backend), C(backend_kind), C(location), C(expected)
          and C(django_version); C(round_trip) has C(operations), C(passed), C(errors) (by operation),
          C(cleanup) and C(write_guard); C(table), C(redis) and C(latency) hold RV(database), RV(redis) and
          RV(latency); C(leftovers) holds RV(leftovers) with C(found) and C(fail_on_leftovers);
          C(manage_check) has C(rc) and C(last_line).
      type: dict
      sample: {rc: 0, last_line: System check identified no issues (0 silenced).}
    reason:
      description: Why the check failed, the sentences of RV(failures) that belong to it joined by C(; ). Empty when it passed.
      type: str
      sample: "cache 'default' uses django_redis.cache.RedisCache (redis), expected database"
    summary:
      description: The figures as one line for a report.
      type: str
      sample: "mall.mall_server_cache: 2 rows, 1 expired, 0 never expire; values avg 40.5 B, total 81 B; ..."
  sample:
    backend:
      ok: true
      figures: {backend: django.core.cache.backends.db.DatabaseCache, backend_kind: database,
                location: mall_server_cache, expected: database, django_version: 4.2.30}
      reason: ''
      summary: django.core.cache.backends.db.DatabaseCache (database) at mall_server_cache, expected database
    manage_check:
      ok: true
      figures: {rc: 0, last_line: System check identified no issues (0 silenced).}
      reason: ''
      summary: 'rc 0: System check identified no issues (0 silenced).'
failures:
  description: Every failed check, as a sentence. The module fails when it is not empty.
  returned: always
  type: list
  elements: str
  sample: ["cache 'default' uses django.core.cache.backends.db.DatabaseCache (database), expected redis"]
'''

import inspect
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mall.cache_migration.plugins.module_utils import _django_probe
from ansible_collections.mall.cache_migration.plugins.module_utils._cache_verify import (
    cache_table,
    classify_backend,
    database_backend,
    failure_message,
    judge,
    latency_summary,
    matches_expected,
    redact_location,
)
from ansible_collections.mall.cache_migration.plugins.module_utils._env_file import scan_files
from ansible_collections.mall.cache_migration.plugins.module_utils._app_environment import mask_secret_environment
from ansible_collections.mall.cache_migration.plugins.module_utils._venv import (
    django_project_argument_spec,
    project_environment,
    project_venv,
    tail,
)
from ansible_collections.mall.cache_migration.plugins.module_utils.database import (
    DatabaseConnectionError,
    connect,
    connection_argument_spec,
    describe_server,
)

# What Django stores in `expires` for timeout=None (datetime.max without microseconds).
NEVER_EXPIRES = '9999-12-31 23:59:59'
STDERR_TAIL_LINES = 15


def argument_spec():
    spec = django_project_argument_spec()
    spec.update(
        python=dict(type='path'),
        cache_alias=dict(type='str', default='default'),
        expected_backend=dict(type='str', choices=['database', 'mysql', 'redis', 'any'], default='any'),
        table=dict(type='str'),
        operations=dict(type='int', default=100),
        max_set_p50_ms=dict(type='float'),
        max_get_p50_ms=dict(type='float'),
        env_files=dict(type='list', elements='path', default=[]),
        leftover_keys=dict(type='list', elements='str', default=[], no_log=False),
        leftover_packages=dict(type='list', elements='str', default=[]),
        run_check=dict(type='bool', default=True),
        fail_on_leftovers=dict(type='bool'),
    )
    spec.update(connection_argument_spec())
    return spec


def app_python(params):
    if params['python']:
        return params['python']
    return os.path.join(project_venv(params), 'bin', 'python')


def run_probe(module, python, env):
    """Run the probe in the project's Python; return its report, or an empty one and the reason."""
    params = module.params
    probe_params = dict(
        alias=params['cache_alias'],
        operations=params['operations'],
        packages=params['leftover_packages'],
        want_database=params['expected_backend'] in ('database', 'mysql'),
    )
    # The source goes on the command line, the parameters (no secrets) on stdin.
    rc, out, err = module.run_command(
        [python, '-c', inspect.getsource(_django_probe)],
        cwd=params['project_dir'], environ_update=env, data=json.dumps(probe_params),
    )
    try:
        return json.loads(out), None
    except ValueError:
        return {}, 'the probe in %s printed no report (rc %d): %s' % (python, rc, tail(err or out, STDERR_TAIL_LINES))


def app_login(module, probe_database):
    """The module's connection options with the login of the project's DATABASES entry, whose password is masked."""
    app = probe_database.get('params', {})
    if app.get('password'):
        module.no_log_values.add(app['password'])
    return dict(
        module_login(module, probe_database),
        login_host=app.get('host') or 'localhost',
        login_port=int(app.get('port') or 3306),
        login_user=app.get('user'),
        login_password=app.get('password'),
        login_unix_socket=app.get('unix_socket'),
    )


def module_login(module, probe_database):
    login = {name: module.params[name] for name in connection_argument_spec()}
    login['login_db'] = login['login_db'] or probe_database.get('params', {}).get('database')
    return login


def quote_identifier(name):
    return '`%s`' % name.replace('`', '``')


def inspect_cache_table(cursor, schema, table, now, never_expires=None):
    """Read the structure and the contents summary of the cache table."""
    report = dict(schema=schema, table=table)
    cursor.execute(
        'SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS '
        'WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION',
        (schema, table),
    )
    report['columns'] = dict(cursor.fetchall())
    report['exists'] = bool(report['columns'])
    if not {'value', 'expires'} <= set(report['columns']):
        return report
    cursor.execute(
        'SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS '
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND COLUMN_NAME = 'expires' AND SEQ_IN_INDEX = 1",
        (schema, table),
    )
    report['expires_indexes'] = sorted(row[0] for row in cursor.fetchall())
    cursor.execute(
        'SELECT COUNT(*), COALESCE(SUM(expires < %%s), 0), COALESCE(SUM(expires >= %%s), 0), '
        'AVG(LENGTH(value)), COALESCE(SUM(LENGTH(value)), 0), MIN(expires), MAX(expires) FROM %s.%s'
        % (quote_identifier(schema), quote_identifier(table)),
        (now, never_expires or NEVER_EXPIRES),
    )
    rows, expired, never_expiring, average, total, oldest, newest = cursor.fetchone()
    report.update(
        rows=int(rows),
        expired_rows=int(expired),
        never_expiring_rows=int(never_expiring),
        avg_value_bytes=None if average is None else round(float(average), 1),
        total_value_bytes=int(total),
        oldest_expiry=None if oldest is None else str(oldest),
        newest_expiry=None if newest is None else str(newest),
        now=now,
    )
    return report


def database_result(module, probe_database, table):
    if table is None:
        return dict(table=table, error='no table to inspect: the cache is not a DatabaseCache, so it has no LOCATION '
                                       'to take the name from; set table')
    if probe_database.get('error'):
        return dict(table=table, error='the probe could not read the database settings: %s' % probe_database['error'])
    if probe_database.get('vendor') != 'mysql':
        return dict(table=table, skipped='DATABASES[%r] uses %s, not MySQL or MariaDB' % (
            probe_database.get('alias'), probe_database.get('engine')))
    if module.params['login_user']:
        login, credentials = module_login(module, probe_database), 'login options'
    else:
        login, credentials = app_login(module, probe_database), 'DATABASES[%r]' % probe_database['alias']
    result = dict(server=describe_server(login), credentials=credentials, table=table)
    try:
        connection = connect(login)
    except (ImportError, DatabaseConnectionError) as exc:
        result['error'] = str(exc)
        return result
    try:
        with connection.cursor() as cursor:
            result.update(inspect_cache_table(cursor, login['login_db'], table, probe_database['storage_now'],
                                              probe_database.get('never_expires', NEVER_EXPIRES)))
    except Exception as exc:  # any driver error is reported beside the other results, not raised
        result['error'] = '%s: %s' % (type(exc).__name__, exc)
    finally:
        connection.close()
    return result


def run_manage_check(module, python, env):
    rc, out, err = module.run_command(
        [python, 'manage.py', 'check'], cwd=module.params['project_dir'], environ_update=env,
    )
    return dict(rc=rc, output='\n'.join(part.strip() for part in (out, err) if part.strip()))


def build_result(module, probe):
    params = module.params
    result = dict(changed=False)
    if 'django_version' in probe:
        result['django_version'] = probe['django_version']
    cache = probe.get('cache')
    if cache:
        result['backend'] = cache['backend']
        result['location'] = redact_location(cache['location'])
        result['backend_kind'] = classify_backend(cache['class_paths'])
        if result['backend_kind'] == 'database':
            result['database_backend'] = database_backend(cache['class_paths'])
        result['matches_expected'] = matches_expected(params['expected_backend'], result['backend_kind'],
                                                      cache['class_paths'])
    for section in ('round_trip', 'write_guard', 'cleanup'):
        if section in probe:
            result[section] = probe[section]
    if 'latency' in probe:
        result['latency'] = latency_summary(probe['latency'], params['operations'])
    if probe.get('redis'):
        result['redis'] = probe['redis']
    if 'database' in probe:
        result['database'] = database_result(module, probe['database'], cache_table(params['table'], result))
        if result['database'].get('skipped'):
            module.warn('The cache table was not inspected: %s.' % result['database']['skipped'])
    env_keys, unreadable = scan_files(params['env_files'], params['leftover_keys'])
    result['leftovers'] = dict(
        packages=probe.get('packages', {}),
        env_keys=env_keys,
        unreadable_env_files=unreadable,
        caches_reference_redis=probe.get('caches_reference_redis', []),
    )
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('venv', 'python')],
        supports_check_mode=True,
    )
    mask_secret_environment(module)
    params = module.params
    if params['operations'] < 1:
        module.fail_json(msg='operations must be at least 1, got %d' % params['operations'])
    if not os.path.isdir(params['project_dir']):
        module.fail_json(msg='project_dir %s is not a directory' % params['project_dir'])
    python = app_python(params)
    if not os.access(python, os.X_OK):
        module.fail_json(msg='no executable Python at %s: set venv or python' % python)

    env = project_environment(module)
    probe, probe_error = run_probe(module, python, env)
    result = build_result(module, probe)
    if params['run_check']:
        result['check'] = run_manage_check(module, python, env)
    result['checks'], result['failures'] = judge(result, params, probe_error or probe.get('error'))
    if result['failures']:
        module.fail_json(msg=failure_message(result['failures']), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
