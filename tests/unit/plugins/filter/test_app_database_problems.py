"""The preflight's decision on the app's own database (the app_database_problems filter): engines the collection
cannot migrate, and another server or database in the inventory than in the app's settings."""
import pytest

from ansible_collections.mall.cache_migration.plugins.filter.app_database_problems import app_database_problems
from ansible_collections.mall.cache_migration.plugins.filter.app_redis_problems import app_redis_problems

INVENTORY = dict(host='db-01.example.internal', port=3306, name='mall_server')


def app(**values):
    return dict(dict(engine='django.db.backends.mysql', name='mall_server', host='db-01.example.internal', port='',
                     user='mall_user'), **values)


@pytest.mark.parametrize('engine', ['django.db.backends.postgresql', 'django.db.backends.postgresql_psycopg2',
                                    'django.db.backends.sqlite3', 'django.db.backends.oracle',
                                    'django_prometheus.db.backends.postgresql', 'mssql', ''])
def test_an_engine_that_is_not_mysql_is_refused_with_its_name(engine):
    assert app_database_problems(app(engine=engine), **INVENTORY) == dict(
        engine=engine, engine_supported=False, mismatches=[], unresolved=[])


@pytest.mark.parametrize('engine', ['django.db.backends.mysql', 'django_prometheus.db.backends.mysql',
                                    'mysql.connector.django', 'django.contrib.gis.db.backends.mysql'])
def test_mysql_and_the_engines_built_on_it_are_supported(engine):
    assert app_database_problems(app(engine=engine), **INVENTORY)['engine_supported'] is True


@pytest.mark.parametrize('database, host, port', [
    (app(), 'DB-01.example.internal', 3306),
    (app(host='', port=''), 'localhost', 3306),
    (app(host='127.0.0.1', port='3306'), 'localhost', 3306),
    (app(host='/run/mysqld/mysqld.sock'), '127.0.0.1', 3306),
    (app(port='3307'), 'db-01.example.internal', 3307),
])
def test_the_same_server_and_database_are_no_mismatch(database, host, port):
    assert app_database_problems(database, host=host, port=port, name='mall_server')['mismatches'] == []


def test_another_server_port_or_database_is_a_mismatch_naming_both_values():
    resolved = {'db-01.example.internal': {'10.0.0.1': [['STREAM']]}, 'db-02': {'10.0.0.2': [['STREAM']]}}
    result = app_database_problems(app(host='db-02', port='3307', name='mall_staging'), resolved=resolved, **INVENTORY)
    assert result['mismatches'] == [
        dict(setting='mall_db_host', app='db-02', inventory='db-01.example.internal'),
        dict(setting='mall_db_port', app='3307', inventory=3306),
        dict(setting='mall_db_name', app='mall_staging', inventory='mall_server'),
    ]


def test_another_port_of_the_same_server_is_a_mismatch():
    assert app_database_problems(app(port='3399'), **INVENTORY)['mismatches'] == [
        dict(setting='mall_db_port', app='3399', inventory=3306)]


def test_two_names_of_one_server_are_no_mismatch_when_the_host_resolves_them_alike():
    resolved = {'mall-db': {'172.18.0.2': [['STREAM', 'mall-db']]}, 'fl-db': {'172.18.0.2': [['STREAM']]}}
    assert app_database_problems(app(host='mall-db'), host='fl-db', port=3306, name='mall_server',
                                 resolved=resolved)['mismatches'] == []


def test_names_that_resolve_apart_are_a_mismatch():
    resolved = {'mall-db': {'172.18.0.2': [['STREAM']]}, 'db-02': {'172.18.0.9': [['STREAM']]}}
    assert app_database_problems(app(host='mall-db'), host='db-02', port=3306, name='mall_server',
                                 resolved=resolved)['mismatches'] == [
        dict(setting='mall_db_host', app='mall-db', inventory='db-02')]


@pytest.mark.parametrize('resolved', [None, {'mysql-mall': None}, {'mysql-mall': {'mysql-mall': None}}])
def test_a_name_the_host_cannot_resolve_is_asked_for_and_then_says_nothing_of_host_and_port(resolved):
    """A compose service's name (the app's, in its container) does not resolve on the host: the published port
    may differ too; the database name still compares."""
    result = app_database_problems(app(host='mysql-mall', port='3306', name='other'), host='127.0.0.1', port=3307,
                                   name='mall_server', resolved=resolved)
    assert result['unresolved'] == ['mysql-mall']
    assert result['mismatches'] == [dict(setting='mall_db_name', app='other', inventory='mall_server')]


REDIS_CACHES = {'default': {'backend': 'django_redis.cache.RedisCache', 'redis_server': {'host': 'redis-01', 'port': 6379}},
                'local': {'backend': 'django.core.cache.backends.locmem.LocMemCache'}}


def test_the_redis_of_the_default_alias_is_compared_with_the_inventorys():
    resolved = {'redis-01': {'10.0.0.5': [['STREAM']]}, 'redis-02': {'10.0.0.6': [['STREAM']]}}
    assert app_redis_problems(REDIS_CACHES, host='redis-02', port=6380, resolved=resolved) == dict(
        mismatches=[dict(setting='mall_redis_host', app='redis-01', inventory='redis-02'),
                    dict(setting='mall_redis_port', app=6379, inventory=6380)], unresolved=[])
    assert app_redis_problems(REDIS_CACHES, host='REDIS-01', port=6379)['mismatches'] == []


def test_a_redis_name_the_host_cannot_resolve_or_a_default_alias_off_redis_says_nothing():
    """inventories/dev: the app's REDIS_URL names the compose service, the inventory its published port."""
    assert app_redis_problems(REDIS_CACHES, host='127.0.0.1', port=6380) == dict(mismatches=[], unresolved=['redis-01'])
    assert app_redis_problems({'default': {'backend': 'django.core.cache.backends.db.DatabaseCache'}},
                              host='127.0.0.1', port=6379) == dict(mismatches=[], unresolved=[])
