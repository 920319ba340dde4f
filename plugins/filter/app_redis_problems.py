# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether the inventory's Redis is the app's: the preflight role refuses another one before it connects anywhere."""

from __future__ import annotations

DOCUMENTATION = r"""
name: app_redis_problems
short_description: Whether the inventory's Redis is the one the app's default cache uses
version_added: 1.2.0
description:
  - Compares the C(redis_server) (host and port of the C(LOCATION)) of the C(default) alias that
    M(mall.cache_migration.django_settings) returns in C(caches) with C(mall_redis_host) and C(mall_redis_port), by
    the rules of the mall.cache_migration.app_database_problems filter (the same server by name or by an address in
    common; a name that does not resolve says nothing of host and port). An alias not on Redis compares nothing.
options:
  _input:
    description: The app's caches, by alias.
    type: dict
    required: true
  host:
    description: C(mall_redis_host).
    type: str
    required: true
  port:
    description: C(mall_redis_port).
    type: int
    required: true
  resolved:
    description: The addresses of host names, as for mall.cache_migration.app_database_problems.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Refuse another Redis than the app's
  ansible.builtin.assert:
    that: (plan.caches | mall.cache_migration.app_redis_problems(host=mall_redis_host, port=mall_redis_port)).mismatches | length == 0
"""

RETURN = r"""
_value:
  description: C(mismatches), each with C(setting), C(app) and C(inventory), and C(unresolved), the host names to
    resolve on the app's host before calling again with O(resolved).
  type: dict
"""

from ansible_collections.mall.cache_migration.plugins.module_utils._app_servers import server_mismatches

REDIS_PORT = 6379


def app_redis_problems(caches, host, port, resolved=None):
    """The same for the Redis of the app's C(default) cache alias (its RV(redis_server)), when it is on Redis."""
    server = (caches.get('default') or {}).get('redis_server')
    if not server:
        return dict(mismatches=[], unresolved=[])
    mismatches, unresolved = server_mismatches(
        'mall_redis', (str(server.get('host', '')), server.get('port', '')), (host, port), resolved, REDIS_PORT)
    return dict(mismatches=mismatches, unresolved=unresolved)


class FilterModule:
    def filters(self):
        return {'app_redis_problems': app_redis_problems}
