# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The restore point: its layout on disk, its manifest, and how its files are taken.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

The one definition of a restore point, used by the modules restore_point_info (which returns the
layout and the manifest to the rollback and redis_teardown roles) and restore_point_files (which
the restore_point role calls to take the files and write the manifest). No role spells a path of
the layout: they read it from those modules' results.

A restore point is a directory <root>/<name>, mode 0700. Its name is its UTC time and the tag of its host and
app dir (20261126T071900Z-3f9a0c12), so that the apps of one host, or hosts sharing a root, never take one name:

    files/<absolute path>    byte copies of the files the migration changes (mode 0600, the file's mtime)
    database.sql.gz          the app database's dump (database.partial.sql.gz until it is checked and listed)
    pip-freeze.txt           the virtualenv's packages
    git-commit.txt           the checked-out commit
    settings-plan.json       the settings statements the migration changes
    redis/dump.rdb           the Redis snapshot
    redis/container.json     the Redis container's configuration
    manifest.json            written last: the restore point is valid only once it is there
    migrated.json            the kept files' checksums as the migration left them

<root>/current-<tag> links to the restore point of a migration under way of that host and app dir.
<root>/current is the link of releases before 1.3.0, still read (and removed once finished) when the manifest it
links to is this host's and app's. A manifest names its host and app dir; an older one that names neither counts
for any.
"""

from __future__ import annotations

import datetime
import errno
import grp
import gzip
import hashlib
import json
import os
import pwd
import re
import stat
import tempfile
import zlib

MANIFEST = 'manifest.json'
MIGRATED = 'migrated.json'
CURRENT = 'current'
FILES = 'files'
CREATED_FORMAT = '%Y%m%dT%H%M%SZ'
BARE_NAME = re.compile(r'^[0-9A-Za-z_][0-9A-Za-z_.-]*$')
# Hex digits of the tag of a host and an app dir in the names of its restore points and of its current link.
TAG_LENGTH = 8
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600

# Every file of the layout, relative to the restore point: the one list that roles read paths from.
LAYOUT = {
    'files': FILES,
    'database_dump': 'database.sql.gz',
    # Where the dump is written and checked; renamed to database_dump once the manifest lists it.
    # It ends in .gz: community.mysql's mysql_db picks the compressor by the target's extension.
    'database_dump_partial': 'database.partial.sql.gz',
    'pip_freeze': 'pip-freeze.txt',
    'git_commit': 'git-commit.txt',
    'settings_plan': 'settings-plan.json',
    # The migration plan this restore point was taken for (docs/plan.md).
    'plan': 'plan.json',
    'redis': 'redis',
    'redis_dump': 'redis/dump.rdb',
    'redis_container': 'redis/container.json',
    'manifest': MANIFEST,
    'migrated': MIGRATED,
}
# What a rollback calls each part when it differs from the manifest.
PART_NAMES = {
    'database_dump': 'database dump',
    'pip_freeze': 'pip freeze',
    'git_commit': 'git commit',
    'settings_plan': 'settings plan',
    'plan': 'migration plan',
    'redis_dump': 'Redis snapshot',
    'redis_container': 'Redis container',
}
# The last line mysqldump (mariadb-dump) writes once every table is dumped, with or without --dump-date.
DUMP_TRAILER = b'-- Dump completed'
# The manifest's keys for each kept file: where it was, its sha256, and what a rollback restores.
# mtime_ns: the modification time in nanoseconds (os.stat's st_mtime_ns, exact); manifests before 1.3.0 lack it.
RESTORED_FILE_KEYS = ('path', 'checksum', 'mode', 'pw_name', 'gr_name', 'size', 'mtime_ns')


def layout(path):
    """The absolute paths of a restore point's parts, by the names of LAYOUT, plus `path` itself."""
    parts = {key: os.path.join(path, relative) for key, relative in LAYOUT.items()}
    parts['path'] = path
    return parts


def copy_path(path, source):
    """Where the restore point at `path` keeps its copy of the absolute file `source`."""
    if not os.path.isabs(source):
        raise ValueError('a kept file must be an absolute path, not %r' % source)
    return os.path.join(path, FILES, os.path.normpath(source).lstrip(os.sep))


def copies(path, manifest):
    """{kept file: its copy} for the files the manifest lists."""
    return {item['path']: copy_path(path, item['path']) for item in manifest.get('restored_files', [])}


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def describe(source):
    """The manifest entry of a file to keep, or None when it does not exist."""
    try:
        info = os.stat(source)
    except OSError as error:
        if error.errno == errno.ENOENT:
            return None
        raise
    return {
        'path': source,
        'checksum': sha256(source),
        'mode': '%04o' % stat.S_IMODE(info.st_mode),
        'pw_name': _name(pwd.getpwuid, info.st_uid),
        'gr_name': _name(grp.getgrgid, info.st_gid),
        'size': info.st_size,
        'mtime_ns': info.st_mtime_ns,
    }


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def directories_to_make(root, path, sources):
    """The directories a restore point of these files needs, parents first."""
    wanted = [root, path, os.path.join(path, 'redis'), os.path.join(path, FILES)]
    for source in sources:
        parent = os.path.dirname(copy_path(path, source))
        chain = []
        while parent not in wanted and parent.startswith(path + os.sep):
            chain.append(parent)
            parent = os.path.dirname(parent)
        wanted.extend(reversed(chain))
    return wanted


def make_directories(directories, check_mode):
    """Create the missing ones and make every one 0700 (the root too: the restore points hold secrets);
    return those that were (or, in check mode, would be) created or changed."""
    changed = []
    for directory in directories:
        if os.path.isdir(directory) and stat.S_IMODE(os.stat(directory).st_mode) == DIRECTORY_MODE:
            continue
        changed.append(directory)
        if not check_mode:
            if not os.path.isdir(directory):
                os.mkdir(directory, DIRECTORY_MODE)
            os.chmod(directory, DIRECTORY_MODE)
    return changed


def fsync_path(path):
    """Flush a file or a directory (its entries: a rename, a new file) to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def rename_durably(source, dest):
    """Rename and flush the directory, so that the new name survives a crash."""
    os.rename(source, dest)
    fsync_path(os.path.dirname(dest))


def write_private(dest, data, mtime_ns=None):
    """Write bytes to dest atomically (a temporary file beside it, flushed, then renamed), mode 0600,
    with the modification time mtime_ns when given."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(dest), prefix='.' + os.path.basename(dest) + '.')
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(data)
            out.flush()
            if mtime_ns is not None:
                os.utime(out.fileno(), ns=(os.fstat(out.fileno()).st_atime_ns, mtime_ns))
            os.fsync(out.fileno())
        os.chmod(temporary, FILE_MODE)
        rename_durably(temporary, dest)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def keep_file(path, entry, check_mode):
    """Copy a kept file into the restore point, with its mtime, unless an identical copy is there; True if it was copied.
    The copy keeps the mtime because ansible.builtin.copy (remote_src) gives its mtime to the file a rollback puts back."""
    dest = copy_path(path, entry['path'])
    if (os.path.isfile(dest) and sha256(dest) == entry['checksum'] and stat.S_IMODE(os.stat(dest).st_mode) == FILE_MODE
            and os.stat(dest).st_mtime_ns == entry['mtime_ns']):
        return False
    if not check_mode:
        # Kept files are settings, env and requirements files: small enough to copy through memory.
        with open(entry['path'], 'rb') as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != entry['checksum']:
            raise ValueError('%s changed while it was copied into the restore point' % entry['path'])
        write_private(dest, data, entry['mtime_ns'])
    return True


def restore_times(restored_files, check_mode):
    """Put back on each kept file (through a link, on the file it names) the mtime the manifest records, keeping its atime.
    Return (the paths whose mtime was, or in check mode would be, set; the paths the manifest records no mtime for).
    A missing file counts as one to set in check mode only: the rollback's copy, which check mode skips, creates it."""
    restored, unrecorded = [], []
    for item in restored_files:
        recorded = item.get('mtime_ns')
        if not isinstance(recorded, int):
            unrecorded.append(item['path'])
            continue
        try:
            info = os.stat(item['path'])
        except FileNotFoundError:
            if not check_mode:
                raise
            restored.append(item['path'])
            continue
        if info.st_mtime_ns != recorded:
            restored.append(item['path'])
            if not check_mode:
                os.utime(item['path'], ns=(info.st_atime_ns, recorded))
    return restored, unrecorded


def contents(path):
    """Every file the restore point holds, its manifest excepted: path, sha256 and size, sorted."""
    found = []
    for directory, subdirectories, names in os.walk(path):
        subdirectories.sort()
        for name in sorted(names):
            file_path = os.path.join(directory, name)
            if file_path == os.path.join(path, MANIFEST) or not os.path.isfile(file_path):
                continue
            found.append({'path': file_path, 'checksum': sha256(file_path), 'size': os.path.getsize(file_path)})
    return found


def sync_tree(path):
    """Flush every file of a restore point, then every directory, deepest first: what other modules and
    mysqldump wrote there is on the disk before the manifest says the restore point is whole."""
    directories = []
    for directory, _subdirectories, names in os.walk(path):
        directories.append(directory)
        for name in names:
            if os.path.isfile(os.path.join(directory, name)):
                fsync_path(os.path.join(directory, name))
    for directory in reversed(directories):
        fsync_path(directory)


class _HashingReader:
    """A file's reader that hashes what is read: the dump is hashed and decompressed in one pass."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def check_dump(path):
    """Check a gzipped mysqldump: {'sha256', 'size', 'problem'}. problem is None for a whole dump, else
    'empty', 'not_gzip' (what `gzip -t` refuses: a cut or changed stream, a bad CRC or length) or
    'no_trailer' (a valid gzip whose SQL lacks mysqldump's last line: the dump stopped before the end)."""
    size = os.path.getsize(path)
    with open(path, 'rb') as handle:
        reader = _HashingReader(handle)
        tail, problem = b'', None
        try:
            with gzip.GzipFile(fileobj=reader, mode='rb') as stream:
                for block in iter(lambda: stream.read(1 << 20), b''):
                    tail = (tail + block)[-4096:]
        except (OSError, EOFError, zlib.error):
            problem = 'not_gzip'
        reader.digest.update(handle.read())
    if size == 0:
        problem = 'empty'
    elif problem is None and not (tail.rstrip().splitlines() or [b''])[-1].startswith(DUMP_TRAILER):
        problem = 'no_trailer'
    return {'sha256': reader.digest.hexdigest(), 'size': size, 'problem': problem}


def part_name(path, file_path):
    """What a file of the restore point at `path` is, in words: 'database dump', 'copy of /srv/app/.env', ..."""
    for key, name in PART_NAMES.items():
        if file_path == os.path.join(path, LAYOUT[key]):
            return name
    files = os.path.join(path, FILES)
    if file_path.startswith(files + os.sep):
        return 'copy of ' + file_path[len(files):]
    return os.path.relpath(file_path, path) if file_path.startswith(path + os.sep) else file_path


def verify_contents(path, manifest):
    """Compare each file the manifest lists (contents) with the file now: the differences, each
    {'part', 'path', 'problem'} (problem: 'missing', 'sha256 differs from the manifest', 'outside the restore point')."""
    differences = []
    for item in manifest['contents']:
        file_path = os.path.normpath(str(item.get('path', '')))
        if not file_path.startswith(path + os.sep):
            problem = 'outside the restore point'
        elif not os.path.isfile(file_path):
            problem = 'missing'
        elif sha256(file_path) != item.get('checksum'):
            problem = 'sha256 differs from the manifest'
        else:
            continue
        differences.append({'part': part_name(path, file_path), 'path': file_path, 'problem': problem})
    return differences


def manifest_bytes(manifest):
    return (json.dumps(manifest, indent=4, sort_keys=True) + '\n').encode('utf-8')


def read_manifest(directory):
    """Return (manifest, created datetime) of a restore point directory, or raise ValueError with the reason."""
    path = os.path.join(directory, MANIFEST)
    if not os.path.isfile(path):
        raise ValueError('no %s' % MANIFEST)
    try:
        with open(path, encoding='utf-8') as handle:
            manifest = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ValueError('%s is not readable JSON: %s' % (MANIFEST, error)) from None
    if not isinstance(manifest, dict):
        raise ValueError('%s is not a JSON object' % MANIFEST)
    for key in ('restored_files', 'contents'):
        if not isinstance(manifest.get(key), list):
            raise ValueError('%s has no list %s' % (MANIFEST, key))
    try:
        created = datetime.datetime.strptime(str(manifest.get('created')), CREATED_FORMAT)
    except ValueError:
        raise ValueError('%s has no created time like 20261126T071900Z' % MANIFEST) from None
    return manifest, created


def read_migrated(directory):
    """The record of the files after the migration, or None when there is none or it is not usable."""
    try:
        with open(os.path.join(directory, MIGRATED), encoding='utf-8') as handle:
            record = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get('files'), list) else None


def tag(host, app_dir):
    """The short tag of a host and an app dir: the same on every run, another for another host or app dir."""
    key = '%s\n%s' % (host, os.path.normpath(app_dir))
    return hashlib.sha256(key.encode('utf-8')).hexdigest()[:TAG_LENGTH]


def point_name(moment, host, app_dir):
    """The name of a restore point taken at `moment` (a UTC datetime) for this host and app dir."""
    return '%s-%s' % (moment.strftime(CREATED_FORMAT), tag(host, app_dir))


def created_of(name):
    """The created time (20261126T071900Z) a restore point's name begins with, or the name when it begins with none."""
    stamp = name[:len('20261126T071900Z')]
    try:
        datetime.datetime.strptime(stamp, CREATED_FORMAT)
    except ValueError:
        return name
    return stamp if name == stamp or name[len(stamp)] == '-' else name


def current_link(root, host, app_dir):
    """The link to the restore point of a migration under way of this host and app dir (<root>/current without them)."""
    if host is None or app_dir is None:
        return os.path.join(root, CURRENT)
    return os.path.join(root, '%s-%s' % (CURRENT, tag(host, app_dir)))


def owner_problem(manifest, host, app_dir):
    """Why a manifest is another host's or app's restore point, or None (one that names neither counts for any)."""
    recorded_host, recorded_dir = manifest.get('host'), manifest.get('app_dir')
    if host is not None and recorded_host is not None and recorded_host != host:
        return 'the restore point of host %s, not of %s' % (recorded_host, host)
    if app_dir is not None and recorded_dir is not None and os.path.normpath(str(recorded_dir)) != os.path.normpath(app_dir):
        return 'the restore point of the app in %s, not of the app in %s' % (recorded_dir, app_dir)
    return None


def linked_name(root, link):
    """The name of the directory of `root` that `link` links to, or None."""
    if not os.path.islink(link):
        return None
    target = os.path.realpath(link)
    return os.path.basename(target) if os.path.dirname(target) == os.path.realpath(root) else None


def current_links(root, host, app_dir):
    """The links that may mark this host's and app's migration under way: its own, then the one of older releases."""
    own = current_link(root, host, app_dir)
    return [own] if own == os.path.join(root, CURRENT) else [own, os.path.join(root, CURRENT)]


def list_restore_points(root, name=None, host=None, app_dir=None):
    """Return (this host's and app's restore points newest first, skipped directories, name of the current one).

    With host and app_dir, a restore point whose manifest names another host or app dir is skipped, and only
    one of this host's and app's counts as current."""
    points, skipped = [], []
    if not os.path.isdir(root):
        return points, skipped, None
    names = [name] if name is not None else sorted(os.listdir(root))
    for entry in names:
        directory = os.path.join(root, entry)
        if os.path.islink(directory) or not os.path.isdir(directory):
            if name is not None:
                skipped.append({'name': entry, 'reason': 'no such directory'})
            continue
        try:
            manifest, created = read_manifest(directory)
        except ValueError as error:
            skipped.append({'name': entry, 'reason': str(error)})
            continue
        problem = owner_problem(manifest, host, app_dir)
        if problem is not None:
            skipped.append({'name': entry, 'reason': problem})
            continue
        points.append({
            'name': entry,
            'path': directory,
            'created': created.strftime('%Y-%m-%dT%H:%M:%SZ'),
            'manifest': manifest,
            'migrated': read_migrated(directory),
            'layout': layout(directory),
            'copies': copies(directory, manifest),
            'recorded_owner': manifest.get('host') is not None and manifest.get('app_dir') is not None,
        })
    points.sort(key=lambda point: (point['created'], point['name']), reverse=True)
    return points, skipped, current_point(root, host, app_dir)


def marked_point(root, link, host, app_dir):
    """The name of the restore point that `link` marks when it is a valid one of this host and app, else None."""
    linked = linked_name(root, link)
    if linked is None:
        return None
    try:
        manifest, _created = read_manifest(os.path.join(root, linked))
    except ValueError:
        return None
    return linked if owner_problem(manifest, host, app_dir) is None else None


def current_point(root, host, app_dir):
    """The name of this host's and app's restore point that a current link marks, or None."""
    marked = [marked_point(root, link, host, app_dir) for link in current_links(root, host, app_dir)]
    return next((name for name in marked if name is not None), None)
