"""Unit tests of session_carryover: the probe's pure logic (_session_probe.py) with fake Redis clients and
caches, and the module's main() with a scripted probe.

The live test is the Molecule scenario realworld (sessions carried on settings.development, nothing to carry
on the guide's broken block of settings.staging).
"""
from __future__ import annotations

import datetime
import inspect
import json
import subprocess
import sys

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _session_probe as probe, _venv
from ansible_collections.mall.cache_migration.plugins.modules import session_carryover

DJANGO_BASE = 'django.contrib.sessions.backends.base.SessionBase'
CACHE_STORE = 'django.contrib.sessions.backends.cache.SessionStore'
DB_STORE = 'django.contrib.sessions.backends.db.SessionStore'
CACHED_DB_STORE = 'django.contrib.sessions.backends.cached_db.SessionStore'
MARKER = 'mall:1:django.contrib.sessions.cache'


@pytest.mark.parametrize('chain, kind', [
    ([CACHE_STORE, DJANGO_BASE], 'cache'),
    ([DB_STORE, DJANGO_BASE], 'db'),
    # cached_db is a subclass of db: it must not be taken for db.
    ([CACHED_DB_STORE, DB_STORE, DJANGO_BASE], 'cached_db'),
    # A project's own engine counts as the Django engine it extends.
    (['shop.sessions.SessionStore', CACHE_STORE, DJANGO_BASE], 'cache'),
    (['redis_sessions.session.SessionStore', DJANGO_BASE], 'redis'),
    (['django_redis_sessions.backend.SessionStore', DJANGO_BASE], 'redis'),
    (['django.contrib.sessions.backends.file.SessionStore', DJANGO_BASE], 'other'),
    (['django.contrib.sessions.backends.signed_cookies.SessionStore', DJANGO_BASE], 'other'),
    # Only module names count: a class named like Redis in another module is not on Redis.
    (['shop.sessions.RedisLikeStore', DJANGO_BASE], 'other'),
])
def test_engine_kind(chain, kind):
    assert probe.engine_kind(chain) == kind


@pytest.mark.parametrize('chain, expected', [
    (['django_redis.cache.RedisCache', 'django.core.cache.backends.base.BaseCache'], True),
    (['django.core.cache.backends.redis.RedisCache', 'django.core.cache.backends.base.BaseCache'], True),
    (['shop.cache.Tiered', 'django_redis.cache.RedisCache'], True),
    (['django.core.cache.backends.db.DatabaseCache', 'django.core.cache.backends.db.BaseDatabaseCache'], False),
    (['django.core.cache.backends.locmem.LocMemCache'], False),
    (['shop.cache.RedisFreeCache', 'django.core.cache.backends.db.DatabaseCache'], False),
])
def test_on_redis(chain, expected):
    assert probe.on_redis(chain) is expected


@pytest.mark.parametrize('text, escaped', [
    (MARKER, MARKER),
    ('a*b?c[d]\\e', 'a\\*b\\?c\\[d]\\\\e'),
])
def test_glob_escape(text, escaped):
    assert probe.glob_escape(text) == escaped


@pytest.mark.parametrize('raw, key', [
    (MARKER + 'abc123def456', 'abc123def456'),
    ((MARKER + 'abc123def456').encode(), 'abc123def456'),
    (MARKER, None),
    ('mall:1:shop:banner', None),
    ('other:1:django.contrib.sessions.cacheabc', None),
])
def test_session_key_of(raw, key):
    assert probe.session_key_of(raw, MARKER) == key


class FakeRedis:
    """The two calls list_sessions makes on a redis-py client, over raw keys and their TTLs."""

    def __init__(self, ttls):
        self.ttls = ttls
        self.patterns = []

    def scan_iter(self, match, count):
        self.patterns.append((match, count))
        return iter(key.encode() for key in self.ttls)

    def ttl(self, raw_key):
        return self.ttls[raw_key.decode()]


class FakeCache:
    """make_key and get as Django's caches do them with KEY_PREFIX 'mall' and VERSION 1."""

    def __init__(self, data):
        self.data = data

    def make_key(self, key):
        return 'mall:1:%s' % key

    def get(self, key):
        return self.data.get(key)


def test_list_sessions_reads_data_and_ttl_and_leaves_out_the_rest():
    client = FakeRedis({
        MARKER + 'live1': 1200,
        MARKER + 'nottl': -1,
        MARKER + 'gone': -2,          # expired between SCAN and TTL
        MARKER + 'nodata': 600,       # expired between TTL and GET
        'mall:1:django.contrib.sessions.cache': 60,
    })
    cache = FakeCache({
        'django.contrib.sessions.cachelive1': {'_auth_user_id': '1'},
        'django.contrib.sessions.cachenottl': {'_auth_user_id': '2'},
        'django.contrib.sessions.cachegone': {'_auth_user_id': '3'},
    })
    sessions = probe.list_sessions(cache, client, 'django.contrib.sessions.cache')
    assert sessions == [('live1', {'_auth_user_id': '1'}, 1200), ('nottl', {'_auth_user_id': '2'}, -1)]
    assert client.patterns == [(MARKER + '*', probe.SCAN_COUNT)]


def test_expiry_date_follows_the_ttl_else_the_session():
    now = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.timezone.utc)
    own = datetime.datetime(2026, 12, 15, 9, 0, tzinfo=datetime.timezone.utc)
    assert probe.expiry_date(now, 90, own) == now + datetime.timedelta(seconds=90)
    assert probe.expiry_date(now, -1, own) == own
    assert probe.expiry_date(now, None, own) == own


def test_split_new_keeps_what_the_table_lacks():
    sessions = [('a', {}, 10), ('b', {}, 10), ('c', {}, 10)]
    new, skipped = probe.split_new(sessions, {'b', 'zzz'})
    assert [session[0] for session in new] == ['a', 'c']
    assert skipped == 1


def test_settings_assignments_name_every_top_level_assignment(tmp_path, monkeypatch):
    base = tmp_path / 'base.py'
    base.write_text("X = 1\nSESSION_ENGINE = 'a'\nif X:\n    SESSION_ENGINE = 'nested, not top level'\n")
    env = tmp_path / 'env.py'
    env.write_text("from .base import *\n\nSESSION_ENGINE: str = 'b'\n")
    other = tmp_path / 'other.py'
    other.write_text("SESSION_ENGINE = 'c'\n")
    for name, path in (('proj.settings.base', base), ('proj.settings.env', env), ('unrelated', other)):
        module = type(sys)(name)
        module.__file__ = str(path)
        monkeypatch.setitem(sys.modules, name, module)
    assert probe.settings_assignments('proj.settings.env', 'SESSION_ENGINE') == [
        '%s line 2' % base, '%s line 3' % env]


def test_the_probe_reports_a_python_without_django():
    completed = subprocess.run([sys.executable, '-c', inspect.getsource(probe)], input='{"dry_run": true}',
                               capture_output=True, text=True, check=True, env={'PYTHONNOUSERSITE': '1'})
    report = json.loads(completed.stdout)
    assert report['error'].startswith('Django could not load the session engine: ModuleNotFoundError')
    assert report['copied'] == 0


CARRIED = {'engine': 'django.contrib.sessions.backends.cache', 'alias': 'default', 'kind': 'cache',
           'backend': 'django_redis.cache.RedisCache', 'defined_in': ['/srv/app/settings/dev.py line 24'],
           'found': 3, 'copied': 3, 'skipped_existing': 0, 'reason': '3 sessions on Redis, 3 copied'}


@pytest.mark.parametrize('report, changed, failure', [
    (CARRIED, True, None),
    (dict(CARRIED, copied=0, skipped_existing=3), False, None),
    ({'engine': 'django.contrib.sessions.backends.cached_db', 'kind': 'cached_db', 'reason': 'in the database'},
     False, None),
    (dict(CARRIED, found=0, copied=0, refusal="SESSION_ENGINE = 'redis_sessions.session': cannot"), False,
     "SESSION_ENGINE = 'redis_sessions.session': cannot"),
    ({'error': 'Django could not load'}, False, 'Django could not load'),
])
def test_build_result(report, changed, failure):
    result, got_failure = session_carryover.build_result(report)
    assert result['changed'] is changed
    assert got_failure == failure
    assert set(session_carryover.COUNTS) <= set(result)
    assert 'refusal' not in result and 'error' not in result


@pytest.fixture
def project(tmp_path):
    python = tmp_path / 'venv' / 'bin' / 'python'
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\n')
    python.chmod(0o755)
    return tmp_path


def scripted_probe(monkeypatch, report, calls):
    def run_in_venv(module, python, args, data=None, cwd=None, environ=None):
        calls.append(dict(python=python, data=json.loads(data), cwd=cwd, environ=environ))
        return 0, json.dumps(report) + '\n', ''

    monkeypatch.setattr(_venv, 'run_in_venv', run_in_venv)


@pytest.mark.parametrize('check_mode', [False, True])
def test_main_passes_check_mode_to_the_probe(run_module, monkeypatch, project, check_mode):
    calls = []
    scripted_probe(monkeypatch, CARRIED, calls)
    result = run_module(session_carryover.main, dict(project_dir=str(project), settings='app.settings.dev',
                                                     environment={'MALL_ENV_FILE': '/x/.env', 'N': 1}),
                        check_mode=check_mode)
    assert result['changed'] is True and result['copied'] == 3
    assert calls[0]['data'] == {'dry_run': check_mode}
    assert calls[0]['cwd'] == str(project)
    assert calls[0]['python'] == str(project / 'venv' / 'bin' / 'python')
    assert calls[0]['environ'] == {'MALL_ENV_FILE': '/x/.env', 'N': '1', 'DJANGO_SETTINGS_MODULE': 'app.settings.dev'}


def test_main_fails_on_a_refusal_and_says_nothing_changed(run_module, monkeypatch, project):
    refusal = ("SESSION_ENGINE = 'redis_sessions.session' (/srv/app/settings/base.py line 40): this engine keeps "
               'the sessions on Redis itself. Switch SESSION_ENGINE.')
    scripted_probe(monkeypatch, {'engine': 'redis_sessions.session', 'kind': 'redis', 'refusal': refusal,
                                 'found': 0, 'copied': 0, 'skipped_existing': 0}, [])
    result = run_module(session_carryover.main, dict(project_dir=str(project), settings='app.settings'))
    assert result['failed'] is True
    assert result['msg'] == refusal + ' Nothing was changed.'
    assert result['changed'] is False and result['kind'] == 'redis'


def test_main_fails_when_the_probe_prints_no_report(run_module, monkeypatch, project):
    def run_in_venv(module, python, args, data=None, cwd=None, environ=None):
        return 1, '', 'Traceback ...\nImportError: boom\n'

    monkeypatch.setattr(_venv, 'run_in_venv', run_in_venv)
    result = run_module(session_carryover.main, dict(project_dir=str(project), settings='app.settings'))
    assert result['failed'] is True
    assert 'printed no report (rc 1)' in result['msg'] and 'ImportError: boom' in result['msg']


def test_main_needs_a_virtualenv(run_module, tmp_path):
    result = run_module(session_carryover.main, dict(project_dir=str(tmp_path), settings='app.settings'))
    assert result['failed'] is True and 'is not a virtualenv' in result['msg']
