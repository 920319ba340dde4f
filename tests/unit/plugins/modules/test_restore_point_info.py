"""Unit tests of restore_point_info: real directories in a temporary root."""
from __future__ import annotations

import json

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import restore_point_info


def make_point(root, name, created, **extra):
    directory = root / name
    directory.mkdir()
    manifest = dict({'created': created, 'host': 'web-01', 'restored_files': [], 'contents': []}, **extra)
    (directory / 'manifest.json').write_text(json.dumps(manifest))
    return directory


def run(run_module, root, **args):
    return run_module(restore_point_info.main, dict(root=str(root), **args))


def test_only_folders_with_a_valid_manifest_count_newest_by_manifest_time(run_module, tmp_path):
    make_point(tmp_path, '20261126T071900Z', '20261126T071900Z')
    # Renamed by hand: its name sorts last, its manifest is the oldest.
    make_point(tmp_path, 'zz-copy', '20251001T000000Z')
    make_point(tmp_path, '20261127T080000Z', '20261127T080000Z')
    (tmp_path / 'zzzz-other-tool').mkdir()
    (tmp_path / 'zzzz-other-tool' / 'data.txt').write_text('not ours')
    broken = tmp_path / '20261128T000000Z'
    broken.mkdir()
    (broken / 'manifest.json').write_text('{"created": "20261128T000000Z"')
    wrong = make_point(tmp_path, 'wrong-time', 'yesterday')
    (tmp_path / 'a-file').write_text('x')
    result = run(run_module, tmp_path)
    assert result['changed'] is False
    assert [point['name'] for point in result['restore_points']] == ['20261127T080000Z', '20261126T071900Z', 'zz-copy']
    assert result['restore_points'][0]['created'] == '2026-11-27T08:00:00Z'
    assert result['restore_points'][0]['path'] == str(tmp_path / '20261127T080000Z')
    assert result['restore_points'][0]['migrated'] is None
    reasons = {item['name']: item['reason'] for item in result['skipped']}
    assert reasons['zzzz-other-tool'] == 'no manifest.json'
    assert 'not readable JSON' in reasons['20261128T000000Z']
    assert 'no created time' in reasons[wrong.name]
    assert 'a-file' not in reasons


@pytest.mark.parametrize('manifest, reason', [
    ('[]', 'not a JSON object'),
    ('{"created": "20261126T071900Z", "contents": []}', 'no list restored_files'),
    ('{"created": "20261126T071900Z", "restored_files": [], "contents": {}}', 'no list contents'),
    ('\xff\xfe', 'not readable JSON'),
])
def test_invalid_manifests_are_skipped_with_the_reason(run_module, tmp_path, manifest, reason):
    (tmp_path / 'point').mkdir()
    (tmp_path / 'point' / 'manifest.json').write_bytes(manifest.encode('latin-1'))
    result = run(run_module, tmp_path)
    assert result['restore_points'] == []
    assert reason in result['skipped'][0]['reason']


def test_current_link_and_migrated_record(run_module, tmp_path):
    point = make_point(tmp_path, '20261126T071900Z', '20261126T071900Z')
    record = {'recorded': '2026-11-26T07:25:00Z', 'files': [{'path': '/srv/a', 'checksum': 'ab'}]}
    (point / 'migrated.json').write_text(json.dumps(record))
    (tmp_path / 'current').symlink_to(point)
    result = run(run_module, tmp_path)
    assert result['current'] == '20261126T071900Z'
    # The link is not a restore point of its own.
    assert [p['name'] for p in result['restore_points']] == ['20261126T071900Z']
    assert result['restore_points'][0]['migrated'] == record


def test_a_named_restore_point(run_module, tmp_path):
    make_point(tmp_path, '20261126T071900Z', '20261126T071900Z')
    make_point(tmp_path, '20261127T080000Z', '20261127T080000Z')
    (tmp_path / 'foreign').mkdir()
    assert [p['name'] for p in run(run_module, tmp_path, name='20261126T071900Z')['restore_points']] == ['20261126T071900Z']
    foreign = run(run_module, tmp_path, name='foreign')
    assert foreign['restore_points'] == [] and foreign['skipped'] == [{'name': 'foreign', 'reason': 'no manifest.json'}]
    missing = run(run_module, tmp_path, name='20200101T000000Z')
    assert missing['skipped'] == [{'name': '20200101T000000Z', 'reason': 'no such directory'}]


@pytest.mark.parametrize('name', ['../etc', 'a/b', '.', '..', '.hidden', '/abs'])
def test_a_name_that_is_a_path_is_refused(run_module, tmp_path, name):
    result = run(run_module, tmp_path, name=name)
    assert result['failed'] is True
    assert 'bare name' in result['msg']


def test_a_missing_root_holds_no_restore_point(run_module, tmp_path):
    result = run(run_module, tmp_path / 'absent')
    assert result['restore_points'] == [] and result['skipped'] == [] and result['current'] is None
