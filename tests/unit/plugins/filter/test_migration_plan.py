"""The plan document (docs/plan.md) built from what preflight found, and its page."""
from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.mall.cache_migration.plugins.filter.migration_plan import STEPS, migration_plan
from ansible_collections.mall.cache_migration.plugins.filter.plan_page import plan_page

APP = '/srv/mall-server'
SECRET = 's3cret-redis-password'


def found(**changes):
    """What preflight finds on the guide's project, shaped as the role's vars give it to the filter."""
    base = {
        'host': 'mall-app', 'app_dir': APP, 'created': '2026-12-08T00:22:24Z', 'pending': True,
        'settings': {
            'plan': [
                {'action': 'replace', 'file': APP + '/mall_server/settings/base.py', 'start': 66, 'end': 76,
                 'setting': 'CACHES', 'reason': "CACHES['default'] on Redis becomes DatabaseCache on mall_server_cache"},
                {'action': 'remove', 'file': APP + '/mall_server/__init__.py', 'start': 4, 'end': 4,
                 'setting': 'celery', 'reason': 'the Celery app goes with Redis'},
            ],
            'proof': {'ok': True, 'backend': 'django.core.cache.backends.db.DatabaseCache', 'max_entries': 10000, 'problems': []},
            # What the module returns besides: never read into the plan.
            'statements': [{'setting': 'CACHES', 'value': 'redis://:%s@redis:6379/1' % SECRET}],
        },
        'backend': {'name': 'database', 'class': 'django.core.cache.backends.db.DatabaseCache', 'max_entries': 10000,
                    'cull_frequency': 3},
        'table': {'database': 'mall_server_dev', 'name': 'mall_server_cache', 'columns': [], 'expires_index': False,
                  'expected_columns': ['cache_key', 'expires', 'value']},
        'env_files': [{'item': APP + '/.env.development', 'removed': ['REDIS_URL', 'REDIS_PASSWORD']}],
        'requirements_file': APP + '/requirements.txt',
        'pip': {'requirements_removed': ['django-redis', 'redis'], 'installed': [],
                'removed': [{'name': 'django-redis', 'version': '5.4.0'}, {'name': 'redis', 'version': '5.0.1'}]},
        'compose_file': APP + '/docker-compose.dev.yml',
        'compose': {'removed_services': ['redis-mall'], 'removed_volumes': ['redis_mall_data'],
                    'removed_environment': {'mall-server': ['REDIS_URL']}, 'removed_depends_on': {'mall-server': ['redis-mall']},
                    'removed_links': {}},
        'redis': {'container': 'mall-server-redis-dev', 'container_exists': True, 'container_id': 'c0ffee',
                  'volume': 'mall-server_redis_mall_data', 'volume_exists': True, 'remove_volume': True, 'users': [],
                  'args': ['--requirepass', SECRET]},
        'sessions': {'kind': 'cache', 'on_redis': True, 'engine': 'django.contrib.sessions.backends.cache', 'found': 3, 'copied': 3},
        'cache_size': {'live_keys': 502, 'complete': True, 'memory_bytes': 52464, 'max_entries': 10000,
                       'predicted_set_ms': 1.42, 'predicted_get_ms': 0.18, 'redis_set_ms': 0.09, 'redis_get_ms': 0.07,
                       'sizing_warnings': []},
        'pages': [{'path': '/admin/login/', 'status': 200, 'error': None, 'expected_status': None}],
        'pages_configured': [],
        'log': {'error_lines': 0},
        'grants': [{'Grants for mall_user@%': "GRANT USAGE ON *.* TO `mall_user`@`%` IDENTIFIED BY PASSWORD '*E70FE0A7D5D9'"},
                   {'Grants for mall_user@%': 'GRANT ALL PRIVILEGES ON `mall_server_dev`.* TO `mall_user`@`%`'}],
        'restore_point_root': '/var/backups/mall-cache-migration',
        'restore_point_files': [APP + '/mall_server/settings/base.py', APP + '/.env.development'],
        'unfinished_restore_point': None,
        'fleet_rows': [],
        'file_checksums': {APP + '/mall_server/settings/base.py': 'ab' * 32, APP + '/.env.development': None},
        'pip_freeze_sha256': 'cd' * 32,
    }
    base.update(copy.deepcopy(changes))
    return base


def ops(plan, step):
    return [(change['op'], change['target']) for change in plan['steps'][step]['changes']]


def test_every_step_is_planned_with_what_it_changes():
    plan = migration_plan(found())
    assert plan['schema_version'] == 1
    assert list(plan['steps']) == list(STEPS)
    assert ops(plan, 'cache_settings') == [('~', 'mall_server/settings/base.py:66'), ('-', 'mall_server/__init__.py:4')]
    assert ops(plan, 'env_cleanup') == [('-', '.env.development: REDIS_URL'), ('-', '.env.development: REDIS_PASSWORD')]
    assert ops(plan, 'cache_table') == [('+', 'table mall_server_dev.mall_server_cache')]
    assert plan['steps']['cache_settings']['changes'][0]['detail'].endswith(
        'DatabaseCache on table mall_server_cache, MAX_ENTRIES 10000, CULL_FREQUENCY 3')
    assert ('-', 'requirements.txt: redis') in ops(plan, 'pip_sync') and ('-', 'redis==5.0.1') in ops(plan, 'pip_sync')
    assert ops(plan, 'sessions') == [('+', 'django_session')]
    assert ops(plan, 'redis_teardown')[-2:] == [('-', 'container mall-server-redis-dev'), ('-', 'volume mall-server_redis_mall_data')]
    assert ('-', 'docker-compose.dev.yml: depends_on of mall-server: redis-mall') in ops(plan, 'redis_teardown')
    assert plan['steps']['post_checks']['observed']['pages'][0]['status'] == 200
    assert plan['fleet'] == {'redis_users': [], 'removes_redis': True, 'dump': None}
    total = sum(len(step['changes']) for step in plan['steps'].values())
    assert sum(plan['counts'].values()) == total and plan['counts']['+'] == 4


def test_the_cache_table_is_planned_from_what_exists():
    with_table = found(table=dict(found()['table'], columns=['cache_key', 'value', 'expires'], expires_index=True))
    assert ops(migration_plan(with_table), 'cache_table') == []
    without_index = found(table=dict(found()['table'], columns=['cache_key', 'value', 'expires'], expires_index=False))
    assert ops(migration_plan(without_index), 'cache_table')[0] == ('+', 'index on mall_server_dev.mall_server_cache (expires)')


def test_a_redis_that_other_hosts_use_stays():
    plan = migration_plan(found(redis=dict(found()['redis'], users=['mall-app-2'])))
    targets = [target for dummy, target in ops(plan, 'redis_teardown')]
    assert 'container mall-server-redis-dev' not in targets and 'volume mall-server_redis_mall_data' not in targets
    assert plan['fleet']['removes_redis'] is False
    assert 'Redis is kept: mall-app-2 still use it' in plan_page(plan)


def test_a_migrated_host_plans_only_its_checks():
    plan = migration_plan(found(pending=False, settings=dict(found()['settings'], plan=[]),
                                table=dict(found()['table'], columns=['cache_key', 'value', 'expires'], expires_index=True),
                                pip={'requirements_removed': [], 'removed': [], 'installed': []}))
    assert plan['counts'] == {'+': 0, '~': 0, '-': 0}
    assert 'the host is migrated' in plan_page(plan)


def test_the_fleets_recorded_dump_is_named():
    plan = migration_plan(found(fleet_rows=[{'host': 'a', 'dump': ''}, {'host': 'b', 'dump': '/var/backups/x/database.sql.gz'}]))
    assert plan['fleet']['dump'] == '/var/backups/x/database.sql.gz'


def test_the_inputs_are_checksums_and_privileges_never_a_secret():
    plan = migration_plan(found())
    assert plan['inputs'] == {'files': found()['file_checksums'], 'pip_freeze_sha256': 'cd' * 32,
                              'redis_container_id': 'c0ffee', 'db_grants': ['ALL PRIVILEGES', 'USAGE']}
    text = json.dumps(plan) + plan_page(plan)
    assert SECRET not in text and 'E70FE0A7' not in text


def test_the_page_lists_the_steps_in_order_with_the_cost_and_the_counts():
    lines = plan_page(migration_plan(found())).splitlines()
    headers = [line[:-1] for line in lines if line.endswith(':') and not line.startswith(' ')]
    assert headers == ['restore_point', 'sessions', 'cache_settings', 'cache_table', 'env_cleanup', 'cache_warm_up', 'pip_sync',
                       'app_restart', 'redis_teardown']
    assert '  - mall_server/__init__.py:4  (celery: the Celery app goes with Redis)' in lines
    assert lines[-1] == 'Plan: 4 to add, 2 to change, 13 to remove.'
    assert any(line.startswith('Cost: 502 live keys in Redis; database backend with MAX_ENTRIES 10000: set p50 1.42 ms, get p50 0.18 ms')
               for line in lines)


@pytest.mark.parametrize('missing', ['cache_size', 'log', 'sessions'])
def test_what_preflight_did_not_measure_is_left_out(missing):
    plan = migration_plan(found(**{missing: None}))
    assert plan_page(plan).endswith('remove.\n')
