# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether a server the app's settings name is the one the inventory names: the rule of the app_database_problems
and app_redis_problems filters.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release.
"""

from __future__ import annotations

LOCAL_HOSTS = ('', 'localhost', '127.0.0.1', '::1')


def _server(host):
    host = str(host or '').strip().lower()
    return 'localhost' if host in LOCAL_HOSTS or host.startswith('/') else host


def _addresses(host, resolved):
    """The addresses of host as resolved says, None when it is not there or does not resolve."""
    if _server(host) == 'localhost':
        return {'127.0.0.1', '::1'}
    found = {address for address, fields in (resolved.get(str(host)) or {}).items() if fields is not None}
    return found or None


def _port(port, default):
    try:
        return int(str(port).strip() or default)
    except ValueError:
        return str(port)


def server_mismatches(prefix, app, inventory, resolved, default_port):
    """(mismatches, unresolved) of one server, app and inventory each a (host, port)."""
    (app_host, app_port), (host, port) = app, inventory
    unresolved = []
    if _server(app_host) == _server(host):
        same = True
    else:
        addresses = [_addresses(name, resolved or {}) for name in (app_host, host)]
        unresolved = [str(name) for name, found in zip((app_host, host), addresses) if found is None]
        # A name the app's host cannot resolve (a compose service's, seen from outside its network) says nothing.
        same = None if unresolved else bool(addresses[0] & addresses[1])
    checks = (('%s_host' % prefix, app_host, host, same is not False),
              # A port compares only on one server (a published port may differ from the container's).
              ('%s_port' % prefix, app_port, port,
               same is None or _port(app_port, default_port) == _port(port, default_port)))
    return [dict(setting=setting, app=a, inventory=i) for setting, a, i, ok in checks if not ok], unresolved
