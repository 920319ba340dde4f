"""Unit tests of the MySQL connection layer over community.mysql (plugins/module_utils/database.py)."""
from __future__ import annotations

import pymysql
import pytest

from ansible_collections.community.mysql.plugins.module_utils.mysql import mysql_common_argument_spec
from ansible_collections.mall.cache_migration.plugins.module_utils import database

LOGIN = dict(
    login_host='db.internal', login_port=3307, login_user='mall', login_password='s3cret',
    login_db='mall', login_unix_socket=None, connect_timeout=5, config_file='',
    ca_cert=None, client_cert=None, client_key=None, check_hostname=None,
)


class FakeConnection:
    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.cursor_closed = False

    def cursor(self):
        connection = self

        class Cursor:
            def close(self):
                connection.cursor_closed = True
        return Cursor()

    def close(self):
        pass


@pytest.fixture
def driver(monkeypatch):
    """Record what community.mysql's mysql_connect() hands to PyMySQL."""
    calls = []

    def fake_connect(**kwargs):
        calls.append(kwargs)
        return FakeConnection(**kwargs)

    monkeypatch.setattr(pymysql, 'connect', fake_connect)
    return calls


def test_argument_spec_is_community_mysql_s_and_login_db():
    spec = database.connection_argument_spec()
    assert spec.pop('login_db') == dict(type='str')
    assert spec == mysql_common_argument_spec()
    assert spec['login_password']['no_log'] is True
    assert {'config_file', 'ca_cert', 'client_cert', 'client_key', 'check_hostname', 'login_unix_socket'} <= set(spec)


def test_connect_hands_the_login_to_pymysql_through_community_mysql(driver):
    connection = database.connect(LOGIN)
    assert driver == [dict(host='db.internal', port=3307, user='mall', password='s3cret', database='mall',
                           connect_timeout=5, autocommit=True)]
    assert connection.cursor_closed, 'the cursor mysql_connect() opens is closed; callers open their own'


def test_connect_passes_tls_and_the_config_file(driver, tmp_path):
    my_cnf = tmp_path / 'my.cnf'
    my_cnf.write_text('[client]\nuser = from-file\n')
    database.connect(dict(LOGIN, config_file=str(my_cnf), ca_cert='/ca.pem', client_cert='/client.pem',
                          client_key='/client.key', check_hostname=False))
    assert driver[0]['read_default_file'] == str(my_cnf)
    assert driver[0]['ssl'] == dict(ca='/ca.pem', cert='/client.pem', key='/client.key', check_hostname=False)


def test_a_socket_wins_over_host_and_port(driver):
    database.connect(dict(LOGIN, login_unix_socket='/run/mysqld/mysqld.sock'))
    assert driver[0]['unix_socket'] == '/run/mysqld/mysqld.sock'
    assert 'host' not in driver[0] and 'port' not in driver[0]


def test_missing_options_take_the_argument_spec_defaults(driver):
    database.connect(dict(login_user='mall', login_password='s3cret'))
    assert (driver[0]['host'], driver[0]['port']) == ('localhost', 3306)


@pytest.mark.parametrize('changes, described', [
    (dict(), 'mall@db.internal:3307/mall'),
    (dict(login_unix_socket='/run/mysqld/mysqld.sock', login_db=None), 'mall@/run/mysqld/mysqld.sock/'),
])
def test_describe_server_leaves_out_the_password(changes, described):
    assert database.describe_server(dict(LOGIN, **changes)) == described


def refuse(**kwargs):
    raise pymysql.err.OperationalError(1045, "Access denied for user 'mall'@'10.0.0.5' (using password: YES)")


def test_a_refused_connection_raises_a_message_without_the_password(monkeypatch):
    monkeypatch.setattr(pymysql, 'connect', refuse)
    with pytest.raises(database.DatabaseConnectionError) as caught:
        database.connect(LOGIN)
    assert str(caught.value) == (
        "cannot connect to mall@db.internal:3307/mall: "
        "(1045, \"Access denied for user 'mall'@'10.0.0.5' (using password: YES)\")")
    assert 's3cret' not in str(caught.value)


def test_an_unreadable_certificate_is_a_connection_error(monkeypatch):
    def missing_file(**kwargs):
        raise FileNotFoundError(2, 'No such file or directory')
    monkeypatch.setattr(pymysql, 'connect', missing_file)
    with pytest.raises(database.DatabaseConnectionError, match='cannot connect to mall@db.internal:3307/mall'):
        database.connect(dict(LOGIN, ca_cert='/missing.pem'))


def test_what_mysql_connect_fails_the_module_for_is_a_connection_error(monkeypatch, driver):
    """mysql_connect() ends a module with fail_json; here that becomes the layer's exception."""
    monkeypatch.setattr(pymysql, '__version__', '0.7.10.None')
    with pytest.raises(database.DatabaseConnectionError, match='check_hostname, pymysql >= 0.7.11 is required'):
        database.connect(dict(LOGIN, check_hostname=True))
    assert driver == []


def test_missing_driver_raises_import_error_naming_the_python(monkeypatch):
    monkeypatch.setattr(database, 'mysql_driver', None)
    with pytest.raises(ImportError, match='A MySQL module is required.*Python: /'):
        database.connect(LOGIN)


def test_the_holder_of_a_lock_is_named_or_said_to_be_gone():
    assert database.describe_holder((7, 'mall_user', '10.0.0.5:41234')) == 'connection 7 of mall_user from 10.0.0.5:41234'
    assert database.describe_holder(None) == 'a connection that is gone by now'
