"""Unit tests of module_utils._app_environment: which values of the app's environment are secrets."""
from __future__ import annotations

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _app_environment
from ansible_collections.mall.cache_migration.plugins.filter.app_environment import app_environment


@pytest.mark.parametrize('name, value', [
    ('SECRET_KEY', 'x'), ('JWT_SECRET_KEY', 'x'), ('MYSQL_PASSWORD', 'database'), ('DB_PASS', '1'),
    ('API_TOKEN', 'x'), ('STRIPE_API_KEY', 'x'), ('AWS_SECRET_ACCESS_KEY', 'x'), ('db-pw', 'x'),
    ('REDIS_URL', 'redis://:pw@redis:6379/0'), ('DATABASE_URL', 'mysql://mall:pw@db/mall'),
])
def test_secret_looking_values(name, value):
    assert _app_environment.is_secret(name, value)


@pytest.mark.parametrize('name, value', [
    ('MYSQL_DATABASE', 'database'), ('CACHE_BACKEND', 'redis'), ('WORKERS', 1), ('DEBUG', True),
    ('KEY_PREFIX', 'mall'), ('MALL_ENV_FILE', '/srv/mall-server/.env'), ('REDIS_URL', 'redis://redis:6379/0'),
    ('PASSENGER', 'x'), ('MONKEY', 'x'),
])
def test_plain_values(name, value):
    assert not _app_environment.is_secret(name, value)


def test_the_filter_splits_by_name_value_and_the_names_given():
    env = {'MYSQL_DATABASE': 'database', 'SECRET_KEY': 's', 'STRIPE_SK': 'sk', 'USE_TZ': 'true'}
    assert app_environment(env, 'plain', ['STRIPE_SK']) == {'MYSQL_DATABASE': 'database', 'USE_TZ': 'true'}
    assert app_environment(env, 'secret', ['STRIPE_SK']) == {'SECRET_KEY': 's', 'STRIPE_SK': 'sk'}
    assert app_environment(env, 'plain') == {'MYSQL_DATABASE': 'database', 'STRIPE_SK': 'sk', 'USE_TZ': 'true'}


def test_a_credential_url_masks_its_password_alone_too():
    assert _app_environment.secret_values({'REDIS_URL': 'redis://:pw1@redis:6379/0'}) == {'redis://:pw1@redis:6379/0', 'pw1'}
