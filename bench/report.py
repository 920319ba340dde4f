"""Turn bench/results.json into a markdown table (bench/results.md) and a plot (bench/latency.png).

    python bench/report.py [results.json] [--before before.json]

--before adds a before/after table of the migrate.yml timings (e.g. a run of main's tree).
"""
import argparse
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent
LABELS = {'redis': 'Redis (django-redis)', 'database_capped': 'DatabaseCache, MAX_ENTRIES 20000 / CULL_FREQUENCY 3',
          'database_uncapped': 'DatabaseCache, uncapped', 'mysql': 'django-mysql MySQLCache, CULL_PROBABILITY 0'}
# The goals of issue 12.
MYSQL_SET_P50_MS, MYSQL_GET_P50_MS = 1.0, 0.5
FLEET_RATIO, RERUN_RATIO, ONE_HOST_S = 1.5, 0.25, 45.0


def cache_table(results):
    lines = ['| backend | rows | set p50 | set p99 | get p50 | get p99 | get hits | valid keys evicted | ops (set/get) |',
             '|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for r in results:
        lines.append('| %s | %s | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.0f%% | %s of %s | %d/%d |' % (
            LABELS[r['backend']], format(r['rows'], ','), r['set_p50_ms'], r['set_p99_ms'], r['get_p50_ms'], r['get_p99_ms'],
            100 * r['get_hit_ratio'], format(r['evicted'], ','), format(r['rows'], ','), r['set_ops'], r['get_ops']))
    return lines


def goals(data):
    """(goal, measured, met, by how much) rows."""
    rows = []
    mysql = [r for r in data.get('cache', []) if r['backend'] == 'mysql' and r['rows'] == max(x['rows'] for x in data['cache'])]
    for r in mysql:
        rows.append(('MySQLCache set p50 at %s rows <= %.1f ms' % (format(r['rows'], ','), MYSQL_SET_P50_MS),
                     '%.2f ms' % r['set_p50_ms'], r['set_p50_ms'] <= MYSQL_SET_P50_MS, r['set_p50_ms'] / MYSQL_SET_P50_MS))
        rows.append(('MySQLCache get p50 at %s rows <= %.1f ms' % (format(r['rows'], ','), MYSQL_GET_P50_MS),
                     '%.2f ms' % r['get_p50_ms'], r['get_p50_ms'] <= MYSQL_GET_P50_MS, r['get_p50_ms'] / MYSQL_GET_P50_MS))
        rows.append(('MySQLCache valid keys evicted = 0', str(r['evicted']), r['evicted'] == 0, None))
    one, fleet, rerun = data.get('migrate_one'), data.get('migrate_fleet'), data.get('rerun_one')
    if one:
        rows.append(('one host <= %.0f s' % ONE_HOST_S, '%.1f s' % one['wall_s'], one['wall_s'] <= ONE_HOST_S,
                     one['wall_s'] / ONE_HOST_S))
    if one and fleet:
        ratio = fleet['wall_s'] / one['wall_s']
        rows.append(('%d hosts <= %.1fx one host' % (data['fleet_size'], FLEET_RATIO), '%.2fx' % ratio, ratio <= FLEET_RATIO,
                     ratio / FLEET_RATIO))
    if one and rerun:
        ratio = rerun['wall_s'] / one['wall_s']
        rows.append(('rerun <= %.0f%% of a cold run' % (100 * RERUN_RATIO), '%.0f%%' % (100 * ratio), ratio <= RERUN_RATIO,
                     ratio / RERUN_RATIO))
    return rows


def migrate_table(data, before=None):
    runs = [('migrate_one', 'migrate.yml, 1 app host'), ('rerun_one', 'idempotent rerun, 1 host'),
            ('migrate_fleet', 'migrate.yml, %d app hosts, one database' % data['fleet_size']),
            ('rerun_fleet', 'idempotent rerun, %d hosts' % data['fleet_size'])]
    head = '| run | wall time | changed | load average (1, 5, 15 min) |'
    if before:
        head = '| run | before (%s) | after (%s) | changed after | load average after |' % (
            before.get('label', 'before'), data.get('label', 'after'))
    lines = [head, '|---' * (head.count('|') - 1) + '|']
    for key, label in runs:
        if key not in data:
            continue
        run = data[key]
        changed = sum(host.get('changed', 0) for host in run['recap'].values())
        load = ', '.join('%.1f' % x for x in run['load_average'])
        if before:
            was = '%.1f s' % before[key]['wall_s'] if key in before else 'not run'
            lines.append('| %s | %s | %.1f s | %d | %s |' % (label, was, run['wall_s'], changed, load))
        else:
            lines.append('| %s | %.1f s | %d | %s |' % (label, run['wall_s'], changed, load))
    return lines


def slowest(run, count=12):
    lines = ['| task | seconds |', '|---|---:|']
    lines += ['| %s | %.2f |' % (name.replace('|', '/'), seconds) for name, seconds in run['tasks'][:count]]
    return lines


def plot(data, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, op in zip(axes, ('set', 'get')):
        for backend, label in LABELS.items():
            points = sorted((r['rows'], r['%s_p50_ms' % op]) for r in data['cache'] if r['backend'] == backend)
            if points:
                axis.plot([p[0] for p in points], [p[1] for p in points], marker='o', label=label)
        axis.set_xscale('log')
        axis.set_yscale('log')
        axis.set_xlabel('rows in the cache')
        axis.set_ylabel('%s p50 (ms)' % op)
        axis.set_title('cache.%s() p50' % op)
        axis.grid(True, which='both', alpha=0.3)
    axes[0].legend(fontsize=7)
    figure.suptitle('load average during the run: %s' % ', '.join('%.1f' % x for x in data.get('cache_load_average', [])))
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('results', nargs='?', default=str(BENCH / 'results.json'))
    parser.add_argument('--before')
    parser.add_argument('--markdown', default=str(BENCH / 'results.md'))
    parser.add_argument('--plot', default=str(BENCH / 'latency.png'))
    args = parser.parse_args()
    data = json.loads(Path(args.results).read_text())
    before = json.loads(Path(args.before).read_text()) if args.before else None
    out = ['# Bench results (%s, commit %s)' % (data['started'], data.get('commit')), '',
           'Machine: %(cpus)d CPUs (%(cpu_model)s), %(memory_gib)d GiB, kernel %(kernel)s, Docker %(docker)s.' % data['machine'],
           'Load average at the start: %s. Pipelining: %s.' % (
               ', '.join(map(str, data['load_average_start'])), 'on' if data['pipelining'] else 'off'), '']
    if data.get('cache'):
        out += ['## Cache latency', ''] + cache_table(data['cache']) + ['']
        plot(data, args.plot)
    out += ['## migrate.yml', ''] + migrate_table(data, before) + ['']
    if goals(data):
        out += ['## Goals', '', '| goal | measured | met | measured / goal |', '|---|---:|---|---:|']
        out += ['| %s | %s | %s | %s |' % (goal, measured, 'yes' if met else '**no**', '%.2f' % ratio if ratio else '')
                for goal, measured, met, ratio in goals(data)]
        out += ['']
    for key in ('migrate_one', 'rerun_one', 'migrate_fleet'):
        if key in data:
            out += ['## Slowest tasks: %s (profile_tasks)' % key, ''] + slowest(data[key]) + ['']
            if before and key in before:
                out += ['Before:', ''] + slowest(before[key]) + ['']
    Path(args.markdown).write_text('\n'.join(out))
    print('\n'.join(out))


if __name__ == '__main__':
    main()
