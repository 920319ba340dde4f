#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: restore_point_files
short_description: Take the files of a restore point, write its manifest, record the files after the migration
version_added: 1.1.0
description:
  - The file part of a restore point in one call per step, where loops of C(file), C(stat) and C(copy)
    tasks made one remote call per file. The layout (C(files/), C(redis/dump.rdb), C(manifest.json),
    C(current), ...) is defined once in the collection's module_utils and returned as RV(layout), so
    roles read the paths from here instead of spelling them.
  - O(step=files) creates the root, the restore point and its C(redis/) and C(files/...) directories
    (mode 0700), and copies each existing file of O(files) to C(files/<its absolute path>) (mode
    0600, with the file's modification time), recording its owner, group, mode, size, sha256 and
    modification time (RV(restored_files)). A copy that is already there with the same sha256 and
    modification time is not written again.
  - O(step=dump) checks the database dump that mysqldump wrote to C(database.partial.sql.gz) (RV(layout.database_dump_partial)),
    a whole gzip stream (what C(gzip -t) checks), mysqldump's last line C(-- Dump completed) at the end of the SQL, a size
    above zero. It makes the file 0600 and returns its sha256 (RV(dump)). A dump that fails a check is removed and the
    module fails with RV(dump.problem); no file is ever left under the dump's final name.
  - O(step=manifest) writes the O(parts) given, flushes every file and directory of the restore point to the disk
    (fsync), lists every file the restore point holds with its sha256, writes C(manifest.json) (flushed too; the
    restore point is valid from then on; it records O(host) and O(app_dir)) and points the C(current) link of this
    host and app (RV(current)) at it. With O(database_dump_sha256), the
    checked dump is listed under its final name C(database.sql.gz) and only then renamed to it.
  - O(step=migrated) records the sha256 of the kept files as they are now (the migration's result)
    in C(migrated.json); a rollback compares with it.
  - O(step=finished) removes the C(current) link of this host and app, since the migration is over; its restore
    point stays for a rollback. The C(<root>/current) link of releases before 1.3.0 is removed too when it links to
    this host's and app's restore point, never when it links to another's.
  - O(step=times), once a rollback has put the kept files back, sets on each the modification time
    that the manifest records (C(mtime_ns), to the nanosecond), keeping its access time, so that
    nothing looks newer than it was (a C(git checkout) or a copy gives a file the time it was written).
    A linked file gets it on the file the link names. A manifest written before 1.3.0 records no
    modification time; those files are listed in RV(times_unrecorded) and keep theirs.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.restore_point
options:
  name:
    description:
      - The restore point's directory under O(root), a bare name. The manifest records as C(created) the UTC time
        it begins with (C(20261126T071900Z)).
      - Omitted with O(step=files), O(host) and O(app_dir), the module names it by the UTC time now and the tag of
        the host and app dir (C(20261126T071900Z-3f9a0c12)), so that the apps of one host and the hosts that share
        O(root) never take one name; RV(path) says which.
      - Required with O(step=dump), O(step=manifest), O(step=migrated) and O(step=times).
      - With O(step=times), the restore point whose manifest records the times.
    type: str
  host:
    description:
      - The host whose restore point this is (the roles pass C(inventory_hostname)), recorded in the manifest.
      - With O(app_dir), names the restore point and the C(current) link of this host and app.
    type: str
    version_added: 1.3.0
  app_dir:
    description:
      - The app dir whose restore point this is (the roles pass C(mall_app_dir)), recorded in the manifest.
      - With O(host), names the restore point and the C(current) link of this host and app.
    type: path
    version_added: 1.3.0
  step:
    description: What to do (see the description).
    type: str
    choices: [files, dump, manifest, migrated, finished, times]
    default: files
  files:
    description:
      - With O(step=files), the absolute paths of the files to keep. A missing one is listed in
        RV(missing) and not kept.
    type: list
    elements: path
    default: []
  restored_files:
    description:
      - With O(step=manifest), the RV(restored_files) of the O(step=files) call, recorded in the manifest.
    type: list
    elements: dict
    default: []
  metadata:
    description: With O(step=manifest), more keys of the manifest (O(host) and O(app_dir) are recorded from their options).
    type: dict
    default: {}
  parts:
    description:
      - With O(step=manifest), the text of parts of the layout to write (mode 0600) before the manifest lists
        them, by their names in RV(layout) (C(pip_freeze), C(git_commit), C(settings_plan), C(plan)); one call
        where a C(copy) task per part was several. A part whose file holds that text already is not written again.
      - Not logged, as the C(content) of M(ansible.builtin.copy) is not.
    type: dict
    default: {}
  database_dump_sha256:
    description:
      - With O(step=manifest), the RV(dump.sha256) that O(step=dump) returned; the manifest lists the dump under its
        final name with it, and the dump is then renamed to that name. A dump whose sha256 is no longer that one is
        refused, nothing written.
      - Not given (the restore point names another host's dump, or a check-mode run), no dump is listed or renamed.
    type: str
    version_added: 1.2.0
attributes:
  check_mode:
    support: full
    details:
      - Reports what it would create or write and changes nothing. RV(restored_files) is computed
        from the files as they are.
  diff_mode:
    support: none
  idempotent:
    support: full
seealso:
  - module: mall.cache_migration.restore_point_info
    description: Lists the restore points with their layout and manifest.
'''

EXAMPLES = r'''
- name: Keep the files the migration changes, in a restore point named by the time and the host's and app's tag
  mall.cache_migration.restore_point_files:
    root: /var/backups/mall-cache-migration
    host: "{{ inventory_hostname }}"
    app_dir: /srv/mall-server
    files:
      - /srv/mall-server/mall_server/settings/base.py
      - /srv/mall-server/.env.production
  register: __restore_point_taken

- name: Write the pip freeze and the manifest, and mark the restore point as the one under way
  mall.cache_migration.restore_point_files:
    root: /var/backups/mall-cache-migration
    name: "{{ __restore_point_taken.path | basename }}"
    host: "{{ inventory_hostname }}"
    app_dir: /srv/mall-server
    step: manifest
    restored_files: "{{ __restore_point_taken.restored_files }}"
    parts:
      pip_freeze: "Django==4.2.30\n"

- name: Once the migration is checked, mark it as finished (its restore point stays for a rollback)
  mall.cache_migration.restore_point_files:
    root: /var/backups/mall-cache-migration
    host: "{{ inventory_hostname }}"
    app_dir: /srv/mall-server
    step: finished

- name: After a rollback put the files back, give them the modification times the manifest records
  mall.cache_migration.restore_point_files:
    root: /var/backups/mall-cache-migration
    name: 20261126T071900Z
    step: times
'''

RETURN = r'''
dump:
  description: With O(step=dump), the dump checked.
  returned: when O(step=dump)
  type: dict
  version_added: 1.2.0
  contains:
    path: {description: The dump's temporary path., type: str}
    size: {description: Its size in bytes., type: int}
    sha256: {description: Its sha256 (when every check passed)., type: str}
    problem: {description: "The check it failed: C(empty), C(not_gzip) or C(no_trailer) (on failure only).", type: str}
  sample: {"path": "/var/backups/mall-cache-migration/20261126T071900Z/database.partial.sql.gz", "sha256": "3b1c...", "size": 48213}
database_dump:
  description: With O(step=manifest) and O(database_dump_sha256), the dump as the manifest lists it (C(path), C(sha256)).
  returned: when O(step=manifest) and O(database_dump_sha256) is given
  type: dict
  version_added: 1.2.0
path:
  description: The restore point's directory.
  returned: unless O(step=finished)
  type: str
  sample: /var/backups/mall-cache-migration/20261126T071900Z
layout:
  description: The absolute path of each part of the restore point, whether it exists yet or not.
  returned: unless O(step=finished)
  type: dict
  contains:
    path: {description: The restore point's directory., type: str}
    files: {description: The directory of the kept files' copies (C(files/<absolute path>)), type: str}
    database_dump: {description: The app database's dump., type: str}
    database_dump_partial: {description: Where the dump is written and checked before the manifest lists it., type: str}
    pip_freeze: {description: The virtualenv's pip freeze., type: str}
    git_commit: {description: The checked-out commit., type: str}
    settings_plan: {description: The settings statements the migration changes., type: str}
    plan: {description: The migration plan the restore point was taken for (docs/plan.md)., type: str}
    redis: {description: The directory of the Redis data., type: str}
    redis_dump: {description: The Redis snapshot., type: str}
    redis_container: {description: The Redis container's configuration., type: str}
    manifest: {description: The manifest., type: str}
    migrated: {description: The kept files' checksums after the migration., type: str}
  sample: {"path": "/var/backups/mall-cache-migration/20261126T071900Z",
           "redis_dump": "/var/backups/mall-cache-migration/20261126T071900Z/redis/dump.rdb"}
current:
  description:
    - The path of the link to the restore point of a migration under way of this host and app (C(current-<tag>) with
      O(host) and O(app_dir), C(current) without).
  returned: always
  type: str
  sample: /var/backups/mall-cache-migration/current-3f9a0c12
restored_files:
  description:
    - With O(step=files), each kept file with its owner, group, mode, size, sha256 and modification time
      (C(mtime_ns), nanoseconds since the epoch, version 1.3.0 and later).
  returned: when O(step=files)
  type: list
  elements: dict
  sample: [{"path": "/srv/mall-server/.env.production", "checksum": "9f2c...", "mode": "0640",
            "pw_name": "mall", "gr_name": "mall", "size": 412, "mtime_ns": 1796676208341256569}]
missing:
  description: With O(step=files), the files of O(files) that do not exist.
  returned: when O(step=files)
  type: list
  elements: str
  sample: ["/srv/mall-server/docker-compose.dev.yml"]
copied:
  description: With O(step=files), the files copied (or, in check mode, to copy) into the restore point.
  returned: when O(step=files)
  type: list
  elements: str
manifest:
  description: With O(step=manifest), the manifest written.
  returned: when O(step=manifest)
  type: dict
  sample: {"created": "20261126T071900Z", "host": "mall-web-01", "restored_files": [], "contents": []}
parts_written:
  description: With O(step=manifest), the names of the O(parts) written (in check mode, that would be), sorted.
  returned: when O(step=manifest)
  type: list
  elements: str
  sample: [git_commit, pip_freeze, settings_plan]
migrated:
  description: With O(step=migrated), the record written (C(recorded) and C(files), each C(path) and C(checksum)).
  returned: when O(step=migrated)
  type: dict
times_restored:
  description: With O(step=times), the kept files whose modification time was (in check mode, would be) set, in the manifest's order.
  returned: when O(step=times)
  type: list
  elements: str
  version_added: 1.3.0
  sample: ["/srv/mall-server/mall_server/settings/base.py"]
times_unrecorded:
  description: With O(step=times), the kept files whose manifest records no modification time (written before 1.3.0), left as they are.
  returned: when O(step=times)
  type: list
  elements: str
  version_added: 1.3.0
'''

import datetime
import json
import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.mall.cache_migration.plugins.module_utils import _restore_point as restore_point

# The parts of the layout that the role writes as text; the others are the module's own or a dump's.
WRITABLE_PARTS = ('git_commit', 'pip_freeze', 'plan', 'settings_plan')


def take_files(module, root, path):
    described, missing = [], []
    for source in module.params['files']:
        if not os.path.isabs(source):
            module.fail_json(msg='files must be absolute paths, not %r. Nothing was changed.' % source)
        entry = restore_point.describe(source)
        if entry is None:
            missing.append(source)
        else:
            described.append(entry)
    made = restore_point.make_directories(
        restore_point.directories_to_make(root, path, [entry['path'] for entry in described]), module.check_mode)
    copied = [entry['path'] for entry in described if restore_point.keep_file(path, entry, module.check_mode)]
    return dict(changed=bool(made or copied), restored_files=described, missing=missing, copied=copied)


def write_if_changed(module, dest, data):
    try:
        with open(dest, 'rb') as handle:
            if handle.read() == data:
                return False
    except OSError:
        pass
    if not module.check_mode:
        restore_point.write_private(dest, data)
    return True


def point_current(module, link, path):
    if os.path.islink(link) and os.readlink(link) == path:
        return False
    if not module.check_mode:
        temporary = link + '.new'
        if os.path.lexists(temporary):
            os.unlink(temporary)
        os.symlink(path, temporary)
        os.rename(temporary, link)
    return True


def write_parts(module, path):
    """Write the parts given as text; return the names of those written (or, in check mode, to write)."""
    paths = restore_point.layout(path)
    unknown = sorted(set(module.params['parts']) - set(WRITABLE_PARTS))
    if unknown:
        module.fail_json(msg='parts can be %s, not %s. Nothing was changed.' % (', '.join(WRITABLE_PARTS), ', '.join(unknown)))
    return [part for part, text in sorted(module.params['parts'].items())
            if write_if_changed(module, paths[part], to_bytes(text, errors='surrogate_or_strict'))]


def check_dump(module, path):
    dump = restore_point.layout(path)['database_dump_partial']
    if not os.path.isfile(dump):
        module.fail_json(msg='No database dump at %s to check. Nothing was changed.' % dump, dump={'path': dump, 'problem': 'missing'})
    checked = restore_point.check_dump(dump)
    if checked['problem'] is not None:
        if not module.check_mode:
            os.unlink(dump)
        module.fail_json(msg='The database dump %s is not whole (%s): removed. mysqldump stopped before its end or its '
                             'file broke; the run says why above.' % (dump, checked['problem']),
                         dump={'path': dump, 'size': checked['size'], 'problem': checked['problem']})
    changed = stat.S_IMODE(os.stat(dump).st_mode) != restore_point.FILE_MODE
    if changed and not module.check_mode:
        os.chmod(dump, restore_point.FILE_MODE)
    return dict(changed=changed, dump={'path': dump, 'sha256': checked['sha256'], 'size': checked['size']})


def list_dump(module, paths, contents):
    """List the checked dump under its final name in the manifest's contents, refusing one that changed since its check."""
    wanted = module.params['database_dump_sha256']
    listed = [item for item in contents if item['path'] in (paths['database_dump_partial'], paths['database_dump'])]
    if [item['checksum'] for item in listed] != [wanted]:
        module.fail_json(msg='The database dump of %s is not the one step=dump checked (sha256 %s): found %s. Nothing was written.'
                             % (paths['path'], wanted, ', '.join('%s (%s)' % (item['path'], item['checksum']) for item in listed) or 'none'))
    listed[0]['path'] = paths['database_dump']
    return {'path': paths['database_dump'], 'sha256': wanted}


def write_manifest(module, name, link, path):
    if not os.path.isdir(path) and not module.check_mode:
        module.fail_json(msg='%s is not a restore point directory: run step=files first. Nothing was changed.' % path)
    written = write_parts(module, path)
    paths = restore_point.layout(path)
    contents = restore_point.contents(path) if os.path.isdir(path) else []
    result = {}
    if module.params['database_dump_sha256']:
        result['database_dump'] = list_dump(module, paths, contents)
    owner = {key: module.params[key] for key in ('host', 'app_dir') if module.params[key] is not None}
    manifest = dict(module.params['metadata'], created=restore_point.created_of(name), contents=contents,
                    restored_files=[{key: entry.get(key) for key in restore_point.RESTORED_FILE_KEYS}
                                    for entry in module.params['restored_files']], **owner)
    if not module.check_mode:
        restore_point.sync_tree(path)
    changed = write_if_changed(module, paths['manifest'], restore_point.manifest_bytes(manifest))
    if os.path.isfile(paths['database_dump_partial']) and 'database_dump' in result and not module.check_mode:
        # Listed (and on the disk) first: a file under the dump's final name always has its sha256 in the manifest.
        restore_point.rename_durably(paths['database_dump_partial'], paths['database_dump'])
        changed = True
    changed = point_current(module, link, path) or changed or bool(written)
    return dict(result, changed=changed, manifest=manifest, parts_written=written)


def record_migrated(module, path):
    try:
        manifest, _created = restore_point.read_manifest(path)
    except ValueError as error:
        module.fail_json(msg='%s is not a restore point (%s). Nothing was changed.' % (path, error))
    files = []
    for item in manifest['restored_files']:
        entry = restore_point.describe(item['path'])
        if entry is not None:
            files.append({'path': entry['path'], 'checksum': entry['checksum']})
    previous = restore_point.read_migrated(path)
    if previous is not None and previous['files'] == files:
        return dict(changed=False, migrated=previous)
    record = {'recorded': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'), 'files': files}
    if not module.check_mode:
        restore_point.write_private(os.path.join(path, restore_point.MIGRATED),
                                    (json.dumps(record, indent=4) + '\n').encode('utf-8'))
    return dict(changed=True, migrated=record)


def restore_times(module, path):
    try:
        manifest, _created = restore_point.read_manifest(path)
    except ValueError as error:
        module.fail_json(msg='%s is not a restore point (%s). Nothing was changed.' % (path, error))
    restored, unrecorded = restore_point.restore_times(manifest['restored_files'], module.check_mode)
    return dict(changed=bool(restored), times_restored=restored, times_unrecorded=unrecorded)


def mark_finished(module, root, host, app_dir):
    """Remove this host's and app's current link, and the link of older releases when it marks this host's and app's."""
    own = restore_point.current_link(root, host, app_dir)
    removed = []
    for link in restore_point.current_links(root, host, app_dir):
        if not os.path.lexists(link):
            continue
        if not os.path.islink(link):
            module.fail_json(msg='%s is not the link a migration under way leaves (not a symlink): remove it by hand. '
                                 'Nothing was changed.' % link)
        if link == own or restore_point.marked_point(root, link, host, app_dir) is not None:
            removed.append(link)
    if not module.check_mode:
        for link in removed:
            os.unlink(link)
    return dict(changed=bool(removed))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path', required=True),
            name=dict(type='str'),
            host=dict(type='str'),
            app_dir=dict(type='path'),
            step=dict(type='str', choices=['files', 'dump', 'manifest', 'migrated', 'finished', 'times'], default='files'),
            files=dict(type='list', elements='path', default=[]),
            restored_files=dict(type='list', elements='dict', default=[]),
            metadata=dict(type='dict', default={}),
            parts=dict(type='dict', default={}, no_log=True),
            database_dump_sha256=dict(type='str'),
        ),
        required_if=[('step', step, ('name',)) for step in ('dump', 'manifest', 'migrated', 'times')],
        required_together=[('host', 'app_dir')],
        supports_check_mode=True,
    )
    root, name, step = module.params['root'], module.params['name'], module.params['step']
    host, app_dir = module.params['host'], module.params['app_dir']
    current = restore_point.current_link(root, host, app_dir)
    if step == 'finished':
        module.exit_json(current=current, **mark_finished(module, root, host, app_dir))
    if name is None:
        if host is None:
            module.fail_json(msg='step=files needs name, or host and app_dir to name the restore point by. Nothing was changed.')
        name = restore_point.point_name(datetime.datetime.now(datetime.timezone.utc), host, app_dir)
    if not restore_point.BARE_NAME.match(name):
        module.fail_json(msg='name must be the bare name of a restore point (no /, not starting with .), not %r' % name)
    path = os.path.join(root, name)
    try:
        if step == 'files':
            result = take_files(module, root, path)
        elif step == 'dump':
            result = check_dump(module, path)
        elif step == 'manifest':
            result = write_manifest(module, name, current, path)
        elif step == 'migrated':
            result = record_migrated(module, path)
        else:
            result = restore_times(module, path)
    except (OSError, ValueError) as error:
        module.fail_json(msg='Restore point %s, step %s: %s' % (path, step, error))
    module.exit_json(path=path, layout=restore_point.layout(path), current=current, **result)


if __name__ == '__main__':
    main()
