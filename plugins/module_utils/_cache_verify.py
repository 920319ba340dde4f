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
# django-mysql's MySQLCache (a BaseDatabaseCache) stores the type of each value beside it.
MYSQL_CACHE_CLASS = 'django_mysql.cache.MySQLCache'
REQUIRED_COLUMNS_OF = {'database': REQUIRED_COLUMNS, 'mysql': REQUIRED_COLUMNS + ('value_type',)}

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


def database_backend(class_paths):
    """Which database cache a 'database' kind is: mysql (django-mysql's MySQLCache) or database (Django's)."""
    return 'mysql' if MYSQL_CACHE_CLASS in class_paths else 'database'


def matches_expected(expected, kind, class_paths):
    """any passes every backend; database every database cache; mysql only MySQLCache."""
    if expected == 'mysql':
        return kind == 'database' and database_backend(class_paths) == 'mysql'
    return expected in ('any', kind)


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
    return expected_backend in ('database', 'mysql')


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


def database_failures(database, table, flavour='database'):
    if database.get('skipped'):
        return []
    if database.get('error'):
        return ['database: %s' % database['error']]
    if not database.get('exists'):
        return ['table %s does not exist in database %s: run manage.py createcachetable'
                % (table, database.get('schema'))]
    missing = [column for column in REQUIRED_COLUMNS_OF[flavour] if column not in database.get('columns', {})]
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


def _check(reasons, figures, summary):
    return dict(ok=not reasons, figures=figures, reason='; '.join(reasons), summary=summary, reasons=reasons)


def backend_check(result, options, probe_error):
    reasons = [probe_error] if probe_error else []
    if result.get('backend') and not result.get('matches_expected'):
        reasons.append('cache %r uses %s (%s), expected %s' % (
            options['cache_alias'], result['backend'], result['backend_kind'], options['expected_backend']))
    figures = {name: result.get(name) for name in ('backend', 'backend_kind', 'database_backend', 'location',
                                                   'django_version')}
    figures['expected'] = options['expected_backend']
    if result.get('backend'):
        summary = '%s (%s) at %s, expected %s' % (
            result['backend'], result['backend_kind'], result.get('location') or '-', options['expected_backend'])
    else:
        summary = 'not read: %s' % (probe_error or 'no report')
    return _check(reasons, figures, summary)


def round_trip_check(result, table):
    guard = result.get('write_guard', {})
    operations = result.get('round_trip', {})
    cleanup = result.get('cleanup', {})
    reasons = [write_guard_failure(guard, table)] if guard.get('blocked') else []
    reasons.extend(round_trip_failures(operations))
    if cleanup.get('error'):
        reasons.append('the probe could not delete its own keys: %s' % cleanup['error'])
    elif cleanup.get('remaining'):
        reasons.append('%d probe keys could still be read after the clean-up' % cleanup['remaining'])
    errors = {name: outcome.get('error') or 'failed' for name, outcome in operations.items() if not outcome.get('ok')}
    figures = dict(operations=len(operations), passed=len(operations) - len(errors), errors=errors,
                   cleanup=cleanup, write_guard=guard)
    if guard.get('blocked'):
        summary = 'not run: %d rows + %d probe keys would exceed MAX_ENTRIES %d' % (
            guard['rows'], guard['keys_needed'], guard['max_entries'])
    else:
        summary = '%d/%d operations ok%s; clean-up %s keys, %s left%s' % (
            figures['passed'], figures['operations'],
            ''.join('; %s: %s' % item for item in errors.items()),
            cleanup.get('keys', '?'), cleanup.get('remaining', '?'),
            ' (%s)' % cleanup['error'] if cleanup.get('error') else '')
    return _check(reasons, figures, summary)


def table_check(result, options, table):
    database = result['database']
    reasons = []
    if options.get('table') and result.get('backend_kind') == 'database' and result.get('location') != table:
        reasons.append('CACHES[%r] LOCATION is %r, but the table to check is %r' % (
            options['cache_alias'], result.get('location'), table))
    reasons.extend(database_failures(database, table, result.get('database_backend') or 'database'))
    name = '%s.%s' % (database.get('schema'), table)
    if database.get('skipped'):
        summary = 'skipped: %s' % database['skipped']
    elif database.get('error'):
        summary = '%s: %s' % (table, database['error']) if table else database['error']
    elif not database.get('exists'):
        summary = '%s does not exist' % name
    else:
        summary = ('%s: %s rows, %s expired, %s never expire; values avg %s B, total %s B; expiry %s .. %s (now %s); '
                   'index on expires: %s' % (
                       name, database.get('rows'), database.get('expired_rows'), database.get('never_expiring_rows'),
                       database.get('avg_value_bytes'), database.get('total_value_bytes'),
                       database.get('oldest_expiry'), database.get('newest_expiry'), database.get('now'),
                       ', '.join(database.get('expires_indexes') or []) or 'none'))
    return _check(reasons, dict(database), summary)


def redis_check(redis):
    summary = 'ping %s' % ('ok' if redis.get('ping') else 'failed')
    if 'prefix_keys' in redis:
        summary += ', %d%s keys under %s, memory %s (maxmemory-policy %s)' % (
            redis['prefix_keys'], '' if redis.get('prefix_keys_complete') else '+', redis.get('pattern'),
            redis.get('used_memory_human'), redis.get('maxmemory_policy'))
    if redis.get('error'):
        summary += '; %s' % redis['error']
    return _check(redis_failures(redis), dict(redis), summary)


def latency_check(latency, options):
    set_, get = latency.get('set', {}), latency.get('get', {})
    summary = ('%s ops: set p50 %s ms, p99 %s ms, total %s ms; get p50 %s ms, p99 %s ms, total %s ms, %s misses%s' % (
        latency.get('operations'), set_.get('p50_ms'), set_.get('p99_ms'), set_.get('total_ms'),
        get.get('p50_ms'), get.get('p99_ms'), get.get('total_ms'), get.get('misses'),
        '; %s' % latency['error'] if latency.get('error') else ''))
    return _check(latency_failures(latency, options), dict(latency), summary)


def leftovers_check(leftovers, options):
    fail = options['fail_on_leftovers']
    defaulted = fail is None
    if defaulted:
        fail = default_fail_on_leftovers(options['expected_backend'])
    unreadable = leftovers.get('unreadable_env_files', [])
    reasons = ['env file %s cannot be read: %s' % (item['file'], item['error']) for item in unreadable]
    found = leftover_failures(leftovers)
    if fail:
        reasons.extend(found)
    by_file = {}
    for hit in leftovers.get('env_keys', []):
        by_file.setdefault(hit['file'], []).append('%s:%d' % (hit['key'], hit['line']))
    summary = 'packages %s; env keys %s; CACHES aliases on Redis %s' % (
        ', '.join('%s %s' % item for item in sorted(leftovers.get('packages', {}).items())) or 'none',
        ', '.join('%s in %s' % (', '.join(hits), path) for path, hits in by_file.items()) or 'none',
        ', '.join(leftovers.get('caches_reference_redis', [])) or 'none')
    summary += ''.join('; cannot read %s: %s' % (item['file'], item['error']) for item in unreadable)
    if found and not fail:
        summary += ' (reported only: fail_on_leftovers is off%s)' % (
            ' with expected_backend %s' % options['expected_backend'] if defaulted else '')
    figures = dict(leftovers, found=bool(found), fail_on_leftovers=fail)
    return _check(reasons, figures, summary)


def manage_check(check):
    last_line = next((line.strip() for line in reversed(check['output'].splitlines()) if line.strip()), '')
    reasons = ['manage.py check exited with rc %d: %s' % (check['rc'], last_line)] if check['rc'] != 0 else []
    return _check(reasons, dict(rc=check['rc'], last_line=last_line),
                  'rc %d: %s' % (check['rc'], last_line or 'no output'))


def cache_table(table, result):
    """The table to inspect: the one given, else the LOCATION of a DatabaseCache (None when there is neither)."""
    return table or (result.get('location') if result.get('backend_kind') == 'database' else None)


def judge(result, options, probe_error=None):
    """The verdict of each check that ran, and every failure as a sentence, most basic first.

    Returns ``(checks, failures)``: checks maps the name of each check that
    ran (backend, round_trip, table, redis, latency, leftovers, manage_check,
    in this order) to ``{ok, figures, reason, summary}``; failures are the
    reasons of the failed checks, in the same order. options holds the module
    parameters; fail_on_leftovers None means its default.
    """
    table = cache_table(options.get('table'), result)
    checks = dict(backend=backend_check(result, options, probe_error))
    if 'round_trip' in result or result.get('write_guard', {}).get('blocked'):
        checks['round_trip'] = round_trip_check(result, table)
    if 'database' in result:
        checks['table'] = table_check(result, options, table)
    if 'redis' in result:
        checks['redis'] = redis_check(result['redis'])
    if result.get('latency'):
        checks['latency'] = latency_check(result['latency'], options)
    checks['leftovers'] = leftovers_check(result.get('leftovers', {}), options)
    if 'check' in result:
        checks['manage_check'] = manage_check(result['check'])
    failures = [reason for check in checks.values() for reason in check.pop('reasons')]
    return checks, failures


def failure_message(failures):
    return '%d cache check(s) failed: %s' % (len(failures), '; '.join(failures))
