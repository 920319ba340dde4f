"""Live test of mall.cache_migration.redis_cache_size against a real Redis in a container.

The Redis holds 2500 keys under the cache prefix (Django's KEY_PREFIX:VERSION:key) in db 1, 300 others
there and 100 in db 0; the module must count exactly the prefix's keys of db 1 and estimate their memory.
"""
import json
import os
import subprocess
import time

import pytest

IMAGE = os.environ.get('MALL_TEST_IMAGE', 'mall-cache-migration/bookworm:1')
CONTAINER = 'mall-test-cache-size-redis'
PASSWORD = 'size-s3cret'

pytestmark = pytest.mark.skipif(subprocess.run(['docker', 'info'], capture_output=True, check=False).returncode,
                                reason='needs Docker')


def rcli(*args, stdin=None):
    return subprocess.run(['docker', 'exec', '-i', CONTAINER, 'redis-cli', '-a', PASSWORD, '--no-auth-warning',
                           *args], input=stdin, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope='module')
def redis_host():
    subprocess.run(['docker', 'rm', '-f', CONTAINER], capture_output=True, check=False)
    subprocess.run(['docker', 'run', '-d', '--name', CONTAINER, IMAGE, 'redis-server', '--requirepass', PASSWORD,
                    '--save', ''], check=True, capture_output=True)
    try:
        for dummy in range(50):
            if subprocess.run(['docker', 'exec', CONTAINER, 'redis-cli', '-a', PASSWORD, '--no-auth-warning', 'ping'],
                              capture_output=True, text=True, check=False).stdout.strip() == 'PONG':
                break
            time.sleep(0.2)
        commands = ''.join('SET mall_server:1:product:%d %s\n' % (i, 'v' * 200) for i in range(2500))
        commands += ''.join('SET other:%d x\n' % i for i in range(300))
        rcli('-n', '1', stdin=commands)
        rcli('-n', '0', stdin=''.join('SET mall_server:1:db0:%d x\n' % i for i in range(100)))
        ip = subprocess.run(['docker', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
                             CONTAINER], capture_output=True, text=True, check=True).stdout.strip()
        yield ip
    finally:
        subprocess.run(['docker', 'rm', '-f', CONTAINER], capture_output=True, check=False)


def run_module(**args):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    proc = subprocess.run(['ansible', 'localhost', '-m', 'mall.cache_migration.redis_cache_size', '-a',
                           json.dumps(args)], env=env, capture_output=True, text=True, check=False, timeout=120)
    return proc.stdout + proc.stderr, json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']


def test_counts_the_prefix_keys_of_the_cache_db_and_their_memory(redis_host):
    output, result = run_module(host=redis_host, password=PASSWORD, db=1, match='mall_server:*', backend='database')
    assert not result.get('failed'), result.get('msg')
    assert (result['live_keys'], result['complete'], result['sampled']) == (2500, True, 1000)
    # 200-byte values: MEMORY USAGE reports at least that per key, and less than 1 KiB.
    assert 2500 * 200 < result['memory_bytes'] < 2500 * 1024
    assert result['max_entries'] == 10000 and result['predicted_set_ms'] == 1.42 and result['sizing_warnings'] == []
    assert PASSWORD not in output


def test_a_bound_stops_the_count_and_a_small_max_entries_warns(redis_host):
    dummy, result = run_module(host=redis_host, password=PASSWORD, db=1, match='mall_server:*', max_keys=500,
                               max_entries=100, backend='mysql')
    assert not result['complete'] and 500 <= result['live_keys'] < 2500
    assert result['max_entries'] == 100
    assert any('evict' in warning for warning in result['sizing_warnings'])


def test_a_wrong_password_fails_naming_the_server(redis_host):
    output, result = run_module(host=redis_host, password='wrong', db=1)
    assert result.get('failed') and 'Cannot count the keys of Redis %s' % redis_host in result['msg']
