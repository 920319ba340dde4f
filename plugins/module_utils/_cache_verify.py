# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure logic of the cache_verify module: classification, statistics, verdicts.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release.

Nothing here talks to Django, the cache or the database, so all of it is
unit-tested without services.
"""

from __future__ import annotations

import math
import re

BACKEND_KINDS = ('database', 'redis', 'locmem', 'other')
REQUIRED_COLUMNS = ('cache_key', 'value', 'expires')

# Greedy up to the last @ before the path: like urllib, so a password with an @ is masked whole.
URL_PASSWORD = re.compile(r'(://[^:/@]*:)[^/]*@')
QUERY_PASSWORD = re.compile(r'((?:^|[?&;])password=)[^&;]*', re.IGNORECASE)
MASK = '********'


def classify_backend(class_paths):
    """Sort a cache class (its class path and those of its bases) into one of BACKEND_KINDS.

    Bases count, so subclasses of DatabaseCache or of a Redis backend are
    recognised too. Only module names are searched for "redis", so a class
    name alone does not make a database cache look like Redis.
    """
    if any(path.endswith(('.DatabaseCache', '.BaseDatabaseCache')) for path in class_paths):
        return 'database'
    if any('redis' in path.rpartition('.')[0].lower() for path in class_paths):
        return 'redis'
    if any(path.endswith('.LocMemCache') for path in class_paths):
        return 'locmem'
    return 'other'


def redact_location(location):
    """Mask passwords in cache LOCATION URLs (``redis://:secret@host`` and ``?password=``)."""
    return QUERY_PASSWORD.sub(r'\g<1>' + MASK, URL_PASSWORD.sub(r'\g<1>' + MASK + '@', location))


def percentile(samples, pct):
    """The pct-th percentile, interpolating linearly between the closest ranks.

    This is numpy's default method and statistics.quantiles(method='inclusive'):
    p50 of an even count is the mean of the two middle values, p100 the maximum.
    """
    if not samples:
        return None
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100.0
    lower, upper = math.floor(rank), math.ceil(rank)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (rank - lower)


def timing_summary(samples_ms):
    def rounded(value):
        return None if value is None else round(value, 3)

    return dict(
        count=len(samples_ms),
        p50_ms=rounded(percentile(samples_ms, 50)),
        p99_ms=rounded(percentile(samples_ms, 99)),
        total_ms=round(sum(samples_ms), 3),
    )


def latency_summary(probe_latency, operations):
    """Turn the probe's raw timings into the module's ``latency`` result."""
    if not probe_latency:
        return {}
    summary = dict(operations=operations, set=timing_summary(probe_latency.get('set_ms', [])))
    summary['get'] = timing_summary(probe_latency.get('get_ms', []))
    summary['get']['misses'] = probe_latency.get('misses', 0)
    if probe_latency.get('error'):
        summary['error'] = probe_latency['error']
    return summary


def default_fail_on_leftovers(expected_backend):
    # Leftovers are the point of checking after a move to the database; with Redis they are expected.
    return expected_backend == 'database'


def group_by_error(checks):
    """Map each distinct error text to the names of the checks that failed with it, in order."""
    grouped = {}
    for name, outcome in checks.items():
        if not outcome.get('ok'):
            grouped.setdefault(outcome.get('error') or 'failed', []).append(name)
    return grouped


def round_trip_failures(round_trip):
    return [
        'cache round trip failed (%s): %s' % (', '.join(names), error)
        for error, names in group_by_error(round_trip).items()
    ]


def latency_failures(latency, options):
    failures = []
    if latency.get('error'):
        failures.append('latency test failed: %s' % latency['error'])
    misses = latency.get('get', {}).get('misses')
    if misses:
        failures.append('%d of %d gets in the latency test did not return the value just set' % (
            misses, latency['operations']))
    for operation in ('set', 'get'):
        limit = options.get('max_%s_p50_ms' % operation)
        p50 = latency.get(operation, {}).get('p50_ms')
        if limit is not None and p50 is not None and p50 > limit:
            failures.append('%s p50 %.3f ms is above max_%s_p50_ms %s' % (operation, p50, operation, limit))
    return failures


def write_guard_failure(guard, table):
    return (
        'the probe wrote nothing: %s holds %d rows and MAX_ENTRIES is %d, so writing %d probe keys '
        'would make Django cull entries it did not write; raise OPTIONS MAX_ENTRIES or lower operations'
        % (table, guard['rows'], guard['max_entries'], guard['keys_needed'])
    )


def database_failures(database, table):
    if database.get('skipped'):
        return []
    if database.get('error'):
        return ['database: %s' % database['error']]
    if not database.get('exists'):
        return ['table %s does not exist in database %s: run manage.py createcachetable'
                % (table, database.get('schema'))]
    missing = [column for column in REQUIRED_COLUMNS if column not in database.get('columns', {})]
    if missing:
        return ['table %s lacks the columns %s' % (table, ', '.join(missing))]
    if not database.get('expires_indexes'):
        return ['table %s has no index on expires: CREATE INDEX %s_expires ON %s (expires)'
                % (table, table, table)]
    return []


def redis_failures(redis):
    if redis.get('error'):
        return ['redis: %s' % redis['error']]
    if not redis.get('ping'):
        return ['redis did not answer PING']
    return []


def leftover_failures(leftovers):
    failures = []
    if leftovers.get('packages'):
        failures.append('leftover packages installed in the virtualenv: %s' % ', '.join(
            '%s %s' % item for item in sorted(leftovers['packages'].items())))
    by_file = {}
    for hit in leftovers.get('env_keys', []):
        by_file.setdefault(hit['file'], []).append('%s (line %d)' % (hit['key'], hit['line']))
    failures.extend('leftover keys in %s: %s' % (path, ', '.join(hits)) for path, hits in by_file.items())
    if leftovers.get('caches_reference_redis'):
        failures.append('CACHES still references Redis: %s' % ', '.join(leftovers['caches_reference_redis']))
    return failures


def collect_failures(result, options, probe_error=None):
    """List every failed check of a cache_verify result as a sentence, most basic first.

    options holds the module parameters, with fail_on_leftovers already resolved.
    """
    failures = [probe_error] if probe_error else []
    if result.get('backend') and not result.get('matches_expected'):
        failures.append('cache %r uses %s (%s), expected %s' % (
            options['cache_alias'], result['backend'], result['backend_kind'], options['expected_backend']))
    if result.get('backend_kind') == 'database' and result.get('location') != options['table']:
        failures.append('CACHES[%r] LOCATION is %r, but the table to check is %r' % (
            options['cache_alias'], result.get('location'), options['table']))
    if result.get('write_guard', {}).get('blocked'):
        failures.append(write_guard_failure(result['write_guard'], result.get('location')))
    failures.extend(round_trip_failures(result.get('round_trip', {})))
    failures.extend(latency_failures(result.get('latency', {}), options))
    cleanup = result.get('cleanup', {})
    if cleanup.get('error'):
        failures.append('the probe could not delete its own keys: %s' % cleanup['error'])
    elif cleanup.get('remaining'):
        failures.append('%d probe keys could still be read after the clean-up' % cleanup['remaining'])
    if 'database' in result:
        failures.extend(database_failures(result['database'], options['table']))
    if 'redis' in result:
        failures.extend(redis_failures(result['redis']))
    leftovers = result.get('leftovers', {})
    failures.extend('env file %s cannot be read: %s' % (item['file'], item['error'])
                    for item in leftovers.get('unreadable_env_files', []))
    if options['fail_on_leftovers']:
        failures.extend(leftover_failures(leftovers))
    check = result.get('check')
    if check and check['rc'] != 0:
        last_line = next((line for line in reversed(check['output'].splitlines()) if line.strip()), '')
        failures.append('manage.py check exited with rc %d: %s' % (check['rc'], last_line.strip()))
    return failures


def failure_message(failures):
    return '%d cache check(s) failed: %s' % (len(failures), '; '.join(failures))
