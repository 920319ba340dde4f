"""cache_warm_up on django-mysql's MySQLCache: the rollback's copy back to Redis, with the real django-mysql on a real
MariaDB and django-redis on a real Redis (the probe runs in a venv of the wheelhouse's Django, as on a host).

The settings of the throwaway project choose the cache by MALL_TEST_CACHE: the MySQLCache table while migrated,
django-redis once rolled back.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import cache_warm_up

SETTINGS = '''
import os

import pymysql

pymysql.install_as_MySQLdb()
SECRET_KEY = 'unit'
USE_TZ = True
DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql', 'HOST': os.environ['MALL_TEST_DB_HOST'],
                         'NAME': 'mall_test', 'USER': 'mall', 'PASSWORD': 'unit-test'}}
CACHES = {'default': {
    'mysql': {'BACKEND': 'django_mysql.cache.MySQLCache', 'LOCATION': 'mall_mysql_cache', 'KEY_PREFIX': 'mall_server',
              'OPTIONS': {'CULL_PROBABILITY': 0}},
    'redis': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': os.environ['MALL_TEST_REDIS'], 'KEY_PREFIX': 'mall_server'},
}[os.environ['MALL_TEST_CACHE']]}
'''
# Run in the venv with the project's settings: what the app wrote while migrated, then Redis as the snapshot left it.
PLANT = '''
from django.core.cache import caches
from django.db import connection
from django_mysql.cache import MySQLCache

with connection.cursor() as cursor:
    cursor.execute('DROP TABLE IF EXISTS mall_mysql_cache')
    cursor.execute(MySQLCache.create_table_sql.format(table_name='mall_mysql_cache'))
table = caches['default']
table.set('cart:1', {'items': [1, 2]}, 300)
table.set('flags', 'forever', None)
table.set('price:7', 1999, 600)
table.set('gone', 'expired', 0)
other = MySQLCache('mall_mysql_cache', {'KEY_PREFIX': 'another_app'})
other.set('cart:1', 'not ours', 300)
'''
SNAPSHOT = '''
from django.core.cache import caches

redis = caches['default']
redis.clear()
redis.set('cart:1', {'items': [1]}, 900)
redis.set('price:7', 1999, 900)
'''
READ_REDIS = '''
import json
from django.core.cache import caches

redis = caches['default']
print(json.dumps({key: [redis.get(key), redis.ttl(key)] for key in ('cart:1', 'flags', 'price:7', 'gone')}))
'''


@pytest.fixture
def project(tmp_path, django_mysql_venv, mariadb):
    (tmp_path / 'shop').mkdir()
    (tmp_path / 'shop' / '__init__.py').write_text('')
    (tmp_path / 'shop' / 'settings.py').write_text(SETTINGS)
    environment = {'MALL_TEST_DB_HOST': mariadb['login']['login_host'], 'MALL_TEST_REDIS': mariadb['redis']}
    return {'project_dir': str(tmp_path), 'venv': str(django_mysql_venv), 'settings': 'shop.settings', 'environment': environment}


def in_project(project, cache, script):
    """Runs script with django set up in the project's venv, on the cache MALL_TEST_CACHE=cache; returns its stdout."""
    env = dict(project['environment'], MALL_TEST_CACHE=cache, DJANGO_SETTINGS_MODULE=project['settings'])
    run = subprocess.run([project['venv'] + '/bin/python', '-c', 'import django; django.setup()\n' + script],
                         cwd=project['project_dir'], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout


def on_cache(project, cache, **args):
    return dict(project, environment=dict(project['environment'], MALL_TEST_CACHE=cache), **args)


def test_the_rollback_copies_the_keys_written_while_on_mysql_cache_back_to_redis(run_module, project):
    in_project(project, 'mysql', PLANT)
    in_project(project, 'redis', SNAPSHOT)
    # Before the settings go back to Redis: what the app's cache is.
    captured = run_module(cache_warm_up.main, on_cache(project, 'mysql'))
    assert (captured['source_kind'], captured['source_backend']) == ('database', 'django_mysql.cache.MySQLCache')
    # After: the keys the table holds differently go back, through both backends.
    copied = run_module(cache_warm_up.main, on_cache(project, 'redis', source=captured['source_config'], only_changed=True))
    assert copied.get('failed') is not True, copied
    assert {field: copied[field] for field in ('found', 'copied', 'skipped', 'target_backend')} == {
        'found': 3, 'copied': 2, 'skipped': {'unchanged': 1}, 'target_backend': 'django_redis.cache.RedisCache'}
    redis = json.loads(in_project(project, 'redis', READ_REDIS))
    # The table's TTL (300 s when set, less by the time this took on a loaded machine), not the snapshot's 900.
    assert redis['cart:1'][0] == {'items': [1, 2]} and 0 < redis['cart:1'][1] <= 300
    assert redis['flags'] == ['forever', None]
    # The snapshot's own value and TTL: the same value is not copied again.
    assert redis['price:7'][0] == 1999 and redis['price:7'][1] > 600
    assert redis['gone'] == [None, 0]


def test_check_mode_counts_the_keys_and_writes_nothing(run_module, project):
    in_project(project, 'mysql', PLANT)
    in_project(project, 'redis', SNAPSHOT)
    captured = run_module(cache_warm_up.main, on_cache(project, 'mysql'))
    copied = run_module(cache_warm_up.main, on_cache(project, 'redis', source=captured['source_config']), check_mode=True)
    assert (copied['found'], copied['copied'], copied['changed']) == (3, 3, True)
    assert json.loads(in_project(project, 'redis', READ_REDIS))['flags'] == [None, 0]
