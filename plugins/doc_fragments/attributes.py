# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of the collection declares beside ansible.builtin.action_common_attributes: the
description of idempotent and the platform, once; each module gives its support and details. READ_ONLY is
the whole set of a module that only reads."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options: {}
attributes:
  idempotent:
    description:
      - When run twice with the same parameters against the same target system, the second run changes nothing
        and reports no change.
  platform:
    platforms: posix
'''

    READ_ONLY = r'''
options: {}
attributes:
  check_mode:
    support: full
    details:
      - It only reads, so check mode runs it as a real run does.
  diff_mode:
    support: none
  idempotent:
    support: full
'''
