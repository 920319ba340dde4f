"""Who may still use a Redis container (the redis_users filter), which preflight and redis_teardown keep it for: the
hosts the registry records on it, and those it does not know yet, of mall_fleet_hosts or of the inventory group."""
import pytest

from ansible_collections.mall.cache_migration.plugins.filter.redis_users import redis_users

INVENTORY = ['web-01', 'web-02', 'web-03', 'web-04']


def row(host, state='redis', redis_id='abc'):
    return {'host': host, 'state': state, 'redis_id': redis_id}


def users(rows, **options):
    return redis_users(rows, **dict({'host': 'web-01', 'redis_id': 'abc', 'inventory_hosts': INVENTORY,
                                     'play_hosts': INVENTORY}, **options))


def test_a_limit_keeps_the_redis_for_the_hosts_outside_it():
    # --limit web-01: only web-01 registered; the other hosts of mall_servers may still be on the Redis.
    assert users([row('web-01', 'migrating')], play_hosts=['web-01']) == {
        'recorded': [], 'unrecorded': ['web-02', 'web-03', 'web-04'], 'users': ['web-02', 'web-03', 'web-04']}


def test_hosts_outside_the_limit_stop_counting_once_recorded_migrated_or_on_another_redis():
    rows = [row('web-01', 'migrating'), row('web-02', 'migrated'), row('web-03', 'redis', 'other'), row('web-04', 'migrating')]
    assert users(rows, play_hosts=['web-01']) == {'recorded': ['web-04'], 'unrecorded': [], 'users': ['web-04']}


@pytest.mark.parametrize('inventory, play', [
    # A full run: every host of the play registered before the first batch.
    (INVENTORY, INVENTORY),
    # A single host.
    (['web-01'], ['web-01']),
])
def test_without_a_limit_only_the_registry_decides(inventory, play):
    assert users([row('web-01', 'migrating')], inventory_hosts=inventory, play_hosts=play)['users'] == []
    # Check mode, or a run that skips the registration: the play's hosts are not recorded, and count as they would be.
    assert users([], inventory_hosts=inventory, play_hosts=play)['users'] == []


def test_recorded_users_are_on_the_same_container_and_not_migrated():
    rows = [row('web-04'), row('web-02', 'migrating'), row('web-03', 'migrated'), row('web-01')]
    assert users(rows) == {'recorded': ['web-02', 'web-04'], 'unrecorded': [], 'users': ['web-02', 'web-04']}


def test_a_container_that_is_gone_has_no_recorded_user_but_the_unrecorded_still_count():
    assert users([row('web-02')], redis_id='', play_hosts=['web-01']) == {
        'recorded': [], 'unrecorded': ['web-03', 'web-04'], 'users': ['web-03', 'web-04']}


def test_mall_fleet_hosts_replace_the_inventory_group():
    # An AWX slice: groups and the play hold the slice; mall_fleet_hosts every host of the fleet.
    rows = [row('web-01', 'migrating'), row('web-02', 'migrated')]
    assert users(rows, fleet_hosts=['web-01', 'web-02', 'web-05', 'web-05'], inventory_hosts=['web-01', 'web-02'],
                 play_hosts=['web-01', 'web-02']) == {'recorded': [], 'unrecorded': ['web-05'], 'users': ['web-05']}


def test_hosts_of_the_group_on_another_database_or_redis_do_not_count():
    # One inventory for several fleets (dev and staging): a host on another database never records itself in this registry.
    hostvars = {'web-01': {'mall_db_name': 'mall', 'mall_redis_container': 'redis-mall'},
                'web-02': {'mall_db_name': 'mall', 'mall_redis_container': 'redis-mall'},
                'web-03': {'mall_db_name': 'mall_staging', 'mall_redis_container': 'redis-mall'},
                'web-04': {'mall_db_name': 'mall', 'mall_redis_container': 'redis-other'}}
    assert users([row('web-01', 'migrating')], play_hosts=['web-01'], inventory_vars=hostvars)['unrecorded'] == ['web-02']


def test_a_variable_the_inventory_sets_for_one_host_only_may_be_the_default_of_the_other():
    hostvars = {'web-01': {'mall_db_port': 3306}, 'web-02': {'mall_db_port': '3306'}, 'web-03': {}, 'web-04': {'mall_db_port': 3307}}
    assert users([], play_hosts=['web-01'], inventory_vars=hostvars)['unrecorded'] == ['web-02', 'web-03']
