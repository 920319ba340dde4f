# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The probe that the cache_verify module runs inside the Django project's virtualenv.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release.

cache_verify sends the source of this whole file to ``<venv>/bin/python -c``
(the application's interpreter, not the module's), with the project as working
directory and DJANGO_SETTINGS_MODULE set. So this file must stay a complete
script that needs only the standard library and Django, and that runs on any
Python the application may use. It reads its parameters as one JSON document
on stdin and prints one JSON document on stdout. Importing it (as Ansiballz
does when it ships it) runs nothing.

Every check catches its own exceptions and reports them as
``"error": "<ExceptionClass>: <text>"``, because a broken cache setting often
fails only on the first real cache call, not at django.setup().

The probe writes only keys named ``cache_verify:<uuid>:<n>`` and deletes them
again in a ``finally``; it never calls ``cache.clear()``.
"""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import time
import uuid

KEY_NAMESPACE = 'cache_verify'
# Short, so that keys left behind by a killed probe expire on their own.
KEY_TIMEOUT_SECONDS = 120
# Bounds the SCAN over a large Redis keyspace: at most this many calls of this size.
REDIS_SCAN_CALLS = 1000
REDIS_SCAN_COUNT = 1000
# Deletes and reads of the probe's own keys go in chunks to keep SQL IN lists short.
CLEANUP_CHUNK = 500
# Connection parameters the module needs to inspect the cache table itself.
DATABASE_PARAM_NAMES = {
    'host': 'host', 'port': 'port', 'user': 'user', 'password': 'password', 'passwd': 'password',
    'database': 'database', 'db': 'database', 'unix_socket': 'unix_socket',
}


def describe_error(exc):
    return '%s: %s' % (type(exc).__name__, exc)


class ProbeKeys:
    """Hands out the probe's own cache keys and remembers every one for the clean-up."""

    def __init__(self):
        self.run_id = uuid.uuid4().hex
        self.issued = []

    def new(self):
        key = '%s:%s:%d' % (KEY_NAMESPACE, self.run_id, len(self.issued))
        self.issued.append(key)
        return key


def run_check(operation):
    """Run one check: it returns None when fine, else a text saying what went wrong."""
    try:
        problem = operation()
    except Exception as exc:
        return {'ok': False, 'error': describe_error(exc)}
    if problem:
        return {'ok': False, 'error': problem}
    return {'ok': True}


def allocate_round_trip_keys(keys):
    return {
        'value': keys.new(), 'add': keys.new(), 'incr': keys.new(),
        'many': {keys.new(): n for n in range(3)},
    }


def round_trip(cache, round_trip_keys, run_id):
    value = {'probe': run_id, 'text': 'caf\u00e9 \u2713', 'number': 7}
    value_key, add_key, incr_key = round_trip_keys['value'], round_trip_keys['add'], round_trip_keys['incr']
    many = round_trip_keys['many']
    timeout = KEY_TIMEOUT_SECONDS

    def check_set():
        cache.set(value_key, value, timeout)

    def check_get():
        got = cache.get(value_key)
        if got != value:
            return 'get() returned %r instead of the value just set' % (got,)
        return None

    def check_touch():
        if not cache.touch(value_key, timeout):
            return 'touch() of an existing key returned False'
        return None

    def check_add():
        if not cache.add(add_key, 'first', timeout):
            return 'add() of a new key returned False'
        if cache.add(add_key, 'second', timeout):
            return 'add() of an existing key returned True'
        if cache.get(add_key) != 'first':
            return 'add() replaced the value of an existing key'
        return None

    def check_set_many():
        not_stored = cache.set_many(many, timeout)
        if not_stored:
            return 'set_many() could not store %d of %d keys' % (len(not_stored), len(many))
        return None

    def check_get_many():
        got = cache.get_many(list(many))
        if got != many:
            return 'get_many() returned %d of %d keys or other values' % (len(got), len(many))
        return None

    def check_incr():
        cache.set(incr_key, 41, timeout)
        got = cache.incr(incr_key)
        if got != 42 or cache.get(incr_key) != 42:
            return 'incr() of 41 gave %r' % (got,)
        return None

    def check_delete():
        # Django's backends return whether the key existed; django-mysql's MySQLCache returns None.
        if cache.delete(value_key) is False:
            return 'delete() of an existing key returned False'
        if cache.get(value_key) is not None:
            return 'the key is still readable after delete()'
        return None

    checks = (
        ('set', check_set), ('get', check_get), ('touch', check_touch), ('add', check_add),
        ('set_many', check_set_many), ('get_many', check_get_many), ('incr', check_incr),
        ('delete', check_delete),
    )
    return {name: run_check(check) for name, check in checks}


def measure_latency(cache, latency_keys):
    """Time N sets, then N gets of the same keys, one call at a time, in milliseconds."""
    batch = [(key, 'value_%d' % n) for n, key in enumerate(latency_keys)]
    report = {'set_ms': [], 'get_ms': [], 'misses': 0}
    try:
        for key, value in batch:
            start = time.perf_counter()
            cache.set(key, value, KEY_TIMEOUT_SECONDS)
            report['set_ms'].append((time.perf_counter() - start) * 1000)
        for key, value in batch:
            start = time.perf_counter()
            got = cache.get(key)
            report['get_ms'].append((time.perf_counter() - start) * 1000)
            if got != value:
                report['misses'] += 1
    except Exception as exc:
        report['error'] = describe_error(exc)
    return report


def chunks(items, size):
    return [items[start:start + size] for start in range(0, len(items), size)]


def delete_own_keys(cache, keys):
    """Delete every key the probe handed out, and count how many can still be read."""
    report = {'keys': len(keys.issued)}
    try:
        for chunk in chunks(keys.issued, CLEANUP_CHUNK):
            cache.delete_many(chunk)
        report['remaining'] = sum(len(cache.get_many(chunk)) for chunk in chunks(keys.issued, CLEANUP_CHUNK))
    except Exception as exc:
        report['error'] = describe_error(exc)
    return report


def database_cull_guard(cache, keys_needed):
    """Say whether writing the probe's keys could make Django delete entries it did not write.

    DatabaseCache counts the table on every set; above MAX_ENTRIES it deletes
    expired rows and then a share of all rows (every row when CULL_FREQUENCY is 0).
    """
    from django.db import connections, router

    guard = {
        'max_entries': cache._max_entries,
        'cull_frequency': cache._cull_frequency,
        'keys_needed': keys_needed,
        'blocked': False,
    }
    connection = connections[router.db_for_write(cache.cache_model_class)]
    try:
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(cache._table)
            cursor.execute('SELECT COUNT(*) FROM %s' % table)
            guard['rows'] = cursor.fetchone()[0]
    except Exception as exc:
        # A missing table is no cull risk; the round trip then reports the real error.
        guard['error'] = describe_error(exc)
        return guard
    guard['blocked'] = guard['rows'] + keys_needed > guard['max_entries']
    return guard


def database_settings(database_cache):
    """Connection parameters of the database that holds (or is to hold) the cache table, and 'now' as Django stores it."""
    from django.db import DEFAULT_DB_ALIAS, connections, router
    from django.utils.timezone import now as tz_now

    # Without a DatabaseCache yet (before the migration) the table belongs in the default database.
    alias = router.db_for_read(database_cache.cache_model_class) if database_cache else DEFAULT_DB_ALIAS
    connection = connections[alias]
    report = {'alias': alias, 'vendor': connection.vendor, 'engine': connection.settings_dict['ENGINE']}
    if connection.vendor != 'mysql':
        return report
    try:
        params = connection.get_connection_params()
        report['params'] = {
            DATABASE_PARAM_NAMES[name]: value for name, value in params.items() if name in DATABASE_PARAM_NAMES
        }
        # The same 'now' DatabaseCache compares `expires` with when it culls expired rows:
        # naive, in the connection's time zone (UTC) with USE_TZ, in local time without.
        report['storage_now'] = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        if hasattr(database_cache, 'FOREVER_TIMEOUT'):
            # django-mysql's MySQLCache stores expires as milliseconds since the epoch (its _now()).
            report['storage_now'] = database_cache._now()
            report['never_expires'] = database_cache.FOREVER_TIMEOUT
    except Exception as exc:
        report['error'] = describe_error(exc)
    return report


def redis_client(cache):
    """The redis-py client behind django-redis or Django's own RedisCache, or None for other backends."""
    django_redis_client = getattr(cache, 'client', None)
    if hasattr(django_redis_client, 'get_client'):
        return django_redis_client.get_client(write=False)
    builtin_client = getattr(cache, '_cache', None)
    if hasattr(builtin_client, 'get_client'):
        return builtin_client.get_client()
    return None


def count_prefix_keys(client, pattern):
    count, calls, cursor = 0, 0, 0
    while True:
        cursor, found = client.scan(cursor, match=pattern, count=REDIS_SCAN_COUNT)
        count += len(found)
        calls += 1
        if int(cursor) == 0:
            return count, True
        if calls >= REDIS_SCAN_CALLS:
            return count, False


def redis_report(cache):
    report = {}
    try:
        client = redis_client(cache)
        if client is None:
            return None
        report['ping'] = bool(client.ping())
    except Exception as exc:
        report['ping'] = False
        report['error'] = describe_error(exc)
        return report
    report['pattern'] = '%s:*' % cache.key_prefix if cache.key_prefix else '*'
    try:
        report['prefix_keys'], report['prefix_keys_complete'] = count_prefix_keys(client, report['pattern'])
        memory = client.info('memory')
        report['used_memory'] = memory.get('used_memory')
        report['used_memory_human'] = memory.get('used_memory_human')
        report['maxmemory_policy'] = memory.get('maxmemory_policy')
    except Exception as exc:
        report['error'] = describe_error(exc)
    return report


def installed_packages(names):
    """Version of each named distribution installed in this Python, for those that are."""
    from importlib import metadata

    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def caches_referencing_redis(caches_setting):
    return sorted(
        alias for alias, conf in caches_setting.items()
        if 'redis' in repr([conf.get('BACKEND'), conf.get('LOCATION'), conf.get('OPTIONS')]).lower()
    )


def class_path_chain(cls):
    return ['%s.%s' % (klass.__module__, klass.__qualname__) for klass in cls.__mro__ if klass is not object]


def exercise_cache(cache, report, operations, is_database_cache):
    """Write, read and delete the probe's own keys; the clean-up runs whatever fails."""
    # Every key is handed out before the first write, so the guard knows how many will exist at once.
    keys = ProbeKeys()
    round_trip_keys = allocate_round_trip_keys(keys)
    latency_keys = [keys.new() for index in range(operations)]
    if is_database_cache:
        report['write_guard'] = database_cull_guard(cache, len(keys.issued))
        if report['write_guard']['blocked']:
            return
    try:
        report['round_trip'] = round_trip(cache, round_trip_keys, keys.run_id)
        report['latency'] = measure_latency(cache, latency_keys)
    finally:
        report['cleanup'] = delete_own_keys(cache, keys)


def probe(params):
    report = {'python': platform.python_version(), 'packages': installed_packages(params['packages'])}
    try:
        import django

        report['django_version'] = django.get_version()
        django.setup()
        from django.conf import settings
        from django.core.cache import caches
        from django.core.cache.backends.db import BaseDatabaseCache

        caches_setting = settings.CACHES
    except Exception as exc:
        report['error'] = 'Django could not start: %s' % describe_error(exc)
        return report

    report['caches_reference_redis'] = caches_referencing_redis(caches_setting)
    alias = params['alias']
    conf = caches_setting.get(alias)
    if conf is None:
        report['error'] = 'CACHES has no alias %r (it has: %s)' % (alias, ', '.join(sorted(caches_setting)))
        return report
    location = conf.get('LOCATION', '')
    report['cache'] = {
        'backend': conf.get('BACKEND', ''),
        'location': ', '.join(location) if isinstance(location, (list, tuple)) else str(location),
        'class_paths': [conf.get('BACKEND', '')],
    }
    try:
        cache = caches[alias]
    except Exception as exc:
        report['error'] = 'cache %r could not be created: %s' % (alias, describe_error(exc))
        return report
    report['cache']['class_paths'] = class_path_chain(type(cache))

    # BaseDatabaseCache: Django's DatabaseCache and django-mysql's MySQLCache.
    is_database_cache = isinstance(cache, BaseDatabaseCache)
    if is_database_cache or params['want_database']:
        report['database'] = database_settings(cache if is_database_cache else None)
    report['redis'] = redis_report(cache)
    exercise_cache(cache, report, params['operations'], is_database_cache)
    return report


def main():
    params = json.load(sys.stdin)
    # Whatever the project prints while it loads must not end up in our JSON.
    with contextlib.redirect_stdout(sys.stderr):
        report = probe(params)
    json.dump(report, sys.stdout, default=str)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
