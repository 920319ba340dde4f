"""Unit tests of the restore_point_layout filter: the paths of a restore point known only by its directory."""
from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mall.cache_migration.plugins.filter import restore_point_layout

PARTS = {
    'files': 'files',
    'database_dump': 'database.sql.gz',
    'database_dump_partial': 'database.partial.sql.gz',
    'pip_freeze': 'pip-freeze.txt',
    'git_commit': 'git-commit.txt',
    'settings_plan': 'settings-plan.json',
    'plan': 'plan.json',
    'redis': 'redis',
    'redis_dump': 'redis/dump.rdb',
    'redis_container': 'redis/container.json',
    'manifest': 'manifest.json',
    'migrated': 'migrated.json',
}


def layout(path):
    return restore_point_layout.FilterModule().filters()['restore_point_layout'](path)


@pytest.mark.parametrize('path', [
    '/var/backups/mall-server/20261126T071203Z',
    '/var/backups/mall server/rp with spaces',  # spaces
    '/var/backups/mäll/réstore-point',  # not ASCII
    '/var/backups/mall/-rp',  # a leading dash
    "/var/backups/mall/rp 'quoted' \"twice\"",  # quotes
    '/var/backups/mall/{{ lookup("pipe", "id") }}',  # what Jinja would run: kept as text
    '/var/backups/mall/rp.d/1.2',  # dots
])
def test_each_part_lies_under_the_restore_point_where_the_layout_puts_it(path):
    parts = layout(path)
    assert parts.pop('path') == path
    assert {name: os.path.relpath(part, path) for name, part in parts.items()} == PARTS
    assert all(part.startswith(path + '/') for part in parts.values())
    assert os.path.dirname(parts['redis_dump']) == os.path.dirname(parts['redis_container']) == parts['redis']


def test_a_trailing_slash_names_the_same_parts():
    with_slash, without = layout('/var/backups/mall/rp/'), layout('/var/backups/mall/rp')
    assert {k: v for k, v in with_slash.items() if k != 'path'} == {k: v for k, v in without.items() if k != 'path'}


@pytest.mark.parametrize('path', ['var/backups/mall/rp', './rp', '', None, 42, ['/var/backups/mall/rp']])
def test_anything_but_an_absolute_path_is_refused(path):
    with pytest.raises(AnsibleFilterError, match='takes the absolute path of a restore point'):
        layout(path)
