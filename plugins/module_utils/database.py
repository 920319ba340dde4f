# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""MySQL/MariaDB connection options and connection helper shared by the modules.

Every module of this collection that talks to the database takes the same
``login_*`` options (documented once in the ``mall.cache_migration.database``
doc fragment) and connects through :func:`connect`, the way community.mysql
shares ``mysql_common_argument_spec()`` and ``mysql_connect()``.
"""

from __future__ import annotations

import sys
import traceback

try:
    import pymysql
except ImportError:
    pymysql = None
    PYMYSQL_IMPORT_ERROR = traceback.format_exc()
else:
    PYMYSQL_IMPORT_ERROR = None

PYMYSQL_REQUIRED_MSG = (
    'PyMySQL is required on the managed host for the Python that runs the module (%s). '
    'Install it with the package manager (Debian: python3-pymysql) or pip (PyMySQL), '
    'or point ansible_python_interpreter at a Python that has it.' % sys.executable
)


class DatabaseConnectionError(Exception):
    """The database could not be reached; the message never contains the password."""


def mysql_connection_argument_spec():
    """Return the argument spec of the connection options (see the doc fragment)."""
    return dict(
        login_host=dict(type='str', default='localhost'),
        login_port=dict(type='int', default=3306),
        login_user=dict(type='str'),
        login_password=dict(type='str', no_log=True),
        login_db=dict(type='str'),
        login_unix_socket=dict(type='path'),
        connect_timeout=dict(type='int', default=10),
    )


def describe_server(params):
    """Say where a connection goes, for messages: ``user@host:port/db`` without the password."""
    where = params.get('login_unix_socket') or '%s:%s' % (params.get('login_host'), params.get('login_port'))
    return '%s@%s/%s' % (params.get('login_user') or '', where, params.get('login_db') or '')


def connection_kwargs(params):
    """Translate ``login_*`` parameters into keyword arguments of ``pymysql.connect``."""
    kwargs = dict(
        user=params.get('login_user'),
        password=params.get('login_password') or '',
        connect_timeout=params.get('connect_timeout') or 10,
        charset='utf8mb4',
        autocommit=True,
    )
    # A socket wins over host and port, as in the mysql client and community.mysql.
    if params.get('login_unix_socket'):
        kwargs['unix_socket'] = params['login_unix_socket']
    else:
        kwargs['host'] = params.get('login_host') or 'localhost'
        kwargs['port'] = params.get('login_port') or 3306
    if params.get('login_db'):
        kwargs['database'] = params['login_db']
    return kwargs


def connect(module_or_params):
    """Open a PyMySQL connection from an AnsibleModule or from a dict of ``login_*`` parameters.

    Given a module, a missing PyMySQL or a refused connection ends the module
    with ``fail_json``. Given a dict, it raises ImportError or
    DatabaseConnectionError so that the caller can report the problem next to
    other results.
    """
    module = module_or_params if hasattr(module_or_params, 'fail_json') else None
    params = module.params if module else module_or_params
    if pymysql is None:
        if module:
            module.fail_json(msg=PYMYSQL_REQUIRED_MSG, exception=PYMYSQL_IMPORT_ERROR)
        raise ImportError(PYMYSQL_REQUIRED_MSG)
    try:
        return pymysql.connect(**connection_kwargs(params))
    except pymysql.Error as exc:
        message = 'cannot connect to %s: %s' % (describe_server(params), exc)
        if module:
            module.fail_json(msg=message)
        raise DatabaseConnectionError(message) from exc
