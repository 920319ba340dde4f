# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attribute every module of the collection declares beside ansible.builtin.action_common_attributes:
its description, once; each module gives its support and details."""

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
'''
