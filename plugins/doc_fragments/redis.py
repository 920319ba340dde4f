# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # The connection options of plugins/module_utils/_redis_wire.py redis_common_argument_spec().
    DOCUMENTATION = r'''
options:
  host:
    description: Redis host, as the managed host reaches it.
    type: str
    required: true
  port:
    description: Redis port.
    type: int
    default: 6379
  username:
    description: ACL user name for C(AUTH).
    type: str
  password:
    description: Password for C(AUTH).
    type: str
  timeout:
    description: Seconds to wait for the connection and for each reply.
    type: int
    default: 60
'''
