"""The app's restart (roles/mall/tasks/restart.yml): whether the app was reloaded gracefully is one boolean,
mall_app_reloaded, decided once; the restart runs exactly when it is false. One ansible-playbook run over the
local connection, with a real HTTP server as the app and a stand-in gunicorn master that replaces its worker on HUP."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from tests.unit.conftest import COLLECTIONS_PATH

# A process whose command line says gunicorn and that, on HUP, starts a new worker and stops the old one.
MASTER = textwrap.dedent('''
    import os, signal, subprocess, sys, time
    spawn = lambda: subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
    workers = [spawn()]
    def replace(*_):
        workers.append(spawn())
        old = workers.pop(0)
        old.kill()
        old.wait()
    signal.signal(signal.SIGHUP, replace)
    with open(sys.argv[1], 'w') as handle:
        handle.write(str(os.getpid()))
    while True:
        time.sleep(1)
''')
# name: (mall_app_reload, pidfile of a gunicorn master)
CASES = {'reload_off': (False, False), 'no_master': (True, False), 'gunicorn_master': (True, True)}


@pytest.fixture(scope='module')
def restarts(tmp_path_factory, server):
    if shutil.which('ansible-playbook') is None:
        pytest.skip('ansible-playbook is not on PATH')
    base_url = server[1]
    tmp_path = tmp_path_factory.mktemp('restart')
    (tmp_path / 'gunicorn_master.py').write_text(MASTER)
    pidfile = tmp_path / 'gunicorn.pid'
    master = subprocess.Popen([sys.executable, str(tmp_path / 'gunicorn_master.py'), str(pidfile)])
    try:
        while not pidfile.exists() or not pidfile.read_text():
            time.sleep(0.1)
        tasks = []
        for name, (reload, with_master) in CASES.items():
            tasks += [{'ansible.builtin.include_role': {'name': 'mall.cache_migration.mall', 'tasks_from': 'restart'},
                       'vars': {'mall_app_reload': reload, 'mall_app_pidfile': str(pidfile if with_master else tmp_path / 'none.pid'),
                                'mall_app_restart_command': 'touch ' + str(tmp_path / (name + '.restarted'))}},
                      {'ansible.builtin.copy': {'content': '{{ mall_app_reloaded | to_json }}', 'dest': str(tmp_path / (name + '.json'))}}]
        playbook = tmp_path / 'play.yml'
        playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks, 'vars': {
            'ansible_python_interpreter': sys.executable, '__mall_settings_checked': True, 'mall_app_dir': str(tmp_path),
            'mall_app_service': '', 'mall_app_log_file': '', 'mall_app_url': base_url, 'mall_app_environment': {}}}]))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
                   ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
        proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', str(playbook)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    finally:
        master.kill()
        master.wait()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return {name: (json.loads((tmp_path / (name + '.json')).read_text()), (tmp_path / (name + '.restarted')).exists())
            for name in CASES}


@pytest.mark.parametrize('case', ['reload_off', 'no_master'])
def test_without_a_reload_the_app_is_restarted(restarts, case):
    assert restarts[case] == (False, True)


def test_a_gunicorn_master_is_reloaded_and_not_restarted(restarts):
    assert restarts['gunicorn_master'] == (True, False)
