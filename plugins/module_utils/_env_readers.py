# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which lines of an env file assign which key, as python-decouple, python-dotenv and docker compose read it.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

The app reads its env file with python-decouple (one line, one assignment,
no escapes); python-dotenv and docker compose let a quoted value span lines
and take a backslash before a quote as an escape. env_file_keys removes a key
only where the three agree on the lines that assign it: each model here gives
the assignments of one reader, as (key, first line, end line), and
``disagreements`` names the lines where they differ in a way the edit depends
on. Values are never compared: the edit removes or keeps whole lines.
The models follow python-decouple 3.8, python-dotenv 1.2 and compose-go's
dotenv parser (docker compose v2); tests/unit checks them against the first two.
"""

from __future__ import annotations

import bisect
import collections
import re

Assignment = collections.namedtuple('Assignment', 'key first end')
Disagreement = collections.namedtuple('Disagreement', 'line key reason')

DECOUPLE = 'python-decouple'
DOTENV = 'python-dotenv'
COMPOSE = 'docker compose'

# python-decouple iterates over the file in text mode: a lone CR ends a line too.
_UNIVERSAL_EOL = re.compile(r'\r\n|\r|\n')

# python-dotenv's grammar, applied from one position of the whole text.
_DOTENV_SPACE = re.compile(r'\s*')
_DOTENV_EXPORT = re.compile(r'(?:export[^\S\r\n]+)?')
_DOTENV_PLAIN_KEY = re.compile(r'([^=#\s]+)')
# A key in single quotes, by the quote it starts with; any other key is plain.
_DOTENV_KEY = {"'": re.compile(r"'([^']+)'")}
_DOTENV_BLANK = re.compile(r'[^\S\r\n]*')
_DOTENV_EQUALS = re.compile(r'=[^\S\r\n]*')
_DOTENV_VALUE = {
    "'": re.compile(r"'(?:\\.|[^'\\])*'", re.DOTALL),
    '"': re.compile(r'"(?:\\.|[^"\\])*"', re.DOTALL),
}
_DOTENV_UNQUOTED = re.compile(r'[^\r\n]*')
_DOTENV_END = re.compile(r'(?:[^\S\r\n]*#[^\r\n]*)?[^\S\r\n]*(?:\r\n|\n|\r|\Z)')
_DOTENV_REST = re.compile(r'[^\r\n]*(?:\r\n|\r|\n)?')

# compose-go: blanks that are not line breaks, a key of letters, digits and _ . - [ ], then = or :.
_COMPOSE_BLANK = '\t\v\f\r \x85\xa0'
_COMPOSE_EXPORT = re.compile(r'export\s+')
_EXPORT_OR_BOM = re.compile(r'\A\ufeff?(?:export\s+)?')
_COMPOSE_KEY = re.compile(r'[\w.\-\[\]%s]*' % re.escape(_COMPOSE_BLANK))


class ReaderError(ValueError):
    """A reader stops at this character of the text and reads nothing of the file."""

    def __init__(self, pos, reason):
        super().__init__(reason)
        self.pos = pos
        self.reason = reason


class _Text:
    """The text of the lines and the line that holds each character."""

    def __init__(self, lines):
        self.string = ''.join(lines)
        self.starts = [0]
        for line in lines:
            self.starts.append(self.starts[-1] + len(line))

    def line(self, pos):
        return bisect.bisect_right(self.starts, pos) - 1

    def assignment(self, key, start, stop):
        """The assignment of key written from character start to stop (exclusive)."""
        return Assignment(key, self.line(start), self.line(max(start, stop - 1)) + 1)


# Each model takes the lines of the text without its byte order mark and the mark ('' when none): python-dotenv
# and compose-go skip it, python-decouple reads it as part of the first line.
def decouple_assignments(lines, bom=''):
    """python-decouple's RepositoryEnv: each line with an '=' that is no comment assigns the stripped text
    before it; a byte order mark stays part of the first key, as it opens the file as UTF-8."""
    for i, line in enumerate(lines):
        for part in _UNIVERSAL_EOL.split((bom if i == 0 else '') + line):
            part = part.strip()
            if part and not part.startswith('#') and '=' in part:
                yield Assignment(part.split('=', 1)[0].strip(), i, i + 1)


def dotenv_assignments(lines, bom=''):
    """python-dotenv's parser: export, a key, '=', a value quoted over lines (backslash escapes) or to the end
    of its line, a comment. A binding it cannot parse assigns nothing; it skips to the end of the line it
    failed on."""
    text = _Text(lines)
    string, pos = text.string, 0
    while True:
        pos = _DOTENV_SPACE.match(string, pos).end()
        if pos >= len(string):
            return
        start = pos
        try:
            key, pos = _dotenv_binding(string, pos)
        except ReaderError as exc:
            pos = _DOTENV_REST.match(string, exc.pos).end()
            continue
        if key is not None:
            yield text.assignment(key, start, pos)


def _dotenv_match(regex, string, pos):
    match = regex.match(string, pos)
    if match is None:
        raise ReaderError(pos, 'no match')
    return match


def _dotenv_binding(string, pos):
    """(key or None for a comment, index after the binding) of the binding at string[pos]."""
    pos = _DOTENV_EXPORT.match(string, pos).end()
    key = None
    if not string.startswith('#', pos):
        match = _dotenv_match(_DOTENV_KEY.get(string[pos:pos + 1], _DOTENV_PLAIN_KEY), string, pos)
        key, pos = match.group(1), match.end()
    pos = _DOTENV_BLANK.match(string, pos).end()
    equals = _DOTENV_EQUALS.match(string, pos)
    if equals:
        pos = equals.end()
        # 'KEY= # note' is empty with a comment; 'KEY=#x' is the value '#x'.
        if not (equals.end() - equals.start() > 1 and string.startswith('#', pos)):
            quoted = _DOTENV_VALUE.get(string[pos:pos + 1])
            pos = _dotenv_match(quoted or _DOTENV_UNQUOTED, string, pos).end()
    return key, _dotenv_match(_DOTENV_END, string, pos).end()


def compose_assignments(lines, bom=''):
    """compose-go's dotenv parser: like python-dotenv, but it also takes 'KEY: value', reads a bare 'KEY' from
    the environment, and stops reading the file at the first line it cannot parse (ReaderError)."""
    text = _Text(lines)
    string, pos = text.string, 0
    while True:
        while pos < len(string) and string[pos].isspace():
            pos += 1
        if pos >= len(string):
            return
        if string[pos] == '#':
            pos = string.find('\n', pos)
            if pos < 0:
                return
            continue
        start = pos
        if _COMPOSE_EXPORT.match(string, pos):
            pos += len('export')
            while pos < len(string) and string[pos] in _COMPOSE_BLANK:
                pos += 1
        name_end = _COMPOSE_KEY.match(string, pos).end()
        if name_end >= len(string):
            return  # a last line without '=' or line break: compose-go sets the empty name
        if string[name_end] not in '=:\n':
            raise ReaderError(name_end, 'a key holds %r, which is not a letter, digit, _, ., -, [ or ]'
                              % string[name_end:name_end + 1])
        key = string[pos:name_end].rstrip()
        if ' ' in key:
            raise ReaderError(pos, 'a key holds a space')
        pos = name_end + 1
        if string[name_end] != '\n':
            while pos < len(string) and string[pos] in _COMPOSE_BLANK:
                pos += 1
            pos = _compose_value_end(string, pos)
        yield text.assignment(key, start, pos)


def _compose_value_end(string, pos):
    """Index after the value at string[pos]: after its closing quote, or at the line break of an unquoted one."""
    quote = string[pos:pos + 1]
    if quote not in ('"', "'"):
        end = string.find('\n', pos)
        return len(string) if end < 0 else end
    i = pos + 1
    while i < len(string):
        if string[i] == '\\':
            i += 2
        elif string[i] == quote:
            return i + 1
        else:
            i += 1
    raise ReaderError(pos, 'a quoted value never closes')


READERS = ((DECOUPLE, decouple_assignments), (DOTENV, dotenv_assignments), (COMPOSE, compose_assignments))


def _lines(first, end):
    return 'line %d' % (first + 1) if end == first + 1 else 'lines %d-%d' % (first + 1, end)


def _shown(key, names):
    """key as a reason may show it: only names the editor reads as keys, as a reader may take a line of a
    value (a secret) for a key."""
    bare = _EXPORT_OR_BOM.sub('', key)
    return repr(key) if bare in names else 'a key of its own (not shown: for another reader the line is part of a value)'


def disagreements(lines, bom, keys, removed, names):
    """The places where a reader would not read the edit as removing exactly the assignments of keys.

    lines are split_lines() of the text without its byte order mark, bom that mark or '', removed the
    editor's (key, first, end) assignments it would remove, names the keys the editor reads. A reader
    disagrees where a removed line is, for it, part of an assignment of another key or of an assignment
    that does not go whole; where a kept line assigns one of keys; and where it stops reading the file
    at a removed line (docker compose). Where docker compose stops at a kept line, it reads nothing of
    the file, before the edit or after it.
    """
    gone = {}
    for key, first, end in removed:
        gone.update(dict.fromkeys(range(first, end), (key, first)))
    found = []
    for reader, parse in READERS:
        try:
            for key, first, end in parse(lines, bom):
                span = set(range(first, end))
                if span <= set(gone) and key in keys:
                    continue
                if span & set(gone):
                    editor_key, editor_first = gone[min(span & set(gone))]
                    found.append(Disagreement(editor_first + 1, editor_key, '%s reads %s as an assignment of %s, '
                                              'where the edit would remove %s' % (
                                                  reader, _lines(first, end), _shown(key, names), editor_key)))
                elif key in keys:
                    found.append(Disagreement(first + 1, key, '%s reads %s as an assignment of %s, which the edit '
                                              'would keep' % (reader, _lines(first, end), key)))
        except ReaderError as exc:
            line = _Text(lines).line(exc.pos)
            if line in gone:
                found.append(Disagreement(line + 1, gone[line][0], '%s stops reading the file at line %d: %s' % (
                    reader, line + 1, exc.reason)))
    return sorted(set(found))
