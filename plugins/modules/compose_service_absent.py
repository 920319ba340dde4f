#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: compose_service_absent
short_description: Remove a service and what refers to it from a Docker Compose file, keeping its comments
version_added: 1.0.0
description:
  - Removes services, top-level named volumes and environment variables from a Docker Compose
    file, for example the C(redis-mall) service, the C(redis_mall_data) volume and the
    C(REDIS_*) variables of the app when a Django project replaces Redis by its database cache.
  - References to the removed services in C(depends_on) and C(links) of the remaining services
    go too, see O(remove_depends_on).
  - The file is edited as text, not loaded and dumped again, so comments, quoting, key order,
    blank lines, indentation (2 or 4 spaces), CRLF line endings, a byte order mark, a C(version)
    header and everything else that is not removed stay byte for byte.
  - A removed entry takes along the comment lines directly above it that are indented like
    its key, the comment lines below it that are indented deeper than its key, and one blank
    line that separated it from its neighbours. Other comments stay.
  - 'C(environment), C(depends_on), C(links) and the top-level C(volumes) are edited in block
    style (C(KEY: value), C(- KEY=value), C(- "KEY=value"), C(- name), C(name:) with
    C(condition)) and in flow style on one line (C([a, b]), C({KEY: value})). When one of them,
    or C(services), has no entry left, its key is removed as well.'
  - When L(PyYAML,https://pypi.org/project/PyYAML/) can be imported on the managed host, the
    file is parsed before and after the edit, and the module fails without writing unless the
    result equals the original with exactly the requested removals. That catches what a text
    edit cannot do, such as a variable defined through a YAML anchor or merge key. Without
    PyYAML the edit is not checked, see RV(verified), and a file that uses an alias or a merge
    key is refused, as the text edit cannot follow them.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.text_file
options:
  path:
    description:
      - Path of the Docker Compose file.
    type: path
    required: true
  services:
    description:
      - Names of the services to remove. Names that the file does not define are ignored.
    type: list
    elements: str
    default: []
  volumes:
    description:
      - Names of the top-level named volumes to remove. Names that the file does not define are ignored.
      - Mounts of these volumes in the remaining services are not touched.
    type: list
    elements: str
    default: []
  environment_keys:
    description:
      - 'Names of the variables to remove from C(environment) of the remaining services, in both
        the mapping form C(KEY: value) and the list form C(- KEY=value).'
    type: list
    elements: str
    default: []
  environment_services:
    description:
      - Services from whose C(environment) the O(environment_keys) are removed.
      - By default, every service that is not removed.
    type: list
    elements: str
  remove_depends_on:
    description:
      - Remove the services of O(services) from C(depends_on) (list and mapping form) and
        C(links) (C(name) and C(name:alias)) of the remaining services.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be removed and the diff, runs the PyYAML check, and writes nothing.
  diff_mode:
    support: full
    details:
      - Every C(environment) value, removed or kept, every value of a removed service (its
        command, healthcheck and so on may carry passwords), the C(command), C(entrypoint) and
        C(healthcheck) of the kept services and the top-level extension fields (C(x-...), often
        the anchors of shared environment blocks) show as C(********).
      - An error names the line and column, never its text.
  idempotent:
    description: Run again with the same options, it changes nothing and reports no change.
    support: full
    details:
      - Names that the file does not define are no error, so a second run finds nothing to remove.
  platform:
    platforms: posix
notes:
  - The file must be UTF-8 (ASCII is) and hold a single YAML document.
  - 'A flow collection nested in another one (C(app: {image: x, depends_on: [redis]})) or
    spanning several lines is not edited. When something would have to be removed from
    one, the module fails with its line number.'
seealso:
  - module: mall.cache_migration.env_file_keys
    description: Remove the same variables from the dotenv files.
  - module: community.docker.docker_compose_v2
    description: Apply the edited file to the running project.
  - name: Compose file reference
    description: The services, volumes, environment and depends_on elements.
    link: https://docs.docker.com/reference/compose-file/
'''

EXAMPLES = r'''
- name: Remove Redis from the development stack
  mall.cache_migration.compose_service_absent:
    path: /srv/mall-server/docker-compose.dev.yml
    services:
      - redis-mall
    volumes:
      - redis_mall_data
    environment_keys:
      - REDIS_URL
      - REDIS_HOST
      - REDIS_PORT
      - REDIS_PASSWORD
    backup: true
  register: __compose_edit

- name: Remove the variables from the app service only, keep depends_on as it is
  mall.cache_migration.compose_service_absent:
    path: /srv/mall-server/docker-compose.yml
    environment_keys: [CELERY_BROKER_URL, CELERY_RESULT_BACKEND]
    environment_services: [mall-server]
    remove_depends_on: false
'''

RETURN = r'''
removed_services:
  description: Names of the removed services, in the order of the file.
  returned: always
  type: list
  elements: str
  sample: [redis-mall]
removed_volumes:
  description: Names of the removed top-level volumes, in the order of the file.
  returned: always
  type: list
  elements: str
  sample: [redis_mall_data]
removed_environment:
  description: For each service that lost variables, their names in the order of the file. Values are never returned.
  returned: always
  type: dict
  sample: {mall-server: [REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD]}
removed_depends_on:
  description: For each service whose C(depends_on) lost entries, the names of the removed services.
  returned: always
  type: dict
  sample: {mall-server: [redis-mall]}
removed_links:
  description: For each service whose C(links) lost entries, the names of the removed services.
  returned: always
  type: dict
  sample: {}
verified:
  description: Whether PyYAML confirmed that the result holds exactly the requested removals.
  returned: always
  type: bool
  sample: true
backup_file:
  description: Path of the backup copy of the file.
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /srv/mall-server/docker-compose.dev.yml.3728.2025-11-26@07:10:02~
'''

import copy
import dataclasses
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import (
    MASK,
    LineEdits,
    exit_with_edits,
    read_text,
    split_eol,
    text_file_argument_spec,
)

try:
    import yaml
except ImportError:
    yaml = None  # the edit is then written unchecked, and verified says so

# Kinds of lines.
_BLANK = 'blank'
_COMMENT = 'comment'
_MARKER = 'marker'  # ---, ... or a %directive
_CONTENT = 'content'
_MARKER_LINE = re.compile(r'(?:---|\.\.\.)(?:\s|\Z)|%')
_PLAIN_KEY = re.compile(r'(?P<key>[^\s#\'"\[\]{},][^#]*?)[ \t]*:(?:[ \t]+|\Z)')
_COLON = re.compile(r'[ \t]*:(?:[ \t]+|\Z)')
# A quote opens a quoted scalar only where a token starts; elsewhere (it's) it is a character.
_TOKEN_START = ' \t[{,:'
# Keys of a service whose values are command lines, shown masked in diffs.
_COMMAND_KEYS = ('command', 'entrypoint', 'healthcheck')
# An alias (*name) or a merge key (<<:) where a value or an item starts.
_ALIAS_OR_MERGE = re.compile(r'(?:^[ \t]*(?:-[ \t]+)?|:[ \t]+|[\[{,][ \t]*)(?:\*[^\s,\[\]{}]|<<[ \t]*:)')


class ComposeError(Exception):
    """A line that the scanner cannot edit safely."""

    def __init__(self, index, message):
        super().__init__(f'line {index + 1}: {message}')


@dataclasses.dataclass
class _Entry:
    """A mapping key or a list item, in block style or as an item of a one-line flow collection."""

    line: int
    indent: int
    parent: int | None  # line of the key whose value holds this entry
    is_item: bool
    name: str  # the key, or the item as a plain string
    value: str  # the value as written, without a trailing comment
    value_col: int
    end: int  # line after the last content line of the entry
    span: tuple[int, int] | None = None  # columns of a flow item in its line


def _quoted_end(text, start):
    """Index after the quoted scalar opening at text[start], or None when it does not close on this line."""
    quote = text[start]
    i = start + 1
    while i < len(text):
        if quote == '"' and text[i] == '\\':
            i += 2
        elif text[i] == quote and quote == "'" and text[i + 1:i + 2] == "'":
            i += 2
        elif text[i] == quote:
            return i + 1
        else:
            i += 1
    return None


def _opens_quote(text, i, start):
    return text[i] in '"\'' and (i == start or text[i - 1] in _TOKEN_START)


def _value_end(text, start):
    """Index after the value starting at text[start], before any comment and trailing blanks."""
    i = start
    while i < len(text):
        if _opens_quote(text, i, start):
            i = _quoted_end(text, i) or len(text)
            continue
        if text[i] == '#' and (i == start or text[i - 1] in ' \t'):
            break
        i += 1
    return len(text[:i].rstrip())


def _unquote(text):
    if len(text) > 1 and text[0] == text[-1] == '"':
        return re.sub(r'\\(.)', r'\1', text[1:-1])
    if len(text) > 1 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def _split_key(text, start):
    """(key, column of the value) of 'key: value' at text[start:], or None."""
    if text[start:start + 1] in ('"', "'"):
        end = _quoted_end(text, start)
        colon = end and _COLON.match(text, end)
        return (_unquote(text[start:end]), colon.end()) if colon else None
    match = _PLAIN_KEY.match(text, start)
    return (match['key'], match.end()) if match else None


def _kind(body):
    text = body.strip()
    if not text:
        return _BLANK
    if text.startswith('#'):
        return _COMMENT
    return _MARKER if _MARKER_LINE.match(body) else _CONTENT


def _masked_value(entry):
    """(column, stand-in) for the value of an environment entry in diffs; None when it has none."""
    if not entry.is_item:
        return (entry.value_col, MASK) if entry.value else None
    key, eq, dummy = entry.name.partition('=')
    quote = entry.value[0] if entry.value[:1] in ('"', "'") else ''
    return (entry.value_col, f'{quote}{key}={MASK}{quote}') if eq else None


def _name(entry):
    return entry.name


def _env_name(entry):
    return entry.name.partition('=')[0]


def _link_name(entry):
    return entry.name.partition(':')[0]


class _Document:
    """An indentation-aware scanner over the lines of a YAML document, and its edits."""

    def __init__(self, edits):
        self.edits = edits
        self.bodies = [split_eol(line)[0] for line in edits.lines]
        self.indents = [len(body) - len(body.lstrip(' ')) for body in self.bodies]
        self.kinds = [_kind(body) for body in self.bodies]

    def _is_item(self, i):
        body, col = self.bodies[i], self.indents[i]
        return body[col] == '-' and body[col + 1:col + 2] in ('', ' ', '\t')

    def _entry(self, i, parent, is_item):
        if self._is_item(i) != is_item:
            raise ComposeError(i, 'list items and mapping keys at the same indentation')
        body, col = self.bodies[i], self.indents[i]
        if is_item:
            value_col = len(body) - len(body[col + 1:].lstrip())
            value = body[value_col:_value_end(body, value_col)]
            return _Entry(i, col, parent, True, _unquote(value), value, value_col, i + 1)
        key = _split_key(body, col)
        if key is None:
            raise ComposeError(i, 'expected "key: value"')
        value = body[key[1]:_value_end(body, key[1])]
        return _Entry(i, col, parent, False, key[0], value, key[1], i + 1)

    def entries(self, start, end, parent):
        """The entries of the block collection in lines start to end - 1."""
        found = []
        for i in range(start, end):
            if self.kinds[i] != _CONTENT:
                continue
            if not found:
                found.append(self._entry(i, parent, self._is_item(i)))
                continue
            first = found[0]
            # A list may sit at the indentation of its key: "depends_on:" then "- mysql-mall".
            indentless = (not first.is_item and not found[-1].value and self._is_item(i))
            if self.indents[i] > first.indent or (self.indents[i] == first.indent and indentless):
                found[-1].end = i + 1
            elif self.indents[i] == first.indent:
                found.append(self._entry(i, parent, first.is_item))
            else:
                raise ComposeError(i, 'less indented than the entries before it')
        return found

    def flow_items(self, entry):
        """The items of the one-line flow collection that is the value of entry."""
        body = self.bodies[entry.line]
        spans = []
        depth = 0
        item_start = i = entry.value_col
        while depth or i == entry.value_col:
            if i >= len(body):
                raise ComposeError(entry.line, 'a flow collection over several lines; write it on one line or in block style')
            char = body[i]
            if _opens_quote(body, i, entry.value_col):
                i = _quoted_end(body, i) or len(body)
                continue
            if char in '[{':
                depth += 1
            elif char in ']}':
                depth -= 1
            # Items end at a comma of this collection or at its closing bracket.
            if depth == 0 or (char == ',' and depth == 1):
                spans.append((item_start + 1, i))
                item_start = i
            i += 1
        items = []
        for start, end in spans:
            text = body[start:end]
            start += len(text) - len(text.lstrip())
            end = start + len(text.strip())
            if start == end:
                continue  # [] or a trailing comma
            key = None if body[entry.value_col] == '[' else _split_key(body[:end], start)
            if key is None:
                value = body[start:end]
                items.append(_Entry(entry.line, entry.indent, entry.line, True, _unquote(value), value, start,
                                    entry.line + 1, (start, end)))
            else:
                items.append(_Entry(entry.line, entry.indent, entry.line, False, key[0], body[key[1]:end], key[1],
                                    entry.line + 1, (start, end)))
        return items

    def members(self, entry):
        """The entries of the collection that is the value of entry; none for a scalar."""
        if not entry.value:
            return self.entries(entry.line + 1, entry.end, entry.line)
        if entry.value.startswith(('[', '{')):
            return self.flow_items(entry)
        return []

    def child(self, entry, key):
        """The entry named key in the mapping that is the value of entry, or None."""
        return next((member for member in self.members(entry) if member.name == key), None)

    def remove(self, entry):
        """Remove a block entry with its comments and one blank line that separated it."""
        kinds, indents, count = self.kinds, self.indents, len(self.kinds)
        start = entry.line
        while start > 0 and kinds[start - 1] == _COMMENT and indents[start - 1] == entry.indent:
            start -= 1
        end = i = entry.end
        while i < count and kinds[i] in (_BLANK, _COMMENT):
            if kinds[i] == _COMMENT:
                if indents[i] <= entry.indent:
                    break
                end = i + 1
            i += 1
        after_blank = start > 0 and kinds[start - 1] == _BLANK
        first = start - 1 == (-1 if entry.parent is None else entry.parent)
        if end < count and kinds[end] == _BLANK and (after_blank or first):
            while end < count and kinds[end] == _BLANK:
                end += 1
        elif after_blank and (end == count or indents[end] < entry.indent):
            while start > 0 and kinds[start - 1] == _BLANK:
                start -= 1
        self.edits.remove(start, end)

    def mask(self, entries):
        """Show the values of these environment entries as MASK in diffs."""
        flow_lines = {}
        for entry in entries:
            masked = _masked_value(entry)
            if masked is None:
                continue
            if entry.span is None:
                self.edits.show(entry.line, entry.end, self.bodies[entry.line][:masked[0]] + masked[1])
            else:
                flow_lines.setdefault(entry.line, []).append((masked[0], entry.span[1], masked[1]))
        for line, cuts in flow_lines.items():
            body = self.bodies[line]
            for start, end, text in reversed(cuts):
                body = body[:start] + text + body[end:]
            self.edits.show(line, line + 1, body)

    def mask_tree(self, entry):
        """Show every value under entry as MASK in diffs: a removed service carries passwords anywhere
        (--requirepass in its command, redis-cli -a in its healthcheck)."""
        for member in self.members(entry):
            if member.span is None and member.value:
                self.edits.show(member.line, member.end, self.bodies[member.line][:member.value_col] + MASK)
            self.mask_tree(member)

    def mask_all(self, entry):
        """Show the value of entry, on its line or below it, as MASK in diffs."""
        if entry.value:
            self.edits.show(entry.line, entry.end, self.bodies[entry.line][:entry.value_col] + MASK)
        else:
            self.mask_tree(entry)

    def prune(self, entry, names, name=_name):
        """Remove the members of the value of entry whose name is in names, and entry itself when none is left.

        Returns the names of the removed members in the order of the file.
        """
        members = self.members(entry)
        gone = [member for member in members if name(member) in names]
        if gone and entry.span is not None:
            # Two edits of one line would overwrite each other.
            raise ComposeError(entry.line, f'{entry.name} is nested in a flow collection, which this module does not edit')
        if len(gone) == len(members) and gone:
            self.remove(entry)
        elif gone and members[0].span:
            kept = [member for member in members if name(member) not in names]
            body = self.bodies[entry.line]
            separator = body[members[0].span[1]:members[1].span[0]]
            text = separator.join(body[member.span[0]:member.span[1]] for member in kept)
            eol = split_eol(self.edits.lines[entry.line])[1]
            self.edits.replace(entry.line, body[:members[0].span[0]] + text + body[members[-1].span[1]:] + eol)
        else:
            for member in gone:
                self.remove(member)
        return [name(member) for member in gone]


def _edit(doc, params):
    """Plan the removals on doc; returns the result fields."""
    result = dict(removed_services=[], removed_volumes=[], removed_environment={},
                  removed_depends_on={}, removed_links={})
    top = {entry.name: entry for entry in doc.entries(0, len(doc.bodies), None)}
    # Extension fields (x-...) are shared by anchors, often environment blocks with passwords.
    for name, entry in top.items():
        if name.startswith('x-'):
            doc.mask_all(entry)
    drop = set(params['services'])
    env_keys = set(params['environment_keys'])
    env_services = params['environment_services']
    if 'volumes' in top:
        result['removed_volumes'] = doc.prune(top['volumes'], set(params['volumes']))
    if 'services' not in top:
        return result
    services = doc.members(top['services'])
    result['removed_services'] = doc.prune(top['services'], drop)
    for service in services:
        # No environment value reaches the diff, whether it goes or stays.
        environment = doc.child(service, 'environment')
        if environment and (not environment.value or environment.value.startswith(('[', '{'))):
            doc.mask(doc.members(environment))
        elif environment:
            doc.mask_all(environment)  # an alias, or an anchor over a block
        if service.name in drop:
            doc.mask_tree(service)
            continue
        # Kept services pass passwords on command lines too (mysqladmin -p..., redis-cli -a ...).
        for key in _COMMAND_KEYS:
            entry = doc.child(service, key)
            if entry:
                doc.mask_all(entry)
        jobs = []
        if env_keys and (env_services is None or service.name in env_services):
            jobs.append(('removed_environment', 'environment', env_keys, _env_name))
        if drop and params['remove_depends_on']:
            jobs.append(('removed_depends_on', 'depends_on', drop, _name))
            jobs.append(('removed_links', 'links', drop, _link_name))
        for field, key, names, name in jobs:
            entry = doc.child(service, key)
            removed = entry and doc.prune(entry, names, name)
            if removed:
                result[field][service.name] = removed
    return result


def _drop(parent, key, names, name=str):
    """Remove the members of parent[key] whose name is in names; parent[key] too when that empties it."""
    members = parent.get(key)
    if isinstance(members, dict):
        gone = [member for member in members if name(str(member)) in names]
        for member in gone:
            del members[member]
    elif isinstance(members, list):
        gone = [member for member in members if name(str(member)) in names]
        members[:] = [member for member in members if name(str(member)) not in names]
    else:
        return
    if gone and not members:
        del parent[key]


def _expected(data, params):
    """The parsed file with the requested removals, made on the data, not on the text."""
    data = copy.deepcopy(data)
    if not isinstance(data, dict):
        return data
    drop = set(params['services'])
    env_keys = set(params['environment_keys'])
    _drop(data, 'volumes', set(params['volumes']))
    _drop(data, 'services', drop)
    services = data.get('services')
    for name, service in (services.items() if isinstance(services, dict) else ()):
        if not isinstance(service, dict):
            continue
        if params['environment_services'] is None or name in params['environment_services']:
            _drop(service, 'environment', env_keys, lambda text: text.partition('=')[0])
        if params['remove_depends_on']:
            _drop(service, 'depends_on', drop)
            _drop(service, 'links', drop, lambda text: text.partition(':')[0])
    return data


def _yaml_error(error):
    """PyYAML's problem and its position, without the snippet of the line it quotes (a password, maybe)."""
    mark = getattr(error, 'problem_mark', None)
    where = f' at line {mark.line + 1}, column {mark.column + 1}' if mark else ''
    return f'{getattr(error, "problem", None) or type(error).__name__}{where}'


def _unverifiable_line(doc):
    """Index of the first line with an alias or a merge key, which only a YAML parser can follow; or None."""
    for i, body in enumerate(doc.bodies):
        if doc.kinds[i] == _CONTENT and _ALIAS_OR_MERGE.search(body[:_value_end(body, 0)]):
            return i
    return None


def _verify(module, path, before, after):
    """Whether PyYAML confirmed the edit; fails the module when the result is not the expected one."""
    if yaml is None:
        return False
    try:
        data = yaml.safe_load(before)
    except yaml.YAMLError as e:
        module.fail_json(msg=f'{path} is not valid YAML: {_yaml_error(e)}')
    try:
        result = yaml.safe_load(after)
    except yaml.YAMLError as e:
        result = e
    if result != _expected(data, module.params):
        module.fail_json(msg=f'Refusing to write {path}: the edited file would not equal the original minus the requested '
                             'entries. Is something to remove defined through a YAML anchor, alias or merge key, or '
                             'written in a form this module does not edit? Edit it by hand or rewrite it in block style.')
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            text_file_argument_spec(),
            services=dict(type='list', elements='str', default=[]),
            volumes=dict(type='list', elements='str', default=[]),
            environment_keys=dict(type='list', elements='str', default=[], no_log=False),
            environment_services=dict(type='list', elements='str'),
            remove_depends_on=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    path = module.params['path']
    text = read_text(module, path)
    edits = LineEdits(text)
    doc = _Document(edits)
    if yaml is None:
        line = _unverifiable_line(doc)
        if line is not None:
            module.fail_json(msg=f'{path}: line {line + 1} uses a YAML alias or merge key, which a text edit cannot follow, '
                                 'and PyYAML, which would check the edit, cannot be imported on the host. Install PyYAML '
                                 '(python3-yaml) for the Python that runs the module, or expand the alias. Nothing was written.')
    try:
        result = _edit(doc, module.params)
    except ComposeError as e:
        module.fail_json(msg=f'{path}: {e}')
    result['verified'] = _verify(module, path, text, edits.text())
    exit_with_edits(module, path, edits, **result)


if __name__ == '__main__':
    main()
