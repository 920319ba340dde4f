# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan removals in a Docker Compose file as whole-line edits, keeping every other byte.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

A small scanner of the block-style YAML that compose files are written in:
it finds services, volumes and the entries of environment, depends_on and
links, removes the requested ones through _text_file.LineEdits, and masks in
the diff every value that may hold a secret. expected() makes the same
removals on the parsed data, so the caller can check the text edit with a
YAML parser where one is available.
"""

from __future__ import annotations

import copy
import dataclasses
import re

from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import MASK, split_eol

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
# A commented-out setting, '# KEY: value', '#  - KEY=value' or '# - "KEY=value"': often an old secret.
_COMMENTED_SETTING = re.compile(r'[ \t]*#[ \t]*(?:-[ \t]+)?["\']?[A-Za-z_][\w.\-]*(?:[ \t]*:[ \t]+|=)(?=\S)')
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


class ComposeDocument:
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

    def mask_comments(self):
        """Show the value of each commented-out setting as MASK in diffs."""
        for i, body in enumerate(self.bodies):
            match = self.kinds[i] == _COMMENT and _COMMENTED_SETTING.match(body)
            if match:
                self.edits.show(i, i + 1, match[0] + MASK)

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


def plan_removals(doc, params):
    """Plan the removals on doc; returns the result fields."""
    result = dict(removed_services=[], removed_volumes=[], removed_environment={},
                  removed_depends_on={}, removed_links={})
    top = {entry.name: entry for entry in doc.entries(0, len(doc.bodies), None)}
    doc.mask_comments()
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


def expected(data, params):
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


def unverifiable_line(doc):
    """Index of the first line with an alias or a merge key, which only a YAML parser can follow; or None."""
    for i, body in enumerate(doc.bodies):
        if doc.kinds[i] == _CONTENT and _ALIAS_OR_MERGE.search(body[:_value_end(body, 0)]):
            return i
    return None
