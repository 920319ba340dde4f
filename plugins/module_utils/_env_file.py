# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read dotenv files the way python-dotenv does: the one reader of env files in this collection.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

env_file_keys edits env files with it and cache_verify looks for leftover
keys with it, so a line is an assignment for both or for neither:
``KEY=value``, ``export KEY=value``, ``KEY = value`` and a bare ``KEY``
assign KEY; a value in single or double quotes may span lines, and the lines
inside it are never taken for assignments; comment lines assign nothing.

Files are UTF-8, with or without a byte order mark, or UTF-16 or UTF-32
with one (as Windows editors save them). Text in another encoding raises
EnvFileError, so a caller reports the file as unreadable instead of finding
nothing in it.
"""

from __future__ import annotations

import bisect
import codecs
import re

from ansible_collections.mall.cache_migration.plugins.module_utils import _env_readers
from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import BOM, LineEdits, split_eol, split_lines

# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one. Each codec keeps
# the mark as U+FEFF at the start of the text, so encoding the text again gives the
# same bytes.
_BOMS = (
    (codecs.BOM_UTF32_LE, 'utf-32-le'),
    (codecs.BOM_UTF32_BE, 'utf-32-be'),
    (codecs.BOM_UTF8, 'utf-8'),
    (codecs.BOM_UTF16_LE, 'utf-16-le'),
    (codecs.BOM_UTF16_BE, 'utf-16-be'),
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
KEY_NAME = re.compile(r'[^=#\s]+\Z')
# A commented-out assignment, `#KEY=value` or `# export KEY = value`: an old value, often a secret.
_COMMENTED = re.compile(r'[^\S\r\n]*#[^\S\r\n]*(?:export[^\S\r\n]+)?[A-Za-z_][A-Za-z0-9_.]*[^\S\r\n]*=[^\S\r\n]*(?=\S)')


class EnvFileError(ValueError):
    """The bytes of a file are not text this reader can decode."""


def decode(data):
    """(text, codec) of the bytes of an env file; a byte order mark stays as U+FEFF at the start."""
    codec = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    try:
        text = data.decode(codec or 'utf-8')
    except UnicodeDecodeError as exc:
        raise EnvFileError('not %s text: %s' % (codec or 'UTF-8', exc)) from None
    if codec is None and '\0' in text:
        # Valid UTF-8 with NUL bytes: UTF-16 or UTF-32 without a byte order mark, or no text at all.
        raise EnvFileError('holds NUL bytes, so it is not UTF-8 text (UTF-16 without a byte order mark?)')
    return text, codec or 'utf-8'


def read(path):
    """(text, codec) of the env file at path. Raises OSError or EnvFileError."""
    with open(path, 'rb') as env_file:
        return decode(env_file.read())


def assignments(lines):
    """Yield (key, first line, end line, value prefix or None) for each assignment in lines.

    lines are split_lines() of the text without its byte order mark. The
    assignment spans lines first to end - 1; the value prefix is the text of
    the first line up to its value (None when there is no value to hide).
    """
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


def removal_edits(text, keys, masked=True):
    """(LineEdits that remove every assignment of keys, the removed key names in file order, each once).

    In the edits' diff, removed values and commented-out ones are masked, and kept ones too when masked is true.
    """
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
        if prefix is not None and (gone or masked):
            edits.mask(first, end, prefix)
    for line, prefix in commented_assignments(edits.lines, assigned):
        edits.mask(line, line + 1, prefix)
    return edits, removed


def disagreements(path, text, keys):
    """Where python-decouple, python-dotenv or docker compose would not read removing keys from text as this
    reader does: a list of dicts {file, line, key, reason}, empty when all three agree."""
    bom = BOM if text.startswith(BOM) else ''
    lines = split_lines(text[len(bom):])
    found = list(assignments(lines))
    removed = [(key, first, end) for key, first, end, prefix in found if key in keys]
    names = {key for key, first, end, prefix in found}
    return [dict(file=path, line=line, key=key, reason=reason)
            for line, key, reason in _env_readers.disagreements(lines, bom, keys, removed, names)]


def commented_assignments(lines, skip):
    """Yield (line, value prefix) for each commented-out assignment with a value, outside the lines in skip."""
    for i, line in enumerate(lines):
        match = i not in skip and _COMMENTED.match(split_eol(line)[0])
        if match:
            yield i, match[0]


def find_keys(text, keys):
    """(line number, key) of each assignment of one of keys in text, in the order of the file."""
    wanted = set(keys)
    lines = split_lines(text[len(BOM):] if text.startswith(BOM) else text)
    return [(first + 1, key) for key, first, end, prefix in assignments(lines) if key in wanted]


def scan_files(paths, keys):
    """Find keys in env files; report file, line and key name, never the value.

    Returns ``(found, unreadable)``, lists of dicts: ``{file, line, key}``
    and ``{file, error}`` for a file that cannot be opened or decoded.
    """
    found, unreadable = [], []
    for path in paths:
        try:
            text = read(path)[0]
        except OSError as exc:
            unreadable.append(dict(file=path, error=exc.strerror or str(exc)))
            continue
        except EnvFileError as exc:
            unreadable.append(dict(file=path, error=str(exc)))
            continue
        found.extend(dict(file=path, line=number, key=key) for number, key in find_keys(text, keys))
    return found, unreadable
