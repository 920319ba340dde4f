"""Unit tests of cache_clock (plugins/modules/cache_clock.py and its probe, module_utils/_cache_clock_probe.py).

The module runs in this process; its probe runs as it does on a host, with `<venv>/bin/python -c`, in a
project whose "venv" is this interpreter with the real Django of the wheelhouse (scripts/bootstrap.sh) on
its path and SQLite as the database. So the time zones are Django's own: the clock must be what the
cache writes into `expires` (the database connection's time zone, naive), to the second.
"""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import cache_clock

SETTINGS = '''\
import os
SECRET_KEY = 'unit'
USE_TZ = os.environ['CLOCK_USE_TZ'] == '1'
TIME_ZONE = os.environ['CLOCK_TIME_ZONE']
DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}
if os.environ.get('CLOCK_DATABASE_TIME_ZONE'):
    DATABASES['default']['TIME_ZONE'] = os.environ['CLOCK_DATABASE_TIME_ZONE']
CACHES = {
    'default': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache', 'LOCATION': 'cache'},
    'ms': {'BACKEND': 'shop.caches.MillisecondCache', 'LOCATION': 'cache'},
}
INSTALLED_APPS = []
print('the project prints while it loads')
'''

# django-mysql's MySQLCache keeps expires in ms and has FOREVER_TIMEOUT and _now(); so does this one.
MILLISECOND_CACHE = '''\
from django.core.cache.backends.db import DatabaseCache


class MillisecondCache(DatabaseCache):
    FOREVER_TIMEOUT = 0

    def _now(self):
        return 1795000323000
'''


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('project')
    (root / 'shop').mkdir()
    (root / 'shop' / '__init__.py').write_text('')
    (root / 'shop' / 'settings.py').write_text(SETTINGS)
    (root / 'shop' / 'caches.py').write_text(MILLISECOND_CACHE)
    return root


@pytest.fixture
def clock(run_module, django_venv, project):
    def read(alias='default', use_tz=True, time_zone='UTC', database_time_zone=None):
        environment = {'CLOCK_USE_TZ': '1' if use_tz else '0', 'CLOCK_TIME_ZONE': time_zone}
        if database_time_zone:
            environment['CLOCK_DATABASE_TIME_ZONE'] = database_time_zone
        return run_module(cache_clock.main, {'project_dir': str(project), 'venv': str(django_venv),
                                             'settings': 'shop.settings', 'alias': alias, 'environment': environment})
    return read


@pytest.mark.parametrize('settings, zone', [
    # USE_TZ: Django stores UTC on a database without time zones (SQLite, MySQL).
    (dict(use_tz=True, time_zone='Asia/Kolkata'), 'UTC'),
    # ... or the connection's own TIME_ZONE when DATABASES sets one (+05:30: a half-hour offset).
    (dict(use_tz=True, time_zone='UTC', database_time_zone='Asia/Kolkata'), 'Asia/Kolkata'),
    # Without USE_TZ, local time in TIME_ZONE.
    (dict(use_tz=False, time_zone='America/New_York'), 'America/New_York'),
])
def test_now_is_the_time_the_cache_writes_into_expires(clock, settings, zone):
    before = datetime.datetime.now(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)
    result = clock(**settings)
    after = datetime.datetime.now(ZoneInfo(zone)).replace(tzinfo=None)
    assert (result['changed'], result['unit'], result['backend']) == \
        (False, 'datetime', 'django.core.cache.backends.db.DatabaseCache'), result
    # Whole seconds, naive, in that zone: no skew of an offset, no microseconds.
    assert before <= datetime.datetime.strptime(result['now'], '%Y-%m-%d %H:%M:%S') <= after, result


def test_a_cache_with_its_own_millisecond_clock_is_read_by_that_clock(clock):
    result = clock(alias='ms')
    assert (result['unit'], result['now'], result['backend']) == ('ms', '1795000323000', 'shop.caches.MillisecondCache')


def test_an_unknown_alias_fails_naming_what_django_said(clock):
    result = clock(alias='sessions')
    assert result['failed'] is True
    assert "Cannot read the clock of cache 'sessions'" in result['msg'] and 'InvalidCacheBackendError' in result['msg']


def test_a_probe_that_prints_no_report_fails_with_its_output(run_module, project, tmp_path):
    python = tmp_path / 'bin' / 'python'
    python.parent.mkdir()
    # It reads its parameters first, as the probe does: one that exits before would break the module's pipe.
    python.write_text('#!/bin/sh\ncat >/dev/null\necho "Segmentation fault" >&2\nexit 139\n')
    python.chmod(0o755)
    result = run_module(cache_clock.main, {'project_dir': str(project), 'venv': str(tmp_path), 'settings': 'shop.settings'})
    assert result['failed'] is True
    assert 'the probe printed no report (rc 139): Segmentation fault' in result['msg'], result
