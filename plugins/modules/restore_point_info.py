#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: restore_point_info
short_description: List the restore points of a host, newest first, by their manifests
version_added: 1.0.0
description:
  - Reads the directories directly under O(root) and returns those that are restore points
    taken by the C(mall.cache_migration.restore_point) role, newest first.
  - A directory is a restore point only when its C(manifest.json) is a JSON object with a
    C(created) time (C(20261126T071900Z)) and the lists C(restored_files) and C(contents).
    Anything else under O(root) (another tool's folder, a copy, a half-written restore point) is
    listed in RV(skipped) with the reason, and never counts, neither for pruning nor as the newest.
  - The order is by the manifest's C(created) time, not by the directory's name or mtime.
  - With O(host) and O(app_dir), only this host's and app's restore points count; one whose manifest names another
    host or app dir (another app on the host, another host on a root shared over NFS) is listed in RV(skipped) with
    the reason, never returned, never current. A manifest that names no host nor app dir (an older one) counts.
  - Also reads C(migrated.json), the record of the files as the migration left them, when the
    restore point has one, and where the C(current) link of this host and app (the restore point of a migration
    under way, RV(current_link)) points; the C(current) link of releases before 1.3.0 is read too when its
    restore point is this host's and app's.
  - Each restore point comes with its RV(restore_points[].layout), so roles read the paths instead of
    spelling them.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.attributes.read_only
  - mall.cache_migration.restore_point
options:
  name:
    description:
      - Return only the restore point of this name (a directory directly under O(root)).
      - It must be a bare name, not a path; the module fails on C(/) or a leading C(.).
      - When that directory is not a valid restore point, RV(restore_points) is empty and
        RV(skipped) says why.
    type: str
  host:
    description:
      - The host whose restore points these are (the roles pass C(inventory_hostname)).
      - Without it, the restore points of every host count.
    type: str
    version_added: 1.3.0
  app_dir:
    description:
      - The app dir whose restore points these are (the roles pass C(mall_app_dir)).
      - Without it, the restore points of every app dir count.
    type: path
    version_added: 1.3.0
  verify:
    description:
      - Also compare every file the manifest lists (C(contents)) with the file now, by sha256, and return
        what differs as RV(restore_points[].verification). This reads every file, the database dump included.
      - Only with O(name), the one restore point a rollback goes back to.
    type: bool
    default: false
    version_added: 1.2.0
seealso:
  - module: mall.cache_migration.restore_point_files
    description: Takes the files of a restore point and writes its manifest.
  - module: mall.cache_migration.redis_snapshot
    description: Takes the Redis snapshot that a restore point holds.
'''

EXAMPLES = r'''
- name: Find the restore points
  mall.cache_migration.restore_point_info:
    root: /var/backups/mall-cache-migration
    host: "{{ inventory_hostname }}"
    app_dir: /srv/mall-server
  register: __restore_points

- name: Roll back to the newest one
  ansible.builtin.debug:
    msg: "{{ __restore_points.restore_points[0].path }}"
  when: __restore_points.restore_points | length > 0

- name: Check one restore point by name, every file against the sha256 its manifest records
  mall.cache_migration.restore_point_info:
    root: /var/backups/mall-cache-migration
    name: 20261126T071900Z-3f9a0c12
    host: "{{ inventory_hostname }}"
    app_dir: /srv/mall-server
    verify: true
  register: __restore_point
'''

RETURN = r'''
restore_points:
  description: The valid restore points, newest first (by the manifest's C(created) time).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The directory's name.
      type: str
      sample: 20261126T071900Z
    path:
      description: The directory's path.
      type: str
      sample: /var/backups/mall-cache-migration/20261126T071900Z
    created:
      description: The manifest's C(created) time, in ISO 8601 (UTC).
      type: str
      sample: "2026-11-26T07:19:00Z"
    manifest:
      description: The manifest as written by the restore_point role.
      type: dict
      sample: {"created": "20261126T071900Z", "host": "mall-web-01", "restored_files": [], "contents": []}
    migrated:
      description:
        - The content of C(migrated.json), the files as the migration left them
          (C(files), a list of C(path) and C(checksum)), or null when the migration did not record them.
      type: dict
      sample: {"recorded": "2026-11-26T07:21:13Z", "files": [{"path": "/srv/mall-server/.env.production", "checksum": "9f2c..."}]}
    layout:
      description:
        - The absolute path of each part of the restore point (keys C(path), C(files), C(database_dump),
          C(pip_freeze), C(git_commit), C(settings_plan), C(redis), C(redis_dump), C(redis_container),
          C(manifest), C(migrated)), as M(mall.cache_migration.restore_point_files) returns it.
      type: dict
      sample: {"redis_dump": "/var/backups/mall-cache-migration/20261126T071900Z/redis/dump.rdb"}
    recorded_owner:
      description:
        - Whether the manifest names its host and app dir; false for an older one, which counts for
          every host and app dir and which the restore_point role therefore never prunes.
      type: bool
      version_added: 1.3.0
    copies:
      description: For each file of the manifest's C(restored_files), the path of its copy in the restore point.
      type: dict
      sample: {"/srv/mall-server/.env.production": "/var/backups/mall-cache-migration/20261126T071900Z/files/srv/mall-server/.env.production"}
    verification:
      description: With O(verify), the files of the manifest's C(contents) compared with the files now.
      returned: when O(verify)
      type: dict
      version_added: 1.2.0
      contains:
        checked:
          description: The paths compared, sorted.
          type: list
          elements: str
        differences:
          description:
            - Each file that differs, with C(part) (what it is, in words, e.g. C(database dump), C(copy of /srv/app/.env)),
              C(path) and C(problem) (C(missing), C(sha256 differs from the manifest), C(outside the restore point)).
          type: list
          elements: dict
          sample: [{"part": "database dump", "path": "/var/backups/mall-cache-migration/20261126T071900Z/database.sql.gz",
                    "problem": "sha256 differs from the manifest"}]
skipped:
  description:
    - Directories under O(root) that are not restore points, or (with O(host), O(app_dir)) another host's or app's,
      with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "old-backups", "reason": "no manifest.json"},
           {"name": "20261126T071900Z-0b7e5d21", "reason": "the restore point of the app in /srv/shop, not of the app in /srv/mall-server"}]
current:
  description:
    - The name of this host's and app's restore point that a C(current) link marks (a migration under way), or null.
  returned: always
  type: str
  sample: 20261126T071900Z
current_link:
  description:
    - The path of this host's and app's C(current) link, whether it exists or not (C(current-<tag>) with O(host) and
      O(app_dir), C(current) without).
  returned: always
  type: str
  sample: /var/backups/mall-cache-migration/current-3f9a0c12
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mall.cache_migration.plugins.module_utils import _restore_point as restore_point


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path', required=True),
            name=dict(type='str'),
            host=dict(type='str'),
            app_dir=dict(type='path'),
            verify=dict(type='bool', default=False),
        ),
        required_if=[('verify', True, ('name',))],
        supports_check_mode=True,
    )
    name = module.params['name']
    if name is not None and not restore_point.BARE_NAME.match(name):
        module.fail_json(msg='name must be the bare name of a restore point (no /, not starting with .), not %r' % name)
    root, host, app_dir = module.params['root'], module.params['host'], module.params['app_dir']
    points, skipped, current = restore_point.list_restore_points(root, name, host, app_dir)
    if module.params['verify']:
        for point in points:
            point['verification'] = {
                'checked': sorted(os.path.normpath(str(item.get('path', ''))) for item in point['manifest']['contents']),
                'differences': restore_point.verify_contents(point['path'], point['manifest'])}
    module.exit_json(changed=False, restore_points=points, skipped=skipped, current=current,
                     current_link=restore_point.current_link(root, host, app_dir))


if __name__ == '__main__':
    main()
