"""The MySQLCache table of a fleet (roles/cache_table/tasks/mysql_table.yml): hosts that all found the table missing
create it together. One ansible-playbook run of that task file on several hosts at once (the local connection, a
fork each, as serial: 100% runs a fleet), against a real MariaDB, with the real django-mysql rendering the schema."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTIONS_PATH

ROOT = pathlib.Path(__file__).resolve().parents[3]
HOSTS = ['app%d' % number for number in range(1, 7)]
CREATE_TASK = 'Create the MySQLCache table with its index on expires, one host of the fleet at a time: mall_cache'


def run_fleet(tmp_path, venv, login, check=False):
    """Runs mysql_table.yml on every host of HOSTS at once; returns the create task's result of each host and the rc."""
    if shutil.which('ansible-playbook') is None:
        pytest.skip('ansible-playbook is not on PATH')
    inventory = tmp_path / 'hosts.json'
    inventory.write_text(json.dumps({'all': {'hosts': dict.fromkeys(HOSTS, {}), 'vars': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([{
        'hosts': 'all', 'gather_facts': False, 'vars_files': [str(ROOT / 'roles' / 'mall' / 'vars' / 'main.yml')],
        'vars': {'mall_venv': str(venv), 'mall_cache_table': 'mall_cache', 'mall_db_name': login['login_db'],
                 'mall_db_login': {key: value for key, value in login.items() if key != 'login_db'},
                 'mall_fleet_lock_timeout': 60, '__cache_table_missing': True},
        'tasks': [{'ansible.builtin.include_tasks': str(ROOT / 'roles' / 'cache_table' / 'tasks' / 'mysql_table.yml')}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_FORKS=str(len(HOSTS)))
    proc = subprocess.run(['ansible-playbook', '-i', str(inventory), str(playbook)] + (['--check'] if check else []),
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    tasks = json.loads(proc.stdout)['plays'][0]['tasks']
    created = [task['hosts'] for task in tasks if task['task']['name'] == CREATE_TASK]
    assert created, proc.stdout[-3000:] + proc.stderr[-2000:]
    return created[0], proc.returncode


def table_and_indexes(container):
    """The cache tables of mall_test and the indexes on their expires column, as the server lists them."""
    listed = container.exec_run(['mariadb', '-N', '-e',
                                 "SELECT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS"
                                 " WHERE TABLE_SCHEMA = 'mall_test' AND COLUMN_NAME = 'expires'"])
    assert listed.exit_code == 0, listed.output
    return sorted(tuple(line.split('\t')) for line in listed.output.decode().splitlines())


def drop_table(container):
    dropped = container.exec_run(['mariadb', '-e', 'DROP TABLE IF EXISTS mall_test.mall_cache'])
    assert dropped.exit_code == 0, dropped.output


def test_hosts_that_find_the_table_missing_together_create_it_once(tmp_path, django_mysql_venv, mariadb):
    drop_table(mariadb['container'])
    results, rc = run_fleet(tmp_path, django_mysql_venv, mariadb['login'])
    assert rc == 0, results
    assert {host: result.get('failed', False) for host, result in results.items()} == dict.fromkeys(HOSTS, False)
    assert sorted(result['created'] for result in results.values()) == [False] * (len(HOSTS) - 1) + [True]
    assert table_and_indexes(mariadb['container']) == [('mall_cache', 'mall_cache_expires')]
    # Again: every host finds it made.
    again, rc = run_fleet(tmp_path, django_mysql_venv, mariadb['login'])
    assert rc == 0
    assert {host: (result['created'], result['changed']) for host, result in again.items()} == dict.fromkeys(HOSTS, (False, False))


def test_check_mode_creates_nothing(tmp_path, django_mysql_venv, mariadb):
    drop_table(mariadb['container'])
    results, rc = run_fleet(tmp_path, django_mysql_venv, mariadb['login'], check=True)
    assert rc == 0
    assert {host: result.get('skipped', False) for host, result in results.items()} == dict.fromkeys(HOSTS, True)
    assert table_and_indexes(mariadb['container']) == []
