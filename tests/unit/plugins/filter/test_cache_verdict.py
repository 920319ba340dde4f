"""The rollback's verdict on the cache (the cache_verdict filter): a check is worse only when it passed before."""
from ansible_collections.mall.cache_migration.plugins.filter.cache_verdict import cache_verdict
from ansible_collections.mall.cache_migration.plugins.filter.failed_checks import failed_checks

TYPE_ERROR = "TypeError: AbstractConnection.__init__() got an unexpected keyword argument 'CLIENT_CLASS'"


def checks(**failed):
    names = ('backend', 'round_trip', 'redis', 'latency', 'leftovers', 'manage_check')
    return {name: {'ok': name not in failed, 'reason': failed.get(name, '')} for name in names}


def test_the_failed_checks_are_recorded_with_their_reasons_leftovers_and_latency_left_out():
    assert failed_checks(checks(round_trip=TYPE_ERROR, leftovers='redis installed', latency='slow')) == [
        {'check': 'round_trip', 'reason': TYPE_ERROR}]


def test_a_cache_that_failed_before_and_fails_the_same_way_is_not_worse():
    before = failed_checks(checks(round_trip=TYPE_ERROR, redis=TYPE_ERROR))
    assert cache_verdict(checks(round_trip=TYPE_ERROR, redis=TYPE_ERROR), before) == {
        'worse': False, 'new_failures': [],
        'failing_as_before': [{'check': 'round_trip', 'reason': TYPE_ERROR}, {'check': 'redis', 'reason': TYPE_ERROR}]}


def test_a_check_that_passed_before_and_fails_now_is_worse():
    verdict = cache_verdict(checks(round_trip=TYPE_ERROR, redis='PING: Connection refused'), failed_checks(checks(round_trip=TYPE_ERROR)))
    assert verdict['worse'] is True and verdict['new_failures'] == [{'check': 'redis', 'reason': 'PING: Connection refused'}]


def test_a_working_cache_is_not_worse_than_a_broken_before():
    assert cache_verdict(checks(), failed_checks(checks(round_trip=TYPE_ERROR))) == {
        'worse': False, 'new_failures': [], 'failing_as_before': []}


def test_without_a_record_of_before_every_failure_is_worse():
    assert cache_verdict(checks(round_trip=TYPE_ERROR), None)['worse'] is True
    assert cache_verdict(checks(), None)['worse'] is False
