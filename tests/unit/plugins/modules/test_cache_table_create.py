"""Unit tests of cache_table_create against a real MariaDB: check mode, a table that exists, a lock held elsewhere.

Hosts creating the table together: tests/unit/roles/test_cache_table_mysql.py.
"""
from __future__ import annotations

import sys

import pymysql
import pytest

from ansible_collections.mall.cache_migration.plugins.modules import cache_table_create

CREATE = ['CREATE TABLE probe_cache (cache_key varchar(255) NOT NULL PRIMARY KEY, expires BIGINT UNSIGNED NOT NULL)',
          'CREATE INDEX probe_cache_expires ON probe_cache (expires)']
LOCK = 'mall.cache_migration/mall_test'


@pytest.fixture
def connection(mariadb):
    login = mariadb['login']
    with pymysql.connect(host=login['login_host'], port=login['login_port'], user=login['login_user'],
                         password=login['login_password'], database=login['login_db'], autocommit=True) as opened:
        opened.cursor().execute('DROP TABLE IF EXISTS probe_cache')
        yield opened


def tables(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mall_test' AND TABLE_NAME = 'probe_cache'")
        return [row[0] for row in cursor.fetchall()]


def create(run_module, mariadb, check_mode=False, **changes):
    return run_module(cache_table_create.main, dict(mariadb['login'], table='probe_cache', create=CREATE, lock=LOCK, **changes),
                      check_mode=check_mode)


def test_check_mode_says_it_would_create_and_creates_nothing(run_module, mariadb, connection):
    result = create(run_module, mariadb, check_mode=True)
    assert (result['changed'], result['created'], result['executed']) == (True, True, [])
    assert tables(connection) == []


def test_a_missing_table_is_created_and_then_left_as_it_is(run_module, mariadb, connection):
    result = create(run_module, mariadb)
    assert (result['changed'], result['created'], result['executed']) == (True, True, CREATE)
    assert tables(connection) == ['probe_cache']
    again = create(run_module, mariadb)
    assert (again['changed'], again['created'], again['executed']) == (False, False, [])


def test_a_lock_held_elsewhere_fails_naming_its_holder_and_creates_nothing(run_module, mariadb, connection):
    with connection.cursor() as cursor:
        cursor.execute('SELECT GET_LOCK(%s, 0), CONNECTION_ID()', (LOCK,))
        holder = cursor.fetchone()[1]
    try:
        result = create(run_module, mariadb, lock_timeout=1)
    finally:
        connection.cursor().execute('SELECT RELEASE_LOCK(%s)', (LOCK,))
    assert result['failed'] is True
    assert 'held for 1 s by connection %d of mall' % holder in result['msg']
    assert (result['created'], tables(connection)) == (False, [])


def test_login_db_is_required(run_module, mariadb):
    login = {key: value for key, value in mariadb['login'].items() if key != 'login_db'}
    result = run_module(cache_table_create.main, dict(login, table='probe_cache', create=CREATE))
    assert (result['failed'], result['msg']) == (True, 'login_db is required: the schema of the table')


# A creator run as a command (as manage.py createcachetable): `create` makes the table, then it exits with the code
# given; with --dry-run it makes nothing.
CREATOR = '''
import os, sys
import sys

import pymysql
action, code = sys.argv[1], int(sys.argv[2])
if action == 'create' and '--dry-run' not in sys.argv:
    with pymysql.connect(host=os.environ['DB_HOST'], user='mall', password=os.environ['DB_PASSWORD'], database='mall_test') as db:
        db.cursor().execute(%r)
sys.exit(code)
''' % CREATE[0]


def create_by_command(run_module, mariadb, action, code, check_mode=False):
    login = mariadb['login']
    return run_module(cache_table_create.main, dict(
        login, table='probe_cache', command=[sys.executable, '-c', CREATOR, action, str(code)], dry_run_args=['--dry-run'],
        chdir='/', environment={'DB_HOST': login['login_host']}, secret_environment={'DB_PASSWORD': login['login_password']},
        lock=LOCK), check_mode=check_mode)


def test_a_missing_table_is_created_by_the_command_and_then_left_as_it_is(run_module, mariadb, connection):
    result = create_by_command(run_module, mariadb, 'create', 0)
    assert (result['changed'], result['created'], result['rc']) == (True, True, 0)
    assert tables(connection) == ['probe_cache']
    again = create_by_command(run_module, mariadb, 'create', 0)
    assert (again['changed'], again['created'], 'rc' in again) == (False, False, False)


def test_a_command_that_failed_on_a_table_another_creator_made_meanwhile_created_nothing(run_module, mariadb, connection):
    result = create_by_command(run_module, mariadb, 'create', 1)
    assert (result.get('failed', False), result['changed'], result['created'], result['rc']) == (False, False, False, 1)
    assert tables(connection) == ['probe_cache']


@pytest.mark.parametrize('code', [0, 1])
def test_a_command_that_leaves_the_table_missing_fails(run_module, mariadb, connection, code):
    result = create_by_command(run_module, mariadb, 'nothing', code)
    assert (result['failed'], result['created'], result['rc'], result['table_exists']) == (True, False, code, False)


def test_check_mode_runs_the_dry_run_and_creates_nothing(run_module, mariadb, connection):
    result = create_by_command(run_module, mariadb, 'create', 0, check_mode=True)
    assert (result['changed'], result['created'], result['rc'], result['cmd'][-1]) == (True, True, 0, '--dry-run')
    assert tables(connection) == []
