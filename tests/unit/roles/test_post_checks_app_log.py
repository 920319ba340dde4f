"""post_checks reads the app's log since the restart (roles/post_checks/tasks/app_log.yml): bounded in bytes,
no_log, and only counts reach the output, at -vvv (one ansible-playbook run over the local connection)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTIONS_PATH

CANARY = b'c4nLogSecret-4711'
# name: (log, mall_app_log_offset, post_checks_log_max_bytes)
BEFORE = b'redis connection refused before the restart %s\n' % CANARY * 50
AFTER = b'GET /api/users/ 200\nError 111 connecting to redis:6379. Connection refused. %s\nGET / 200\n' % CANARY
GROWN = b'redis line\n' + b'x' * 5000 + b'\n' + b'GET / 200\n' * 10
LOGS = {'since_restart': (BEFORE + AFTER, len(BEFORE), 1048576), 'grown': (GROWN, 0, 1000)}


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """The findings of each log, and the whole output of the run."""
    if shutil.which('ansible-playbook') is None:
        pytest.skip('ansible-playbook is not on PATH')
    tmp_path = tmp_path_factory.mktemp('app_log')
    tasks = []
    for name, (log, offset, max_bytes) in LOGS.items():
        (tmp_path / name).write_bytes(log)
        tasks += [{'ansible.builtin.include_role': {'name': 'mall.cache_migration.post_checks', 'tasks_from': 'app_log.yml'},
                   'vars': {'mall_app_log_file': str(tmp_path / name), 'mall_app_log_offset': offset,
                            'post_checks_log_max_bytes': max_bytes}},
                  {'ansible.builtin.copy': {'content': '{{ post_checks_log | to_json }}', 'dest': str(tmp_path / (name + '.json'))}}]
    playbook = tmp_path / 'play.yml'
    # The settings are taken as checked: only the log's are set.
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks,
                                     'vars': {'ansible_python_interpreter': sys.executable, '__mall_settings_checked': True}}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    proc = subprocess.run(['ansible-playbook', '-vvv', '-i', 'localhost,', '-c', 'local', str(playbook)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return {name: json.loads((tmp_path / (name + '.json')).read_text()) for name in LOGS}, proc.stdout + proc.stderr


def test_only_the_log_since_the_restart_is_read_and_only_counts_are_shown(run):
    findings, output = run
    assert findings['since_restart'] == {'bytes_read': len(AFTER), 'bytes_skipped': 0, 'lines': 3, 'redis_lines': 1}
    assert CANARY.decode() not in output


def test_a_log_grown_past_the_cap_is_read_from_its_tail(run):
    findings, dummy = run
    assert findings['grown'] == {'bytes_read': 1000, 'bytes_skipped': len(GROWN) - 1000, 'lines': 10, 'redis_lines': 0}
