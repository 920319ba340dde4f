# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # Connection options of plugins/module_utils/database.py mysql_connection_argument_spec().
    DOCUMENTATION = r'''
options:
  login_host:
    description:
      - Host name or IP address of the MySQL or MariaDB server, as seen from the managed host.
      - Ignored when O(login_unix_socket) is set.
    type: str
    default: localhost
    version_added: 1.0.0
  login_port:
    description:
      - TCP port of the server.
      - Ignored when O(login_unix_socket) is set.
    type: int
    default: 3306
    version_added: 1.0.0
  login_user:
    description:
      - The user name to authenticate as.
    type: str
    version_added: 1.0.0
  login_password:
    description:
      - The password of O(login_user).
    type: str
    version_added: 1.0.0
  login_db:
    description:
      - The database (schema) to connect to.
    type: str
    version_added: 1.0.0
  login_unix_socket:
    description:
      - Path of the server's Unix domain socket, for example C(/run/mysqld/mysqld.sock).
      - When set, the module connects through it instead of O(login_host) and O(login_port).
    type: path
    version_added: 1.0.0
  connect_timeout:
    description:
      - Seconds to wait for the connection to the server.
    type: int
    default: 10
    version_added: 1.0.0
requirements:
  - PyMySQL on the managed host, for the Python that runs the module (Debian package C(python3-pymysql)).
notes:
  - The module connects with PyMySQL. If it is missing, the module fails with a message naming
    the Python that needs it; set C(ansible_python_interpreter) if Ansible picked a different Python.
'''
