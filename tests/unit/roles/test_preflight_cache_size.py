"""The refusal of a slow database cache (roles/preflight/tasks/cache_size.yml): the live keys counted in a real
Redis size MAX_ENTRIES, and a plan whose predicted set p50 passes mall_cache_max_set_ms is refused before any
change unless accepted (mall_cache_accept_slow_sets) or the backend is mysql. One ansible-playbook run over the
local connection, a play per case, read through the JSON callback."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils._redis_wire import connect
from tests.unit.conftest import COLLECTIONS_PATH
from tests.unit.plugins.modules.test_redis_cache_size import COSTS

# Django's keys are KEY_PREFIX:VERSION:key. 10000 of them size MAX_ENTRIES 20000: DatabaseCache sets of
# 2.83 ms by the model, over a limit of 2 ms and under the default 5 ms.
KEYS = 10000
SIZE_TASK = 'Count the live cache keys in Redis and size the database cache'
REFUSAL_TASK = 'Refuse a plan whose sets would take longer than mall_cache_max_set_ms'
# name: the play's vars
CASES = {
    'over_the_limit': {'mall_cache_max_set_ms': 2},
    'accepted': {'mall_cache_max_set_ms': 2, 'mall_cache_accept_slow_sets': True},
    'mysql': {'mall_cache_max_set_ms': 2, 'cache_settings_backend': 'mysql'},
    'default_limit': {},
}


@pytest.fixture(scope='module')
def plays(tmp_path_factory, mariadb):
    if shutil.which('ansible-playbook') is None:
        pytest.skip('ansible-playbook is not on PATH')
    redis_host = mariadb['container'].attrs['NetworkSettings']['IPAddress']
    with connect(redis_host, 6379, 30, None, None) as conn:
        pairs = [part for n in range(KEYS) for part in ('mall:1:product:%d' % n, 'v' * 200)]
        conn.command('MSET', *pairs)
        conn.command('SET', 'other:1:not-the-cache', 'x')
    tmp_path = tmp_path_factory.mktemp('cache-size')
    # The mysql backend's cull needs crontab on the host; this one answers for it.
    (tmp_path / 'bin').mkdir()
    (tmp_path / 'bin' / 'crontab').write_text('#!/bin/sh\nexit 0\n')
    (tmp_path / 'bin' / 'crontab').chmod(0o755)
    common = {'ansible_python_interpreter': sys.executable, '__mall_settings_checked': True,
              'mall_redis_host': redis_host, 'mall_redis_port': 6379, 'mall_redis_password': '',
              '__preflight_redis_alias': {'redis_db': 0, 'key_prefix': 'mall'},
              'cache_settings_backend': 'database', 'cache_settings_max_entries': 'auto'}
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([
        {'name': name, 'hosts': 'localhost', 'gather_facts': False, 'ignore_errors': True, 'vars': dict(common, **case),
         'tasks': [{'ansible.builtin.include_role': {'name': 'mall.cache_migration.preflight', 'tasks_from': 'cache_size'}}]}
        for name, case in CASES.items()]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_STDOUT_CALLBACK='json',
               PATH='%s:%s' % (tmp_path / 'bin', os.environ['PATH']))
    proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', str(playbook)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    # Each play's task results by task name, without the role's ("mall.cache_migration.preflight : ").
    return {play['play']['name']: {task['task']['name'].rpartition(' : ')[2]: task['hosts']['localhost']
                                   for task in play['tasks']}
            for play in json.loads(proc.stdout)['plays']}


def test_the_database_backend_over_the_limit_is_refused_with_its_figures(plays):
    sized = plays['over_the_limit'][SIZE_TASK]
    assert {key: sized[key] for key in COSTS} == {
        'live_keys': KEYS, 'max_entries': 2 * KEYS, 'predicted_set_ms': 2.83, 'predicted_get_ms': 0.18,
        'redis_set_ms': 0.09, 'redis_get_ms': 0.07, 'max_set_ms': 2.0, 'set_ms_over_limit': True}
    assert plays['over_the_limit'][REFUSAL_TASK]['failed'] is True


def test_slow_sets_accepted_explicitly_pass(plays):
    assert plays['accepted'][SIZE_TASK]['set_ms_over_limit'] is True
    assert plays['accepted'][REFUSAL_TASK].get('failed', False) is False


def test_the_mysql_backend_is_within_the_limit(plays):
    sized = plays['mysql'][SIZE_TASK]
    assert (sized['predicted_set_ms'], sized['predicted_get_ms'], sized['set_ms_over_limit']) == (0.25, 0.12, False)
    assert plays['mysql'][REFUSAL_TASK].get('failed', False) is False


def test_with_the_default_limit_ten_thousand_keys_pass(plays):
    sized = plays['default_limit'][SIZE_TASK]
    assert (sized['max_set_ms'], sized['set_ms_over_limit']) == (5.0, False)
    assert plays['default_limit'][REFUSAL_TASK].get('failed', False) is False
