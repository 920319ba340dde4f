"""Unit tests of the database dump's checks and of the manifest's checksums (plugins/module_utils/_restore_point.py,
restore_point_files step=dump and the dump's rename at step=manifest, restore_point_info verify=true), on real files."""
from __future__ import annotations

import gzip
import hashlib
import os

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _restore_point as restore_point
from ansible_collections.mall.cache_migration.plugins.modules import restore_point_files, restore_point_info

NAME = '20261126T071900Z'
WHOLE_DUMP = (b'-- MariaDB dump 10.19\nCREATE TABLE `t` (`id` int);\nINSERT INTO `t` VALUES (1);\n'
              b'/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\n-- Dump completed on 2026-12-07 14:00:00\n')
# What mysqldump leaves when SHOW CREATE on a view is denied halfway: valid gzip, no trailer.
STOPPED_DUMP = b'-- MariaDB dump 10.19\nCREATE TABLE `t` (`id` int);\nINSERT INTO `t` VALUES (1);\n'


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize('data, problem', [
    (gzip.compress(WHOLE_DUMP), None),
    (gzip.compress(WHOLE_DUMP.replace(b'on 2026-12-07 14:00:00', b'')), None),
    # Two gzip members, as `gzip` appends them: read as one stream.
    (gzip.compress(WHOLE_DUMP[:40]) + gzip.compress(WHOLE_DUMP[40:]), None),
    (gzip.compress(STOPPED_DUMP), 'no_trailer'),
    (gzip.compress(b''), 'no_trailer'),
    (b'', 'empty'),
    (gzip.compress(WHOLE_DUMP)[:-12], 'not_gzip'),
    (WHOLE_DUMP, 'not_gzip'),
], ids=['whole', 'whole-without-date', 'two-members', 'stopped', 'no-sql', 'empty', 'cut-gzip', 'not-gzip'])
def test_check_dump_finds_a_dump_that_stopped_or_broke(tmp_path, data, problem):
    dump = write(tmp_path / 'database.partial.sql.gz', data)
    checked = restore_point.check_dump(str(dump))
    assert checked['problem'] == problem
    assert checked['size'] == len(data)
    assert checked['sha256'] == hashlib.sha256(data).hexdigest()


def test_a_flipped_byte_inside_the_compressed_data_is_found(tmp_path):
    data = bytearray(gzip.compress(WHOLE_DUMP * 50))
    data[len(data) // 2] ^= 0x01
    dump = write(tmp_path / 'database.partial.sql.gz', bytes(data))
    assert restore_point.check_dump(str(dump))['problem'] == 'not_gzip'


def make_point(tmp_path, run_module, dump=WHOLE_DUMP):
    """A restore point with a kept file and a dump checked by step=dump, not yet sealed by its manifest."""
    root = tmp_path / 'backups'
    kept = write(tmp_path / 'srv' / '.env', b'REDIS_URL=redis://x\n')
    taken = run_module(restore_point_files.main, dict(root=str(root), name=NAME, files=[str(kept)]))
    write(root / NAME / 'database.partial.sql.gz', gzip.compress(dump))
    return root, taken


def test_the_dump_step_checks_the_dump_and_the_manifest_step_lists_it_under_its_final_name(run_module, tmp_path):
    root, taken = make_point(tmp_path, run_module)
    layout = taken['layout']
    checked = run_module(restore_point_files.main, dict(root=str(root), name=NAME, step='dump'))
    assert checked['dump'] == {'path': layout['database_dump_partial'], 'sha256': restore_point.sha256(layout['database_dump_partial']),
                               'size': os.path.getsize(layout['database_dump_partial'])}
    assert oct(os.stat(layout['database_dump_partial']).st_mode & 0o777) == '0o600'
    assert not os.path.exists(layout['database_dump'])

    sealed = run_module(restore_point_files.main, dict(
        root=str(root), name=NAME, step='manifest', restored_files=taken['restored_files'],
        database_dump_sha256=checked['dump']['sha256']))
    contents = {item['path']: item['checksum'] for item in sealed['manifest']['contents']}
    assert contents[layout['database_dump']] == checked['dump']['sha256']
    assert layout['database_dump_partial'] not in contents
    assert os.path.isfile(layout['database_dump']) and not os.path.exists(layout['database_dump_partial'])
    assert sealed['database_dump'] == {'path': layout['database_dump'], 'sha256': checked['dump']['sha256']}
    # Run again (a retry of the same step): the dump is already under its name and listed.
    again = run_module(restore_point_files.main, dict(
        root=str(root), name=NAME, step='manifest', restored_files=taken['restored_files'],
        database_dump_sha256=checked['dump']['sha256']))
    assert again['changed'] is False and again['manifest'] == sealed['manifest']


def test_a_dump_that_stopped_is_refused_and_removed(run_module, tmp_path):
    root, taken = make_point(tmp_path, run_module, dump=STOPPED_DUMP)
    refused = run_module(restore_point_files.main, dict(root=str(root), name=NAME, step='dump'))
    assert refused['failed'] is True
    assert refused['dump']['problem'] == 'no_trailer'
    assert not os.path.exists(taken['layout']['database_dump_partial'])
    assert not os.path.exists(taken['layout']['database_dump'])


def test_a_dump_that_changed_after_its_check_is_refused_by_the_manifest_step(run_module, tmp_path):
    root, taken = make_point(tmp_path, run_module)
    checked = run_module(restore_point_files.main, dict(root=str(root), name=NAME, step='dump'))
    write(root / NAME / 'database.partial.sql.gz', gzip.compress(WHOLE_DUMP + b'-- more\n-- Dump completed\n'))
    refused = run_module(restore_point_files.main, dict(
        root=str(root), name=NAME, step='manifest', restored_files=taken['restored_files'],
        database_dump_sha256=checked['dump']['sha256']))
    assert refused['failed'] is True
    assert not (root / NAME / 'manifest.json').exists() and not os.path.exists(taken['layout']['database_dump'])


def test_the_manifest_step_syncs_every_file_and_directory_before_the_manifest(run_module, tmp_path, monkeypatch):
    root, taken = make_point(tmp_path, run_module)
    checked = run_module(restore_point_files.main, dict(root=str(root), name=NAME, step='dump'))
    synced = []
    real_fsync = os.fsync

    def fsync(descriptor):
        synced.append(os.readlink('/proc/self/fd/%d' % descriptor))
        real_fsync(descriptor)

    monkeypatch.setattr(os, 'fsync', fsync)
    run_module(restore_point_files.main, dict(root=str(root), name=NAME, step='manifest', restored_files=taken['restored_files'],
                                              database_dump_sha256=checked['dump']['sha256']))
    point = str(root / NAME)
    copy = restore_point.copy_path(point, taken['restored_files'][0]['path'])
    # Every file and directory before the manifest is written (to a temporary name, flushed, renamed, the directory flushed).
    manifest_at = [os.path.basename(path).startswith('.manifest.json.') for path in synced].index(True)
    for path in (copy, os.path.dirname(copy), taken['layout']['database_dump_partial'], point):
        assert path in synced[:manifest_at], path
    assert point in synced[manifest_at + 1:]


def sealed_point(tmp_path, run_module):
    root, taken = make_point(tmp_path, run_module)
    checked = run_module(restore_point_files.main, dict(root=str(root), name=NAME, step='dump'))
    run_module(restore_point_files.main, dict(root=str(root), name=NAME, step='manifest', restored_files=taken['restored_files'],
                                              database_dump_sha256=checked['dump']['sha256']))
    return root, taken['layout']


def flip_one_byte(path):
    data = bytearray(open(path, 'rb').read())
    data[len(data) // 2] ^= 0x01
    open(path, 'wb').write(bytes(data))


def test_verify_names_each_part_that_differs_from_the_manifest(run_module, tmp_path):
    root, layout = sealed_point(tmp_path, run_module)
    manifest, _created = restore_point.read_manifest(layout['path'])
    assert restore_point.verify_contents(layout['path'], manifest) == []

    flip_one_byte(layout['database_dump'])
    copy = restore_point.copy_path(layout['path'], manifest['restored_files'][0]['path'])
    os.unlink(copy)
    differences = restore_point.verify_contents(layout['path'], manifest)
    assert differences == [
        {'part': 'database dump', 'path': layout['database_dump'], 'problem': 'sha256 differs from the manifest'},
        {'part': 'copy of ' + manifest['restored_files'][0]['path'], 'path': copy, 'problem': 'missing'},
    ]


def test_restore_point_info_verifies_a_named_restore_point(run_module, tmp_path):
    root, layout = sealed_point(tmp_path, run_module)
    info = run_module(restore_point_info.main, dict(root=str(root), name=NAME, verify=True))
    assert info['restore_points'][0]['verification'] == {'differences': [], 'checked': sorted(
        item['path'] for item in info['restore_points'][0]['manifest']['contents'])}
    flip_one_byte(layout['database_dump'])
    info = run_module(restore_point_info.main, dict(root=str(root), name=NAME, verify=True))
    assert info['restore_points'][0]['verification']['differences'] == [
        {'part': 'database dump', 'path': layout['database_dump'], 'problem': 'sha256 differs from the manifest'}]
    # Without verify (listing every restore point), nothing is read but the manifests.
    assert 'verification' not in run_module(restore_point_info.main, dict(root=str(root)))['restore_points'][0]


def test_verify_refuses_a_manifest_path_outside_the_restore_point(run_module, tmp_path):
    root, layout = sealed_point(tmp_path, run_module)
    manifest, _created = restore_point.read_manifest(layout['path'])
    outside = write(tmp_path / 'elsewhere', b'x')
    manifest['contents'].append({'path': str(outside), 'checksum': hashlib.sha256(b'x').hexdigest(), 'size': 1})
    assert restore_point.verify_contents(layout['path'], manifest)[-1] == {
        'part': str(outside), 'path': str(outside), 'problem': 'outside the restore point'}
