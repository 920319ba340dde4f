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
    newline and a UTF-8 byte order mark.
  - The file is read the way python-dotenv reads it. A line C(KEY=value), C(export KEY=value),
    C(KEY = value) or a bare C(KEY) assigns C(KEY). A value in single or double quotes may
    span several lines; such an assignment is removed whole, and lines inside a kept
    quoted value are never taken for assignments.
  - Comment lines are never removed, not even C(# REDIS_URL=...), nor are the blank lines
    and section comments around removed keys.
  - A commented-out assignment such as C(#MYSQL_PASSWORD=...) often keeps an old secret, so in
    the diff its value shows as C(********) too, whatever O(masked) says.
  - A symbolic link is followed and stays a link.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
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
      - Shows the file before and after with values masked, see O(masked).
  idempotent:
    description: Run again with the same options, it changes nothing and reports no change.
    support: full
    details:
      - Keys that the file does not assign are no error, so a second run finds nothing to remove.
  platform:
    platforms: posix
notes:
  - The file must be UTF-8 (ASCII is).
  - A quoted value that never closes is taken to end with its line. python-dotenv skips such
    a line with a warning; this module removes it when its key is listed.
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
backup_file:
  description: Path of the backup copy of the file.
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /srv/mall-server/.env.development.3728.2025-11-26@07:10:02~
'''

import bisect
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import (
    LineEdits,
    exit_with_edits,
    read_text,
    split_eol,
    text_file_argument_spec,
)

# python-dotenv's grammar: optional export, a key, optional '=' with blanks around it.
_KEY = re.compile(r'[^\S\r\n]*(?:export[^\S\r\n]+)?(?P<key>[^=#\s]+)[^\S\r\n]*(?P<eq>=[^\S\r\n]*)?')
# A key without '=' is only an assignment when nothing but a comment follows it.
_BARE_END = re.compile(r'\s*(?:#.*)?\Z')
# python-dotenv's quoted values; [^"] also matches newlines, so a value may span lines.
_QUOTED = {
    '"': re.compile(r'"(?:\\"|[^"])*"'),
    "'": re.compile(r"'(?:\\'|[^'])*'"),
}
_KEY_NAME = re.compile(r'[^=#\s]+\Z')
# A commented-out assignment, `#KEY=value` or `# export KEY = value`: an old value, often a secret.
_COMMENTED = re.compile(r'[^\S\r\n]*#[^\S\r\n]*(?:export[^\S\r\n]+)?[A-Za-z_][A-Za-z0-9_.]*[^\S\r\n]*=[^\S\r\n]*(?=\S)')


def assignments(lines):
    """Yield (key, first line, end line, value prefix or None) for each assignment in lines."""
    text = ''.join(lines)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    i = 0
    while i < len(lines):
        body = split_eol(lines[i])[0]
        match = _KEY.match(body)
        if match is None or (match['eq'] is None and not _BARE_END.match(body, match.end())):
            i += 1
            continue
        end = i + 1
        prefix = None
        if match['eq'] is not None:
            col = match.end()
            quoted = _QUOTED.get(body[col:col + 1])
            value = quoted and quoted.match(text, starts[i] + col)
            if value:
                end = bisect.bisect_right(starts, value.end() - 1)
            # An empty value has nothing to hide.
            if value or body[col:].strip():
                prefix = body[:col]
        yield match['key'], i, end, prefix
        i = end


def commented_assignments(lines, skip):
    """Yield (line, value prefix) for each commented-out assignment with a value, outside the lines in skip."""
    for i, line in enumerate(lines):
        match = i not in skip and _COMMENTED.match(split_eol(line)[0])
        if match:
            yield i, match[0]


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
    invalid = sorted(key for key in keys if not _KEY_NAME.match(key))
    if invalid:
        module.fail_json(msg=f'Not valid key names: {", ".join(map(repr, invalid))}')

    text = read_text(module, path, module.params['missing'])
    if text is None:
        module.exit_json(changed=False, removed=[])

    edits = LineEdits(text)
    removed = []
    # Lines of assignments, a quoted value over several lines included.
    assigned = set()
    for key, first, end, prefix in assignments(edits.lines):
        assigned.update(range(first, end))
        gone = key in keys
        if gone:
            edits.remove(first, end)
            if key not in removed:
                removed.append(key)
        if prefix is not None and (gone or module.params['masked']):
            edits.mask(first, end, prefix)
    for line, prefix in commented_assignments(edits.lines, assigned):
        edits.mask(line, line + 1, prefix)
    exit_with_edits(module, path, edits, removed=removed)


if __name__ == '__main__':
    main()
