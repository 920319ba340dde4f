"""Unit tests of the restore point's one definition (plugins/module_utils/_restore_point.py), on real
files in a temporary directory, and of restore_point_files, the module that takes the file part."""
from __future__ import annotations

import hashlib
import json
import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mall.cache_migration.plugins.filter import restore_point_layout
from ansible_collections.mall.cache_migration.plugins.module_utils import _restore_point as restore_point
from ansible_collections.mall.cache_migration.plugins.modules import restore_point_files, restore_point_info


def test_the_layout_names_every_part_under_the_restore_point():
    parts = restore_point.layout('/backups/20261126T071900Z')
    assert parts['path'] == '/backups/20261126T071900Z'
    assert parts['redis_dump'] == '/backups/20261126T071900Z/redis/dump.rdb'
    assert parts['redis_container'] == '/backups/20261126T071900Z/redis/container.json'
    assert parts['manifest'] == '/backups/20261126T071900Z/manifest.json'
    assert parts['database_dump'] == '/backups/20261126T071900Z/database.sql.gz'
    assert set(parts) == set(restore_point.LAYOUT) | {'path'}


@pytest.mark.parametrize('source, copy', [
    ('/srv/app/.env', '/rp/files/srv/app/.env'),
    ('/srv/app/../app/settings.py', '/rp/files/srv/app/settings.py'),
    ('//srv//x', '/rp/files/srv/x'),
])
def test_a_kept_file_is_copied_under_files_by_its_absolute_path(source, copy):
    assert restore_point.copy_path('/rp', source) == copy


def test_a_relative_kept_file_is_refused():
    with pytest.raises(ValueError, match='absolute path'):
        restore_point.copy_path('/rp', 'settings.py')


def test_the_directories_are_made_parents_first_and_once(tmp_path):
    root, point = str(tmp_path / 'root'), str(tmp_path / 'root' / 'p')
    wanted = restore_point.directories_to_make(root, point, ['/srv/a/b.py', '/srv/a/c.py', '/etc/x'])
    assert wanted == [root, point, point + '/redis', point + '/files', point + '/files/srv',
                      point + '/files/srv/a', point + '/files/etc']
    assert restore_point.make_directories(wanted, check_mode=True) == wanted
    assert not os.path.exists(root)
    assert restore_point.make_directories(wanted, check_mode=False) == wanted
    assert {oct(os.stat(d).st_mode & 0o777) for d in wanted} == {'0o700'}
    assert restore_point.make_directories(wanted, check_mode=False) == []
    os.chmod(root, 0o755)
    assert restore_point.make_directories(wanted, check_mode=False) == [root]
    assert os.stat(root).st_mode & 0o777 == 0o700


def test_describe_records_what_a_rollback_restores(tmp_path):
    kept = tmp_path / 'settings.py'
    kept.write_bytes(b'CACHES = {}\n')
    kept.chmod(0o640)
    entry = restore_point.describe(str(kept))
    assert entry['checksum'] == hashlib.sha256(b'CACHES = {}\n').hexdigest()
    assert entry['mode'] == '0640' and entry['size'] == 12 and entry['pw_name'] and entry['gr_name']
    assert entry['mtime_ns'] == os.stat(kept).st_mtime_ns
    assert sorted(entry) == sorted(restore_point.RESTORED_FILE_KEYS)
    assert restore_point.describe(str(tmp_path / 'absent')) is None


def test_keep_file_copies_once_and_refuses_a_file_that_changed(tmp_path):
    point = tmp_path / 'p'
    kept = tmp_path / 'srv' / '.env'
    kept.parent.mkdir()
    kept.write_text('A=1\n')
    entry = restore_point.describe(str(kept))
    restore_point.make_directories(restore_point.directories_to_make(str(tmp_path), str(point), [str(kept)]), False)
    assert restore_point.keep_file(str(point), entry, check_mode=True) is True
    copy = restore_point.copy_path(str(point), str(kept))
    assert not os.path.exists(copy)
    assert restore_point.keep_file(str(point), entry, check_mode=False) is True
    assert open(copy).read() == 'A=1\n' and oct(os.stat(copy).st_mode & 0o777) == '0o600'
    assert restore_point.keep_file(str(point), entry, check_mode=False) is False
    kept.write_text('A=2\n')
    os.unlink(copy)
    with pytest.raises(ValueError, match='changed while it was copied'):
        restore_point.keep_file(str(point), entry, check_mode=False)
    assert not os.path.exists(copy) and os.listdir(os.path.dirname(copy)) == []


def make_project(tmp_path):
    project = tmp_path / 'srv'
    (project / 'settings').mkdir(parents=True)
    (project / 'settings' / 'base.py').write_text('CACHES = {"default": {}}\n')
    (project / '.env').write_text('REDIS_URL=redis://x\n')
    return project


def take(run_module, root, project, check_mode=False):
    return run_module(restore_point_files.main, dict(
        root=str(root), name='20261126T071900Z',
        files=[str(project / 'settings' / 'base.py'), str(project / '.env'), str(project / 'absent.yml')]),
        check_mode=check_mode)


def test_files_then_manifest_make_a_restore_point_that_restore_point_info_reads(run_module, tmp_path):
    root, project = tmp_path / 'backups', make_project(tmp_path)
    dry = take(run_module, root, project, check_mode=True)
    assert dry['changed'] is True and not root.exists()
    taken = take(run_module, root, project)
    assert taken['changed'] is True
    assert taken['missing'] == [str(project / 'absent.yml')]
    assert [e['path'] for e in taken['restored_files']] == [str(project / 'settings' / 'base.py'), str(project / '.env')]
    point = root / '20261126T071900Z'
    assert taken['path'] == str(point) and taken['layout'] == restore_point.layout(str(point))
    assert (point / 'files' / str(project / '.env').lstrip('/')).read_text() == 'REDIS_URL=redis://x\n'
    assert take(run_module, root, project)['changed'] is False

    (point / 'redis' / 'dump.rdb').write_bytes(b'REDIS0011')
    args = dict(root=str(root), name='20261126T071900Z', step='manifest', restored_files=taken['restored_files'],
                metadata={'host': 'web-01', 'app_dir': str(project)})
    sealed = run_module(restore_point_files.main, args)
    assert sealed['changed'] is True
    assert os.readlink(root / 'current') == str(point)
    manifest = json.loads((point / 'manifest.json').read_text())
    assert manifest['created'] == '20261126T071900Z' and manifest['host'] == 'web-01'
    assert manifest['restored_files'] == taken['restored_files']
    contents = {item['path']: item['checksum'] for item in manifest['contents']}
    assert contents[str(point / 'redis' / 'dump.rdb')] == hashlib.sha256(b'REDIS0011').hexdigest()
    assert str(point / 'manifest.json') not in contents and len(contents) == 3
    assert oct((point / 'manifest.json').stat().st_mode & 0o777) == '0o600'
    assert run_module(restore_point_files.main, args)['changed'] is False

    info = run_module(restore_point_info.main, dict(root=str(root)))
    assert info['current'] == '20261126T071900Z' and info['current_link'] == str(root / 'current')
    found = info['restore_points'][0]
    assert found['manifest'] == manifest and found['layout'] == taken['layout']
    assert found['copies'] == {e['path']: restore_point.copy_path(str(point), e['path']) for e in taken['restored_files']}


def test_the_manifest_step_writes_the_parts_given_and_lists_them(run_module, tmp_path):
    root, project = tmp_path / 'backups', make_project(tmp_path)
    taken = take(run_module, root, project)
    point = root / '20261126T071900Z'
    parts = {'pip_freeze': 'Django==4.2.30\nredis==5.0.1\n', 'git_commit': 'a' * 40 + '\n', 'settings_plan': '{"plan": []}\n'}
    args = dict(root=str(root), name='20261126T071900Z', step='manifest', restored_files=taken['restored_files'], parts=parts)
    dry = run_module(restore_point_files.main, args, check_mode=True)
    assert dry['changed'] is True and dry['parts_written'] == ['git_commit', 'pip_freeze', 'settings_plan']
    assert not (point / 'pip-freeze.txt').exists() and not (point / 'manifest.json').exists()
    sealed = run_module(restore_point_files.main, args)
    assert sealed['parts_written'] == ['git_commit', 'pip_freeze', 'settings_plan']
    for part, text in parts.items():
        written = taken['layout'][part]
        assert open(written).read() == text and oct(os.stat(written).st_mode & 0o777) == '0o600'
    contents = {item['path']: item['checksum'] for item in sealed['manifest']['contents']}
    assert contents[taken['layout']['pip_freeze']] == hashlib.sha256(parts['pip_freeze'].encode()).hexdigest()
    again = run_module(restore_point_files.main, args)
    assert again['changed'] is False and again['parts_written'] == []


def test_a_part_outside_the_written_ones_is_refused_before_anything_is_written(run_module, tmp_path):
    root, project = tmp_path / 'backups', make_project(tmp_path)
    take(run_module, root, project)
    result = run_module(restore_point_files.main, dict(root=str(root), name='20261126T071900Z', step='manifest',
                                                       parts={'pip_freeze': 'x\n', 'manifest': '{}'}))
    assert result['failed'] is True and 'not manifest' in result['msg']
    assert not (root / '20261126T071900Z' / 'manifest.json').exists()
    assert not (root / '20261126T071900Z' / 'pip-freeze.txt').exists()


def test_migrated_records_the_files_as_the_migration_left_them(run_module, tmp_path):
    root, project = tmp_path / 'backups', make_project(tmp_path)
    taken = take(run_module, root, project)
    run_module(restore_point_files.main, dict(root=str(root), name='20261126T071900Z', step='manifest',
                                              restored_files=taken['restored_files']))
    (project / '.env').write_text('')
    args = dict(root=str(root), name='20261126T071900Z', step='migrated')
    recorded = run_module(restore_point_files.main, args)
    assert recorded['changed'] is True
    assert {f['path']: f['checksum'] for f in recorded['migrated']['files']}[str(project / '.env')] == hashlib.sha256(b'').hexdigest()
    assert restore_point.read_migrated(recorded['path']) == recorded['migrated']
    assert run_module(restore_point_files.main, args)['changed'] is False


def test_finished_removes_only_the_current_link_and_keeps_the_restore_point(run_module, tmp_path):
    root, project = tmp_path / 'backups', make_project(tmp_path)
    taken = take(run_module, root, project)
    run_module(restore_point_files.main, dict(root=str(root), name='20261126T071900Z', step='manifest',
                                              restored_files=taken['restored_files']))
    args = dict(root=str(root), step='finished')
    dry = run_module(restore_point_files.main, args, check_mode=True)
    assert dry['changed'] is True and os.path.islink(root / 'current')
    finished = run_module(restore_point_files.main, args)
    assert finished['changed'] is True and finished['current'] == str(root / 'current')
    assert not os.path.lexists(root / 'current') and (root / '20261126T071900Z' / 'manifest.json').is_file()
    assert run_module(restore_point_files.main, args)['changed'] is False
    info = run_module(restore_point_info.main, dict(root=str(root)))
    assert info['current'] is None and [p['name'] for p in info['restore_points']] == ['20261126T071900Z']


def test_finished_refuses_a_current_that_is_not_a_link(run_module, tmp_path):
    (tmp_path / 'current').mkdir()
    result = run_module(restore_point_files.main, dict(root=str(tmp_path), step='finished'))
    assert result['failed'] is True and 'not a symlink' in result['msg'] and (tmp_path / 'current').is_dir()


def test_the_layout_filter_is_the_layout_of_the_module_utils():
    path = '/var/backups/mall-cache-migration/20261126T071900Z'
    assert restore_point_layout.restore_point_layout(path) == restore_point.layout(path)
    assert restore_point_layout.FilterModule().filters()['restore_point_layout'](path)['redis_dump'] == path + '/redis/dump.rdb'
    for bad in ('relative/20261126T071900Z', None, ''):
        with pytest.raises(AnsibleFilterError, match='absolute path'):
            restore_point_layout.restore_point_layout(bad)


@pytest.mark.parametrize('args, message', [
    (dict(step='files'), 'step=files needs name, or host and app_dir'),
    (dict(name='../x'), 'bare name'),
    (dict(name='p', files=['relative.py']), 'absolute paths'),
    (dict(name='p', step='migrated'), 'is not a restore point (no manifest.json)'),
    (dict(step='times'), 'step is times but all of the following are missing: name'),
    (dict(name='p', step='times'), 'is not a restore point (no manifest.json)'),
])
def test_bad_input_fails_and_changes_nothing(run_module, tmp_path, args, message):
    result = run_module(restore_point_files.main, dict(root=str(tmp_path / 'backups'), **args))
    assert result['failed'] is True and message in result['msg']
    assert not (tmp_path / 'backups').exists()


# Modification times before the restore point, to the nanosecond; the link's own time is neither.
SETTINGS_MTIME_NS = 1600000000123456789
ENV_MTIME_NS = 1500000000987654321
LINK_MTIME_NS = 1400000000000000001


def make_timed_project(tmp_path):
    """The project with known mtimes, its .env a link to a shared file (the file it names is the one kept)."""
    project = make_project(tmp_path)
    shared = tmp_path / 'shared' / '.env.production'
    shared.parent.mkdir()
    shared.write_text('REDIS_URL=redis://x\n')
    (project / '.env').unlink()
    (project / '.env').symlink_to(shared)
    os.utime(project / 'settings' / 'base.py', ns=(SETTINGS_MTIME_NS, SETTINGS_MTIME_NS))
    os.utime(shared, ns=(ENV_MTIME_NS, ENV_MTIME_NS))
    os.utime(project / '.env', ns=(LINK_MTIME_NS, LINK_MTIME_NS), follow_symlinks=False)
    return project, shared


def seal(run_module, root, project):
    taken = take(run_module, root, project)
    run_module(restore_point_files.main, dict(root=str(root), name='20261126T071900Z', step='manifest',
                                              restored_files=taken['restored_files']))
    return taken


def test_the_manifest_records_each_files_mtime_and_the_copy_keeps_it(run_module, tmp_path):
    root, (project, shared) = tmp_path / 'backups', make_timed_project(tmp_path)
    taken = seal(run_module, root, project)
    point = root / '20261126T071900Z'
    recorded = {item['path']: item['mtime_ns'] for item in json.loads((point / 'manifest.json').read_text())['restored_files']}
    # A link: the time of the file it names, as its sha256 is that file's.
    assert recorded == {str(project / 'settings' / 'base.py'): SETTINGS_MTIME_NS, str(project / '.env'): ENV_MTIME_NS}
    assert {path: os.stat(copy).st_mtime_ns for path, copy in restore_point.copies(str(point), {'restored_files': taken['restored_files']}).items()} == recorded
    assert take(run_module, root, project)['changed'] is False
    copy = restore_point.copy_path(str(point), str(project / 'settings' / 'base.py'))
    os.utime(copy)
    again = take(run_module, root, project)
    assert again['changed'] is True and again['copied'] == [str(project / 'settings' / 'base.py')]
    assert os.stat(copy).st_mtime_ns == SETTINGS_MTIME_NS


def test_times_puts_the_recorded_mtimes_back_once_and_changes_nothing_in_check_mode(run_module, tmp_path):
    root, (project, shared) = tmp_path / 'backups', make_timed_project(tmp_path)
    seal(run_module, root, project)
    # The migration: one file rewritten, the other written back with the same bytes (a git checkout does that).
    (project / 'settings' / 'base.py').write_text('CACHES = {"default": {"BACKEND": "db"}}\n')
    shared.write_text('REDIS_URL=redis://x\n')
    migrated = {path: os.stat(path).st_mtime_ns for path in (project / 'settings' / 'base.py', shared)}
    args = dict(root=str(root), name='20261126T071900Z', step='times')
    expected = [str(project / 'settings' / 'base.py'), str(project / '.env')]

    dry = run_module(restore_point_files.main, args, check_mode=True)
    assert (dry['changed'], dry['times_restored'], dry['times_unrecorded']) == (True, expected, [])
    assert {path: os.stat(path).st_mtime_ns for path in migrated} == migrated

    restored = run_module(restore_point_files.main, args)
    assert (restored['changed'], restored['times_restored']) == (True, expected)
    assert os.stat(project / 'settings' / 'base.py').st_mtime_ns == SETTINGS_MTIME_NS
    assert os.stat(shared).st_mtime_ns == ENV_MTIME_NS
    assert (project / '.env').is_symlink() and os.lstat(project / '.env').st_mtime_ns == LINK_MTIME_NS

    again = run_module(restore_point_files.main, args)
    assert (again['changed'], again['times_restored']) == (False, [])


def test_times_leaves_the_files_of_a_manifest_without_mtimes_as_they_are(run_module, tmp_path):
    root, project = tmp_path / 'backups', make_project(tmp_path)
    point = root / '20261126T071900Z'
    point.mkdir(parents=True)
    settings = project / 'settings' / 'base.py'
    # As the manifests before 1.3.0 list a kept file.
    older = {'path': str(settings), 'checksum': 'ab', 'mode': '0644', 'pw_name': 'root', 'gr_name': 'root', 'size': 1}
    (point / 'manifest.json').write_text(json.dumps({'created': '20261126T071900Z', 'restored_files': [older], 'contents': []}))
    before = os.stat(settings).st_mtime_ns
    result = run_module(restore_point_files.main, dict(root=str(root), name='20261126T071900Z', step='times'))
    assert (result['changed'], result['times_restored'], result['times_unrecorded']) == (False, [], [str(settings)])
    assert os.stat(settings).st_mtime_ns == before
