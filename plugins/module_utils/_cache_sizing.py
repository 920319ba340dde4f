# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Count the live cache keys in Redis and size the database cache from them.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

count_keys() walks the keyspace with SCAN MATCH (bounded) and asks MEMORY USAGE
of a bounded sample; size() turns the figures into MAX_ENTRIES with headroom and
the warnings of docs/cache-backends.md. The latency model is the measurement of
issue 12 (MariaDB 10.11, Django 4.2, ~200-byte values, a loaded 2-core machine):
Django's DatabaseCache runs SELECT COUNT(*) on every set, so a set costs about
141.6 ms per million rows in the table; django-mysql's MySQLCache with
CULL_PROBABILITY 0 sets in 0.17-0.25 ms whatever the row count. A get does not
count the table: its p50 is one figure per backend. django-redis, today's cache,
is given for comparison. size() also gives the verdict on the set p50: whether it
passes the limit above which preflight refuses the plan (mall_cache_max_set_ms).
"""

from __future__ import annotations

import math

# Measured set p50 of DatabaseCache per row in the table (141.6 ms at 1M rows).
DATABASE_SET_MS_PER_ROW = 141.6 / 1000000
# Measured get p50 of DatabaseCache at 1M rows.
DATABASE_GET_MS = 0.18
# Measured set p50 of MySQLCache at 1M rows (upper end of 0.17-0.25 ms); no COUNT(*) on a set.
MYSQL_SET_MS = 0.25
MYSQL_GET_MS = 0.12
# Measured p50 of django-redis at 1M keys: what a set and a get cost before the migration.
REDIS_SET_MS = 0.09
REDIS_GET_MS = 0.07
# Above this set p50 the sizing warns.
SET_MS_LIMIT = 2.0
# Above this set p50 preflight refuses the plan unless it is accepted (mall_cache_max_set_ms's default).
DEFAULT_MAX_SET_MS = 5.0
# The smallest MAX_ENTRIES sized: room for a small cache to grow, and by the model 1.4 ms per
# DatabaseCache set when full (the old fixed default, 20000, is 2.8 ms by the same model).
MIN_MAX_ENTRIES = 10000


def count_keys(conn, match, scan_count=1000, max_keys=10000000, sample=1000):
    """Figures of the keys that match: live_keys, complete, sampled, sample_bytes, memory_bytes (estimated)."""
    keys = 0
    sampled = []
    cursor = b'0'
    complete = False
    while True:
        cursor, batch = conn.command('SCAN', cursor, 'MATCH', match, 'COUNT', str(scan_count))
        keys += len(batch)
        sampled.extend(batch[:max(0, sample - len(sampled))])
        if cursor in (b'0', '0', 0):
            complete = True
            break
        if keys >= max_keys:
            break
    for key in sampled:
        conn.send('MEMORY', 'USAGE', key, 'SAMPLES', '0')
    sample_bytes = sum(int(conn.reader.read_reply() or 0) for dummy in sampled)
    memory = int(round(sample_bytes * keys / float(len(sampled)))) if sampled else 0
    return dict(live_keys=keys, complete=complete, sampled=len(sampled), sample_bytes=sample_bytes, memory_bytes=memory)


def predicted_set_ms(backend, rows):
    """Set p50 at a table of `rows` rows, by the measured model."""
    if backend == 'mysql':
        return MYSQL_SET_MS
    return round(rows * DATABASE_SET_MS_PER_ROW, 2)


def predicted_get_ms(backend):
    """Get p50, by the measured model: the same at any row count."""
    return MYSQL_GET_MS if backend == 'mysql' else DATABASE_GET_MS


def size(backend, keys, headroom=2.0, max_entries=None, max_set_ms=DEFAULT_MAX_SET_MS):
    """MAX_ENTRIES (given, or live keys times headroom, at least MIN_MAX_ENTRIES), the set and get times it
    predicts when the table is that full beside Redis's, whether that set time passes max_set_ms, and
    warnings with the figures."""
    sized = max_entries or max(MIN_MAX_ENTRIES, int(math.ceil(keys * headroom)))
    set_ms = predicted_set_ms(backend, sized)
    warnings = []
    if keys > sized:
        warnings.append('MAX_ENTRIES %d is below the %d live keys in Redis: the %s cache would evict about %d of them '
                        'on its first cull' % (sized, keys, backend, keys - sized))
    if set_ms > SET_MS_LIMIT:
        warnings.append('with MAX_ENTRIES %d the %s backend would take about %.1f ms per set once the table fills '
                        '(SELECT COUNT(*) on every set, %.4f ms per 1000 rows measured; the limit is %.0f ms): '
                        'choose cache_settings_backend=mysql (about %.2f ms per set)'
                        % (sized, backend, set_ms, DATABASE_SET_MS_PER_ROW * 1000, SET_MS_LIMIT, MYSQL_SET_MS))
    return dict(max_entries=sized, predicted_set_ms=set_ms, predicted_get_ms=predicted_get_ms(backend),
                redis_set_ms=REDIS_SET_MS, redis_get_ms=REDIS_GET_MS, max_set_ms=max_set_ms,
                set_ms_over_limit=set_ms > max_set_ms, warnings=warnings)
