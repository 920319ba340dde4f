"""Unit tests of the shared MySQL connection options and helper (plugins/module_utils/database.py)."""
from __future__ import annotations

import pymysql
import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import database

PARAMS = dict(
    login_host='db.internal', login_port=3307, login_user='mall', login_password='s3cret',
    login_db='mall', login_unix_socket=None, connect_timeout=5,
)


class FakeModule:
    def __init__(self, params):
        self.params = params
        self.failed_with = None

    def fail_json(self, **result):
        self.failed_with = result
        raise SystemExit(1)


def test_argument_spec_hides_the_password_and_has_the_documented_defaults():
    spec = database.mysql_connection_argument_spec()
    assert spec['login_password'] == dict(type='str', no_log=True)
    assert (spec['login_host']['default'], spec['login_port']['default'], spec['connect_timeout']['default']) == (
        'localhost', 3306, 10)
    assert set(spec) == {'login_host', 'login_port', 'login_user', 'login_password', 'login_db',
                         'login_unix_socket', 'connect_timeout'}


@pytest.mark.parametrize('changes, expected', [
    (dict(), dict(host='db.internal', port=3307, database='mall')),
    (dict(login_unix_socket='/run/mysqld/mysqld.sock'), dict(unix_socket='/run/mysqld/mysqld.sock', database='mall')),
    (dict(login_db=None, login_host=None, login_port=None), dict(host='localhost', port=3306)),
])
def test_connection_kwargs(changes, expected):
    kwargs = database.connection_kwargs(dict(PARAMS, **changes))
    common = dict(user='mall', password='s3cret', connect_timeout=5, charset='utf8mb4', autocommit=True)
    assert kwargs == dict(common, **expected)


@pytest.mark.parametrize('changes, described', [
    (dict(), 'mall@db.internal:3307/mall'),
    (dict(login_unix_socket='/run/mysqld/mysqld.sock', login_db=None), 'mall@/run/mysqld/mysqld.sock/'),
])
def test_describe_server_leaves_out_the_password(changes, described):
    assert database.describe_server(dict(PARAMS, **changes)) == described


def test_connect_passes_the_parameters_to_pymysql(monkeypatch):
    calls = []
    monkeypatch.setattr(database.pymysql, 'connect', lambda **kwargs: calls.append(kwargs) or 'connection')
    assert database.connect(PARAMS) == 'connection'
    assert calls == [database.connection_kwargs(PARAMS)]


def refuse(**kwargs):
    raise pymysql.err.OperationalError(1045, "Access denied for user 'mall'@'10.0.0.5' (using password: YES)")


def test_connect_with_params_raises_a_message_without_the_password(monkeypatch):
    monkeypatch.setattr(database.pymysql, 'connect', refuse)
    with pytest.raises(database.DatabaseConnectionError) as caught:
        database.connect(PARAMS)
    assert str(caught.value) == (
        "cannot connect to mall@db.internal:3307/mall: "
        "(1045, \"Access denied for user 'mall'@'10.0.0.5' (using password: YES)\")")
    assert 's3cret' not in str(caught.value)


def test_connect_with_a_module_fails_the_module(monkeypatch):
    monkeypatch.setattr(database.pymysql, 'connect', refuse)
    module = FakeModule(PARAMS)
    with pytest.raises(SystemExit):
        database.connect(module)
    assert module.failed_with['msg'].startswith('cannot connect to mall@db.internal:3307/mall: (1045,')


def test_missing_pymysql_fails_a_module_clearly(monkeypatch):
    monkeypatch.setattr(database, 'pymysql', None)
    module = FakeModule(PARAMS)
    with pytest.raises(SystemExit):
        database.connect(module)
    assert module.failed_with['msg'].startswith('PyMySQL is required on the managed host')


def test_missing_pymysql_raises_import_error_for_params(monkeypatch):
    monkeypatch.setattr(database, 'pymysql', None)
    with pytest.raises(ImportError, match='PyMySQL is required'):
        database.connect(PARAMS)
