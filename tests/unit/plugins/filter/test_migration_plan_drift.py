"""Unit tests of the plan_for_host and plan_drift filters: a saved migration plan held against the plan computed now."""
from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mall.cache_migration.plugins.filter import migration_plan_drift

FILTERS = migration_plan_drift.FilterModule().filters()
plan_for_host, plan_drift = FILTERS['plan_for_host'], FILTERS['plan_drift']

SETTINGS = '/srv/mall-server/mall_server/settings/base.py'
ENV = '/srv/mall-server/.env.production'
LOCAL_ENV = '/srv/mall-server/.env.local'
SHA_A, SHA_B, SHA_C = 'a' * 64, 'b' * 64, 'c' * 64
CONTAINER = '0123456789ab' + 'f' * 52
DELETE = object()
PLAN = {
    'schema_version': 1,
    'host': 'mall-app',
    'app_dir': '/srv/mall-server',
    'created': '2026-12-08T00:30:00Z',
    'pending': True,
    'inputs': {
        'files': {SETTINGS: SHA_A, ENV: SHA_B, LOCAL_ENV: None},
        'pip_freeze_sha256': SHA_C,
        'redis_container_id': CONTAINER,
        'db_grants': ['ALTER', 'CREATE', 'SELECT'],
    },
    'steps': {
        'cache_settings': {'changes': [{'op': '~', 'target': 'mall_server/settings/base.py:12', 'detail': 'CACHES'}],
                           'observed': {'statements': 1}},
        'env_cleanup': {'changes': [{'op': '-', 'target': ENV, 'detail': 'REDIS_URL'}], 'observed': {}},
        'sessions': {'changes': [], 'observed': {'sessions': 120}},
    },
    'cost': {'set_p50_ms': 0.3},
}


def changed(**edits):
    """A deep copy of PLAN with the dotted keys of edits set (a value of DELETE removes the key)."""
    plan = copy.deepcopy(PLAN)
    for dotted, value in edits.items():
        *parents, key = dotted.split('.')
        node = plan
        for parent in parents:
            node = node[parent]
        if value is DELETE:
            del node[key]
        else:
            node[key] = value
    return plan


# plan_for_host

def test_one_plan_of_the_host_is_returned_as_it_is():
    assert plan_for_host(PLAN, 'mall-app') is PLAN


def test_the_hosts_plan_is_taken_out_of_the_awx_artifact():
    other = changed(host='mall-app-2')
    assert plan_for_host({'mall-app-2': other, 'mall-app': PLAN}, 'mall-app') is PLAN


@pytest.mark.parametrize('saved, message', [
    (changed(host='mall-app-2'), 'the saved plan is for host mall-app-2, not for host mall-app'),
    ({'mall-app-2': changed(host='mall-app-2'), 'mall-app-3': changed(host='mall-app-3')},
     'the saved plans are for mall-app-2, mall-app-3; none is for host mall-app'),
    ({}, 'the saved plans are for no host; none is for host mall-app'),
    # The artifact's entry must be this host's plan too.
    ({'mall-app': changed(host='mall-app-2')}, 'the saved plan is for host mall-app-2, not for host mall-app'),
    ({'mall-app': 'plans/mall-app/x.json'}, 'the saved plan of host mall-app is a str, not a plan'),
    (changed(schema_version=2), 'the saved plan of host mall-app has schema_version 2; this release reads schema_version 1'),
    (changed(schema_version='1'), 'the saved plan of host mall-app has schema_version "1"; this release reads schema_version 1'),
    ({'mall-app': changed(schema_version=None)}, 'the saved plan of host mall-app has schema_version null'),
    (['not', 'a', 'plan'], 'the saved plan must be a plan or a mapping of hosts to plans, not list'),
])
def test_a_plan_that_is_not_this_hosts_version_1_plan_is_refused_naming_what_was_found(saved, message):
    with pytest.raises(AnsibleFilterError) as raised:
        plan_for_host(saved, 'mall-app')
    assert raised.value.message.startswith(message)


# plan_drift

def test_the_same_plan_has_no_drift():
    assert plan_drift(PLAN, copy.deepcopy(PLAN)) == []


def test_observed_cost_created_and_pending_are_not_compared():
    now = changed(**{'created': '2026-12-08T01:00:00Z', 'cost': {'set_p50_ms': 9.0},
                     'steps.sessions.observed': {'sessions': 4000}, 'steps.cache_settings.observed': {}})
    assert plan_drift(PLAN, now) == []


def test_a_changed_file_is_named_with_both_sha256():
    assert plan_drift(PLAN, changed(**{'inputs.files': {SETTINGS: SHA_C, ENV: SHA_B, LOCAL_ENV: None}})) == [{
        'input': 'file', 'name': SETTINGS, 'planned': SHA_A, 'now': SHA_C,
        'text': SETTINGS + ' changed since the plan (sha256 aaaaaaaaaaaa\u2026 then, cccccccccccc\u2026 now)'}]


@pytest.mark.parametrize('files_now, planned, now, text', [
    ({SETTINGS: SHA_A, ENV: None, LOCAL_ENV: None}, SHA_B, None, ENV + ' is missing now (sha256 bbbbbbbbbbbb\u2026 then)'),
    ({SETTINGS: SHA_A, ENV: SHA_B, LOCAL_ENV: SHA_C}, None, SHA_C,
     LOCAL_ENV + ' was missing at the plan and exists now (sha256 cccccccccccc\u2026 now)'),
    ({SETTINGS: SHA_A, LOCAL_ENV: None}, SHA_B, None, ENV + ' was read by the plan but is not now (sha256 bbbbbbbbbbbb\u2026 then)'),
])
def test_a_file_missing_on_one_side_is_named(files_now, planned, now, text):
    drift = plan_drift(PLAN, changed(**{'inputs.files': files_now}))
    assert [(item['input'], item['planned'], item['now'], item['text']) for item in drift] == [('file', planned, now, text)]


def test_a_file_only_the_plan_computed_now_reads_is_named():
    files_now = dict(PLAN['inputs']['files'], **{'/srv/mall-server/compose.yml': SHA_C})
    assert plan_drift(PLAN, changed(**{'inputs.files': files_now})) == [{
        'input': 'file', 'name': '/srv/mall-server/compose.yml', 'planned': None, 'now': SHA_C,
        'text': '/srv/mall-server/compose.yml is read now but was not by the plan (sha256 cccccccccccc\u2026 now)'}]


def test_the_pip_freeze_and_the_redis_container_are_named_with_both_values():
    drift = plan_drift(PLAN, changed(**{'inputs.pip_freeze_sha256': SHA_A, 'inputs.redis_container_id': None}))
    assert drift == [
        {'input': 'pip_freeze', 'name': 'pip freeze', 'planned': SHA_C, 'now': SHA_A,
         'text': "the virtualenv's packages changed since the plan (pip freeze sha256 cccccccccccc\u2026 then, aaaaaaaaaaaa\u2026 now)"},
        {'input': 'redis_container', 'name': 'redis container', 'planned': CONTAINER, 'now': None,
         'text': 'the Redis container changed since the plan (id 0123456789ab\u2026 then, none now)'},
    ]


def test_grants_gained_and_lost_are_named_and_their_order_does_not_count():
    assert plan_drift(PLAN, changed(**{'inputs.db_grants': ['SELECT', 'CREATE', 'ALTER']})) == []
    assert plan_drift(PLAN, changed(**{'inputs.db_grants': ['DROP', 'SELECT']})) == [{
        'input': 'db_grants', 'name': 'db grants', 'planned': ['ALTER', 'CREATE', 'SELECT'], 'now': ['DROP', 'SELECT'],
        'text': "the app user's grants on its database changed since the plan (granted now: DROP; no longer granted: ALTER, CREATE)"}]
    assert plan_drift(PLAN, changed(**{'inputs.db_grants': ['ALTER', 'CREATE']}))[0]['text'] == (
        "the app user's grants on its database changed since the plan (no longer granted: SELECT)")


def test_another_app_dir_is_named():
    assert plan_drift(PLAN, changed(app_dir='/srv/mall-server-2')) == [{
        'input': 'app_dir', 'name': 'app dir', 'planned': '/srv/mall-server', 'now': '/srv/mall-server-2',
        'text': 'the app dir changed since the plan (/srv/mall-server then, /srv/mall-server-2 now)'}]


def test_a_step_whose_changes_differ_is_named_with_its_counts():
    more = PLAN['steps']['cache_settings']['changes'] + [{'op': '+', 'target': 'mall_server/settings/base.py:30', 'detail': 'x'}]
    drift = plan_drift(PLAN, changed(**{'steps.cache_settings.changes': more}))
    assert drift == [{'input': 'step', 'name': 'cache_settings', 'planned': PLAN['steps']['cache_settings']['changes'],
                      'now': more, 'text': 'step cache_settings: its changes differ from the plan (1 then, 2 now)'}]


def test_a_change_of_the_same_count_counts():
    edited = [{'op': '~', 'target': 'mall_server/settings/base.py:12', 'detail': 'CACHES, MAX_ENTRIES 20000'}]
    drift = plan_drift(PLAN, changed(**{'steps.cache_settings.changes': edited}))
    assert [(item['name'], item['text']) for item in drift] == [
        ('cache_settings', 'step cache_settings: its changes differ from the plan (1 then, 1 now)')]


def test_a_step_in_only_one_plan_is_named():
    now = changed(**{'steps.sessions': DELETE, 'steps.redis_teardown': {'changes': [{'op': '-', 'target': 'redis'}] * 2}})
    assert [(item['input'], item['name'], item['planned'], item['text']) for item in plan_drift(PLAN, now)] == [
        ('step', 'redis_teardown', None, 'step redis_teardown: its changes differ from the plan (step absent then, 2 now)'),
        ('step', 'sessions', [], 'step sessions: its changes differ from the plan (0 then, step absent now)'),
    ]


def test_every_difference_comes_in_a_fixed_order():
    now = changed(**{
        'app_dir': '/srv/other', 'inputs.files': {ENV: SHA_A, SETTINGS: SHA_B, LOCAL_ENV: None},
        'inputs.pip_freeze_sha256': SHA_B, 'inputs.redis_container_id': 'e' * 64, 'inputs.db_grants': [],
        'steps.sessions.changes': [{'op': '+'}], 'steps.cache_settings.changes': [], 'steps.env_cleanup': DELETE})
    expected = [('app_dir', 'app dir'), ('file', ENV), ('file', SETTINGS), ('pip_freeze', 'pip freeze'),
                ('redis_container', 'redis container'), ('db_grants', 'db grants'), ('step', 'cache_settings'),
                ('step', 'env_cleanup'), ('step', 'sessions')]
    assert [(item['input'], item['name']) for item in plan_drift(PLAN, now)] == expected
    # The same whatever order the mappings were built in.
    reordered = copy.deepcopy(now)
    reordered['inputs']['files'] = dict(reversed(list(now['inputs']['files'].items())))
    reordered['steps'] = dict(reversed(list(now['steps'].items())))
    assert [(item['input'], item['name']) for item in plan_drift(PLAN, reordered)] == expected


def test_the_filters_are_found_by_name():
    assert set(FILTERS) == {'plan_for_host', 'plan_drift'}
