#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: env_file_keys
short_description: Remove keys from a dotenv file and keep every other byte
version_added: 1.0.0
description:
  - Removes the assignments of the given keys from a dotenv file such as C(.env.development),
    for example the C(REDIS_*) and C(CELERY_*) settings when a Django project drops Redis.
  - Everything else stays byte for byte as it was, namely comments, blank lines, the order of the
    lines, CRLF, LF or mixed line endings, C(export) prefixes, quoting, a missing final
    newline and a byte order mark.
  - The file is read the way python-dotenv reads it, by the same reader as the leftover check of
    M(mall.cache_migration.cache_verify). A line C(KEY=value), C(export KEY=value),
    C(KEY = value) or a bare C(KEY) assigns C(KEY). A value in single or double quotes may
    span several lines; such an assignment is removed whole, and lines inside a kept
    quoted value are never taken for assignments.
  - Comment lines are never removed, not even C(# REDIS_URL=...), nor are the blank lines
    and section comments around removed keys.
  - A commented-out assignment such as C(#MYSQL_PASSWORD=...) often keeps an old secret, so in
    the diff its value shows as C(********) too, whatever O(masked) says.
  - The app reads its env file with python-decouple, which has no escapes and no multi-line values.
    Where python-decouple, python-dotenv or docker compose would read the lines of a key to remove
    differently (a backslash before a closing quote, a quote that never closes, a multi-line value
    holding a line with C(=), C(export), a byte order mark before the first key, a key followed by a colon in YAML style),
    the module fails, lists each place in RV(refused), and changes nothing.
  - A symbolic link is followed and stays a link.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.text_file
options:
  path:
    description:
      - Path of the dotenv file.
    type: path
    required: true
  keys:
    description:
      - Names of the keys to remove, compared case-sensitively, without C(export).
      - Every assignment of a key is removed when the file assigns it more than once.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(absent) removes the keys. It is the only state for now.
    type: str
    choices:
      - absent
    default: absent
  masked:
    description:
      - In the diff, show every value as C(********).
      - The values of removed keys are always masked. V(false) shows the values of the kept
        keys as they are, to debug the file; they then reach the log.
    type: bool
    default: true
  missing:
    description:
      - What to do when O(path) does not exist.
      - V(fail) fails the task. V(ignore) reports no change, as there is nothing to remove.
    type: str
    choices:
      - fail
      - ignore
    default: fail
attributes:
  check_mode:
    support: full
    details:
      - Reports which keys would be removed and the diff, and writes nothing.
  diff_mode:
    support: full
    details:
      - Shows the file before and after with values masked, see O(masked), one line for each line
        of the file.
  idempotent:
    support: full
    details:
      - Keys that the file does not assign are no error, so a second run finds nothing to remove.
notes:
  - The file must be UTF-8 (ASCII is), with or without a byte order mark, or UTF-16 or UTF-32 with a
    byte order mark, as some Windows editors save it. It is written back in the same encoding.
    A file in another encoding fails the task and is left alone.
  - A quoted value that never closes on the line of a key to remove is refused, see RV(refused).
seealso:
  - module: mall.cache_migration.compose_service_absent
    description: Remove the Redis service and its settings from a Docker Compose file.
  - module: ansible.builtin.lineinfile
    description: Edit single lines by regular expression.
  - name: python-dotenv file format
    description: The syntax this module parses.
    link: https://github.com/theskumar/python-dotenv#file-format
'''

EXAMPLES = r'''
- name: Remove the Redis and Celery settings from the development environment
  mall.cache_migration.env_file_keys:
    path: /srv/mall-server/.env.development
    keys:
      - REDIS_URL
      - REDIS_HOST
      - REDIS_PORT
      - REDIS_PASSWORD
      - CELERY_BROKER_URL
      - CELERY_RESULT_BACKEND
    backup: true
  register: __env_keys

- name: Show which keys were there
  ansible.builtin.debug:
    var: __env_keys.removed

- name: Clean the production file too, where it exists
  mall.cache_migration.env_file_keys:
    path: /srv/mall-server/.env.production
    keys: [REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD]
    missing: ignore
'''

RETURN = r'''
removed:
  description:
    - Names of the removed keys in the order of the file, each once. Values are never returned.
    - In check mode, the keys that would be removed.
  returned: always
  type: list
  elements: str
  sample: [REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD]
refused:
  description:
    - When the module fails because the readers of env files disagree, one entry for each place; values are
      never shown.
  returned: failure
  type: list
  elements: dict
  contains:
    file:
      description: Path of the env file.
      type: str
    line:
      description: Line of the file (from 1) where the assignment to remove starts, or the reader stops.
      type: int
    key:
      description: The key to remove that the place concerns.
      type: str
    reason:
      description: Which reader reads which lines how.
      type: str
  sample:
    - file: /srv/mall-server/.env.development
      line: 12
      key: REDIS_PASSWORD
      reason: python-decouple reads line 12 as an assignment of 'export REDIS_PASSWORD', where the edit would remove REDIS_PASSWORD
backup_file:
  description: Path of the backup copy of the file.
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /srv/mall-server/.env.development.3728.2025-11-26@07:10:02~
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._env_file import (
    KEY_NAME,
    EnvFileError,
    decode,
    disagreements,
    removal_edits,
)
from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import (
    exit_with_edits,
    read_bytes,
    text_file_argument_spec,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            text_file_argument_spec(),
            keys=dict(type='list', elements='str', required=True, no_log=False),
            state=dict(type='str', default='absent', choices=['absent']),
            masked=dict(type='bool', default=True),
            missing=dict(type='str', default='fail', choices=['fail', 'ignore']),
        ),
        supports_check_mode=True,
    )
    path = module.params['path']
    keys = set(module.params['keys'])
    invalid = sorted(key for key in keys if not KEY_NAME.match(key))
    if invalid:
        module.fail_json(msg=f'Not valid key names: {", ".join(map(repr, invalid))}')

    data = read_bytes(module, path, module.params['missing'])
    if data is None:
        module.exit_json(changed=False, removed=[])
    try:
        text, encoding = decode(data)
    except EnvFileError as e:
        module.fail_json(msg=f'Cannot read {path}: {e}')

    refused = disagreements(path, text, keys)
    if refused:
        module.fail_json(msg=f'{path}: python-decouple, python-dotenv and docker compose read the lines of these keys '
                             f'differently; nothing was changed', refused=refused, changed=False)
    edits, removed = removal_edits(text, keys, module.params['masked'])
    exit_with_edits(module, path, edits, encoding, removed=removed)


if __name__ == '__main__':
    main()
