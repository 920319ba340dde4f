# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Edit a text file by whole lines and write it back with every other byte kept.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

The modules that use it (env_file_keys, compose_service_absent) parse a file
into lines, decide which lines to drop or rewrite, and let this helper build
the new text, the diff (with secrets masked) and the atomic write. Lines keep
their own line endings, so CRLF, LF and mixed files come back as they were.
"""

from __future__ import annotations

import os
import re
import tempfile

MASK = '********'
BOM = '\ufeff'

# Only LF ends a line: str.splitlines() would also split at form feeds,
# U+2028 and a lone CR, which would move bytes between lines.
_LINE = re.compile(r'[^\n]*\n|[^\n]+\Z')


def text_file_argument_spec():
    """Options every module of this collection that edits a text file takes."""
    return dict(
        path=dict(type='path', required=True),
        backup=dict(type='bool', default=False),
    )


def split_lines(text):
    """The lines of text, each with its own line ending ('' for an unterminated last line)."""
    return _LINE.findall(text)


def split_eol(line):
    """(body, line ending) of one line."""
    for eol in ('\r\n', '\n'):
        if line.endswith(eol):
            return line[:-len(eol)], eol
    return line, ''


def read_bytes(module, path, missing='fail'):
    """The file's bytes, or None when it does not exist and missing is 'ignore'."""
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        if missing == 'fail':
            module.fail_json(msg=f'{path} does not exist')
        return None
    except OSError as e:
        module.fail_json(msg=f'Cannot read {path}: {e}')


def read_text(module, path, missing='fail'):
    """The file's UTF-8 text, or None when it does not exist and missing is 'ignore'."""
    data = read_bytes(module, path, missing)
    if data is None:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as e:
        module.fail_json(msg=f'{path} is not UTF-8 text: {e}')


class LineEdits:
    """Lines to remove or replace in a text, and how lines appear in a diff.

    A line that is neither removed nor replaced keeps its exact characters,
    line ending included. A byte order mark (U+FEFF) stays at the start of the
    text even when the first line goes.
    """

    def __init__(self, text):
        self.bom = BOM if text.startswith(BOM) else ''
        self.lines = split_lines(text[len(self.bom):])
        self._removed = set()
        self._replaced = {}
        self._shown = {}

    @property
    def changed(self):
        return bool(self._removed or self._replaced)

    def remove(self, start, end):
        """Drop lines start to end - 1."""
        self._removed.update(range(start, end))

    def replace(self, index, line):
        """Put line (with its line ending) in place of line index."""
        self._replaced[index] = line

    def show(self, start, end, body):
        """Show line start in diffs as body, and each further line up to end - 1 as its indentation and MASK.

        Every line keeps its own line ending, so a diff shows one line for each line of the file.
        """
        self._shown[start] = body + split_eol(self.lines[start])[1]
        for i in range(start + 1, end):
            line_body, eol = split_eol(self.lines[i])
            self._shown[i] = line_body[:len(line_body) - len(line_body.lstrip())] + MASK + eol

    def mask(self, start, end, prefix):
        """Show lines start to end - 1 in diffs as prefix followed by MASK."""
        self.show(start, end, prefix + MASK)

    def text(self):
        """The edited text."""
        return self.bom + ''.join(self._replaced.get(i, line)
                                  for i, line in enumerate(self.lines) if i not in self._removed)

    def diff(self, path):
        """Ansible's diff of the edit; masked lines show their stand-ins on both sides."""
        before = ''.join(self._shown.get(i, line) for i, line in enumerate(self.lines))
        after = ''.join(self._replaced[i] if i in self._replaced else self._shown.get(i, line)
                        for i, line in enumerate(self.lines) if i not in self._removed)
        return dict(before=before, after=after, before_header=path, after_header=path)


def write_atomic(module, path, text, encoding='utf-8'):
    """Replace the file at path with text (str, written in encoding, or bytes) through a temporary file beside it.

    atomic_move() copies owner, group, mode and SELinux context of the file it
    replaces onto the new one, and the rename means readers see either the old
    or the new file. A symbolic link is followed, so the link stays a link.
    """
    path = os.path.realpath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f'.{os.path.basename(path)}.', suffix='.tmp')
    module.add_cleanup_file(tmp)
    with os.fdopen(fd, 'wb') as f:
        f.write(text if isinstance(text, bytes) else text.encode(encoding))
    module.atomic_move(tmp, path)


def exit_with_edits(module, path, edits, encoding='utf-8', **result):
    """Return the outcome of edits to path, writing them (in encoding) unless in check mode."""
    if module._diff:
        result['diff'] = edits.diff(path)
    if edits.changed and not module.check_mode:
        if module.params['backup']:
            result['backup_file'] = module.backup_local(os.path.realpath(path))
        write_atomic(module, path, edits.text(), encoding)
    module.exit_json(changed=edits.changed, **result)
