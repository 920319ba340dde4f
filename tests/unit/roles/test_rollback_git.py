"""The rollback's return to the recorded commit (roles/rollback/tasks/files.yml) after a migration that went with a
release: the migration checked out commit B over the restore point's commit A and then edited tracked files, which
git must not see as local changes in the way. One ansible-playbook run over the local connection takes the restore
points (real restore_point_files steps, real git), one run per case drives drift.yml and files.yml."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTIONS_PATH

# Tracked at A and at B; settings.py and compose.yml differ between them, local_settings.py and README do not.
COMMIT_A = {'settings.py': 'CACHES = "redis"\n', 'compose.yml': 'services:\n  redis: {}\n  web: {}\n',
            'local_settings.py': 'DEBUG = False\n', 'README': 'mall\n'}
COMMIT_B = dict(COMMIT_A, **{'settings.py': 'CACHES = "redis"\nRELEASE = "B"\n', 'compose.yml': 'services:\n  redis: {}\n  web: {image: b}\n'})
ENV = 'REDIS_URL=redis://redis\n'
# What the migration leaves: the settings and compose file of B edited, the (linked, outside) env file edited.
MIGRATED = {'settings.py': 'CACHES = "db"\nRELEASE = "B"\n', 'compose.yml': 'services:\n  web: {image: b}\n'}
MIGRATED_ENV = 'CACHE=db\n'
LOCAL_CHANGE = {'README': 'mall, with a local note\n', 'untracked.txt': 'kept\n'}
DRIFT = '# changed after the migration\n'
KEPT = ['settings.py', 'compose.yml', 'local_settings.py', '.env']
# name: (the file changed after the migration, rollback_force, check mode)
CASES = {
    'forced': ('local_settings.py', True, False),
    'refused': ('local_settings.py', False, False),
    'check': ('local_settings.py', True, True),
    'drift_in_the_way': ('settings.py', True, False),
}
ENVIRONMENT = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
                   ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@example.com',
                   GIT_COMMITTER_NAME='t', GIT_COMMITTER_EMAIL='t@example.com')


def git(app, *args):
    return subprocess.run(['git', '-C', str(app), *args], check=True, capture_output=True, text=True, env=ENVIRONMENT).stdout.strip()


def commit(app, files, message):
    for name, text in files.items():
        (app / name).write_text(text)
    git(app, 'add', *files)
    git(app, 'commit', '-q', '-m', message)
    return git(app, 'rev-parse', 'HEAD')


def start(path, tasks, variables, check=False):
    path.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks,
                                 'vars': dict(variables, ansible_python_interpreter=sys.executable)}]))
    return subprocess.Popen(['ansible-playbook', '-i', 'localhost,', '-c', 'local', str(path)] + (['--check'] if check else []),
                            cwd=path.parent, env=ENVIRONMENT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc):
    stdout, stderr = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def playbook(path, tasks, variables, check=False):
    return finish(start(path, tasks, variables, check))


def failed(proc):
    """{task name (without its role): its failed result} of a run."""
    return {task['task']['name'].split(' : ')[-1]: outcome for play in json.loads(proc.stdout)['plays'] for task in play['tasks']
            for outcome in task['hosts'].values() if outcome.get('failed')}


def snapshot(case):
    """Every file of the case (links as their target), HEAD and git's index, by sha256."""
    files = {str(path.relative_to(case)): hashlib.sha256(path.read_bytes()).hexdigest()
             for path in sorted(case.rglob('*')) if path.is_file() and 'points' not in path.parts}
    return {'files': files, 'head': git(case / 'app', 'rev-parse', 'HEAD')}


@pytest.fixture(scope='module')
def cases(tmp_path_factory):
    """Each case's host as the migration and a later change left it, with its restore point of commit A."""
    if shutil.which('ansible-playbook') is None or shutil.which('git') is None:
        pytest.skip('ansible-playbook or git is not on PATH')
    tmp_path = tmp_path_factory.mktemp('rollback-git')
    hosts, setup = {}, []
    for name in CASES:
        case = tmp_path / name
        app = case / 'app'
        app.mkdir(parents=True)
        git(app, 'init', '-q')
        commit_a = commit(app, COMMIT_A, 'A')
        (case / 'etc').mkdir()
        (case / 'etc' / 'mall.env').write_text(ENV)
        (app / '.env').symlink_to('../etc/mall.env')
        # The app dir as the inventory names it: a link to the checkout.
        (case / 'app-link').symlink_to('app')
        hosts[name] = {'case': case, 'app': app, 'commit_a': commit_a}
        setup += [{'mall.cache_migration.restore_point_files': {'root': str(case / 'points'), 'name': '20261201T100000Z',
                                                                'files': [str(case / 'app-link' / file) for file in KEPT]},
                   'register': 'taken'},
                  {'mall.cache_migration.restore_point_files': {'root': str(case / 'points'), 'name': '20261201T100000Z', 'step': 'manifest',
                                                                'restored_files': '{{ taken.restored_files }}',
                                                                'parts': {'git_commit': commit_a + '\n'}}}]
    proc = playbook(tmp_path / 'take.yml', setup, {})
    assert proc.returncode == 0, failed(proc) or proc.stderr[-2000:]
    # The migration: the release B checked out, then its settings, compose and env files edited.
    for name, host in hosts.items():
        app = host['app']
        host['commit_b'] = commit(app, COMMIT_B, 'B')
        for file, text in MIGRATED.items():
            (app / file).write_text(text)
        (host['case'] / 'etc' / 'mall.env').write_text(MIGRATED_ENV)
    migrated = [{'mall.cache_migration.restore_point_files': {'root': str(host['case'] / 'points'), 'name': '20261201T100000Z',
                                                              'step': 'migrated'}} for host in hosts.values()]
    proc = playbook(tmp_path / 'migrated.yml', migrated, {})
    assert proc.returncode == 0, failed(proc) or proc.stderr[-2000:]
    # After the migration: a file of the restore point changed again, a tracked file and an untracked one of the app's own.
    for name, (drifted, _force, _check) in CASES.items():
        app = hosts[name]['app']
        (app / drifted).write_text((app / drifted).read_text() + DRIFT)
        for file, text in LOCAL_CHANGE.items():
            (app / file).write_text(text)
        hosts[name]['before'] = snapshot(hosts[name]['case'])
    return hosts


def rollback(host, force, check):
    case = host['case']
    tasks = [{'mall.cache_migration.restore_point_info': {'root': '{{ mall_restore_point_root }}'}, 'register': 'points'},
             {'ansible.builtin.set_fact': {
                 'rollback_restore_point_path': '{{ points.restore_points[0].path }}',
                 '__rollback_manifest': '{{ points.restore_points[0].manifest }}',
                 '__rollback_migrated': '{{ points.restore_points[0].migrated }}',
                 '__rollback_layout': '{{ points.restore_points[0].layout }}',
                 '__rollback_copies': '{{ points.restore_points[0].copies }}'}},
             {'ansible.builtin.include_role': {'name': 'mall.cache_migration.rollback', 'tasks_from': 'drift.yml'}},
             {'ansible.builtin.include_role': {'name': 'mall.cache_migration.rollback', 'tasks_from': 'files.yml'}}]
    host_vars = {'mall_app_dir': str(case / 'app-link'), 'mall_restore_point_root': str(case / 'points'), 'rollback_force': force}
    return start(case.parent / (case.name + '-rollback.yml'), tasks, host_vars, check=check)


@pytest.fixture(scope='module')
def results(cases):
    # The cases' runs side by side: each has its own host.
    started = {name: rollback(cases[name], force, check) for name, (_drifted, force, check) in CASES.items()}
    return {name: finish(proc) for name, proc in started.items()}


def test_the_rollback_checks_out_the_recorded_commit_over_the_files_the_migration_edited(cases, results):
    host, proc = cases['forced'], results['forced']
    assert proc.returncode == 0, failed(proc) or proc.stderr[-2000:]
    app = host['app']
    assert git(app, 'rev-parse', 'HEAD') == host['commit_a']
    # The restore point's files as before the migration, the env file through its link (outside the work tree).
    assert {file: (app / file).read_text() for file in ('settings.py', 'compose.yml', 'local_settings.py')} == {
        file: COMMIT_A[file] for file in ('settings.py', 'compose.yml', 'local_settings.py')}
    assert (app / '.env').is_symlink() and (host['case'] / 'etc' / 'mall.env').read_text() == ENV
    assert git(app, 'status', '--porcelain', '--', 'settings.py', 'compose.yml') == ''


def test_a_file_changed_after_the_migration_is_kept_as_a_copy_with_that_change(cases, results):
    assert results['forced'].returncode == 0
    copies = list(cases['forced']['app'].glob('local_settings.py.*~'))
    assert [copy.read_text() for copy in copies] == [COMMIT_A['local_settings.py'] + DRIFT]


def test_the_apps_own_files_outside_the_restore_point_are_left_as_they_are(cases, results):
    assert results['forced'].returncode == 0
    app = cases['forced']['app']
    assert {file: (app / file).read_text() for file in LOCAL_CHANGE} == LOCAL_CHANGE


def test_without_rollback_force_a_file_changed_after_the_migration_stops_it_before_any_change(cases, results):
    host, proc = cases['refused'], results['refused']
    assert proc.returncode != 0
    assert list(failed(proc)) == ['Refuse to overwrite files changed since the migration']
    assert snapshot(host['case']) == host['before']


def test_a_changed_file_the_checkout_would_overwrite_stops_it_before_any_change(cases, results):
    host, proc = cases['drift_in_the_way'], results['drift_in_the_way']
    assert list(failed(proc)) == ['Try the checkout (git read-tree -n), refusing before any change what git would refuse']
    # Not even the files the migration left were put back to HEAD: a second run finds them as the migration left them.
    assert snapshot(host['case']) == host['before']


def test_check_mode_writes_nothing_and_passes(cases, results):
    host, proc = cases['check'], results['check']
    assert proc.returncode == 0, failed(proc) or proc.stderr[-2000:]
    assert snapshot(host['case']) == host['before']
