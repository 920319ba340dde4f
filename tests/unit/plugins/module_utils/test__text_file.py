"""Unit tests of the private line-editing helper shared by env_file_keys and compose_service_absent."""
from __future__ import annotations

import os

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import (
    MASK,
    LineEdits,
    exit_with_edits,
    read_text,
    split_eol,
    split_lines,
    text_file_argument_spec,
)


@pytest.mark.parametrize('text, lines', [
    ('', []),
    ('a', ['a']),
    ('a\n', ['a\n']),
    ('a\r\nb\n', ['a\r\n', 'b\n']),
    ('a\nb', ['a\n', 'b']),
    ('\n\n', ['\n', '\n']),
    # Only LF ends a line; a lone CR, form feed or U+2028 stays inside it.
    ('a\rb\x0cc\u2028d\r\n', ['a\rb\x0cc\u2028d\r\n']),
], ids=['empty', 'no-newline', 'lf', 'crlf-lf', 'unterminated-last', 'blank-lines', 'other-breaks'])
def test_split_lines_keeps_every_character(text, lines):
    assert split_lines(text) == lines
    assert ''.join(split_lines(text)) == text


@pytest.mark.parametrize('line, parts', [
    ('a\r\n', ('a', '\r\n')),
    ('a\n', ('a', '\n')),
    ('a', ('a', '')),
    ('a\r', ('a\r', '')),
    ('\r\n', ('', '\r\n')),
])
def test_split_eol(line, parts):
    assert split_eol(line) == parts


def test_line_edits_without_edits_give_the_text_back():
    text = '\ufeffa=1\r\n\r\nb=2'
    edits = LineEdits(text)
    assert not edits.changed
    assert edits.text() == text
    assert edits.diff('f') == dict(before='a=1\r\n\r\nb=2', after='a=1\r\n\r\nb=2', before_header='f', after_header='f')


def test_line_edits_remove_and_replace_whole_lines():
    edits = LineEdits('a\nb\r\nc\nd')
    edits.remove(1, 3)
    edits.replace(3, 'D')
    assert edits.changed
    assert edits.text() == 'a\nD'


def test_byte_order_mark_stays_when_the_first_line_goes():
    edits = LineEdits('\ufeffa\nb\n')
    edits.remove(0, 1)
    assert edits.text() == '\ufeffb\n'


def test_diff_shows_masked_stand_ins_on_both_sides():
    edits = LineEdits('KEEP=secret\nGONE="multi\nline"\r\nPLAIN=1\n')
    edits.mask(0, 1, 'KEEP=')
    edits.mask(1, 3, 'GONE=')
    edits.remove(1, 3)
    diff = edits.diff('.env')
    # Each line of a masked value shows, with its own line ending.
    assert diff['before'] == f'KEEP={MASK}\nGONE={MASK}\n{MASK}\r\nPLAIN=1\n'
    assert diff['after'] == f'KEEP={MASK}\nPLAIN=1\n'
    assert edits.text() == 'KEEP=secret\nPLAIN=1\n'


def test_diff_shows_the_replacement_after_and_the_stand_in_before():
    edits = LineEdits('env: [A=1, B=secret]\n')
    edits.show(0, 1, f'env: [A=1, B={MASK}]')
    edits.replace(0, 'env: [A=1]\n')
    assert edits.diff('c.yml')['before'] == f'env: [A=1, B={MASK}]\n'
    assert edits.diff('c.yml')['after'] == 'env: [A=1]\n'


def drop_first_line():
    """A minimal module built on the helper: removes the first line of path."""
    module = AnsibleModule(argument_spec=dict(text_file_argument_spec(), missing=dict(type='str', default='fail')),
                           supports_check_mode=True)
    text = read_text(module, module.params['path'], module.params['missing'])
    if text is None:
        module.exit_json(changed=False, missing=True)
    edits = LineEdits(text)
    edits.remove(0, 1)
    exit_with_edits(module, module.params['path'], edits)


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / 'sample.txt'
    path.write_bytes(b'first\r\nsecond\r\n')
    return path


def test_write_keeps_mode_owner_and_group(run_module, keeps_attributes, sample):
    with keeps_attributes(sample):
        result = run_module(drop_first_line, dict(path=str(sample)))
    assert result['changed']
    assert sample.read_bytes() == b'second\r\n'
    assert os.listdir(sample.parent) == ['sample.txt']  # no temporary file left


def test_check_mode_writes_nothing(run_module, sample):
    before = os.stat(sample)
    result = run_module(drop_first_line, dict(path=str(sample)), check_mode=True, diff=True)
    assert result['changed']
    assert result['diff']['after'] == 'second\r\n'
    assert sample.read_bytes() == b'first\r\nsecond\r\n'
    assert os.stat(sample).st_mtime_ns == before.st_mtime_ns


def test_backup_holds_the_old_content(run_module, sample):
    result = run_module(drop_first_line, dict(path=str(sample), backup=True))
    assert open(result['backup_file'], 'rb').read() == b'first\r\nsecond\r\n'
    assert sample.read_bytes() == b'second\r\n'


def test_a_symbolic_link_stays_a_link(run_module, sample):
    link = sample.parent / 'link.txt'
    link.symlink_to(sample.name)
    run_module(drop_first_line, dict(path=str(link)))
    assert link.is_symlink()
    assert sample.read_bytes() == b'second\r\n'


@pytest.mark.parametrize('missing, expected', [
    ('fail', dict(failed=True, msg='{path} does not exist')),
    ('ignore', dict(changed=False, missing=True)),
])
def test_missing_file(run_module, tmp_path, missing, expected):
    path = str(tmp_path / 'absent')
    result = run_module(drop_first_line, dict(path=path, missing=missing))
    assert result == {key: value.format(path=path) if isinstance(value, str) else value
                      for key, value in expected.items()}


@pytest.mark.parametrize('setup, message', [
    (lambda path: path.write_bytes(b'caf\xe9\n'), 'is not UTF-8 text'),
    (lambda path: path.mkdir(), 'Cannot read'),
], ids=['latin-1', 'directory'])
def test_unreadable_file_fails(run_module, tmp_path, setup, message):
    path = tmp_path / 'file'
    setup(path)
    result = run_module(drop_first_line, dict(path=str(path)))
    assert result['failed'] and message in result['msg']
