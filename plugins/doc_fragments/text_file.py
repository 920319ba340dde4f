# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the modules that edit a text file in place through module_utils._text_file."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  backup:
    description:
      - Before changing the file, copy it to a file named after it with a time stamp.
    type: bool
    default: false
notes:
  - The new content is written to a temporary file in the same directory and renamed over
    the old one, which keeps its owner, group, mode and SELinux context.
'''
