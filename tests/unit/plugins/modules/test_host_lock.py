"""Unit tests of host_lock on real directories (tests run as root, as the module does on a host)."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.mall.cache_migration.plugins.modules.host_lock import main

OWNER = {'controller': 'ctl-1', 'pid': 4242, 'play': 'Migrate', 'started': '2026-12-02T03:00:00Z'}
OTHER = {'controller': 'ctl-1', 'pid': 5151, 'play': 'Roll back', 'started': '2026-12-02T02:00:00Z'}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason='the lock parent must belong to root')


@pytest.fixture
def lock(tmp_path):
    parent = tmp_path / 'run'
    parent.mkdir(mode=0o700)
    return parent / 'lock'


def held_by(lock, owner):
    lock.mkdir()
    (lock / 'owner.json').write_text(json.dumps(owner))


def test_takes_a_free_lock_and_records_its_owner(run_module, lock):
    result = run_module(main, {'path': str(lock), 'owner': OWNER})
    assert (result['taken'], result['held'], result['changed']) == (True, False, False)
    assert json.loads((lock / 'owner.json').read_text()) == OWNER
    assert oct(lock.stat().st_mode & 0o777) == '0o700'
    assert oct((lock / 'owner.json').stat().st_mode & 0o777) == '0o600'


def test_a_held_lock_is_left_alone_and_its_owner_told(run_module, lock):
    held_by(lock, OTHER)
    for check_mode in (True, False):
        result = run_module(main, {'path': str(lock), 'owner': OWNER}, check_mode=check_mode)
        assert (result['taken'], result['held'], result['owner']) == (False, True, OTHER)
    assert json.loads((lock / 'owner.json').read_text()) == OTHER


def test_check_mode_creates_nothing_not_even_the_parent(run_module, tmp_path):
    lock = tmp_path / 'missing' / 'lock'
    result = run_module(main, {'path': str(lock), 'owner': OWNER}, check_mode=True)
    assert (result['taken'], result['held'], result['changed']) == (False, False, True)
    assert not lock.parent.exists()
    real = run_module(main, {'path': str(lock), 'owner': OWNER})
    assert (real['taken'], real['changed']) == (True, True)
    assert oct(lock.parent.stat().st_mode & 0o777) == '0o700'


@pytest.mark.parametrize('mode', [0o1777, 0o770, 0o702])
def test_a_parent_others_can_write_to_is_refused_before_anything(run_module, lock, mode):
    lock.parent.chmod(mode)
    result = run_module(main, {'path': str(lock), 'owner': OWNER})
    assert result['failed'] and not lock.exists()
    assert 'which belongs to uid 0 with mode %04o: any user who can write there' % mode in result['msg']


def test_a_parent_that_is_a_file_is_refused(run_module, tmp_path):
    (tmp_path / 'run').write_text('')
    result = run_module(main, {'path': str(tmp_path / 'run' / 'lock'), 'owner': OWNER})
    assert result['failed'] and 'which is not a directory' in result['msg']


def test_a_stale_lock_is_taken_over_only_when_it_still_records_that_pid(run_module, lock):
    held_by(lock, OTHER)
    wrong = run_module(main, {'path': str(lock), 'owner': OWNER, 'break_stale_pid': 1})
    assert (wrong['taken'], wrong['held'], wrong['broken']) == (False, True, False)
    predicted = run_module(main, {'path': str(lock), 'owner': OWNER, 'break_stale_pid': 5151}, check_mode=True)
    assert (predicted['taken'], predicted['held'], predicted['broken']) == (False, False, True)
    assert json.loads((lock / 'owner.json').read_text()) == OTHER
    taken = run_module(main, {'path': str(lock), 'owner': OWNER, 'break_stale_pid': 5151})
    assert (taken['taken'], taken['held'], taken['broken']) == (True, False, True)
    assert json.loads((lock / 'owner.json').read_text()) == OWNER
    assert [p.name for p in lock.parent.iterdir()] == ['lock']


def test_a_lock_without_owner_is_held_by_nobody_known(run_module, lock):
    lock.mkdir()
    result = run_module(main, {'path': str(lock), 'owner': OWNER, 'break_stale_pid': 5151})
    assert (result['taken'], result['held'], result['owner']) == (False, True, None)


def test_release_removes_this_runs_lock_once(run_module, lock):
    held_by(lock, OWNER)
    release = {'path': str(lock), 'state': 'absent', 'owner': OWNER}
    assert run_module(main, release, check_mode=True)['changed']
    assert lock.exists()
    released = run_module(main, release)
    assert (released['changed'], released['held']) == (True, False)
    assert not lock.exists()
    assert not run_module(main, release)['changed']


@pytest.mark.parametrize('recorded', [OTHER, dict(OWNER, started='2026-12-02T03:00:01Z'), None])
def test_release_leaves_a_lock_this_run_does_not_hold(run_module, lock, recorded):
    """Another run's lock (one that took over this run's, say), or one with no owner.json, stays."""
    if recorded is None:
        lock.mkdir()
    else:
        held_by(lock, recorded)
    for check_mode in (True, False):
        result = run_module(main, {'path': str(lock), 'state': 'absent', 'owner': OWNER}, check_mode=check_mode)
        assert (result['changed'], result['held'], result['owner']) == (False, True, recorded)
    assert lock.is_dir()
    if recorded is not None:
        assert json.loads((lock / 'owner.json').read_text()) == recorded


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_taking_and_releasing_need_an_owner(run_module, lock, state):
    held_by(lock, OWNER)
    result = run_module(main, {'path': str(lock), 'state': state})
    assert result['failed'] and 'owner is required' in result['msg'] and lock.exists()
