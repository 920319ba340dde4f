# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option of the modules that read or write restore points through module_utils._restore_point."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  root:
    description:
      - The directory that holds the restore points (C(mall_restore_point_root)).
      - A missing directory holds no restore point.
    type: path
    required: true
notes:
  - The layout of a restore point (C(files/), C(redis/dump.rdb), C(manifest.json), the C(current) link, ...)
    is defined once, in the collection's module_utils, and returned as C(layout).
'''
