"""Unit tests of the invalid_settings filter, with the mall role's own kinds and rules."""
from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.mall.cache_migration.plugins.filter import invalid_settings

ROLE = pathlib.Path(__file__).resolve().parents[4] / 'roles' / 'mall'
VARS = yaml.safe_load((ROLE / 'vars' / 'main.yml').read_text())
KINDS, RULES = VARS['__mall_input_kinds'], VARS['__mall_input_rules']


def broken(values):
    return [rule['var'] for rule in invalid_settings.invalid_settings(RULES, KINDS, values)]


def test_the_defaults_that_are_plain_values_break_no_rule():
    defaults = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())
    plain = {name: value for name, value in defaults.items() if '{{' not in str(value)}
    assert len(plain) > 10
    assert broken(plain) == []


@pytest.mark.parametrize('var, value', [
    ('mall_db_port', 3306), ('mall_db_port', '3306'), ('mall_app_dir', '/srv/mall-server'),
    ('mall_env_files', ['/srv/a/.env', '/srv/a/.env.production']), ('mall_serial', '25%'), ('mall_serial', [1, '50%']),
    ('mall_app_environment', {'DJANGO_SETTINGS_MODULE': 'x', 'SECRET': 'y'}), ('mall_compose_file', ''),
])
def test_a_value_of_its_kind_passes(var, value):
    assert broken({var: value}) == []


@pytest.mark.parametrize('var, value', [
    ('mall_db_port', 70000), ('mall_db_port', 'mysql'), ('mall_db_port', True), ('mall_db_port', [3306]),
    ('mall_app_dir', 'srv/mall-server'), ('mall_app_dir', '/srv/../etc'), ('mall_app_dir', {'a': 1}),
    ('mall_env_files', '/srv/a/.env'), ('mall_env_files', ['.env']),
    ('mall_app_environment', ['A=b']), ('mall_app_environment', {'not a name': 'x'}),
    ('mall_db_name', 'mall;DROP DATABASE mysql'), ('mall_db_name', ''),
])
def test_a_value_outside_its_kind_is_named(var, value):
    assert broken({var: value, 'mall_db_host': 'db'}) == [var]


@pytest.mark.parametrize('var', ['mall_db_name', 'mall_fleet_table', 'mall_cache_table'])
@pytest.mark.parametrize('special', ['$', '`', ' ', ';', '&', '|', '*', '(', "'", '"', '\\', '!', '#', '~'])
def test_a_shell_special_character_in_a_mysql_identifier_is_refused(var, special):
    # community.mysql's dump passes --ignore-table=<db>.<table> through a shell, where $x expands.
    assert broken({var: f'mall{special}x'}) == [var]


@pytest.mark.parametrize('var, value', [
    ('mall_db_name', 'mall_server-2'), ('mall_fleet_table', 'Fleet_9'), ('mall_cache_table', 'django_cache'),
    ('cache_settings_cull_frequency', 1), ('cache_settings_cull_frequency', '3'),
])
def test_a_plain_identifier_and_a_cull_frequency_of_at_least_one_pass(var, value):
    assert broken({var: value}) == []


@pytest.mark.parametrize('value', [0, '0', -1])
def test_a_cull_frequency_of_zero_is_refused(value):
    # Django's CULL_FREQUENCY 0 empties the whole cache each time it reaches MAX_ENTRIES.
    assert broken({'cache_settings_cull_frequency': value}) == ['cache_settings_cull_frequency']


def test_only_set_variables_are_checked_in_the_order_of_the_rules():
    assert broken({}) == []
    assert broken({'mall_db_name': '', 'mall_app_dir': 'x'}) == ['mall_app_dir', 'mall_db_name']


def test_a_rule_of_an_unknown_kind_or_a_bad_shape_is_an_error():
    with pytest.raises(AnsibleFilterError, match='not defined: nope'):
        invalid_settings.invalid_settings([{'var': 'x', 'kind': 'nope'}], KINDS, {'x': 1})
    with pytest.raises(AnsibleFilterError, match="shape 'set'"):
        invalid_settings.invalid_settings([], {'k': {'pattern': '.', 'shape': 'set'}}, {})
    assert invalid_settings.FilterModule().filters()['invalid_settings'] is invalid_settings.invalid_settings


@pytest.mark.parametrize('value', [
    [], ['/admin/login/'], [{'path': '/api/users/', 'expected_status': 401}], ['/healthz', {'path': '/'}],
])
def test_pages_as_paths_or_with_an_expected_status_pass(value):
    assert broken({'post_checks_urls': value}) == []


@pytest.mark.parametrize('value', [
    '/healthz', ['healthz'], [{'url': '/'}], [{'expected_status': 200}], [{'path': '/', 'expected_status': '200x'}],
    [{'path': '/', 'expected_status': True}], [3], [['/']],
])
def test_a_page_that_is_not_a_path_or_a_path_with_its_status_is_named(value):
    assert broken({'post_checks_urls': value}) == ['post_checks_urls']


@pytest.mark.parametrize('var', ['post_checks_log_pattern', 'post_checks_log_error_pattern'])
def test_a_log_pattern_must_compile(var):
    assert broken({var: r'\bERROR\b|^Traceback'}) == []
    assert broken({var: '(unclosed'}) == [var]
    assert broken({var: ''}) == [var]


@pytest.mark.parametrize('value', [5, '5', 0.5, '2.5', 12.25, 5.0])
def test_a_set_time_limit_above_zero_passes(value):
    assert broken({'mall_cache_max_set_ms': value}) == []


@pytest.mark.parametrize('value', [0, '0', 0.0, '0.00', -1, '-2.5', 'fast', '5ms', '', True, [5]])
def test_a_set_time_limit_that_is_not_a_number_above_zero_is_refused(value):
    # Preflight compares the predicted set p50 with it; 0 or less would refuse every plan.
    assert broken({'mall_cache_max_set_ms': value}) == ['mall_cache_max_set_ms']
