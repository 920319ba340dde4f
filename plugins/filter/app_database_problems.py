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
    the local server. Two other names are the same server when O(resolved) gives them an address in common (a
    container's name and its network alias, say), and another one when both resolve apart. The ports compare on
    one server only (an empty port is 3306); the database names always.
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
  description:
    - C(engine), C(engine_supported), and C(mismatches), each with C(setting) (the inventory's variable), C(app) and
      C(inventory) (the two values).
    - C(unresolved), the host names that differ and that O(resolved) does not resolve; while one is, the hosts and
      ports are not compared (a compose service's name does not resolve outside its network). Resolve these on the
      app's host and call again with O(resolved).
  type: dict
"""

from ansible_collections.mall.cache_migration.plugins.module_utils._app_servers import server_mismatches

SUPPORTED_ENGINES = ('django.db.backends.mysql', 'mysql.connector.django')
MYSQL_PORT = 3306


def engine_supported(engine):
    return engine in SUPPORTED_ENGINES or engine.rsplit('.', 1)[-1] == 'mysql'


def app_database_problems(database, host, port, name, resolved=None):
    engine = str(database.get('engine', ''))
    result = dict(engine=engine, engine_supported=engine_supported(engine), mismatches=[], unresolved=[])
    if not result['engine_supported']:
        return result
    result['mismatches'], result['unresolved'] = server_mismatches(
        'mall_db', (str(database.get('host', '')), database.get('port', '')), (host, port), resolved, MYSQL_PORT)
    if str(database.get('name', '')) != str(name):
        result['mismatches'].append(dict(setting='mall_db_name', app=database.get('name', ''), inventory=name))
    return result


class FilterModule:
    def filters(self):
        return {'app_database_problems': app_database_problems}
