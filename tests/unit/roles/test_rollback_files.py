"""The rollback's putting back of the files (roles/rollback/tasks/drift.yml, then files.yml): bytes, owner, mode and the modification
time the restore point recorded, also for a file written back with the same bytes (as a git checkout does) and for a
file named by a link. A restore point taken by restore_point_files, then ansible-playbook over the local connection:
check mode, a rollback, and a second rollback that changes nothing."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTIONS_PATH

NAME = '20261126T071900Z'
# Before the restore point, to the nanosecond.
SETTINGS_MTIME_NS = 1600000000123456789
ENV_MTIME_NS = 1500000000987654321
TIMES_TASK = 'mall.cache_migration.rollback : Put back the modification times the restore point recorded'
COPY_TASK = 'mall.cache_migration.rollback : Put back the files byte for byte, with owner and mode'


def play(tmp_path, name, tasks):
    playbook = tmp_path / (name + '.yml')
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks, 'vars': {
        'ansible_python_interpreter': sys.executable, '__mall_settings_checked': True,
        'mall_restore_point_root': str(tmp_path / 'backups')}}]))
    return playbook


def run(tmp_path, playbook, *options):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
    proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', str(playbook), *options],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    output = json.loads(proc.stdout)
    results = {task['task']['name']: task['hosts']['localhost'] for task in output['plays'][0]['tasks']}
    return results, output['stats']['localhost']


@pytest.fixture(scope='module')
def rollbacks(tmp_path_factory):
    if shutil.which('ansible-playbook') is None:
        pytest.skip('ansible-playbook is not on PATH')
    tmp_path = tmp_path_factory.mktemp('rollback-files')
    settings, shared, link = tmp_path / 'app' / 'settings.py', tmp_path / 'shared' / '.env.production', tmp_path / 'app' / '.env'
    settings.parent.mkdir()
    shared.parent.mkdir()
    settings.write_text('CACHES = {"default": {"BACKEND": "redis"}}\n')
    shared.write_text('REDIS_URL=redis://x\n')
    link.symlink_to(shared)
    os.utime(settings, ns=(SETTINGS_MTIME_NS, SETTINGS_MTIME_NS))
    os.utime(shared, ns=(ENV_MTIME_NS, ENV_MTIME_NS))
    run(tmp_path, play(tmp_path, 'take', [
        {'mall.cache_migration.restore_point_files': {'root': '{{ mall_restore_point_root }}', 'name': NAME,
                                                      'files': [str(settings), str(link)]},
         'register': 'taken'},
        {'mall.cache_migration.restore_point_files': {'root': '{{ mall_restore_point_root }}', 'name': NAME, 'step': 'manifest',
                                                      'restored_files': '{{ taken.restored_files }}'}}]))
    # The migration rewrites the settings; the env file is written back with the same bytes.
    settings.write_text('CACHES = {"default": {"BACKEND": "db"}}\n')
    shared.write_text('REDIS_URL=redis://x\n')
    migrated = {path: (path.read_text(), os.stat(path).st_mtime_ns) for path in (settings, shared)}

    rollback = play(tmp_path, 'rollback', [
        {'mall.cache_migration.restore_point_info': {'root': '{{ mall_restore_point_root }}', 'name': NAME}, 'register': 'found'},
        {'ansible.builtin.set_fact': {'rollback_restore_point_path': '{{ found.restore_points[0].path }}',
                                      '__rollback_manifest': '{{ found.restore_points[0].manifest }}',
                                      '__rollback_migrated': '{{ found.restore_points[0].migrated }}',
                                      '__rollback_copies': '{{ found.restore_points[0].copies }}',
                                      '__rollback_layout': '{{ found.restore_points[0].layout }}'}},
        {'ansible.builtin.include_role': {'name': 'mall.cache_migration.rollback', 'tasks_from': 'drift'}},
        {'ansible.builtin.include_role': {'name': 'mall.cache_migration.rollback', 'tasks_from': 'files'}}])
    checked = run(tmp_path, rollback, '--check')
    after_check = {path: (path.read_text(), os.stat(path).st_mtime_ns) for path in (settings, shared)}
    first = run(tmp_path, rollback)
    after_first = {'settings': os.stat(settings).st_mtime_ns, 'env': os.stat(shared).st_mtime_ns,
                   'settings_text': settings.read_text(), 'link': os.path.islink(link)}
    second = run(tmp_path, rollback)
    return {'paths': [str(settings), str(link)], 'migrated': migrated, 'checked': checked, 'after_check': after_check,
            'first': first, 'after_first': after_first, 'second': second}


def test_check_mode_says_what_it_would_set_and_changes_nothing(rollbacks):
    results, _stats = rollbacks['checked']
    assert results[TIMES_TASK]['times_restored'] == rollbacks['paths'] and results[TIMES_TASK]['changed'] is True
    assert rollbacks['after_check'] == rollbacks['migrated']


def test_the_rollback_puts_back_the_recorded_mtimes(rollbacks):
    results, _stats = rollbacks['first']
    assert rollbacks['after_first'] == {'settings': SETTINGS_MTIME_NS, 'env': ENV_MTIME_NS,
                                        'settings_text': 'CACHES = {"default": {"BACKEND": "redis"}}\n', 'link': True}
    # The copy brings the copy's time, which the restore point took from the file: only the file it left alone needs setting.
    assert [item['changed'] for item in results[COPY_TASK]['results']] == [True, False]
    assert results[TIMES_TASK]['times_restored'] == rollbacks['paths'][1:] and results[TIMES_TASK]['times_unrecorded'] == []


def test_a_second_rollback_changes_nothing(rollbacks):
    results, stats = rollbacks['second']
    assert stats['changed'] == 0 and results[TIMES_TASK]['times_restored'] == []
