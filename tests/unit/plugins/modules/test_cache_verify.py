"""Unit tests of the cache_verify module: main() with a scripted probe and a fake database connection.

Run after scripts/bootstrap.sh, from the work tree or from the collection's path in the collections
tree (tests/conftest.py puts ANSIBLE_COLLECTIONS_PATH on sys.path for the ansible_collections imports):

    source scripts/env.sh && pytest tests/unit -k "cache_verify or database or django_probe"

The services test is the integration target tests/integration/targets/cache_verify. Sanity, with no ignore entries, from a
copy of the tree under a real ansible_collections/mall/cache_migration directory (ansible-test resolves
the symlink in .cache/collections and then refuses the work tree):

    ansible-test sanity --venv --python 3.11 plugins/modules/cache_verify.py plugins/module_utils/_django_probe.py \
        plugins/module_utils/_cache_verify.py plugins/module_utils/database.py plugins/doc_fragments/database.py
"""
from __future__ import annotations

from types import SimpleNamespace

import datetime
import decimal
import json
import stat

import pytest

from ansible.module_utils import basic
from ansible_collections.mall.cache_migration.plugins.module_utils import _venv
from ansible_collections.mall.cache_migration.plugins.modules import cache_verify

ROUND_TRIP_OK = {name: {'ok': True} for name in ('set', 'get', 'touch', 'add', 'set_many', 'get_many', 'incr', 'delete')}
LATENCY = {'set_ms': [1.0, 2.0, 3.0, 4.0], 'get_ms': [0.1, 0.2, 0.3, 0.4], 'misses': 0}
CHECK_OK = (0, 'System check identified no issues (0 silenced).\n', '')


def redis_probe(**changes):
    report = {
        'python': '3.11.2', 'django_version': '4.2.30',
        'packages': {'redis': '5.0.1', 'django-redis': '5.4.0'},
        'caches_reference_redis': ['default'],
        'cache': {'backend': 'django_redis.cache.RedisCache', 'location': 'redis://:s3cret@127.0.0.1:6379/1',
                  'class_paths': ['django_redis.cache.RedisCache', 'django.core.cache.backends.base.BaseCache']},
        'redis': {'ping': True, 'pattern': 'mall_server:*', 'prefix_keys': 2, 'prefix_keys_complete': True},
        'round_trip': dict(ROUND_TRIP_OK), 'latency': dict(LATENCY), 'cleanup': {'keys': 10, 'remaining': 0},
    }
    report.update(changes)
    return report


def database_probe(**changes):
    report = {
        'python': '3.11.2', 'django_version': '4.2.30', 'packages': {}, 'caches_reference_redis': [],
        'cache': {'backend': 'django.core.cache.backends.db.DatabaseCache', 'location': 'mall_server_cache',
                  'class_paths': ['django.core.cache.backends.db.DatabaseCache',
                                  'django.core.cache.backends.db.BaseDatabaseCache']},
        'database': {'alias': 'default', 'vendor': 'mysql', 'engine': 'django.db.backends.mysql',
                     'storage_now': '2025-11-26 07:00:00',
                     'params': {'host': '127.0.0.1', 'port': 3306, 'user': 'mall', 'password': 'db-s3cret',
                                'database': 'mall'}},
        'redis': None,
        'write_guard': {'rows': 2, 'max_entries': 300, 'cull_frequency': 3, 'keys_needed': 10, 'blocked': False},
        'round_trip': dict(ROUND_TRIP_OK), 'latency': dict(LATENCY), 'cleanup': {'keys': 10, 'remaining': 0},
    }
    report.update(changes)
    return report


class FakeCursor:
    """Answers the three queries of inspect_cache_table() in order, with PyMySQL's types."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.executed = []

    def execute(self, query, args=None):
        self.executed.append((query, args))

    def fetchall(self):
        return self.answers.pop(0)

    def fetchone(self):
        return self.answers.pop(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


COLUMNS = (('cache_key', 'varchar(255)'), ('value', 'longtext'), ('expires', 'datetime(6)'))
STATS = (2, decimal.Decimal(1), decimal.Decimal(0), decimal.Decimal('40.5000'), decimal.Decimal(81),
         datetime.datetime(2025, 11, 26, 6, 59, 58), datetime.datetime(2025, 11, 26, 8, 0, 0))


class FakeConnection:
    def __init__(self, cursor):
        self.fake_cursor = cursor
        self.closed = False

    def cursor(self):
        return self.fake_cursor

    def close(self):
        self.closed = True


@pytest.fixture
def project(tmp_path):
    """A project directory with an executable venv/bin/python (never run: run_command is scripted)."""
    python = tmp_path / 'venv' / 'bin' / 'python'
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return tmp_path


@pytest.fixture
def commands(monkeypatch):
    """Script run_command: the probe prints `probe_output`, manage.py check answers `check`."""
    script = dict(probe_output=json.dumps(redis_probe()), check=CHECK_OK, calls=[])

    def run_command(self, args, **kwargs):
        script['calls'].append(dict(args=args, **kwargs))
        if args[1] == '-c':
            return 0, script['probe_output'], 'noise on stderr'
        return script['check']

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    return script


@pytest.fixture
def database(monkeypatch):
    """Replace the database connection of the module; records the login parameters it got."""
    state = dict(logins=[], cursor=FakeCursor([COLUMNS, [('mall_server_cache_expires',)], STATS]))

    def connect(login):
        state['logins'].append(login)
        state['connection'] = FakeConnection(state['cursor'])
        return state['connection']

    monkeypatch.setattr(cache_verify, 'connect', connect)
    return state


@pytest.mark.parametrize('params, python', [
    (dict(project_dir='/srv/mall', venv=None, python=None), '/srv/mall/venv/bin/python'),
    (dict(project_dir='/srv/mall', venv='/opt/venvs/mall', python=None), '/opt/venvs/mall/bin/python'),
    (dict(project_dir='/srv/mall', venv=None, python='/usr/bin/python3.11'), '/usr/bin/python3.11'),
])
def test_app_python(params, python):
    assert cache_verify.app_python(params) == python


def test_project_environment_adds_the_settings_and_stringifies_values():
    module = SimpleNamespace(params=dict(settings='mall_server.settings.production', secret_environment={'SECRET_KEY': 's'},
                                         environment={'MALL_ENV_FILE': '/srv/.env', 'WORKERS': 4}))
    env = _venv.project_environment(module)
    assert env == {'MALL_ENV_FILE': '/srv/.env', 'WORKERS': '4', 'SECRET_KEY': 's',
                   'DJANGO_SETTINGS_MODULE': 'mall_server.settings.production'}


@pytest.mark.parametrize('name, quoted', [('mall_server_cache', '`mall_server_cache`'), ('we`ird', '`we``ird`')])
def test_quote_identifier(name, quoted):
    assert cache_verify.quote_identifier(name) == quoted


def test_inspect_cache_table_converts_pymysql_types():
    cursor = FakeCursor([COLUMNS, [('mall_server_cache_expires',)], STATS])
    report = cache_verify.inspect_cache_table(cursor, 'mall', 'mall_server_cache', '2025-11-26 07:00:00')
    assert report == dict(
        schema='mall', table='mall_server_cache', exists=True,
        columns={'cache_key': 'varchar(255)', 'value': 'longtext', 'expires': 'datetime(6)'},
        expires_indexes=['mall_server_cache_expires'],
        rows=2, expired_rows=1, never_expiring_rows=0, avg_value_bytes=40.5, total_value_bytes=81,
        oldest_expiry='2025-11-26 06:59:58', newest_expiry='2025-11-26 08:00:00', now='2025-11-26 07:00:00',
    )
    stats_query, stats_args = cursor.executed[2]
    assert 'FROM `mall`.`mall_server_cache`' in stats_query
    assert stats_args == ('2025-11-26 07:00:00', cache_verify.NEVER_EXPIRES)


def test_inspect_cache_table_stops_at_a_missing_table():
    cursor = FakeCursor([()])
    report = cache_verify.inspect_cache_table(cursor, 'mall', 'mall_server_cache', '2025-11-26 07:00:00')
    assert report == dict(schema='mall', table='mall_server_cache', columns={}, exists=False)
    assert len(cursor.executed) == 1


def test_redis_cache_passes_and_runs_the_probe_in_the_project(run_module, project, commands):
    result = run_module(cache_verify.main, dict(
        project_dir=str(project), settings='mall_server.settings.production', expected_backend='redis',
        environment={'MALL_ENV_FILE': str(project / '.env.production')},
        leftover_packages=['redis', 'django-redis', 'celery', 'kombu']))

    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False and result['failures'] == []
    assert result['backend_kind'] == 'redis' and result['matches_expected'] is True
    assert result['location'] == 'redis://:********@127.0.0.1:6379/1'
    assert result['latency']['set'] == dict(count=4, p50_ms=2.5, p99_ms=3.97, total_ms=10.0)
    assert result['check'] == dict(rc=0, output='System check identified no issues (0 silenced).')
    assert 'database' not in result

    probe_call, check_call = commands['calls']
    python = str(project / 'venv' / 'bin' / 'python')
    assert probe_call['args'][:2] == [python, '-c'] and 'def probe(params)' in probe_call['args'][2]
    assert probe_call['cwd'] == str(project)
    assert probe_call['environ_update'] == {'MALL_ENV_FILE': str(project / '.env.production'),
                                            'DJANGO_SETTINGS_MODULE': 'mall_server.settings.production'}
    assert json.loads(probe_call['data']) == dict(alias='default', operations=100, packages=[
        'redis', 'django-redis', 'celery', 'kombu'], want_database=False)
    assert check_call['args'] == [python, 'manage.py', 'check']


def test_database_cache_is_inspected_with_the_project_credentials(run_module, project, commands, database):
    commands['probe_output'] = json.dumps(database_probe())

    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s', expected_backend='database',
                                                ca_cert='/etc/mysql/ca.pem', config_file=''))

    assert not result.get('failed'), result.get('msg')
    # The project's login, with the module's TLS and config options passed through.
    assert database['logins'] == [dict(login_host='127.0.0.1', login_port=3306, login_user='mall',
                                       login_password='db-s3cret', login_db='mall', login_unix_socket=None,
                                       connect_timeout=30, config_file='', ca_cert='/etc/mysql/ca.pem',
                                       client_cert=None, client_key=None, check_hostname=None)]
    assert database['connection'].closed
    assert result['database']['credentials'] == "DATABASES['default']"
    assert result['database']['server'] == 'mall@127.0.0.1:3306/mall'
    # No table given: the LOCATION of the DatabaseCache is the table.
    assert result['database']['table'] == 'mall_server_cache'
    assert 'FROM `mall`.`mall_server_cache`' in database['cursor'].executed[2][0]
    assert result['checks']['table']['ok'] is True and result['checks']['table']['figures']['rows'] == 2
    assert (result['database']['rows'], result['database']['expired_rows']) == (2, 1)
    assert 'db-s3cret' not in json.dumps(result)


def test_login_options_replace_the_project_credentials(run_module, project, commands, database):
    commands['probe_output'] = json.dumps(database_probe())

    result = run_module(cache_verify.main, dict(
        project_dir=str(project), settings='s', expected_backend='database', login_user='root',
        login_unix_socket='/run/mysqld/mysqld.sock'))

    assert not result.get('failed'), result.get('msg')
    assert database['logins'][0]['login_user'] == 'root'
    assert database['logins'][0]['login_db'] == 'mall'
    assert result['database']['credentials'] == 'login options'


def test_app_login_masks_the_project_password():
    class Module:
        params = {name: None for name in cache_verify.connection_argument_spec()}
        no_log_values = set()

    cache_verify.app_login(Module, database_probe()['database'])
    assert Module.no_log_values == {'db-s3cret'}


def test_a_failed_connection_is_a_failure_with_the_other_data(run_module, project, commands, monkeypatch):
    def refuse(login):
        raise cache_verify.DatabaseConnectionError('cannot connect to mall@127.0.0.1:3306/mall: (2003, "refused")')

    monkeypatch.setattr(cache_verify, 'connect', refuse)
    commands['probe_output'] = json.dumps(database_probe())

    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s', expected_backend='database'))

    assert result['failed'] is True
    assert result['failures'] == ['database: cannot connect to mall@127.0.0.1:3306/mall: (2003, "refused")']
    assert result['round_trip'] == ROUND_TRIP_OK


def test_a_database_that_is_not_mysql_is_skipped_with_a_warning(run_module, project, commands, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: warnings.append(warning))
    probe = database_probe()
    probe['database'] = {'alias': 'default', 'vendor': 'sqlite', 'engine': 'django.db.backends.sqlite3'}
    commands['probe_output'] = json.dumps(probe)

    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s'))

    assert not result.get('failed'), result.get('msg')
    assert result['database']['skipped'] == "DATABASES['default'] uses django.db.backends.sqlite3, not MySQL or MariaDB"
    assert warnings == ["The cache table was not inspected: DATABASES['default'] uses django.db.backends.sqlite3, "
                        "not MySQL or MariaDB."]


@pytest.mark.parametrize('expected_backend, fail_on_leftovers, failed', [
    ('database', None, True),
    ('database', False, False),
    ('redis', None, False),
    ('any', None, False),
    ('any', True, True),
])
def test_leftovers_fail_by_default_only_for_the_database(run_module, project, commands, database,
                                                         expected_backend, fail_on_leftovers, failed):
    probe = database_probe if expected_backend == 'database' else redis_probe
    commands['probe_output'] = json.dumps(probe(packages={'redis': '5.0.1'}))

    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s',
                                                expected_backend=expected_backend, fail_on_leftovers=fail_on_leftovers))

    assert bool(result.get('failed')) is failed
    assert result['leftovers']['packages'] == {'redis': '5.0.1'}


def test_broken_cache_fails_with_every_failure_in_the_message(run_module, project, commands):
    error = "TypeError: AbstractConnection.__init__() got an unexpected keyword argument 'CLIENT_CLASS'"
    commands['probe_output'] = json.dumps(redis_probe(
        redis={'ping': False, 'error': error},
        round_trip={name: {'ok': False, 'error': error} for name in ROUND_TRIP_OK},
        latency={'set_ms': [], 'get_ms': [], 'misses': 0, 'error': error},
        cleanup={'keys': 10, 'error': error},
    ))

    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s', expected_backend='redis'))

    assert result['failed'] is True
    assert result['failures'] == [
        'cache round trip failed (set, get, touch, add, set_many, get_many, incr, delete): ' + error,
        'the probe could not delete its own keys: ' + error,
        'redis: ' + error,
        'latency test failed: ' + error,
    ]
    assert [name for name, check in result['checks'].items() if not check['ok']] == ['round_trip', 'redis', 'latency']
    assert result['checks']['round_trip']['reason'] == '; '.join(result['failures'][:2])
    assert result['msg'] == '4 cache check(s) failed: ' + '; '.join(result['failures'])
    assert result['check']['rc'] == 0


def test_a_probe_that_prints_no_json_is_a_failure(run_module, project, commands):
    commands['probe_output'] = ''

    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s'))

    assert result['failed'] is True
    assert result['failures'][0] == 'the probe in %s printed no report (rc 0): noise on stderr' % (
        project / 'venv' / 'bin' / 'python')


def test_check_mode_runs_the_same_checks(run_module, project, commands):
    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s', run_check=False),
                        check_mode=True)

    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False and result['round_trip'] == ROUND_TRIP_OK
    assert 'check' not in result and len(commands['calls']) == 1
    # The packages to look for come from the caller (mall_redis_packages), not from a list of the module's own.
    assert json.loads(commands['calls'][0]['data'])['packages'] == []


@pytest.mark.parametrize('args, message', [
    (dict(venv='/nowhere'), 'no executable Python at /nowhere/bin/python: set venv or python'),
    (dict(venv='/a', python='/b'), 'parameters are mutually exclusive: venv|python'),
    (dict(operations=0), 'operations must be at least 1, got 0'),
])
def test_unusable_parameters_fail_before_the_probe(run_module, project, commands, args, message):
    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s', **args))

    assert result['failed'] is True and result['msg'] == message
    assert commands['calls'] == []


def test_a_missing_project_dir_fails(run_module, tmp_path, commands):
    result = run_module(cache_verify.main, dict(project_dir=str(tmp_path / 'gone'), settings='s'))

    assert result['msg'] == 'project_dir %s is not a directory' % (tmp_path / 'gone')


def test_env_files_are_read_as_env_file_keys_reads_them(run_module, project, commands):
    """A bare key, a quoted value over lines and UTF-16: the shapes the earlier readers disagreed on."""
    bare = project / '.env.bare'
    bare.write_text('DEBUG=1\nREDIS_URL\n')
    multiline = project / '.env.multiline'
    multiline.write_text('CERT="---\nREDIS_HOST=inside\n---"\nREDIS_PASSWORD="a\nb"\n')
    utf16 = project / '.env.utf16'
    utf16.write_bytes('DEBUG=1\r\nREDIS_PORT=6379\r\n'.encode('utf-16'))
    no_bom = project / '.env.nobom'
    no_bom.write_bytes('REDIS_PORT=6379\n'.encode('utf-16-le'))

    result = run_module(cache_verify.main, dict(
        project_dir=str(project), settings='s', expected_backend='redis',
        env_files=[str(bare), str(multiline), str(utf16), str(no_bom)],
        leftover_keys=['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD']))

    assert result['leftovers']['env_keys'] == [
        dict(file=str(bare), line=2, key='REDIS_URL'),
        dict(file=str(multiline), line=4, key='REDIS_PASSWORD'),
        dict(file=str(utf16), line=2, key='REDIS_PORT'),
    ]
    # Never "no leftovers" for a file it could not read.
    assert [item['file'] for item in result['leftovers']['unreadable_env_files']] == [str(no_bom)]
    assert result['failed'] is True


def test_a_table_is_needed_to_inspect_before_the_cache_is_a_database_cache(run_module, project, commands, database):
    probe = redis_probe()
    probe['database'] = database_probe()['database']
    commands['probe_output'] = json.dumps(probe)

    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s', expected_backend='database',
                                                fail_on_leftovers=False))

    assert result['failed'] is True and database['logins'] == []
    assert result['checks']['table'] == dict(
        ok=False, figures=result['database'], summary=result['database']['error'],
        reason='database: no table to inspect: the cache is not a DatabaseCache, so it has no LOCATION to take the '
               'name from; set table')

    result = run_module(cache_verify.main, dict(project_dir=str(project), settings='s', expected_backend='database',
                                                fail_on_leftovers=False, table='mall_server_cache'))
    assert result['checks']['table']['ok'] is True
    assert [name for name, check in result['checks'].items() if not check['ok']] == ['backend']
