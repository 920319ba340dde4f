"""Django's database cache table (roles/cache_table/tasks/main.yml): manage.py createcachetable runs under the fleet's
lock only where the table is missing, and its verdict is the table's (created: missing before, there after), never
the words it prints. One ansible-playbook run of main.yml on several hosts at once (the local connection, a fork
each), against a real MariaDB, with the real Django of the wheelhouse creating the table."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTIONS_PATH
from tests.unit.roles.test_cache_table_mysql import drop_table, table_and_indexes

ROOT = pathlib.Path(__file__).resolve().parents[3]
HOSTS = ['app%d' % number for number in range(1, 5)]
CREATE_TASK = 'Create the cache table, one host of the fleet at a time: mall_cache'
SETTINGS = '''
import os

import pymysql

pymysql.install_as_MySQLdb()
SECRET_KEY = 'unit'
USE_TZ = True
DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql', 'HOST': os.environ['MALL_TEST_DB_HOST'],
                         'NAME': 'mall_test', 'USER': 'mall', 'PASSWORD': os.environ['MALL_TEST_DB_PASSWORD']}}
CACHES = {'default': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache', 'LOCATION': 'mall_cache'}}
'''
MANAGE = 'import sys\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n'
VARS_FILES = [ROOT / 'roles' / 'mall' / 'defaults' / 'main.yml', ROOT / 'roles' / 'mall' / 'vars' / 'main.yml',
              ROOT / 'roles' / 'cache_table' / 'defaults' / 'main.yml', ROOT / 'roles' / 'cache_table' / 'vars' / 'main.yml']


def write_project(root, settings):
    """A Django project in root, package shop with the settings given, and its manage.py; skips without ansible-playbook."""
    if shutil.which('ansible-playbook') is None:
        pytest.skip('ansible-playbook is not on PATH')
    (root / 'shop').mkdir(exist_ok=True)
    (root / 'shop' / '__init__.py').write_text('')
    (root / 'shop' / 'settings.py').write_text(settings)
    (root / 'manage.py').write_text(MANAGE)


def run_fleet(tmp_path, venv, login, check=False):
    """Runs main.yml on every host of HOSTS at once; returns the create task's result of each host and the rc."""
    write_project(tmp_path, SETTINGS)
    inventory = tmp_path / 'hosts.json'
    inventory.write_text(json.dumps({'all': {'hosts': dict.fromkeys(HOSTS, {}), 'vars': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}))
    # As extra vars: the roles' defaults and vars, read as vars_files, would win over the play's vars.
    extra_vars = tmp_path / 'vars.json'
    extra_vars.write_text(json.dumps({
        'mall_venv': str(venv), 'mall_app_dir': str(tmp_path), 'mall_settings_module': 'shop.settings',
        'mall_app_environment': {'MALL_TEST_DB_HOST': login['login_host'], 'MALL_TEST_DB_PASSWORD': login['login_password']},
        'mall_cache_table': 'mall_cache', 'mall_db_name': login['login_db'], 'mall_fleet_lock_timeout': 60,
        'mall_db_login': {key: value for key, value in login.items() if key != 'login_db'}}))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([{
        'hosts': 'all', 'gather_facts': False, 'vars_files': [str(path) for path in VARS_FILES],
        'tasks': [{'ansible.builtin.include_tasks': str(ROOT / 'roles' / 'cache_table' / 'tasks' / 'main.yml')}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_FORKS=str(len(HOSTS)))
    proc = subprocess.run(['ansible-playbook', '-i', str(inventory), '-e', '@' + str(extra_vars), str(playbook)] + (['--check'] if check else []),
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    tasks = json.loads(proc.stdout)['plays'][0]['tasks']
    created = [task['hosts'] for task in tasks if task['task']['name'] == CREATE_TASK]
    assert created, proc.stdout[-3000:] + proc.stderr[-2000:]
    return created[0], proc.returncode


def test_hosts_that_find_the_table_missing_together_create_it_once(tmp_path, django_mysql_venv, mariadb):
    drop_table(mariadb['container'])
    results, rc = run_fleet(tmp_path, django_mysql_venv, mariadb['login'])
    assert rc == 0, results
    assert sorted((result['created'], result['changed']) for result in results.values()) == [(False, False)] * (len(HOSTS) - 1) + [
        (True, True)]
    assert table_and_indexes(mariadb['container']) == [('mall_cache', 'mall_cache_expires')]
    # Again: every host finds it there and runs nothing.
    again, rc = run_fleet(tmp_path, django_mysql_venv, mariadb['login'])
    assert rc == 0
    assert {host: result.get('skipped', False) for host, result in again.items()} == dict.fromkeys(HOSTS, True)


def test_check_mode_runs_the_dry_run_and_creates_nothing(tmp_path, django_mysql_venv, mariadb):
    drop_table(mariadb['container'])
    results, rc = run_fleet(tmp_path, django_mysql_venv, mariadb['login'], check=True)
    assert rc == 0, results
    assert {host: (result['created'], result['changed'], result['rc'], result['cmd'][-1]) for host, result in results.items()} == dict.fromkeys(
        HOSTS, (True, True, 0, '--dry-run'))
    assert table_and_indexes(mariadb['container']) == []
