"""The record of the pages before the change (roles/post_checks/tasks/before.yml): asked while the app is still on
Redis, read back from the restore point of an unfinished migration or, on a migrated host, from the newest one.
One ansible-playbook run over the local connection, against a real Django URLconf and a real HTTP server."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTIONS_PATH
from tests.unit.plugins.modules.test_app_pages import SETTINGS, URLS

RECORDED = [{'path': '/healthz', 'status': 500, 'error': None, 'expected_status': None}]
NEWEST = {'name': '20261207T100000Z', 'manifest': {'before': {'pages': RECORDED}}}
OLDER_THAN_THE_RECORD = {'name': '20261101T100000Z', 'manifest': {}}
# name: (preflight_migration_pending, preflight_restore_points, post_checks_urls)
CASES = {
    'on_redis': (True, {'current': None, 'restore_points': [NEWEST]}, ['/healthz', {'path': '/api/', 'expected_status': 401}]),
    'on_redis_own_pages': (True, {'current': None, 'restore_points': []}, []),
    'unfinished': (True, {'current': NEWEST['name'], 'restore_points': [OLDER_THAN_THE_RECORD, NEWEST]}, []),
    'migrated': (False, {'current': None, 'restore_points': [NEWEST, OLDER_THAN_THE_RECORD]}, []),
    'migrated_before_the_record': (False, {'current': None, 'restore_points': [OLDER_THAN_THE_RECORD]}, []),
}


@pytest.fixture(scope='module')
def records(tmp_path_factory, django_venv, server):
    if shutil.which('ansible-playbook') is None:
        pytest.skip('ansible-playbook is not on PATH')
    statuses, base_url = server
    statuses.update({'/healthz': 200, '/api/': 401, '/admin/login/': 200})
    tmp_path = tmp_path_factory.mktemp('before')
    (tmp_path / 'shop').mkdir()
    for name, text in (('__init__.py', ''), ('settings.py', SETTINGS), ('urls.py', URLS)):
        (tmp_path / 'shop' / name).write_text(text)
    tasks = []
    for name, (pending, points, urls) in CASES.items():
        tasks += [{'ansible.builtin.include_role': {'name': 'mall.cache_migration.post_checks', 'tasks_from': 'before'},
                   'vars': {'preflight_migration_pending': pending, 'preflight_restore_points': points, 'post_checks_urls': urls}},
                  {'ansible.builtin.copy': {'content': '{{ post_checks_before_pages | to_json }}', 'dest': str(tmp_path / (name + '.json'))}}]
    # With the app's log: the error lines logged while the pages were asked are recorded too (none here).
    (tmp_path / 'app.log').write_text('ERROR logged before the pages were asked\n')
    tasks += [{'ansible.builtin.include_role': {'name': 'mall.cache_migration.post_checks', 'tasks_from': 'before'},
               'vars': {'preflight_migration_pending': True, 'preflight_restore_points': CASES['on_redis'][1],
                        'post_checks_urls': ['/healthz'], 'mall_app_log_file': str(tmp_path / 'app.log')}},
              {'ansible.builtin.copy': {'content': '{{ post_checks_before_log | to_json }}', 'dest': str(tmp_path / 'log.json')}}]
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks, 'vars': {
        'ansible_python_interpreter': sys.executable, '__mall_settings_checked': True, 'mall_app_dir': str(tmp_path),
        'mall_venv': str(django_venv), 'mall_settings_module': 'shop.settings', 'mall_app_url': base_url,
        'mall_app_environment': {}}}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', str(playbook)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return {name: json.loads((tmp_path / (name + '.json')).read_text()) for name in [*CASES, 'log']}


def test_on_redis_the_pages_are_asked_now_whatever_an_older_restore_point_recorded(records):
    assert records['on_redis'] == [{'path': '/healthz', 'status': 200, 'error': None, 'expected_status': None},
                                   {'path': '/api/', 'status': 401, 'error': None, 'expected_status': 401}]


def test_without_post_checks_urls_the_projects_own_pages_are_asked(records):
    assert [(page['path'], page['status']) for page in records['on_redis_own_pages']][:3] == [
        ('/admin/login/', 200), ('/healthz', 200), ('/shop/', 404)]


@pytest.mark.parametrize('case', ['unfinished', 'migrated'])
def test_after_the_change_began_the_record_is_the_restore_points(records, case):
    assert records[case] == RECORDED


def test_a_restore_point_older_than_the_record_has_none(records):
    assert records['migrated_before_the_record'] == []


def test_with_the_apps_log_the_error_lines_logged_while_the_pages_are_asked_are_recorded(records):
    assert {key: records['log'][key] for key in ('exists', 'bytes', 'lines', 'error_lines')} == {
        'exists': True, 'bytes': 0, 'lines': 0, 'error_lines': 0}
