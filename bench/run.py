"""`make bench`: cache latency and migrate.yml timings on the bench's own containers (bn-*).

Steps, in one run: create the containers (bench/sandbox.yml), put the app hosts in their Redis state
(molecule/resources/prepare.yml), time the cache backends through the app's Django
(bench/cache_latency.py), then time playbooks/migrate.yml on one host, its idempotent rerun, and on
a fleet of hosts sharing one database, each with ansible.posix.profile_tasks. Writes
bench/results.json, bench/latency.png and bench/results.md (bench/report.py), then removes the
containers (--keep leaves them).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / 'bench'
PREFIX = 'bn-'
NETWORK = PREFIX + 'net'
DB = PREFIX + 'db'
REDIS = PREFIX + 'redis-bench'
CACHE_TABLE = yaml.safe_load((ROOT / 'roles/mall/defaults/main.yml').read_text())['mall_cache_table']


def log(message):
    print('bench: %s' % message, flush=True)


def load_average():
    return [round(x, 2) for x in os.getloadavg()]


def app(number):
    return '%sapp-%d' % (PREFIX, number)


def sandbox_vars():
    """The sandbox inventory's group vars: the bench's hosts are configured as molecule/default's."""
    merged = {}
    for name in ('all.yml', 'mall_servers.yml'):
        merged.update(yaml.safe_load((ROOT / 'inventories/sandbox/group_vars' / name).read_text()))
    return merged


def write_inventory(path, apps, pipelining, redis):
    """An inventory of the bench's db host and these app hosts, which share the Redis `redis` (a fleet shares one,
    docs/fleets.md): the sandbox's, with the bench's names."""
    servers = dict(sandbox_vars(), mall_db_host=DB, sandbox_network=NETWORK, ansible_connection='community.docker.docker',
                   mall_redis_container=redis, mall_redis_host=redis, mall_redis_volume=redis + '-data',
                   # Eight apps restarting at once on 2 cores: more than the fixture's 90 s to answer (a ceiling, not a wait).
                   mall_app_environment={'MALL_START_TIMEOUT': '240'})
    hosts = {name: {'sandbox_decoy_container': name + '-decoy', 'sandbox_decoy_volume': name + '-decoy-data'} for name in apps}
    common = {'ansible_python_interpreter': '/usr/bin/python3', 'ansible_pipelining': pipelining}
    inventory = {'all': {'vars': common, 'children': {
        'mall_databases': {'hosts': {DB: {'ansible_connection': 'community.docker.docker'}}},
        'mall_servers': {'hosts': hosts, 'vars': servers},
    }}}
    path.write_text(json.dumps(inventory, indent=1))
    return path


def app_environment(redis_host):
    """The fixture's env file names mall-db and mall-server-redis-dev, which belong to the Molecule sandbox:
    the real environment wins over the file (mall_server/settings/env.py), so each bench app host is
    pointed at bn-db and its Redis there."""
    password = sandbox_vars()['mall_redis_password']
    redis = 'redis://:%s@%s:6379' % (password, redis_host)
    return {'MYSQL_HOST': DB, 'REDIS_HOST': redis_host, 'REDIS_URL': redis + '/1',
            'CELERY_BROKER_URL': redis + '/0', 'CELERY_RESULT_BACKEND': redis + '/0'}


def playbook_env(collections, run_dir):
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks', PROFILE_TASKS_TASK_OUTPUT_LIMIT='all',
               ANSIBLE_HOST_KEY_CHECKING='False', MOLECULE_EPHEMERAL_DIRECTORY=str(run_dir))
    return env


def run_playbook(playbook, inventory, env, log_path, *extra):
    """Run a playbook; return (wall seconds, per-task seconds from profile_tasks, recap lines)."""
    started = time.monotonic()
    with open(log_path, 'w') as out:
        result = subprocess.run(['ansible-playbook', '-i', str(inventory), str(playbook), *extra],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT), check=False)
    wall = time.monotonic() - started
    text = Path(log_path).read_text()
    if result.returncode != 0:
        sys.exit('bench: %s failed (rc %d), see %s:\n%s' % (playbook, result.returncode, log_path, text[-3000:]))
    return wall, profile(text), recap(text)


def profile(text):
    """profile_tasks' summary: [(task, seconds)], slowest first."""
    tail = text.split('=' * 20)[-1]
    return [(m.group(1).strip(), float(m.group(2)))
            for m in re.finditer(r'^(.*?) -+ (\d+\.\d+)s$', tail, re.M)]


def recap(text):
    return {m.group(1): {k: int(v) for k, v in re.findall(r'(\w+)=(\d+)', m.group(2))}
            for m in re.finditer(r'^(\S+)\s+: (ok=.*)$', text, re.M)}


def docker(*args, **kwargs):
    return subprocess.run(['docker', *args], check=True, text=True, capture_output=True, **kwargs).stdout


def root_sql(statement):
    docker('exec', DB, 'mariadb', '-e', statement)


def cache_latency(apps, rows, ops, budget, run_dir):
    """The cache latency run, on the first app host's Django, against the bench db and Redis."""
    host = apps[0]
    wheels = run_dir / 'wheels'
    subprocess.run([os.environ['MALL_CACHE'] + '/debian-python/bin/pip', 'download', '-qq', '--no-deps', '-d', str(wheels),
                    '-r', str(BENCH / 'requirements-app.txt')], check=True)
    docker('cp', str(wheels), host + ':/tmp/bench-wheels')
    docker('exec', host, '/srv/mall-server/venv/bin/pip', 'install', '-qq', '--no-index', '--no-deps',
           '--target', '/opt/bench-lib', *['/tmp/bench-wheels/' + w.name for w in wheels.iterdir()])
    docker('cp', str(BENCH / 'cache_latency.py'), host + ':/tmp/cache_latency.py')
    root_sql("CREATE DATABASE IF NOT EXISTS bench_cache; CREATE USER IF NOT EXISTS bench@'%' IDENTIFIED BY 'bench';"
             "GRANT ALL ON bench_cache.* TO bench@'%'")
    try:
        output = docker('exec', '-e', 'PYTHONPATH=/opt/bench-lib', host, '/srv/mall-server/venv/bin/python',
                        '/tmp/cache_latency.py', '--db-host', DB, '--db-name', 'bench_cache', '--db-user', 'bench',
                        '--db-password', 'bench', '--redis-url', 'redis://%s:6379/0' % REDIS,
                        '--rows', rows, '--ops', str(ops), '--budget', str(budget))
    finally:
        # The migrations that follow must not find 3M extra rows in the database or its dump.
        root_sql('DROP DATABASE IF EXISTS bench_cache')
        docker('exec', host, 'rm', '-rf', '/opt/bench-lib')
    return json.loads(output.strip().splitlines()[-1])['results']


def collections_for(tree, run_dir):
    """A collections path whose mall.cache_migration is `tree` (another checkout, e.g. main's, for a before run)."""
    base = Path(os.environ['MALL_COLLECTIONS'])
    if tree is None:
        return base
    collections = run_dir / 'collections'
    for namespace in (base / 'ansible_collections').iterdir():
        for collection in namespace.iterdir():
            target = collections / 'ansible_collections' / namespace.name / collection.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(Path(tree).resolve() if (namespace.name, collection.name) == ('mall', 'cache_migration')
                              else collection.resolve())
    return collections


def migrate_timing(label, inventory, env, playbooks, run_dir, cold=True):
    if cold:
        # Every host shares the sandbox's database: a cold run finds no cache table from an earlier one.
        root_sql('DROP TABLE IF EXISTS %s.%s' % (sandbox_vars()['mall_db_name'], CACHE_TABLE))
    wall, tasks, hosts = run_playbook(playbooks / 'migrate.yml', inventory, env, run_dir / ('%s.log' % label))
    log('%s: %.1f s, load %s' % (label, wall, load_average()))
    return {'wall_s': round(wall, 1), 'load_average': load_average(), 'recap': hosts, 'tasks': tasks}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--fleet', type=int, default=8, help='app hosts sharing one database')
    parser.add_argument('--rows', default='1000,100000,1000000')
    parser.add_argument('--ops', type=int, default=1000)
    parser.add_argument('--budget', type=float, default=20.0)
    parser.add_argument('--skip-cache', action='store_true')
    parser.add_argument('--skip-migrate', action='store_true')
    parser.add_argument('--skip-one', action='store_true', help='time the fleet only')
    parser.add_argument('--tree', help='run the migrations with this checkout of the collection (default: this one)')
    parser.add_argument('--no-pipelining', action='store_true')
    parser.add_argument('--output', default=str(BENCH / 'results.json'))
    parser.add_argument('--label', default='this tree', help='name of the run in the reports')
    parser.add_argument('--keep', action='store_true', help='leave the containers')
    parser.add_argument('--reuse', action='store_true',
                        help='use the prepared containers that a --keep run left (hosts not migrated yet): no create, no prepare')
    parser.add_argument('--one', type=int, default=0, help='number of the single app host (bn-app-N)')
    parser.add_argument('--fleet-hosts', help='numbers of the fleet\'s app hosts (default 1 to --fleet), e.g. 2,4,5')
    args = parser.parse_args()

    run_dir = Path(tempfile.mkdtemp(prefix='bn-run-'))
    log('logs in %s' % run_dir)
    collections = collections_for(args.tree, run_dir)
    env = playbook_env(collections, run_dir)
    # A fork per host of the fleet: with Ansible's default of 5, eight hosts run each task in two waves.
    env['ANSIBLE_FORKS'] = str(max(5, args.fleet if not args.fleet_hosts else len(args.fleet_hosts.split(','))))
    playbooks = Path(args.tree or ROOT) / 'playbooks'
    pipelining = not args.no_pipelining
    numbers = [int(n) for n in args.fleet_hosts.split(',')] if args.fleet_hosts else range(1, args.fleet + 1)
    one, fleet = [app(args.one)], [app(n) for n in numbers]
    one_redis, fleet_redis = one[0] + '-redis', PREFIX + 'fleet-redis'
    one_inventory = write_inventory(run_dir / 'one.json', one, pipelining, one_redis)
    fleet_inventory = write_inventory(run_dir / 'fleet.json', fleet, pipelining, fleet_redis)
    names = {'bench_network': NETWORK, 'bench_db_container': DB, 'bench_redis_container': REDIS,
             'bench_app_containers': [{'name': name, 'env': app_environment(one_redis if name in one else fleet_redis)}
                                      for name in one + fleet]}
    sidecars = [one_redis, fleet_redis] + [name + '-decoy' for name in one + fleet]
    # Only what the bench made: its containers, the Redis and decoy siblings prepare.yml made, their volumes.
    cleanup = {'container': one + fleet + sidecars + [DB, REDIS], 'volume': [name + '-data' for name in sidecars],
               'network': [NETWORK]}
    results = {'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'machine': machine(),
               'tree': str(args.tree or ROOT), 'commit': commit(args.tree or ROOT), 'pipelining': pipelining,
               'label': args.label, 'fleet_size': len(fleet), 'load_average_start': load_average()}
    try:
        if not args.reuse:
            prepare(cleanup, names, one, fleet, one_inventory, fleet_inventory, env, run_dir, results)
        if not args.skip_cache:
            results['cache'] = cache_latency(one, args.rows, args.ops, args.budget, run_dir)
            results['cache_load_average'] = load_average()
        if not (args.skip_migrate or args.skip_one):
            results['migrate_one'] = migrate_timing('migrate-one', one_inventory, env, playbooks, run_dir)
            results['rerun_one'] = migrate_timing('rerun-one', one_inventory, env, playbooks, run_dir, cold=False)
        if fleet and not args.skip_migrate:
            results['migrate_fleet'] = migrate_timing('migrate-fleet', fleet_inventory, env, playbooks, run_dir)
            results['rerun_fleet'] = migrate_timing('rerun-fleet', fleet_inventory, env, playbooks, run_dir, cold=False)
    finally:
        results['finished'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
        Path(args.output).write_text(json.dumps(results, indent=1) + '\n')
        log('wrote %s' % args.output)
        if not (args.keep or args.reuse):
            remove(cleanup)


def prepare(cleanup, names, one, fleet, one_inventory, fleet_inventory, env, run_dir, results):
    """Create the containers and put every app host in its Redis state, as the Molecule scenarios do."""
    remove(cleanup)
    run_playbook(BENCH / 'sandbox.yml', 'localhost,', env, run_dir / 'sandbox.log', '-c', 'local',
                 '-e', json.dumps(dict(names, ansible_python_interpreter=sys.executable)))
    started = time.monotonic()
    run_playbook(ROOT / 'molecule/resources/prepare.yml', one_inventory, env, run_dir / 'prepare-one.log')
    # The fleet's first host applies the app's migrations to the shared database alone; the others then find them done.
    if fleet:
        run_playbook(ROOT / 'molecule/resources/prepare.yml', fleet_inventory, env, run_dir / 'prepare-fleet-1.log',
                     '-l', '%s,%s' % (DB, fleet[0]))
    if len(fleet) > 1:
        run_playbook(ROOT / 'molecule/resources/prepare.yml', fleet_inventory, env, run_dir / 'prepare-fleet.log',
                     '-l', ','.join(fleet[1:]))
    results['prepare_s'] = round(time.monotonic() - started, 1)
    log('prepared %d app hosts in %.0f s' % (len(one + fleet), results['prepare_s']))


def remove(cleanup):
    for kind in ('container', 'volume', 'network'):
        present = [name for name in cleanup[kind]
                   if subprocess.run(['docker', kind, 'inspect', name], capture_output=True, check=False).returncode == 0]
        if present:
            docker(*(['rm', '-f'] if kind == 'container' else [kind, 'rm']), *present)


def machine():
    cpu = next((line.split(':', 1)[1].strip() for line in Path('/proc/cpuinfo').read_text().splitlines()
                if line.startswith('model name')), 'unknown')
    memory = int(Path('/proc/meminfo').read_text().split()[1]) // (1024 * 1024)
    return {'cpus': os.cpu_count(), 'cpu_model': cpu, 'memory_gib': memory, 'kernel': os.uname().release,
            'docker': docker('version', '--format', '{{.Server.Version}}').strip()}


def commit(tree):
    found = subprocess.run(['git', '-C', str(tree), 'rev-parse', '--short', 'HEAD'], text=True, capture_output=True, check=False)
    return found.stdout.strip() or None


if __name__ == '__main__':
    main()
