"""Restore points of several apps in one root (two app dirs on one host, two hosts sharing a root over NFS):
each app reuses, rolls back to, prunes and marks as current only its own. Real directories, the modules' main()."""
from __future__ import annotations

import json
import os
import re

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _restore_point as restore_point
from ansible_collections.mall.cache_migration.plugins.modules import restore_point_files, restore_point_info

MALL = {'host': 'web-01', 'app_dir': '/srv/mall-server'}
SHOP = {'host': 'web-01', 'app_dir': '/srv/shop'}
OTHER_HOST = {'host': 'web-02', 'app_dir': '/srv/mall-server'}
# The restore_point_name kind of roles/mall/vars/main.yml, which rollback_restore_point is checked by.
RESTORE_POINT_NAME = re.compile(r'^[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}$')


def make_point(root, name, created, owner):
    directory = root / name
    directory.mkdir(parents=True)
    manifest = dict(owner, created=created, restored_files=[], contents=[])
    (directory / 'manifest.json').write_text(json.dumps(manifest))
    return directory


def info(run_module, root, owner, **args):
    return run_module(restore_point_info.main, dict(root=str(root), **owner, **args))


def take(run_module, root, owner, kept):
    """A restore point as the restore_point role takes it: named by the module, then its manifest."""
    taken = run_module(restore_point_files.main, dict(root=str(root), files=[str(kept)], **owner))
    name = os.path.basename(taken['path'])
    run_module(restore_point_files.main, dict(root=str(root), name=name, step='manifest',
                                              restored_files=taken['restored_files'], **owner))
    return name


@pytest.fixture
def shared_root(tmp_path):
    """A root that three apps wrote to, the other apps' points newer; and one of an older release that names no owner."""
    root = tmp_path / 'backups'
    make_point(root, '20261120T000000Z', '20261120T000000Z', {})
    for day in range(21, 28):
        make_point(root, '202611%02dT000000Z-mall' % day, '202611%02dT000000Z' % day, MALL)
        make_point(root, '202611%02dT000001Z-shop' % day, '202611%02dT000001Z' % day, SHOP)
        make_point(root, '202611%02dT000002Z-web2' % day, '202611%02dT000002Z' % day, OTHER_HOST)
    return root


def test_only_this_hosts_and_apps_restore_points_count_the_others_say_whose(run_module, shared_root):
    found = info(run_module, shared_root, MALL)
    names = [point['name'] for point in found['restore_points']]
    # Newest first: rollback takes the first, this app's newest, not the other apps' newer ones.
    assert names == ['202611%02dT000000Z-mall' % day for day in range(27, 20, -1)] + ['20261120T000000Z']
    # What the role prunes (the points that name their owner), beyond restore_point_keep: only this app's.
    assert [point['name'] for point in found['restore_points'] if point['recorded_owner']] == names[:-1]
    reasons = {item['name']: item['reason'] for item in found['skipped']}
    assert reasons['20261127T000001Z-shop'] == 'the restore point of the app in /srv/shop, not of the app in /srv/mall-server'
    assert reasons['20261127T000002Z-web2'] == 'the restore point of host web-02, not of web-01'
    assert len(reasons) == 14
    # Without an owner, every app's counts, as before.
    assert len(info(run_module, shared_root, {})['restore_points']) == 22


def test_rollback_by_name_refuses_another_apps_restore_point(run_module, shared_root):
    own = info(run_module, shared_root, MALL, name='20261121T000000Z-mall')
    assert [point['name'] for point in own['restore_points']] == ['20261121T000000Z-mall']
    other = info(run_module, shared_root, MALL, name='20261121T000001Z-shop')
    assert other['restore_points'] == []
    assert other['skipped'] == [{'name': '20261121T000001Z-shop',
                                 'reason': 'the restore point of the app in /srv/shop, not of the app in /srv/mall-server'}]


def test_names_are_unique_across_hosts_and_apps_of_one_root_and_begin_with_the_created_time(run_module, tmp_path):
    root, kept = tmp_path / 'backups', tmp_path / 'settings.py'
    kept.write_text('CACHES = {}\n')
    names = {key: take(run_module, root, owner, kept) for key, owner in (('mall', MALL), ('shop', SHOP), ('web2', OTHER_HOST))}
    assert len(set(names.values())) == 3
    for key, owner in (('mall', MALL), ('shop', SHOP), ('web2', OTHER_HOST)):
        name = names[key]
        assert RESTORE_POINT_NAME.match(name) and restore_point.BARE_NAME.match(name)
        assert name.endswith('-' + restore_point.tag(owner['host'], owner['app_dir']))
        found = info(run_module, root, owner, name=name)['restore_points']
        assert [point['name'] for point in found] == [name]
        assert found[0]['manifest']['created'] == name.split('-')[0]
        assert {key: found[0]['manifest'][key] for key in owner} == owner


def test_each_app_has_its_own_current_link(run_module, tmp_path):
    root, kept = tmp_path / 'backups', tmp_path / 'settings.py'
    kept.write_text('CACHES = {}\n')
    mall, shop = take(run_module, root, MALL, kept), take(run_module, root, SHOP, kept)
    # Both migrations under way: each app finds its own, never the other's.
    assert info(run_module, root, MALL)['current'] == mall
    assert info(run_module, root, SHOP)['current'] == shop
    mall_link = info(run_module, root, MALL)['current_link']
    assert mall_link != info(run_module, root, SHOP)['current_link'] and os.readlink(mall_link) == str(root / mall)
    finished = run_module(restore_point_files.main, dict(root=str(root), step='finished', **MALL))
    assert finished['changed'] is True and finished['current'] == mall_link
    assert info(run_module, root, MALL)['current'] is None
    assert info(run_module, root, SHOP)['current'] == shop


def test_the_current_link_of_an_older_release_counts_for_its_app_only(run_module, tmp_path):
    root = tmp_path / 'backups'
    shop = make_point(root, '20261126T071900Z', '20261126T071900Z', SHOP)
    (root / 'current').symlink_to(shop)
    assert info(run_module, root, MALL)['current'] is None
    assert info(run_module, root, SHOP)['current'] == '20261126T071900Z'
    # Another app's migration finishing leaves it; its own removes it.
    assert run_module(restore_point_files.main, dict(root=str(root), step='finished', **MALL))['changed'] is False
    assert os.path.islink(root / 'current')
    assert run_module(restore_point_files.main, dict(root=str(root), step='finished', **SHOP))['changed'] is True
    assert not os.path.lexists(root / 'current') and (shop / 'manifest.json').is_file()


def test_finishing_removes_both_links_of_its_app(run_module, tmp_path):
    root, kept = tmp_path / 'backups', tmp_path / 'settings.py'
    kept.write_text('CACHES = {}\n')
    older = make_point(root, '20261120T000000Z', '20261120T000000Z', MALL)
    (root / 'current').symlink_to(older)
    newer = take(run_module, root, MALL, kept)
    # Its own link first: the migration under way is the newer one.
    assert info(run_module, root, MALL)['current'] == newer
    assert run_module(restore_point_files.main, dict(root=str(root), step='finished', **MALL))['changed'] is True
    assert [entry for entry in os.listdir(root) if entry.startswith('current')] == []
