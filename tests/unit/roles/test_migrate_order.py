"""The order of playbooks/migrate.yml around Redis: the compose file loses Redis before the post-migration checks
(they judge the app as it will run), and the Redis container and volume are removed only after them, so that a host
that fails its checks is rolled back onto a Redis that still runs. Each step of the migration is followed through
the role task files it imports or includes, to the modules it reaches."""
from __future__ import annotations

import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
PREFIX = 'mall.cache_migration.'
INCLUDES = {'ansible.builtin.include_tasks', 'ansible.builtin.import_tasks'}
ROLES = {'ansible.builtin.include_role', 'ansible.builtin.import_role'}
# What removes the Redis container or volume, and what removes the Redis service from the compose file.
REMOVALS = {'community.docker.docker_container', 'community.docker.docker_volume'}
COMPOSE = 'mall.cache_migration.compose_service_absent'


def modules(role, tasks_file, seen=()):
    """Every task (module, arguments, the task) that the role's tasks file runs, through its blocks, includes and imports."""
    if (role, tasks_file) in seen:
        return
    seen = (*seen, (role, tasks_file))
    for task in yaml.safe_load((ROOT / 'roles' / role / 'tasks' / f'{tasks_file}.yml').read_text()) or []:
        yield from task_modules(task, role, seen)


def task_modules(task, role, seen):
    for section in ('block', 'rescue', 'always'):
        for inner in task.get(section, []):
            yield from task_modules(inner, role, seen)
    for name, args in task.items():
        if name in INCLUDES:
            yield from modules(role, pathlib.PurePath(args).stem, seen)
        elif name in ROLES:
            yield from modules(args['name'].removeprefix(PREFIX), pathlib.PurePath(args.get('tasks_from', 'main')).stem, seen)
        elif name.count('.') == 2:
            yield name, args, task


def migration_steps():
    """The steps of the migration play (not its rescue), each with the modules it reaches."""
    play = next(play for play in yaml.safe_load((ROOT / 'playbooks' / 'migrate.yml').read_text())
                if play.get('name') == 'Migrate mall-server from Redis to the database cache')
    block = next(task for task in play['tasks'] if 'block' in task)['block']
    return [(step['name'], list(task_modules(step, None, ()))) for step in block]


def test_the_redis_container_and_volume_go_only_after_the_post_migration_checks():
    steps = migration_steps()
    names = [name for name, dummy in steps]
    checks = names.index('Post-migration checks')
    removing = [names.index(name) for name, reached in steps
                if any(module in REMOVALS and args.get('state') == 'absent' for module, args, dummy in reached)]
    assert [names[index] for index in removing] == [
        'Record the host as migrated and remove its Redis; the last host off a shared Redis removes it']
    assert min(removing) > checks


def test_the_compose_file_loses_redis_before_the_checks():
    steps = migration_steps()
    names = [name for name, dummy in steps]
    # The Redis service itself, for real: preflight only asks (check mode); env_cleanup removes environment keys.
    editing = [name for name, reached in steps
               if any(module == COMPOSE and 'services' in args and not task.get('check_mode') for module, args, task in reached)]
    assert editing == ['Redis teardown']
    assert names.index('Redis teardown') < names.index('Post-migration checks')
