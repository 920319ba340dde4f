"""Cache latency at a given number of rows, through a real Django (run with the app's venv python).

For each backend and size: empty its store, pre-fill it with N valid keys in bulk (SQL
INSERT ... SELECT from MariaDB's sequence engine, a Redis pipeline: not N cache calls), then time
OPS cache.set() of new keys and OPS cache.get() of random pre-filled keys (~200-byte values), and
count the pre-filled keys still there (a capped DatabaseCache culls valid keys). Prints one JSON
object: {"results": [{backend, rows, set_p50_ms, ...}, ...]}.
"""
import argparse
import base64
import datetime
import json
import pickle
import random
import statistics
import string
import sys
import time

import pymysql

pymysql.install_as_MySQLdb()

import django  # noqa: E402
from django.conf import settings  # noqa: E402

VALUE = ''.join(random.Random(1).choices(string.ascii_letters, k=200))
FILL = 'fill'
TTL = 86400


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument('--db-host', required=True)
    parser.add_argument('--db-name', required=True)
    parser.add_argument('--db-user', required=True)
    parser.add_argument('--db-password', required=True)
    parser.add_argument('--redis-url', required=True)
    parser.add_argument('--rows', default='1000,100000,1000000')
    parser.add_argument('--ops', type=int, default=1000)
    # A backend whose sets take long (DatabaseCache counts the table on every set) stops after this.
    parser.add_argument('--budget', type=float, default=20.0, help='seconds of sets or gets per backend and size')
    return parser.parse_args()


def configure(args):
    settings.configure(
        USE_TZ=True,
        INSTALLED_APPS=['django_mysql'],
        DATABASES={'default': {'ENGINE': 'django.db.backends.mysql', 'HOST': args.db_host, 'NAME': args.db_name,
                               'USER': args.db_user, 'PASSWORD': args.db_password,
                               'OPTIONS': {'charset': 'utf8mb4'}}},
        CACHES={
            'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'},
            'redis': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': args.redis_url,
                      'OPTIONS': {'CLIENT_CLASS': 'django_redis.client.DefaultClient'}},
            'database_capped': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache', 'LOCATION': 'bench_db_capped',
                                'OPTIONS': {'MAX_ENTRIES': 20000, 'CULL_FREQUENCY': 3}},
            'database_uncapped': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache',
                                  'LOCATION': 'bench_db_uncapped', 'OPTIONS': {'MAX_ENTRIES': 10 ** 9}},
            'mysql': {'BACKEND': 'django_mysql.cache.MySQLCache', 'LOCATION': 'bench_mysql_cache',
                      'OPTIONS': {'CULL_PROBABILITY': 0}},
        },
    )
    django.setup()


def create_tables():
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connection
    call_command('createcachetable', 'bench_db_capped', 'bench_db_uncapped', verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute('DROP TABLE IF EXISTS bench_mysql_cache')
        cursor.execute(caches['mysql'].create_table_sql.format(table_name='bench_mysql_cache'))
        cursor.execute('CREATE INDEX bench_mysql_cache_expires ON bench_mysql_cache (expires)')


def prefill(alias, rows):
    """Empty the backend's store and put `rows` valid keys in it, in bulk."""
    from django.core.cache import caches
    from django.db import connection
    cache = caches[alias]
    key = cache.make_key(FILL)  # ':1:fill'; each row's key is that plus its number
    if alias == 'redis':
        client = cache.client.get_client(write=True)
        client.flushdb()
        payload = pickle.dumps(VALUE, pickle.HIGHEST_PROTOCOL)
        for start in range(0, rows, 20000):
            pipe = client.pipeline(transaction=False)
            for number in range(start + 1, min(rows, start + 20000) + 1):
                pipe.set('%s%d' % (key, number), payload, ex=TTL)
            pipe.execute()
        return
    table = cache._table
    with connection.cursor() as cursor:
        cursor.execute('TRUNCATE TABLE %s' % table)
        if alias == 'mysql':
            value = pickle.dumps(VALUE, pickle.HIGHEST_PROTOCOL)
            expires = int((time.time() + TTL) * 1000)
            cursor.execute("INSERT INTO %s (cache_key, value, value_type, expires) "
                           "SELECT CONCAT(%%s, seq), %%s, 'p', %%s FROM seq_1_to_%d" % (table, rows), [key, value, expires])
        else:
            value = base64.b64encode(pickle.dumps(VALUE, pickle.HIGHEST_PROTOCOL)).decode('latin1')
            expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=TTL)).replace(tzinfo=None)
            cursor.execute('INSERT INTO %s (cache_key, value, expires) SELECT CONCAT(%%s, seq), %%s, %%s '
                           'FROM seq_1_to_%d' % (table, rows), [key, value, expires])


def surviving(alias, rows):
    """How many of the pre-filled keys are still there and valid."""
    from django.core.cache import caches
    from django.db import connection
    cache = caches[alias]
    key = cache.make_key(FILL)
    if alias == 'redis':
        client = cache.client.get_client(write=False)
        new_keys = sum(1 for key in client.scan_iter(match=cache.make_key('new') + '*', count=10000))
        return client.dbsize() - new_keys
    with connection.cursor() as cursor:
        if alias == 'mysql':
            cursor.execute('SELECT COUNT(*) FROM %s WHERE cache_key LIKE %%s AND expires > %%s' % cache._table,
                           [key + '%', int(time.time() * 1000)])
        else:
            cursor.execute('SELECT COUNT(*) FROM %s WHERE cache_key LIKE %%s AND expires > UTC_TIMESTAMP()'
                           % cache._table, [key + '%'])
        return cursor.fetchone()[0]


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(calls, budget):
    samples, deadline = [], time.monotonic() + budget
    for call in calls:
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
        if time.monotonic() > deadline:
            break
    return samples


def measure(alias, rows, ops, budget):
    from django.core.cache import caches
    cache = caches[alias]
    started = time.monotonic()
    prefill(alias, rows)
    prefill_seconds = time.monotonic() - started
    pick = random.Random(rows)
    sets = timed((lambda n=n: cache.set('new%d' % n, VALUE, TTL) for n in range(ops)), budget)
    hits = []
    gets = timed((lambda n=n: hits.append(cache.get('%s%d' % (FILL, n)) is not None)
                  for n in (pick.randint(1, rows) for op in range(ops))), budget)
    kept = surviving(alias, rows)
    return {
        'backend': alias, 'rows': rows, 'prefill_s': round(prefill_seconds, 1),
        'set_ops': len(sets), 'set_p50_ms': round(statistics.median(sets), 3), 'set_p99_ms': round(percentile(sets, 0.99), 3),
        'get_ops': len(gets), 'get_p50_ms': round(statistics.median(gets), 3), 'get_p99_ms': round(percentile(gets, 0.99), 3),
        'get_hit_ratio': round(sum(hits) / len(hits), 3), 'evicted': rows - kept,
    }


def main():
    args = parse_args()
    configure(args)
    create_tables()
    results = []
    for rows in [int(r) for r in args.rows.split(',')]:
        for alias in ('redis', 'database_capped', 'database_uncapped', 'mysql'):
            result = measure(alias, rows, args.ops, args.budget)
            print(json.dumps(result), file=sys.stderr, flush=True)
            results.append(result)
    print(json.dumps({'results': results}))


if __name__ == '__main__':
    main()
