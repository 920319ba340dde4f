# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""MySQL/MariaDB connections of the modules, through community.mysql.

The connection itself, its options (``login_*``, ``config_file``, ``ca_cert``,
``client_cert``, ``client_key``, ``check_hostname``, ``connect_timeout``) and
their documentation (doc fragment ``community.mysql.mysql``) are community.mysql's
``mysql_connect()`` and ``mysql_common_argument_spec()``. This file adds only what
community.mysql lacks:

- ``login_db``, the schema to connect to (each community.mysql module declares its
  own; documented in the ``mall.cache_migration.database`` doc fragment);
- a connection to a login other than the module's own options (cache_verify
  connects with the project's ``DATABASES`` entry), given as a dict of those
  options, with errors raised as :class:`DatabaseConnectionError` so the caller
  reports them beside its other results instead of failing;
- :func:`describe_server`, where a connection goes, for messages, without the password;
- :func:`take_lock`, a named lock (``GET_LOCK``) of a fleet's database-wide step, or who holds it.
"""

from __future__ import annotations

import sys

from ansible_collections.community.mysql.plugins.module_utils.mysql import (
    mysql_common_argument_spec,
    mysql_connect,
    mysql_driver,
    mysql_driver_fail_msg,
)


class DatabaseConnectionError(Exception):
    """The database could not be reached; the message never contains the password."""


def connection_argument_spec():
    """community.mysql's connection options and ``login_db`` (doc fragments community.mysql.mysql and ours)."""
    spec = mysql_common_argument_spec()
    spec['login_db'] = dict(type='str')
    return spec


def named_lock_argument_spec():
    """``lock`` and ``lock_timeout``, a named lock held on the connection (doc fragment mall.cache_migration.database.named_lock)."""
    return dict(lock=dict(type='str'), lock_timeout=dict(type='int', default=600))


def describe_server(login):
    """Say where a connection goes, for messages: ``user@host:port/db`` without the password."""
    where = login.get('login_unix_socket') or '%s:%s' % (login.get('login_host'), login.get('login_port'))
    return '%s@%s/%s' % (login.get('login_user') or '', where, login.get('login_db') or '')


class _Login:
    """What mysql_connect() needs of a module: the parameters to connect with, and a way to fail."""

    def __init__(self, login):
        self.params = {name: option.get('default') for name, option in connection_argument_spec().items()}
        self.params.update(login)

    def fail_json(self, msg, **kwargs):
        raise DatabaseConnectionError(msg)

    def warn(self, warning):
        """mysql_connect() warns only about the deprecated MySQLdb driver, which these modules do not use."""


def connect(login):
    """Open a connection (autocommit) with a dict of the options of connection_argument_spec().

    Raises ImportError when no MySQL driver is installed and DatabaseConnectionError
    when the server refuses or cannot be reached.
    """
    if mysql_driver is None:
        raise ImportError('%s (Python: %s)' % (mysql_driver_fail_msg, sys.executable))
    try:
        cursor, connection = mysql_connect(
            _Login(login),
            login_user=login.get('login_user'),
            login_password=login.get('login_password'),
            config_file=login.get('config_file') or '',
            ssl_cert=login.get('client_cert'),
            ssl_key=login.get('client_key'),
            ssl_ca=login.get('ca_cert'),
            db=login.get('login_db'),
            connect_timeout=login.get('connect_timeout'),
            autocommit=True,
            check_hostname=login.get('check_hostname'),
        )
    except (mysql_driver.Error, OSError) as exc:  # OSError: a certificate file that cannot be read
        raise DatabaseConnectionError('cannot connect to %s: %s' % (describe_server(login), exc)) from exc
    cursor.close()
    return connection


def describe_holder(row):
    """Who holds a lock, from its information_schema.PROCESSLIST row (id, user, host), for messages."""
    if not row:
        return 'a connection that is gone by now'
    return 'connection %s of %s from %s' % tuple(row)


def take_lock(cursor, name, timeout):
    """GET_LOCK on this connection; returns None when had, else who holds it."""
    cursor.execute('SELECT GET_LOCK(%s, %s)', (name, timeout))
    if cursor.fetchone()[0] == 1:
        return None
    cursor.execute('SELECT ID, USER, HOST FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK(%s)', (name,))
    return describe_holder(cursor.fetchone())
