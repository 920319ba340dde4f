# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The layout of a restore point whose path another host recorded."""

from __future__ import annotations

DOCUMENTATION = r"""
name: restore_point_layout
short_description: The absolute path of each part of a restore point
version_added: 1.0.0
description:
  - The paths of a restore point's parts (C(files), C(database_dump), C(redis_dump), C(redis_container),
    C(manifest), ...), by the one definition of the layout in this collection's module_utils, the one
    that M(mall.cache_migration.restore_point_info) and M(mall.cache_migration.restore_point_files)
    return as C(layout).
  - For a restore point known only by its path, such as the one another host of a fleet took of the
    shared Redis (the fleet registry records its path), so that no role spells a path of the layout.
options:
  _input:
    description: The restore point's directory, an absolute path.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Check that the restore point another host took holds the Redis data
  ansible.builtin.stat:
    path: "{{ (shared.restore_point | mall.cache_migration.restore_point_layout).redis_dump }}"
  delegate_to: "{{ shared.host }}"
"""

RETURN = r"""
_value:
  description:
    - The absolute path of each part, by name (C(path), C(files), C(database_dump), C(pip_freeze), C(git_commit),
      C(settings_plan), C(redis), C(redis_dump), C(redis_container), C(manifest), C(migrated)).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.mall.cache_migration.plugins.module_utils import _restore_point


def restore_point_layout(path):
    if not isinstance(path, str) or not path.startswith("/"):
        raise AnsibleFilterError("restore_point_layout takes the absolute path of a restore point, not %r" % (path,))
    return _restore_point.layout(path)


class FilterModule:
    def filters(self):
        return {"restore_point_layout": restore_point_layout}
