# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The app's environment split into the values that may be shown and the secrets."""

from __future__ import annotations

DOCUMENTATION = r"""
name: app_environment
short_description: The plain or the secret part of an app's environment
version_added: 1.1.0
description:
  - Splits an environment (a mapping of variable names to values) by whether each value is a secret, for the
    O(mall.cache_migration.project_command#module:environment) and
    O(mall.cache_migration.project_command#module:secret_environment) options of the modules that run the app's code.
  - A value is secret when its name has a word (split at C(_), C(-), C(.)) C(PASSWORD), C(PASSWD), C(PASS), C(PWD),
    C(PW), C(SECRET), C(TOKEN), C(CREDENTIALS), C(PASSPHRASE), C(APIKEY) or C(PRIVATE), or ends in the word C(KEY),
    or when its name is one of O(secret_names), or when the value is a URL with a password (C(redis://:pw@host)).
  - Ansible masks every occurrence of a secret value in a module's result, so only the secret part goes to the
    C(no_log) option; common words and numbers (C(database), C(1), C(true)) stay readable in the results.
options:
  _input:
    description: The environment.
    type: dict
    required: true
  part:
    description: Which part to return.
    type: str
    choices: [plain, secret]
    required: true
  secret_names:
    description: More names whose values are secret, whatever they look like.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Run the app's check with its environment, only the secrets masked
  mall.cache_migration.project_command:
    argv: ["{{ mall_venv }}/bin/python", manage.py, check]
    chdir: "{{ mall_app_dir }}"
    environment: "{{ mall_app_environment | mall.cache_migration.app_environment('plain') }}"
    secret_environment: "{{ mall_app_environment | mall.cache_migration.app_environment('secret') }}"
"""

RETURN = r"""
_value:
  description: The variables of that part, with their values as given.
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.mall.cache_migration.plugins.module_utils._app_environment import split_environment


def app_environment(environment, part, secret_names=()):
    if part not in ('plain', 'secret'):
        raise AnsibleFilterError("app_environment takes the part 'plain' or 'secret', not %r" % (part,))
    if not isinstance(environment, dict):
        raise AnsibleFilterError('app_environment takes a mapping of variable names to values')
    plain, secret = split_environment(environment, tuple(secret_names or ()))
    return plain if part == 'plain' else secret


class FilterModule:
    def filters(self):
        return {"app_environment": app_environment}
