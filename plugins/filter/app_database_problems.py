# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Why the app's own database does not fit the migration: its engine, or another server or database than the
inventory's. The preflight role refuses on these before it connects anywhere."""

from __future__ import annotations

DOCUMENTATION = r"""
name: app_database_problems
short_description: What in the app's DATABASES['default'] the migration cannot work with
version_added: 1.2.0
description:
  - Compares what the app's Django made of C(DATABASES['default']) (the C(database) that
    M(mall.cache_migration.django_settings) returns) with the engines the collection supports and with the
    database the inventory names.
  - The engine is supported when it is MySQL's or MariaDB's, Django's own (C(django.db.backends.mysql)) or one
    built on it (its module ends in C(.mysql), such as C(django_prometheus.db.backends.mysql)), or
    C(mysql.connector.django). With another engine nothing else is compared.
  - Hosts compare case-insensitively; an empty host, a socket path, C(localhost), C(127.0.0.1) and C(::1) are all
    the local server. Two names are also the same server when O(resolved) gives them an address in common (a
    container's name and its network alias, say). An empty port is 3306.
options:
  _input:
    description: The app's database, with C(engine), C(name), C(host) and C(port).
    type: dict
    required: true
  host:
    description: C(mall_db_host).
    type: str
    required: true
  port:
    description: C(mall_db_port).
    type: int
    required: true
  name:
    description: C(mall_db_name).
    type: str
    required: true
  resolved:
    description:
      - The addresses of host names as the app's host resolves them, by name, each as
        C(ansible.builtin.getent) returns C(getent_ahosts) (addresses as keys; C(null) for a name that does not
        resolve).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Refuse a database the migration cannot work with
  ansible.builtin.assert:
    that: __problems.engine_supported and __problems.mismatches | length == 0
  vars:
    __problems: "{{ plan.database | mall.cache_migration.app_database_problems(host=mall_db_host, port=mall_db_port, name=mall_db_name) }}"
"""

RETURN = r"""
_value:
  description: C(engine), C(engine_supported), and C(mismatches), each with C(setting) (the inventory's variable),
    C(app) and C(inventory) (the two values).
  type: dict
"""

SUPPORTED_ENGINES = ('django.db.backends.mysql', 'mysql.connector.django')
LOCAL_HOSTS = ('', 'localhost', '127.0.0.1', '::1')
MYSQL_PORT = 3306


def engine_supported(engine):
    return engine in SUPPORTED_ENGINES or engine.rsplit('.', 1)[-1] == 'mysql'


def _server(host):
    host = str(host or '').strip().lower()
    return 'localhost' if host in LOCAL_HOSTS or host.startswith('/') else host


def _addresses(host, resolved):
    found = {address for address, fields in (resolved.get(str(host or '')) or {}).items() if fields is not None}
    return found | ({'127.0.0.1', '::1'} if _server(host) == 'localhost' else set())


def _port(port):
    try:
        return int(str(port).strip() or MYSQL_PORT)
    except ValueError:
        return str(port)


def _same_server(app, inventory, resolved):
    return _server(app) == _server(inventory) or bool(_addresses(app, resolved) & _addresses(inventory, resolved))


def app_database_problems(database, host, port, name, resolved=None):
    engine = str(database.get('engine', ''))
    result = dict(engine=engine, engine_supported=engine_supported(engine), mismatches=[])
    if not result['engine_supported']:
        return result
    pairs = (('mall_db_host', database.get('host', ''), host,
              _same_server(database.get('host', ''), host, resolved or {})),
             ('mall_db_port', database.get('port', ''), port, _port(database.get('port', '')) == _port(port)),
             ('mall_db_name', database.get('name', ''), name, str(database.get('name', '')) == str(name)))
    result['mismatches'] = [dict(setting=setting, app=app, inventory=inventory)
                            for setting, app, inventory, same in pairs if not same]
    return result


class FilterModule:
    def filters(self):
        return {'app_database_problems': app_database_problems}
