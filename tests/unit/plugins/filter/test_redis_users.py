"""Who may still use a Redis container (the redis_users filter), which preflight and redis_teardown keep it for: the
hosts the registry records on it, and those it does not know yet, of mall_fleet_hosts or of the inventory group."""
from ansible_collections.mall.cache_migration.plugins.filter.redis_users import redis_users

INVENTORY = ['web-01', 'web-02', 'web-03', 'web-04']


def row(host, state='redis', redis_id='abc'):
    return {'host': host, 'state': state, 'redis_id': redis_id}


def users(rows, **options):
    return redis_users(rows, **dict({'host': 'web-01', 'redis_id': 'abc', 'inventory_hosts': INVENTORY}, **options))


def found(redis_id=None):
    """A host's mall_redis_container_info, as it looked at its Redis container in this run; None: no container."""
    return {'mall_redis_container_info': {'exists': True, 'container': {'Id': redis_id}} if redis_id else {'exists': False}}


def test_a_limit_keeps_the_redis_for_the_hosts_outside_it():
    # --limit web-01: only web-01 registered; the other hosts of mall_servers may still be on the Redis.
    assert users([row('web-01', 'migrating')]) == {
        'recorded': [], 'unrecorded': ['web-02', 'web-03', 'web-04'], 'users': ['web-02', 'web-03', 'web-04']}


def test_hosts_outside_the_limit_stop_counting_once_recorded_migrated_or_on_another_redis():
    rows = [row('web-01', 'migrating'), row('web-02', 'migrated'), row('web-03', 'redis', 'other'), row('web-04', 'migrating')]
    assert users(rows) == {'recorded': ['web-04'], 'unrecorded': [], 'users': ['web-04']}


def test_hosts_of_this_run_not_recorded_yet_count_when_they_found_the_same_redis():
    # A later batch, or a host that preflight refused: not recorded, but it looked at its Redis in the first play.
    hostvars = {'web-01': found('abc'), 'web-02': found('abc'), 'web-03': found('xyz'), 'web-04': found()}
    assert users([row('web-01', 'migrating')], inventory_vars=hostvars) == {
        'recorded': [], 'unrecorded': ['web-02'], 'users': ['web-02']}
    # Once recorded, its row decides; with the container gone, none of them is on it.
    assert users([row('web-01', 'migrating'), row('web-02', 'migrated')], inventory_vars=hostvars)['users'] == []
    assert users([], redis_id='', inventory_vars=hostvars)['users'] == []


def test_a_single_host_has_no_other_user():
    assert users([], inventory_hosts=['web-01'])['users'] == []


def test_recorded_users_are_on_the_same_container_and_not_migrated():
    rows = [row('web-04'), row('web-02', 'migrating'), row('web-03', 'migrated'), row('web-01')]
    assert users(rows) == {'recorded': ['web-02', 'web-04'], 'unrecorded': [], 'users': ['web-02', 'web-04']}


def test_a_container_that_is_gone_has_no_recorded_user_but_the_unrecorded_still_count():
    assert users([row('web-02')], redis_id='') == {
        'recorded': [], 'unrecorded': ['web-03', 'web-04'], 'users': ['web-03', 'web-04']}


def test_mall_fleet_hosts_replace_the_inventory_group():
    # An AWX slice: groups and the play hold the slice; mall_fleet_hosts every host of the fleet.
    rows = [row('web-01', 'migrating'), row('web-02', 'migrated')]
    assert users(rows, fleet_hosts=['web-01', 'web-02', 'web-05', 'web-05'], inventory_hosts=['web-01', 'web-02']) == {
        'recorded': [], 'unrecorded': ['web-05'], 'users': ['web-05']}


def test_hosts_of_the_group_on_another_database_or_redis_do_not_count():
    # One inventory for several fleets (dev and staging): a host on another database never records itself in this registry.
    hostvars = {'web-01': {'mall_db_name': 'mall', 'mall_redis_container': 'redis-mall'},
                'web-02': {'mall_db_name': 'mall', 'mall_redis_container': 'redis-mall'},
                'web-03': {'mall_db_name': 'mall_staging', 'mall_redis_container': 'redis-mall'},
                'web-04': {'mall_db_name': 'mall', 'mall_redis_container': 'redis-other'}}
    assert users([row('web-01', 'migrating')], inventory_vars=hostvars)['unrecorded'] == ['web-02']


def test_a_variable_the_inventory_sets_for_one_host_only_may_be_the_default_of_the_other():
    hostvars = {'web-01': {'mall_db_port': 3306}, 'web-02': {'mall_db_port': '3306'}, 'web-03': {}, 'web-04': {'mall_db_port': 3307}}
    assert users([], inventory_vars=hostvars)['unrecorded'] == ['web-02', 'web-03']
