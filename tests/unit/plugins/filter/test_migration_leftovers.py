"""Preflight's decision whether a host is migrated (the migration_leftovers filter): each leftover is a field, and a
host with none is done."""
import pytest

from ansible_collections.mall.cache_migration.plugins.filter.migration_leftovers import migration_leftovers

MIGRATED = dict(
    settings_plan={'files': [], 'caches': {'default': {'backend': 'django.core.cache.backends.db.DatabaseCache'}}},
    env_keys=[{'item': '/srv/mall-server/.env', 'removed': []}],
    pip_plan={'requirements_removed': [], 'removed': [], 'installed': []},
    compose={'removed_services': [], 'removed_volumes': [], 'removed_environment': {}, 'removed_depends_on': {}, 'removed_links': {}},
    compose_file='/srv/mall-server/docker-compose.dev.yml',
    container={'name': 'redis-mall', 'exists': False},
    volume={'name': 'redis_mall_data', 'exists': False, 'removed_by_teardown': True},
    other_users=[], unfinished_restore_point='', fleet_state='migrated', host='app-1',
)


def kinds(**found):
    return [leftover['kind'] for leftover in migration_leftovers(dict(MIGRATED, **found))]


def test_a_migrated_host_has_no_leftover():
    assert migration_leftovers(MIGRATED) == []


@pytest.mark.parametrize('found, kind, text', [
    (dict(settings_plan={'files': ['/srv/a/settings/base.py'], 'caches': {}}), 'settings', 'settings on Redis in /srv/a/settings/base.py'),
    (dict(settings_plan={'files': [], 'caches': {'default': {'backend': 'django_redis.cache.RedisCache'},
                                                 'pages': {'backend': 'django.core.cache.backends.redis.RedisCache'}}}),
     'cache_aliases', 'CACHES aliases on Redis: default, pages'),
    (dict(env_keys=[{'item': '/srv/a/.env', 'removed': ['REDIS_URL']}, {'item': '/srv/a/.env.dev', 'removed': []}]),
     'env_keys', 'Redis keys in /srv/a/.env'),
    (dict(pip_plan={'requirements_removed': ['redis'], 'removed': [{'name': 'celery'}], 'installed': [{'name': 'django-mysql'}]}),
     'packages', 'packages to sync: redis, celery, django-mysql'),
    (dict(compose={'removed_services': ['redis-mall'], 'removed_volumes': ['redis_mall_data'],
                   'removed_environment': {'web': ['REDIS_URL']}, 'removed_depends_on': {'web': ['redis-mall']}}),
     'compose', 'in /srv/mall-server/docker-compose.dev.yml: redis-mall, redis_mall_data, REDIS_URL, depends_on of web'),
    (dict(container={'name': 'redis-mall', 'exists': True}), 'container', 'container redis-mall'),
    (dict(volume={'name': 'redis_mall_data', 'exists': True, 'removed_by_teardown': True}), 'volume', 'volume redis_mall_data'),
    (dict(unfinished_restore_point='20261207T100000Z'), 'unfinished_migration',
     'the unfinished migration of restore point 20261207T100000Z'),
    (dict(fleet_state='unknown'), 'fleet_registry', 'the fleet registry records app-1 as unknown'),
])
def test_each_leftover_is_named_by_its_kind(found, kind, text):
    assert migration_leftovers(dict(MIGRATED, **found)) == [{'kind': kind, 'text': text}]


def test_a_volume_the_teardown_keeps_is_no_leftover():
    """redis_teardown_remove_volume=false: a host that kept its volume is done, not migrated again on each run."""
    assert kinds(volume={'name': 'redis_mall_data', 'exists': True, 'removed_by_teardown': False}) == []


def test_a_redis_container_other_hosts_still_use_is_theirs_and_so_is_its_volume():
    shared = dict(container={'name': 'redis-mall', 'exists': True}, other_users=[{'host': 'app-2', 'state': 'registered'}],
                  volume={'name': 'redis_mall_data', 'exists': True, 'removed_by_teardown': True})
    assert kinds(**shared) == []
    # With its container gone, a volume is no other host's.
    gone = {**shared, 'container': {'name': 'redis-mall', 'exists': False}}
    assert kinds(**gone) == ['volume']


def test_without_a_compose_file_or_a_read_registry_nothing_of_theirs_is_a_leftover():
    assert kinds(compose={}, compose_file='', fleet_state=None) == []
