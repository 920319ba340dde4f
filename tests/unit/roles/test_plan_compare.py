"""Applying a saved plan (roles/plan/tasks/compare.yml): the plan just computed is held against the saved one, and any
difference stops the run before any change. Each run is an ansible-playbook over the local connection that computes a
plan with the real plan_inputs module over real files and a real venv; one run computes the plan that is saved as JSON,
as `--check` saves it, and each case then applies it."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTIONS_PATH

ENVIRONMENT = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
                   ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
SETTINGS = 'mall_server/settings/base.py'
COMPARE = "Read this host's saved plan and compare it with the plan just computed"
REFUSE = 'Refuse a saved plan whose inputs or steps changed since'
APPLY = 'Apply the saved plan'
OTHER_HOST = 'mall-app-2'
# Each case is a host of its own, with its own app dir and saved plan. The check case runs apart, from another folder.
CASES = ('unchanged', 'file_changed', 'awx_artifact', 'other_host', 'check_relative_path')


def make_app(root):
    """An app dir with its settings, an env file linked from outside it, and no .env.local."""
    app = root / 'app'
    (app / 'mall_server' / 'settings').mkdir(parents=True)
    (app / SETTINGS).write_text('CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache"}}\n')
    (root / 'etc').mkdir()
    (root / 'etc' / 'mall.env').write_text('REDIS_URL=redis://redis:6379/0\n')
    (app / '.env.production').symlink_to('../etc/mall.env')
    return app


def plan_tasks(venv):
    """What the plan role computes for the host's app (case_app), reduced to its inputs and two steps: mall_migration_plan."""
    files = ['{{ case_app }}/' + SETTINGS, '{{ case_app }}/.env.production', '{{ case_app }}/.env.local']
    return [
        {'name': 'Fingerprint the inputs', 'mall.cache_migration.plan_inputs': {'files': files, 'venv': str(venv)}, 'register': 'inputs'},
        {'name': 'Compute the plan', 'ansible.builtin.set_fact': {'mall_migration_plan': {
            'schema_version': 1, 'host': '{{ inventory_hostname }}', 'app_dir': '{{ case_app }}', 'pending': True,
            # Later at apply than at plan: never compared.
            'created': "{{ now(utc=true, fmt='%Y-%m-%dT%H:%M:%S.%fZ') }}",
            'inputs': {'files': '{{ inputs.files }}', 'pip_freeze_sha256': '{{ inputs.pip_freeze_sha256 }}',
                       'redis_container_id': None, 'db_grants': ['ALTER', 'CREATE', 'SELECT']},
            'steps': {'cache_settings': {'changes': [{'op': '~', 'target': SETTINGS + ':1', 'detail': 'CACHES'}], 'observed': {}},
                      'env_cleanup': {'changes': [{'op': '-', 'target': '.env.production', 'detail': 'REDIS_URL'}], 'observed': {}}},
            'cost': {}}}},
    ]


def start(folder, tasks, hosts, check=False, cwd=None):
    """ansible-playbook in folder over the hosts ({host: its vars}), each on the local connection."""
    folder.mkdir(exist_ok=True)
    inventory = {'all': {'hosts': {host: dict(variables, ansible_connection='local', ansible_python_interpreter=sys.executable)
                                   for host, variables in hosts.items()}}}
    (folder / 'inventory.json').write_text(json.dumps(inventory))
    (folder / 'playbook.yml').write_text(json.dumps([{'hosts': 'all', 'gather_facts': False, 'tasks': tasks}]))
    return subprocess.Popen(['ansible-playbook', '-i', str(folder / 'inventory.json'), str(folder / 'playbook.yml')] + (['--check'] if check else []),
                            cwd=cwd or folder, env=ENVIRONMENT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def outcomes(proc):
    """{host: {task name (without its role): the host's result}} of a run, from the JSON callback."""
    stdout, stderr = proc.communicate(timeout=600)
    try:
        plays = json.loads(stdout)['plays']
    except ValueError:
        pytest.fail(stdout[-2000:] + stderr[-2000:])
    found = {}
    for task in (task for play in plays for task in play['tasks']):
        for host, result in task['hosts'].items():
            found.setdefault(host, {})[task['task']['name'].split(' : ')[-1]] = result
    return found


@pytest.fixture(scope='module')
def runs(tmp_path_factory, pip_venv):
    """Each case's results at apply, and its saved plan, after the plans were computed and one settings file was changed."""
    if shutil.which('ansible-playbook') is None:
        pytest.skip('ansible-playbook is not on PATH')
    root = tmp_path_factory.mktemp('plan-compare')
    apps = {case: make_app(root / case) for case in CASES}
    planned = outcomes(start(root / 'plan', plan_tasks(pip_venv), {case: {'case_app': str(app)} for case, app in apps.items()}, check=True))
    saved = {}
    for case in CASES:
        assert 'Compute the plan' in planned[case], planned[case]
        saved[case] = planned[case]['Compute the plan']['ansible_facts']['mall_migration_plan']
        (root / 'plans' / case).mkdir(parents=True)
        (root / 'plans' / case / 'plan.json').write_text(json.dumps(saved[case]))
    (apps['file_changed'] / SETTINGS).write_text('CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache"}}\n')
    mall_plan = {
        'unchanged': str(root / 'plans' / 'unchanged' / 'plan.json'),
        'file_changed': str(root / 'plans' / 'file_changed' / 'plan.json'),
        'awx_artifact': {OTHER_HOST: dict(saved['awx_artifact'], host=OTHER_HOST), 'awx_artifact': saved['awx_artifact']},
        'other_host': dict(saved['other_host'], host=OTHER_HOST),
        # From the working directory, not the playbook's folder.
        'check_relative_path': 'plans/check_relative_path/plan.json',
    }
    tasks = plan_tasks(pip_venv) + [{'ansible.builtin.include_role': {'name': 'mall.cache_migration.plan', 'tasks_from': 'compare.yml'}}]
    hosts = {case: {'case_app': str(apps[case]), 'mall_plan': mall_plan[case]} for case in CASES}
    check = hosts.pop('check_relative_path')
    applying = [start(root / 'apply', tasks, hosts), start(root / 'check', tasks, {'check_relative_path': check}, check=True, cwd=root)]
    return {'saved': saved, 'apps': apps, 'results': {host: found for proc in applying for host, found in outcomes(proc).items()}}


def test_an_unchanged_host_applies_the_saved_plan(runs):
    results = runs['results']['unchanged']
    assert results[COMPARE]['ansible_facts']['plan_drift'] == []
    assert not results[REFUSE].get('failed')
    assert results[APPLY]['ansible_facts']['plan_applied'] == runs['saved']['unchanged']


def test_a_file_changed_since_the_plan_stops_the_run_and_is_named(runs):
    results = runs['results']['file_changed']
    settings = str(runs['apps']['file_changed'] / SETTINGS)
    drift = results[COMPARE]['ansible_facts']['plan_drift']
    now = hashlib.sha256((runs['apps']['file_changed'] / SETTINGS).read_bytes()).hexdigest()
    assert [(item['input'], item['name'], item['planned'], item['now']) for item in drift] == [
        ('file', settings, runs['saved']['file_changed']['inputs']['files'][settings], now)]
    assert results[REFUSE].get('failed') and APPLY not in results


def test_the_awx_artifact_gives_this_hosts_plan(runs):
    results = runs['results']['awx_artifact']
    assert results[APPLY]['ansible_facts']['plan_applied'] == runs['saved']['awx_artifact']


def test_another_hosts_plan_is_refused(runs):
    results = runs['results']['other_host']
    assert results[COMPARE].get('failed')
    assert 'the saved plan is for host %s, not for host other_host' % OTHER_HOST in results[COMPARE]['msg']
    assert REFUSE not in results and APPLY not in results


def test_check_mode_compares_too_with_a_path_relative_to_the_working_directory(runs):
    results = runs['results']['check_relative_path']
    assert results[COMPARE]['ansible_facts']['plan_drift'] == []
    assert results[APPLY]['ansible_facts']['plan_applied'] == runs['saved']['check_relative_path']
