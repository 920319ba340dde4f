"""Unit tests of __mall_fleet_lock (roles/mall/vars/main.yml): the GET_LOCK name of a database's fleet steps."""
from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible.template import Templar, trust_as_template

VARS = pathlib.Path(__file__).resolve().parents[3] / 'roles' / 'mall' / 'vars' / 'main.yml'
EXPRESSION = yaml.safe_load(VARS.read_text())['__mall_fleet_lock']


def lock_name(database, host='mall-web-01'):
    """The name as host renders it: the host's own variables are in scope, as in a play."""
    variables = {'mall_db_name': database, 'inventory_hostname': host, 'inventory_hostname_short': host,
                 'ansible_host': f'{host}.example.internal', 'ansible_hostname': host}
    return Templar(loader=None, variables=variables).template(trust_as_template(EXPRESSION))


@pytest.mark.parametrize('database', ['mall_server', 'd' * 43, 'd' * 44, 'e' * 64, 'x$-1'])
def test_the_name_fits_mysql_and_is_the_same_on_every_host(database):
    name = lock_name(database)
    assert len(name) <= 64
    assert name.startswith('mall.cache_migration/')
    assert lock_name(database, host='mall-web-02') == name


def test_a_short_name_is_readable_a_long_one_hashed_and_distinct():
    assert lock_name('mall_server') == 'mall.cache_migration/mall_server'
    long_a, long_b = lock_name('a' * 63 + 'x'), lock_name('a' * 63 + 'y')
    assert long_a != long_b
    assert 'a' * 44 not in long_a
