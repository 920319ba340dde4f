# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # What plugins/module_utils/database.py connection_argument_spec() adds to community.mysql's
    # connection options, which the community.mysql.mysql doc fragment documents.
    DOCUMENTATION = r'''
options:
  login_db:
    description:
      - The database (schema) to connect to.
    type: str
    version_added: 1.0.0
notes:
  - The connection goes through community.mysql's connection helper, so it takes the same options as
    the community.mysql modules (O(config_file), O(ca_cert), O(client_cert), O(client_key), O(check_hostname))
    and needs PyMySQL on the managed host, for the Python that runs the module (Debian package C(python3-pymysql)).
  - Those options and O(connect_timeout) apply also when the module logs in with credentials it read elsewhere.
'''

    # plugins/module_utils/database.py named_lock_argument_spec().
    NAMED_LOCK = r'''
options:
  lock:
    description:
      - Name of a MySQL/MariaDB named lock (C(GET_LOCK)) to hold on the connection while the module works (see the
        description for what it covers); released with the connection.
      - The module waits up to O(lock_timeout) seconds for it and fails, naming the connection that holds it, after that.
    type: str
  lock_timeout:
    description:
      - Seconds to wait for O(lock).
    type: int
    default: 600
'''
