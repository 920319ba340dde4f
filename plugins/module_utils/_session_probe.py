# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The probe that session_carryover and cache_warm_up run inside the Django project's virtualenv.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release.

session_carryover sends the source of this whole file to ``<venv>/bin/python -c``
with the project as working directory and DJANGO_SETTINGS_MODULE set, so it
must stay a complete script that needs only the standard library, Django and
the project's own cache client. It reads its parameters as one JSON document on
stdin and prints one JSON document on stdout; importing it runs nothing. The
parameter ``task`` chooses what it does: ``sessions`` (the default) for
session_carryover, ``capture`` and ``copy`` for cache_warm_up (see below).

With the project's current settings it finds where the sessions live. When
SESSION_ENGINE is Django's ``cache`` engine on a Redis cache, it lists the
session keys in Redis (SCAN on the cache's own client), reads each session and
its remaining TTL, and writes those missing from django_session there, encoded
by the ``cached_db`` engine, so that ``cached_db`` finds them once the cache is
the database. Session keys and data never leave the probe; it reports counts.

For the warm-up at a cutover, ``capture`` returns one alias's entry of CACHES
(taken before the settings change), and ``copy`` copies the live keys of a
cache built from such an entry (Redis, or the table of Django's DatabaseCache or
django-mysql's MySQLCache) into an alias of the current settings, through both
Django backends, so values are serialised as the app reads them, with their
remaining TTL. Keys and values never leave the probe either; it reports counts,
bytes and seconds.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import sys
import time

CACHE_ENGINE = 'django.contrib.sessions.backends.cache'
CACHED_DB_ENGINE = 'django.contrib.sessions.backends.cached_db'
DB_ENGINE = 'django.contrib.sessions.backends.db'
# KEY_PREFIX of the cache engine's SessionStore, for Djangos whose class lacks cache_key_prefix.
CACHE_ENGINE_KEY_PREFIX = 'django.contrib.sessions.cache'
# django-mysql's cache, known by its class path: django-mysql is installed only when the project uses it.
MYSQL_CACHE = 'django_mysql.cache.MySQLCache'
SCAN_COUNT = 1000
INSERT_BATCH = 500
GLOB_SPECIAL = '\\*?['


def describe_error(exc):
    return '%s: %s' % (type(exc).__name__, exc)


def class_paths(cls):
    return ['%s.%s' % (klass.__module__, klass.__qualname__) for klass in cls.__mro__ if klass is not object]


def engine_kind(store_class_paths):
    """Where a SessionStore keeps its data: 'cached_db', 'db', 'cache', 'redis' (a third-party engine on Redis) or 'other'.

    The class and its bases count, so a project's subclass of a Django engine
    is that engine. cached_db is tested first: it is a subclass of db.
    """
    modules = [path.rpartition('.')[0] for path in store_class_paths]
    for kind, engine in (('cached_db', CACHED_DB_ENGINE), ('db', DB_ENGINE), ('cache', CACHE_ENGINE)):
        if engine in modules:
            return kind
    if any('redis' in module.lower() for module in modules):
        return 'redis'
    return 'other'


def on_redis(cache_class_paths):
    """True for django-redis and Django's own RedisCache, and their subclasses (module names only)."""
    return any('redis' in path.rpartition('.')[0].lower() for path in cache_class_paths)


def on_database(cache_class):
    """True for Django's DatabaseCache and django-mysql's MySQLCache, and their subclasses."""
    from django.core.cache.backends.db import DatabaseCache

    return issubclass(cache_class, DatabaseCache) or MYSQL_CACHE in class_paths(cache_class)


def glob_escape(text):
    return ''.join('\\' + char if char in GLOB_SPECIAL else char for char in text)


def session_key_of(raw_key, marker):
    """The session key inside a raw Redis key, or None when the key is not a session of this cache."""
    if isinstance(raw_key, bytes):
        raw_key = raw_key.decode('utf-8', 'replace')
    if not raw_key.startswith(marker) or len(raw_key) == len(marker):
        return None
    return raw_key[len(marker):]


def redis_client(cache):
    """The redis-py client behind django-redis (``cache.client``) or Django's RedisCache (``cache._cache``)."""
    django_redis_client = getattr(cache, 'client', None)
    if hasattr(django_redis_client, 'get_client'):
        return django_redis_client.get_client(write=False)
    return cache._cache.get_client()


def list_sessions(cache, client, store_prefix):
    """Each live session of the cache engine as (session_key, data, ttl seconds; -1 when it has none).

    A key that expires between the SCAN and the read is left out.
    """
    marker = str(cache.make_key(store_prefix))
    sessions = []
    for raw_key in client.scan_iter(match=glob_escape(marker) + '*', count=SCAN_COUNT):
        session_key = session_key_of(raw_key, marker)
        if session_key is None:
            continue
        ttl = client.ttl(raw_key)
        data = cache.get(store_prefix + session_key)
        if data is None or ttl == -2:
            continue
        sessions.append((session_key, data, ttl))
    return sessions


def expiry_date(now, ttl, own_expiry):
    """When the copy expires: as the Redis key would (now + TTL), or the session's own expiry without a TTL."""
    if ttl is not None and ttl > 0:
        return now + datetime.timedelta(seconds=ttl)
    return own_expiry


def split_new(sessions, existing_keys):
    """The sessions not yet in django_session, and how many already are."""
    new = [session for session in sessions if session[0] not in existing_keys]
    return new, len(sessions) - len(new)


def settings_assignments(settings_module, name):
    """Where the project's settings modules assign ``name`` at top level, as 'file line N'."""
    import ast

    package = settings_module.rpartition('.')[0] or settings_module
    found = []
    for module_name, module in sorted(sys.modules.items()):
        if module_name != settings_module and not module_name.startswith(package + '.'):
            continue
        path = getattr(module, '__file__', None)
        try:
            with open(path, 'rb') as source:
                tree = ast.parse(source.read(), path)
        except (TypeError, OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, 'target', None)]
            if any(isinstance(target, ast.Name) and target.id == name for target in targets):
                found.append('%s line %d' % (path, node.lineno))
    return found


def refusal(report, why, what_to_do):
    where = ', '.join(report['defined_in']) or report['settings_module']
    report['refusal'] = 'SESSION_ENGINE = %r (%s): %s. %s' % (report['engine'], where, why, what_to_do)
    return report


def sessions_table_missing(session_model):
    from django.db import connections, router

    connection = connections[router.db_for_write(session_model)]
    return session_model._meta.db_table not in connection.introspection.table_names()


def copy_sessions(sessions, dry_run):
    """Write the sessions missing from django_session; returns (copied, skipped_existing)."""
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.utils import timezone

    model = SessionStore.get_model_class()
    keys = [session[0] for session in sessions]
    existing = set()
    for start in range(0, len(keys), INSERT_BATCH):
        batch = keys[start:start + INSERT_BATCH]
        existing.update(model.objects.filter(session_key__in=batch).values_list('session_key', flat=True))
    new, skipped = split_new(sessions, existing)
    if dry_run or not new:
        return len(new), skipped
    now = timezone.now()
    rows = []
    for session_key, data, ttl in new:
        store = SessionStore(session_key)
        store._session_cache = data
        rows.append(model(session_key=session_key, session_data=store.encode(data),
                          expire_date=expiry_date(now, ttl, store.get_expiry_date())))
    # ignore_conflicts: a login through cached_db while this runs wins over the copy.
    model.objects.bulk_create(rows, batch_size=INSERT_BATCH, ignore_conflicts=True)
    return len(new), skipped


def carry_cache_sessions(report, store_class, dry_run):
    from django.apps import apps
    from django.core.cache import caches

    cache = caches[report['alias']]
    report['backend'] = class_paths(type(cache))[0]
    if not on_redis(class_paths(type(cache))):
        report['reason'] = 'the sessions are on cache %r (%s), not on Redis: nothing to carry' % (
            report['alias'], report['backend'])
        return report
    if not apps.is_installed('django.contrib.sessions'):
        return refusal(report, 'the sessions are on Redis and django.contrib.sessions is not in INSTALLED_APPS, '
                               'so they have no table to move to',
                       "Add 'django.contrib.sessions' to INSTALLED_APPS and run `manage.py migrate sessions` "
                       'before the migration.')
    from django.contrib.sessions.models import Session

    if sessions_table_missing(Session):
        return refusal(report, 'the sessions are on Redis and the table %s does not exist' % Session._meta.db_table,
                       'Run `manage.py migrate sessions` before the migration.')
    store_prefix = getattr(store_class, 'cache_key_prefix', CACHE_ENGINE_KEY_PREFIX)
    try:
        sessions = list_sessions(cache, redis_client(cache), store_prefix)
    except Exception as exc:
        listing_error = describe_error(exc)
        try:
            cache.get(store_prefix)
        except Exception:
            # The cache never worked: no login could have stored a session there.
            report['reason'] = 'every call to cache %r raises (%s): no session can be stored there, nothing to carry' % (
                report['alias'], listing_error)
            return report
        report['error'] = 'cannot list the sessions in cache %r: %s' % (report['alias'], listing_error)
        return report
    report['found'] = len(sessions)
    report['copied'], report['skipped_existing'] = copy_sessions(sessions, dry_run)
    report['reason'] = '%d sessions on Redis, %d %s to django_session, %d there already' % (
        report['found'], report['copied'], 'to copy' if dry_run else 'copied', report['skipped_existing'])
    return report


def cache_from_config(config):
    """A cache backend built from a CACHES entry, as Django's CacheHandler builds one."""
    from django.utils.module_loading import import_string

    params = dict(config)
    backend = import_string(params.pop('BACKEND'))
    return backend(params.pop('LOCATION', ''), params)


def like_escape(text):
    return text.replace('\\', '\\\\').replace('%', '\\%').replace('_', '\\_')


def ttl_seconds(ttl):
    """A Redis TTL as a Django timeout: None for a key without one (-1), 0 for a key that is gone (-2)."""
    if ttl == -1:
        return None
    return max(ttl, 0)


def redis_live_keys(cache, marker):
    """(key, timeout, size) of each live key of a Redis cache under marker; timeout None: no TTL."""
    client = redis_client(cache)
    raw_keys = list(client.scan_iter(match=glob_escape(marker) + '*', count=SCAN_COUNT))
    found = []
    for start in range(0, len(raw_keys), SCAN_COUNT):
        batch = raw_keys[start:start + SCAN_COUNT]
        pipe = client.pipeline(transaction=False)
        for raw_key in batch:
            pipe.ttl(raw_key)
            pipe.strlen(raw_key)
        answers = pipe.execute()
        for index, raw_key in enumerate(batch):
            key = session_key_of(raw_key, marker)
            timeout = ttl_seconds(answers[2 * index])
            if key is not None and timeout != 0:
                found.append((key, timeout, answers[2 * index + 1]))
    return found


def database_live_keys(cache, marker):
    """(key, timeout, size) of each live row of a DatabaseCache under marker; timeout None: no expiry."""
    from django.db import connections, router
    from django.db.models import DateTimeField, Expression

    connection = connections[router.db_for_read(cache.cache_model_class)]
    if cache._table not in connection.introspection.table_names():
        return []
    table = connection.ops.quote_name(cache._table)
    expression = Expression(output_field=DateTimeField())
    converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
    now = datetime.datetime.now(datetime.timezone.utc)
    found = []
    with connection.cursor() as cursor:
        # The backslash escapes of like_escape are MySQL's and MariaDB's default LIKE escape.
        cursor.execute('SELECT cache_key, expires, LENGTH(value) FROM %s WHERE cache_key LIKE %%s' % table,
                       [like_escape(marker) + '%'])
        for raw_key, expires, size in cursor.fetchall():
            for converter in converters:
                expires = converter(expires, expression, connection)
            key = session_key_of(raw_key, marker)
            if key is None:
                continue
            # DatabaseCache stores a key set without a timeout as expiring in the year 9999.
            if expires.year >= 9999:
                found.append((key, None, size))
                continue
            # Naive without USE_TZ: local time, as DatabaseCache wrote it.
            remaining = (expires.astimezone(datetime.timezone.utc) - now).total_seconds()
            if remaining > 0:
                found.append((key, int(math.ceil(remaining)), size))
    return found


def mysql_cache_live_keys(cache, marker):
    """(key, timeout, size) of each live row of a MySQLCache under marker; timeout None: no expiry.

    MySQLCache keeps expires as ms since the epoch, and FOREVER_TIMEOUT for a key set without a timeout.
    """
    from django.db import connections, router

    connection = connections[router.db_for_read(cache.cache_model_class)]
    if cache._table not in connection.introspection.table_names():
        return []
    table = connection.ops.quote_name(cache._table)
    now = cache._now()
    found = []
    with connection.cursor() as cursor:
        cursor.execute('SELECT cache_key, expires, LENGTH(value) FROM %s WHERE cache_key LIKE %%s AND expires > %%s' % table,
                       [like_escape(marker) + '%', now])
        for raw_key, expires, size in cursor.fetchall():
            key = session_key_of(raw_key, marker)
            if key is not None:
                timeout = None if expires >= cache.FOREVER_TIMEOUT else int(math.ceil((expires - now) / 1000))
                found.append((key, timeout, size))
    return found


def live_keys(cache, marker):
    from django.core.cache.backends.db import DatabaseCache

    if isinstance(cache, DatabaseCache):
        return database_live_keys(cache, marker)
    if MYSQL_CACHE in class_paths(type(cache)):
        return mysql_cache_live_keys(cache, marker)
    if on_redis(class_paths(type(cache))):
        return redis_live_keys(cache, marker)
    raise ValueError('%s is neither Redis, DatabaseCache nor MySQLCache: its keys cannot be listed' % class_paths(type(cache))[0])


def apply_caps(keys, max_keys, max_bytes):
    """The keys within the caps (0: none), and {reason: count} of those left out."""
    kept, skipped, total = [], {}, 0
    for entry in keys:
        if max_keys and len(kept) >= max_keys:
            skipped['max_keys'] = skipped.get('max_keys', 0) + 1
        elif max_bytes and total + entry[2] > max_bytes:
            skipped['max_bytes'] = skipped.get('max_bytes', 0) + 1
        else:
            kept.append(entry)
            total += entry[2]
    return kept, skipped


def write_batch(target, values, timeouts):
    """Write values {key: value} into target, each with its timeout; in one transaction on a database."""
    def write():
        for key, value in values.items():
            target.set(key, value, timeouts[key])

    if on_database(type(target)):
        from django.db import router, transaction

        with transaction.atomic(using=router.db_for_write(target.cache_model_class)):
            write()
    else:
        write()


def copy_batch(source, target, batch, keep, report, write):
    """Copy one batch of (key, timeout, size) with write(values, timeouts); a key the app changed meanwhile is
    copied again, newer. keep: the keys of the target left as they are, none (None), those that hold the same
    value ('unchanged') or every one it holds ('present')."""
    timeouts = {key: timeout for key, timeout, dummy in batch}
    sizes = {key: size for key, dummy, size in batch}
    values = source.get_many(list(timeouts))
    gone = len(timeouts) - len(values)
    if gone:
        report['skipped']['expired'] = report['skipped'].get('expired', 0) + gone
    if keep and values:
        present = target.get_many(list(values))
        kept = [key for key, value in values.items() if key in present and (keep == 'present' or present[key] == value)]
        for key in kept:
            del values[key]
        if kept:
            report['skipped'][keep] = report['skipped'].get(keep, 0) + len(kept)
    write(values, timeouts)
    newer = {key: value for key, value in source.get_many(list(values)).items() if value != values[key]}
    if newer:
        write(newer, timeouts)
    report['copied'] += len(values)
    report['recopied'] += len(newer)
    report['bytes'] += sum(sizes[key] for key in values)


def copy_cache(params):
    """Copy the live keys of the cache params['source'] into alias params['target_alias'] of the settings."""
    from django.core.cache import caches

    started = time.monotonic()
    report = {'found': 0, 'copied': 0, 'recopied': 0, 'bytes': 0, 'skipped': {}, 'batches': 0}
    source = cache_from_config(params['source'])
    report['source_backend'] = class_paths(type(source))[0]
    keys = live_keys(source, str(source.make_key('')))
    report['found'] = len(keys)
    keys, report['skipped'] = apply_caps(keys, params['max_keys'], params['max_bytes'])
    if params['dry_run']:
        report['copied'] = len(keys)
        report['bytes'] = sum(entry[2] for entry in keys)
    else:
        target = caches[params['target_alias']]
        report['target_backend'] = class_paths(type(target))[0]
        size = params['batch_size']
        for start in range(0, len(keys), size):
            copy_batch(source, target, keys[start:start + size], params['keep'], report,
                       lambda values, timeouts: write_batch(target, values, timeouts))
            report['batches'] += 1
    report['seconds'] = round(time.monotonic() - started, 3)
    return report


def capture_alias(params):
    """One alias's CACHES entry of the current settings, with what kind of cache it is."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    alias = params['alias']
    config = settings.CACHES.get(alias)
    if config is None:
        return {'error': 'CACHES has no alias %r' % alias}
    backend = import_string(config['BACKEND'])
    return {'alias': alias, 'config': config, 'backend': class_paths(backend)[0],
            'is_redis': on_redis(class_paths(backend)), 'is_database': on_database(backend)}


def warm_up_probe(params):
    try:
        import django

        django.setup()
        if params['task'] == 'capture':
            return capture_alias(params)
        return copy_cache(params)
    except Exception as exc:
        return {'error': describe_error(exc)}


def probe(params):
    report = {'found': 0, 'copied': 0, 'skipped_existing': 0, 'defined_in': []}
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.utils.module_loading import import_string

        report['settings_module'] = settings.SETTINGS_MODULE
        report['engine'] = settings.SESSION_ENGINE
        report['alias'] = settings.SESSION_CACHE_ALIAS
        report['defined_in'] = settings_assignments(settings.SETTINGS_MODULE, 'SESSION_ENGINE')
        store_class = import_string(settings.SESSION_ENGINE + '.SessionStore')
    except Exception as exc:
        report['error'] = 'Django could not load the session engine: %s' % describe_error(exc)
        return report
    kind = report['kind'] = engine_kind(class_paths(store_class))
    if kind in ('db', 'cached_db'):
        report['reason'] = 'the sessions are in the database (%s): nothing to carry' % report['engine']
        return report
    if kind == 'redis':
        return refusal(report, 'this engine keeps the sessions on Redis itself, and the collection carries over only '
                               "Django's cache engine",
                       "Switch SESSION_ENGINE to 'django.contrib.sessions.backends.cached_db' (every user logs in "
                       'again) or move the sessions yourself before the migration.')
    if kind == 'other':
        report['reason'] = 'the sessions are not kept in a cache (%s): nothing to carry' % report['engine']
        return report
    try:
        return carry_cache_sessions(report, store_class, params['dry_run'])
    except Exception as exc:
        report['error'] = 'carrying the sessions over failed: %s' % describe_error(exc)
        return report


def main():
    params = json.load(sys.stdin)
    # Whatever the project prints while it loads must not end up in our JSON.
    with contextlib.redirect_stdout(sys.stderr):
        report = probe(params) if params.get('task', 'sessions') == 'sessions' else warm_up_probe(params)
    json.dump(report, sys.stdout, default=str)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
