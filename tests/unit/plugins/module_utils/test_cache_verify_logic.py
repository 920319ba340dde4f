"""Unit tests of the pure logic behind cache_verify (plugins/module_utils/_cache_verify.py)."""
from __future__ import annotations

import random
import statistics

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _cache_verify as logic

DB_CHAIN = [
    'django.core.cache.backends.db.DatabaseCache',
    'django.core.cache.backends.db.BaseDatabaseCache',
    'django.core.cache.backends.base.BaseCache',
]
OPTIONS = dict(
    cache_alias='default', expected_backend='database', table='mall_server_cache',
    max_set_p50_ms=None, max_get_p50_ms=None, fail_on_leftovers=True,
)
ROUND_TRIP_OK = {name: {'ok': True} for name in ('set', 'get', 'touch', 'add', 'set_many', 'get_many', 'incr', 'delete')}


def failures_of(result, options, probe_error=None):
    """The failures of judge(); each failed check's reason holds its failures, a passed check has none."""
    checks, failures = logic.judge(result, options, probe_error)
    assert '; '.join(failures) == '; '.join(check['reason'] for check in checks.values() if not check['ok'])
    assert all(check['ok'] is (check['reason'] == '') for check in checks.values())
    return failures


def passing_result(**changes):
    """A result as the module builds it for a healthy DatabaseCache with nothing left of Redis."""
    result = dict(
        backend='django.core.cache.backends.db.DatabaseCache', location='mall_server_cache',
        backend_kind='database', matches_expected=True,
        round_trip=dict(ROUND_TRIP_OK),
        latency=dict(operations=100, set=dict(count=100, p50_ms=0.8, p99_ms=6.0, total_ms=90.0),
                     get=dict(count=100, p50_ms=0.15, p99_ms=0.3, total_ms=16.0, misses=0)),
        write_guard=dict(rows=2, max_entries=300, cull_frequency=3, keys_needed=106, blocked=False),
        cleanup=dict(keys=106, remaining=0),
        database=dict(exists=True, schema='mall', columns=dict(cache_key='varchar(255)', value='longtext',
                                                               expires='datetime(6)'),
                      expires_indexes=['mall_server_cache_expires']),
        leftovers=dict(packages={}, env_keys=[], unreadable_env_files=[], caches_reference_redis=[]),
        check=dict(rc=0, output='System check identified no issues (0 silenced).'),
    )
    result.update(changes)
    return result


@pytest.mark.parametrize('samples, pct, expected', [
    ([5.0], 50, 5.0),
    ([5.0], 99, 5.0),
    ([1.0, 2.0], 50, 1.5),
    ([3.0, 1.0, 2.0], 50, 2.0),
    ([4.0, 1.0, 3.0, 2.0], 50, 2.5),
    (list(range(1, 101)), 99, 99.01),
    (list(range(1, 101)), 100, 100),
    (list(range(1, 101)), 0, 1),
    ([], 50, None),
])
def test_percentile_interpolates_between_ranks(samples, pct, expected):
    assert logic.percentile(samples, pct) == pytest.approx(expected)


@pytest.mark.parametrize('size', [2, 7, 100, 1001])
def test_percentile_agrees_with_statistics_inclusive_quantiles(size):
    rng = random.Random(size)
    samples = [rng.uniform(0.01, 20) for index in range(size)]
    quantiles = statistics.quantiles(samples, n=100, method='inclusive')
    assert logic.percentile(samples, 50) == pytest.approx(quantiles[49])
    assert logic.percentile(samples, 99) == pytest.approx(quantiles[98])


def test_latency_summary_rounds_and_keeps_misses_and_error():
    summary = logic.latency_summary(
        dict(set_ms=[1.00049, 2.0, 3.0], get_ms=[0.1, 0.2], misses=1, error='TypeError: boom'), 3)
    assert summary == dict(
        operations=3,
        set=dict(count=3, p50_ms=2.0, p99_ms=2.98, total_ms=6.0),
        get=dict(count=2, p50_ms=0.15, p99_ms=0.199, total_ms=0.3, misses=1),
        error='TypeError: boom',
    )


def test_latency_summary_of_no_samples_has_no_percentiles():
    summary = logic.latency_summary(dict(set_ms=[], get_ms=[], misses=0, error='TypeError: boom'), 100)
    assert summary['set'] == dict(count=0, p50_ms=None, p99_ms=None, total_ms=0)


def test_latency_summary_without_a_latency_run_is_empty():
    assert logic.latency_summary(None, 100) == {}


@pytest.mark.parametrize('class_paths, kind', [
    (DB_CHAIN, 'database'),
    (['myapp.caches.RedisFallbackCache'] + DB_CHAIN, 'database'),
    (['django.core.cache.backends.db.DatabaseCache'], 'database'),
    (['django_redis.cache.RedisCache', 'django.core.cache.backends.base.BaseCache'], 'redis'),
    (['django.core.cache.backends.redis.RedisCache', 'django.core.cache.backends.base.BaseCache'], 'redis'),
    (['myapp.caches.Tuned', 'django_redis.cache.RedisCache'], 'redis'),
    (['django.core.cache.backends.locmem.LocMemCache'], 'locmem'),
    (['django.core.cache.backends.filebased.FileBasedCache'], 'other'),
    (['django.core.cache.backends.dummy.DummyCache'], 'other'),
    (['myapp.caches.NotRedisCache'], 'other'),
    ([''], 'other'),
])
def test_classify_backend(class_paths, kind):
    assert logic.classify_backend(class_paths) == kind


@pytest.mark.parametrize('location, redacted', [
    ('mall_server_cache', 'mall_server_cache'),
    ('redis://127.0.0.1:6379/1', 'redis://127.0.0.1:6379/1'),
    ('redis://:s3cret@127.0.0.1:6379/1', 'redis://:********@127.0.0.1:6379/1'),
    ('rediss://cache:p@ss:w0rd@redis.internal:6380/0', 'rediss://cache:********@redis.internal:6380/0'),
    ('redis://a:x@h1:6379/1, redis://b:y@h2:6379/1', 'redis://a:********@h1:6379/1, redis://b:********@h2:6379/1'),
    ('unix:///run/redis.sock?db=1&password=s3cret', 'unix:///run/redis.sock?db=1&password=********'),
    ('redis://user@host:6379/0', 'redis://user@host:6379/0'),
    ('redis://:a@h1:6379, redis://:b@h2:6379', 'redis://:********@h1:6379, redis://:********@h2:6379'),
])
def test_redact_location_masks_passwords(location, redacted):
    assert logic.redact_location(location) == redacted


@pytest.mark.parametrize('expected_backend, fail', [('database', True), ('mysql', True), ('redis', False), ('any', False)])
def test_default_fail_on_leftovers(expected_backend, fail):
    assert logic.default_fail_on_leftovers(expected_backend) is fail


def test_a_healthy_result_has_no_failures():
    assert failures_of(passing_result(), OPTIONS) == []


def test_backend_mismatch():
    result = passing_result(matches_expected=False)
    assert failures_of(result, dict(OPTIONS, expected_backend='redis')) == [
        "cache 'default' uses django.core.cache.backends.db.DatabaseCache (database), expected redis"]


def test_probe_error_comes_first_and_unknown_backend_is_no_mismatch():
    result = dict(leftovers=passing_result()['leftovers'])
    failures = failures_of(result, OPTIONS, "Django could not start: ModuleNotFoundError: No module named 'x'")
    assert failures == ["Django could not start: ModuleNotFoundError: No module named 'x'"]


def test_round_trip_failures_are_grouped_by_error():
    error = "TypeError: AbstractConnection.__init__() got an unexpected keyword argument 'CLIENT_CLASS'"
    round_trip = {name: {'ok': False, 'error': error} for name in ROUND_TRIP_OK}
    round_trip['add'] = {'ok': False, 'error': 'add() of an existing key returned True'}
    failures = failures_of(passing_result(round_trip=round_trip), OPTIONS)
    assert failures == [
        'cache round trip failed (set, get, touch, set_many, get_many, incr, delete): ' + error,
        'cache round trip failed (add): add() of an existing key returned True',
    ]


@pytest.mark.parametrize('limits, failures', [
    (dict(), []),
    (dict(max_set_p50_ms=1.0, max_get_p50_ms=0.2), []),
    (dict(max_set_p50_ms=0.8), []),
    (dict(max_set_p50_ms=0.5), ['set p50 0.800 ms is above max_set_p50_ms 0.5']),
    (dict(max_get_p50_ms=0.1), ['get p50 0.150 ms is above max_get_p50_ms 0.1']),
    (dict(max_set_p50_ms=0.0, max_get_p50_ms=0.0), ['set p50 0.800 ms is above max_set_p50_ms 0.0',
                                                    'get p50 0.150 ms is above max_get_p50_ms 0.0']),
])
def test_latency_thresholds(limits, failures):
    assert failures_of(passing_result(), dict(OPTIONS, **limits)) == failures


def test_threshold_without_timings_is_not_a_second_failure():
    latency = logic.latency_summary(dict(set_ms=[], get_ms=[], misses=0, error='TypeError: boom'), 100)
    failures = failures_of(passing_result(latency=latency), dict(OPTIONS, max_set_p50_ms=1.0))
    assert failures == ['latency test failed: TypeError: boom']


def test_latency_misses():
    latency = passing_result()['latency']
    latency['get']['misses'] = 7
    assert failures_of(passing_result(latency=latency), OPTIONS) == [
        '7 of 100 gets in the latency test did not return the value just set']


def test_blocked_write_guard():
    guard = dict(rows=3, max_entries=5, cull_frequency=3, keys_needed=16, blocked=True)
    result = passing_result(write_guard=guard)
    del result['round_trip'], result['latency'], result['cleanup']
    assert failures_of(result, OPTIONS) == [
        'the probe wrote nothing: mall_server_cache holds 3 rows and MAX_ENTRIES is 5, so writing 16 probe keys '
        'would make Django cull entries it did not write; raise OPTIONS MAX_ENTRIES or lower operations']


@pytest.mark.parametrize('cleanup, failures', [
    (dict(keys=106, error='TypeError: boom'), ['the probe could not delete its own keys: TypeError: boom']),
    (dict(keys=106, remaining=2), ['2 probe keys could still be read after the clean-up']),
])
def test_cleanup_problems(cleanup, failures):
    assert failures_of(passing_result(cleanup=cleanup), OPTIONS) == failures


def test_location_must_name_the_checked_table():
    result = passing_result(location='other_cache')
    assert failures_of(result, OPTIONS) == [
        "CACHES['default'] LOCATION is 'other_cache', but the table to check is 'mall_server_cache'"]


@pytest.mark.parametrize('database, failures', [
    (dict(skipped='DATABASES uses sqlite3'), []),
    (dict(error='cannot connect to mall@db:3306/mall: (2003, "Can\'t connect")'),
     ['database: cannot connect to mall@db:3306/mall: (2003, "Can\'t connect")']),
    (dict(exists=False, schema='mall', columns={}),
     ['table mall_server_cache does not exist in database mall: run manage.py createcachetable']),
    (dict(exists=True, columns=dict(cache_key='varchar(255)', value='longtext')),
     ['table mall_server_cache lacks the columns expires']),
    (dict(exists=True, columns=dict(cache_key='varchar(255)', value='longtext', expires='datetime(6)'),
          expires_indexes=[]),
     ['table mall_server_cache has no index on expires: '
      'CREATE INDEX mall_server_cache_expires ON mall_server_cache (expires)']),
])
def test_database_failures(database, failures):
    assert failures_of(passing_result(database=database), OPTIONS) == failures


@pytest.mark.parametrize('redis, failures', [
    (dict(ping=True, prefix_keys=3), []),
    (dict(ping=False, error='ConnectionError: Error 111 connecting to 127.0.0.1:6379. Connection refused.'),
     ['redis: ConnectionError: Error 111 connecting to 127.0.0.1:6379. Connection refused.']),
    (dict(ping=False), ['redis did not answer PING']),
])
def test_redis_failures(redis, failures):
    result = passing_result(backend_kind='redis', redis=redis)
    del result['database'], result['write_guard']
    assert failures_of(result, dict(OPTIONS, expected_backend='redis')) == failures


LEFTOVERS = dict(
    packages={'redis': '5.0.1', 'django-redis': '5.4.0'},
    env_keys=[dict(file='/srv/.env', line=3, key='REDIS_URL'), dict(file='/srv/.env', line=5, key='REDIS_HOST'),
              dict(file='/srv/.env.prod', line=1, key='CELERY_BROKER_URL')],
    unreadable_env_files=[dict(file='/srv/.env.gone', error='No such file or directory')],
    caches_reference_redis=['sessions'],
)


@pytest.mark.parametrize('fail_on_leftovers, failures', [
    (True, [
        'env file /srv/.env.gone cannot be read: No such file or directory',
        'leftover packages installed in the virtualenv: django-redis 5.4.0, redis 5.0.1',
        'leftover keys in /srv/.env: REDIS_URL (line 3), REDIS_HOST (line 5)',
        'leftover keys in /srv/.env.prod: CELERY_BROKER_URL (line 1)',
        'CACHES still references Redis: sessions',
    ]),
    (False, ['env file /srv/.env.gone cannot be read: No such file or directory']),
])
def test_leftovers_fail_only_when_asked(fail_on_leftovers, failures):
    result = passing_result(leftovers=LEFTOVERS)
    assert failures_of(result, dict(OPTIONS, fail_on_leftovers=fail_on_leftovers)) == failures


def test_failed_manage_py_check_quotes_its_last_line():
    check = dict(rc=1, output='SystemCheckError: System check identified some issues:\n\nERRORS:\n'
                              '?: (caches.E001) You must define a \'default\' cache in your CACHES setting.\n\n'
                              'System check identified 1 issue (0 silenced).\n')
    assert failures_of(passing_result(check=check), OPTIONS) == [
        'manage.py check exited with rc 1: System check identified 1 issue (0 silenced).']


def test_failure_message_joins_failures():
    assert logic.failure_message(['a is wrong', 'b is wrong']) == '2 cache check(s) failed: a is wrong; b is wrong'


def test_checks_of_a_healthy_result_in_order_with_figures_and_summaries():
    checks, failures = logic.judge(passing_result(), OPTIONS)
    assert failures == []
    assert list(checks) == ['backend', 'round_trip', 'table', 'latency', 'leftovers', 'manage_check']
    assert all(check['ok'] and check['reason'] == '' for check in checks.values())
    assert checks['backend']['summary'] == (
        'django.core.cache.backends.db.DatabaseCache (database) at mall_server_cache, expected database')
    assert checks['round_trip']['figures']['passed'] == 8
    assert checks['round_trip']['summary'] == '8/8 operations ok; clean-up 106 keys, 0 left'
    assert checks['table']['figures']['expires_indexes'] == ['mall_server_cache_expires']
    assert checks['latency']['figures']['set']['p50_ms'] == 0.8
    assert checks['latency']['summary'].startswith('100 ops: set p50 0.8 ms, p99 6.0 ms, total 90.0 ms; get p50 0.15 ms')
    assert checks['leftovers']['summary'] == 'packages none; env keys none; CACHES aliases on Redis none'
    assert checks['manage_check'] == dict(
        ok=True, reason='', figures=dict(rc=0, last_line='System check identified no issues (0 silenced).'),
        summary='rc 0: System check identified no issues (0 silenced).')


def test_a_probe_that_failed_fails_the_backend_check():
    checks, failures = logic.judge(dict(leftovers=passing_result()['leftovers']), OPTIONS, 'Django could not start: X')
    assert list(checks) == ['backend', 'leftovers']
    assert checks['backend']['ok'] is False and checks['backend']['summary'] == 'not read: Django could not start: X'


@pytest.mark.parametrize('fail_on_leftovers, expected_backend, ok, note', [
    (None, 'redis', True, ' (reported only: fail_on_leftovers is off with expected_backend redis)'),
    (False, 'database', True, ' (reported only: fail_on_leftovers is off)'),
    (None, 'database', False, ''),
    (True, 'any', False, ''),
])
def test_leftovers_check_says_when_leftovers_are_reported_only(fail_on_leftovers, expected_backend, ok, note):
    options = dict(OPTIONS, fail_on_leftovers=fail_on_leftovers, expected_backend=expected_backend)
    leftovers = logic.judge(passing_result(leftovers=LEFTOVERS), options)[0]['leftovers']
    # The unreadable file fails it in every case but is left out here to see the leftovers alone.
    assert leftovers['ok'] is False
    leftovers = logic.judge(passing_result(leftovers=dict(LEFTOVERS, unreadable_env_files=[])), options)[0]['leftovers']
    assert leftovers['ok'] is ok and leftovers['figures']['found'] is True
    assert leftovers['summary'] == (
        'packages django-redis 5.4.0, redis 5.0.1; env keys REDIS_URL:3, REDIS_HOST:5 in /srv/.env, '
        'CELERY_BROKER_URL:1 in /srv/.env.prod; CACHES aliases on Redis sessions' + note)


def test_blocked_write_guard_is_a_failed_round_trip_that_did_not_run():
    guard = dict(rows=3, max_entries=5, cull_frequency=3, keys_needed=16, blocked=True)
    result = passing_result(write_guard=guard)
    del result['round_trip'], result['latency'], result['cleanup']
    checks = logic.judge(result, OPTIONS)[0]
    assert checks['round_trip']['ok'] is False and 'latency' not in checks
    assert checks['round_trip']['summary'] == 'not run: 3 rows + 16 probe keys would exceed MAX_ENTRIES 5'


@pytest.mark.parametrize('table, result, expected', [
    ('given', dict(backend_kind='database', location='mall_server_cache'), 'given'),
    (None, dict(backend_kind='database', location='mall_server_cache'), 'mall_server_cache'),
    (None, dict(backend_kind='redis', location='redis://h:6379/1'), None),
    (None, {}, None),
])
def test_cache_table_defaults_to_the_location_of_a_database_cache(table, result, expected):
    assert logic.cache_table(table, result) == expected


def test_without_a_table_the_location_is_the_table_and_no_mismatch():
    result = passing_result(location='other_cache')
    checks, failures = logic.judge(result, dict(OPTIONS, table=None))
    assert failures == [] and checks['table']['summary'].startswith('mall.other_cache: ')


MYSQL_CACHE_PATHS = ['django_mysql.cache.MySQLCache', 'django.core.cache.backends.db.BaseDatabaseCache',
                     'django.core.cache.backends.base.BaseCache']
DATABASE_CACHE_PATHS = ['django.core.cache.backends.db.DatabaseCache',
                        'django.core.cache.backends.db.BaseDatabaseCache', 'django.core.cache.backends.base.BaseCache']


@pytest.mark.parametrize('expected, paths, matches', [
    ('database', MYSQL_CACHE_PATHS, True),
    ('database', DATABASE_CACHE_PATHS, True),
    ('mysql', MYSQL_CACHE_PATHS, True),
    ('mysql', DATABASE_CACHE_PATHS, False),
    ('mysql', ['django_redis.cache.RedisCache'], False),
    ('any', MYSQL_CACHE_PATHS, True),
])
def test_mysql_cache_is_a_database_cache_and_only_it_is_mysql(expected, paths, matches):
    kind = logic.classify_backend(paths)
    assert logic.matches_expected(expected, kind, paths) is matches
    if kind == 'database':
        assert logic.database_backend(paths) == ('mysql' if paths is MYSQL_CACHE_PATHS else 'database')


def test_a_mysql_cache_table_needs_its_value_type_column():
    database = dict(exists=True, columns={'cache_key': 'varchar(255)', 'value': 'longblob',
                                          'expires': 'bigint(20) unsigned'}, expires_indexes=['t_expires'])
    assert logic.database_failures(database, 't') == []
    assert logic.database_failures(database, 't', 'mysql') == ['table t lacks the columns value_type']
    database['columns']['value_type'] = 'char(1)'
    assert logic.database_failures(database, 't', 'mysql') == []
