"""The one-off cull of a MySQLCache table (roles/maintain/tasks/table.yml): its result is the rows each MySQLCache
cache deleted, as JSON, and it is changed when one deleted any, never read from the words django-mysql's command
prints. One ansible-playbook run of the maintain role over the local connection, against a real MariaDB, with the
real django-mysql of the wheelhouse."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTIONS_PATH
from tests.unit.roles.test_cache_table_database import write_project

CULL_TASK = 'Cull the MySQLCache table with django-mysql (expired rows, then MAX_ENTRIES)'
SETTINGS = '''
import os

import pymysql

pymysql.install_as_MySQLdb()
SECRET_KEY = 'unit'
USE_TZ = True
INSTALLED_APPS = ['django_mysql']
DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql', 'HOST': os.environ['MALL_TEST_DB_HOST'],
                         'NAME': 'mall_test', 'USER': 'mall', 'PASSWORD': os.environ['MALL_TEST_DB_PASSWORD']}}
CACHES = {'default': {'BACKEND': 'django_mysql.cache.MySQLCache', 'LOCATION': 'mall_cull_cache',
                      'OPTIONS': {'CULL_PROBABILITY': 0, 'MAX_ENTRIES': int(os.environ['MALL_TEST_MAX_ENTRIES'])}}}
'''
# Five live entries in a new table.
PLANT = '''
import django
django.setup()
from django.core.cache import cache
from django.db import connection
from django_mysql.cache import MySQLCache
with connection.cursor() as cursor:
    cursor.execute('DROP TABLE IF EXISTS mall_cull_cache')
    cursor.execute(MySQLCache.create_table_sql.format(table_name='mall_cull_cache'))
for number in range(5):
    cache.set('key%d' % number, number, 600)
'''


def run_maintain(tmp_path, venv, login, max_entries):
    """Runs the maintain role on a table of five live entries; returns the cull task's result."""
    write_project(tmp_path, SETTINGS)
    environment = {'MALL_TEST_DB_HOST': login['login_host'], 'MALL_TEST_DB_PASSWORD': login['login_password'],
                   'MALL_TEST_MAX_ENTRIES': str(max_entries)}
    planted = subprocess.run([str(venv / 'bin' / 'python'), '-c', PLANT], cwd=tmp_path, capture_output=True, text=True,
                             env=dict(environment, DJANGO_SETTINGS_MODULE='shop.settings'), timeout=120, check=False)
    assert planted.returncode == 0, planted.stderr
    extra_vars = tmp_path / 'vars.json'
    extra_vars.write_text(json.dumps({
        'ansible_python_interpreter': sys.executable, 'mall_venv': str(venv), 'mall_app_dir': str(tmp_path),
        'mall_settings_module': 'shop.settings', 'mall_app_environment': environment, 'mall_cache_table': 'mall_cull_cache',
        'mall_db_name': login['login_db'], 'mall_db_login': {key: value for key, value in login.items() if key != 'login_db'},
        'mall_lock_dir': str(tmp_path / 'run' / 'lock')}))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False,
                                     'tasks': [{'ansible.builtin.include_role': {'name': 'mall.cache_migration.maintain'}}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_LOCALHOST_WARNING='0')
    proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', '-e', '@' + str(extra_vars), str(playbook)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    tasks = json.loads(proc.stdout)['plays'][0]['tasks']
    failed = [(task['task']['name'], task['hosts']) for task in tasks if task['hosts'].get('localhost', {}).get('failed')]
    assert proc.returncode == 0, failed
    culled = [task['hosts']['localhost'] for task in tasks if task['task']['name'] == 'mall.cache_migration.maintain : ' + CULL_TASK]
    assert culled, proc.stdout[-3000:]
    return culled[0]


@pytest.mark.parametrize('max_entries, deleted', [(2, 1), (300, 0)])
def test_the_cull_says_how_many_rows_each_cache_deleted_and_is_changed_when_any(tmp_path, django_mysql_venv, mariadb,
                                                                                max_entries, deleted):
    result = run_maintain(tmp_path, django_mysql_venv, mariadb['login'], max_entries)
    assert (json.loads(result['stdout']), result['changed']) == ({'default': deleted}, deleted > 0)
