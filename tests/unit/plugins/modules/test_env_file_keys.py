"""Unit tests of env_file_keys against the fixture files in tests/unit/fixtures/env.

Each NAME.before is edited with KEYS and must then equal NAME.after byte for byte.
"""
from __future__ import annotations

import os
import pathlib
import re
import shutil

import pytest

from ansible_collections.mall.cache_migration.plugins.modules.env_file_keys import main

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / 'fixtures' / 'env'
KEYS = ['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND']
REDIS = ['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD']

# What each fixture loses, in the order of the file.
REMOVED = {
    'bom': ['REDIS_URL'],
    'comments': KEYS,
    'crlf': ['REDIS_URL', 'REDIS_HOST', 'REDIS_PASSWORD'],
    'export': ['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT'],
    'last-line-removed': ['REDIS_URL'],
    'multiline': ['REDIS_PASSWORD', 'REDIS_HOST', 'REDIS_PORT'],
    'no-final-newline': ['REDIS_URL'],
    'quotes': ['REDIS_URL', 'REDIS_PASSWORD', 'REDIS_HOST', 'REDIS_PORT'],
}


def test_every_fixture_is_listed():
    assert sorted(path.stem for path in FIXTURES.glob('*.before')) == sorted(REMOVED)


@pytest.fixture
def env_file(tmp_path):
    """Copy of a fixture in tmp_path."""
    def copy(name):
        return pathlib.Path(shutil.copy(FIXTURES / f'{name}.before', tmp_path / '.env'))
    return copy


@pytest.mark.parametrize('name', sorted(REMOVED))
def test_fixture_edit_is_exact_and_idempotent(run_module, env_file, name):
    path = env_file(name)
    first = run_module(main, dict(path=str(path), keys=KEYS))
    assert first == dict(changed=True, removed=REMOVED[name])
    assert path.read_bytes() == (FIXTURES / f'{name}.after').read_bytes()

    second = run_module(main, dict(path=str(path), keys=KEYS))
    assert second == dict(changed=False, removed=[])
    assert path.read_bytes() == (FIXTURES / f'{name}.after').read_bytes()


@pytest.mark.parametrize('name', sorted(REMOVED))
def test_check_mode_reports_and_writes_nothing(run_module, env_file, name):
    path = env_file(name)
    before = os.stat(path)
    result = run_module(main, dict(path=str(path), keys=KEYS), check_mode=True, diff=True)
    assert result['changed'] and result['removed'] == REMOVED[name]
    assert path.read_bytes() == (FIXTURES / f'{name}.before').read_bytes()
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns


def test_diff_masks_every_value_by_default(run_module, env_file):
    result = run_module(main, dict(path=str(env_file('crlf')), keys=KEYS), check_mode=True, diff=True)
    # Each line of the multi-line value shows, with its own line ending.
    assert result['diff']['before'] == ('# CRLF file, one LF line (mixed)\r\n'
                                        'MYSQL_HOST=********\r\n'
                                        'REDIS_URL=********\r\n'
                                        'REDIS_HOST=********\n'
                                        'DEBUG=********\r\n'
                                        '\r\n'
                                        'REDIS_PASSWORD=********\r\n'
                                        '********\r\n'
                                        'SECRET_KEY=********\r\n')
    assert result['diff']['after'] == ('# CRLF file, one LF line (mixed)\r\n'
                                       'MYSQL_HOST=********\r\n'
                                       'DEBUG=********\r\n'
                                       '\r\n'
                                       'SECRET_KEY=********\r\n')


@pytest.mark.parametrize('name', sorted(REMOVED))
def test_masked_diff_holds_no_value(run_module, env_file, name):
    path = env_file(name)
    diff = run_module(main, dict(path=str(path), keys=KEYS), check_mode=True, diff=True)['diff']
    for side in ('before', 'after'):
        for line in diff[side].splitlines():
            # Each assignment shows as KEY=******** (or KEY= when empty); comments show as they are.
            assert re.fullmatch(r'\s*(#.*|(export\s+)?[^=#\s]+(\s*=\s*(\*{8}|))?)?', line.lstrip('\ufeff')), line


def test_unmasked_diff_shows_kept_values_but_never_removed_ones(run_module, env_file):
    path = env_file('comments')
    diff = run_module(main, dict(path=str(path), keys=KEYS, masked=False), check_mode=True, diff=True)['diff']
    assert 'MYSQL_PASSWORD=dev_password # inline comment\n' in diff['before']
    assert 'MYSQL_PASSWORD=dev_password # inline comment\n' in diff['after']
    assert 'REDIS_URL=********\n' in diff['before']
    assert 'redis_dev_password' not in diff['before'] + diff['after']


@pytest.mark.parametrize('masked', [True, False])
def test_diff_masks_commented_out_assignments(run_module, tmp_path, masked):
    text = ('# Database (old password kept for reference)\n'
            '#MYSQL_PASSWORD=old-s3cret\n'
            '  # export REDIS_PASSWORD = "older-s3cret"\r\n'
            '# see the wiki = no value here\n'
            '#EMPTY=\n'
            'NOTE="line one\n'
            '#INSIDE=a quoted value"\n'
            'REDIS_URL=redis://:r3dis@cache:6379/1\n')
    path = tmp_path / '.env'
    path.write_bytes(text.encode())
    result = run_module(main, dict(path=str(path), keys=['REDIS_URL'], masked=masked), check_mode=True, diff=True)
    diff = result['diff']
    for secret in ('old-s3cret', 'older-s3cret', 'r3dis'):
        assert secret not in diff['before'] + diff['after']
    assert '#MYSQL_PASSWORD=********\n' in diff['after']
    assert '  # export REDIS_PASSWORD = ********\r\n' in diff['after']
    # Prose with an '=' and an empty value stay as they are; so does a line inside a kept quoted value.
    assert '# see the wiki = no value here\n#EMPTY=\n' in diff['after']
    if masked:
        assert 'NOTE=********\n********\n' in diff['after']
    else:
        assert 'NOTE="line one\n#INSIDE=a quoted value"\n' in diff['after']
    assert len(diff['before'].splitlines()) == len(text.splitlines())
    assert path.read_bytes() == text.encode()


def test_a_key_assigned_twice_goes_twice_and_is_named_once(run_module, tmp_path):
    path = tmp_path / '.env'
    path.write_text('REDIS_URL=a\nA=1\nREDIS_URL=b\n')
    assert run_module(main, dict(path=str(path), keys=['REDIS_URL'])) == dict(changed=True, removed=['REDIS_URL'])
    assert path.read_text() == 'A=1\n'


def test_owner_group_and_mode_are_kept(run_module, env_file, keeps_attributes):
    path = env_file('comments')
    with keeps_attributes(path):
        run_module(main, dict(path=str(path), keys=KEYS))
    assert path.read_bytes() == (FIXTURES / 'comments.after').read_bytes()


def test_backup(run_module, env_file):
    path = env_file('comments')
    result = run_module(main, dict(path=str(path), keys=KEYS, backup=True))
    assert pathlib.Path(result['backup_file']).read_bytes() == (FIXTURES / 'comments.before').read_bytes()


@pytest.mark.parametrize('missing, expected', [
    ('fail', dict(failed=True, msg='{path} does not exist')),
    ('ignore', dict(changed=False, removed=[])),
])
def test_missing_file(run_module, tmp_path, missing, expected):
    path = str(tmp_path / '.env')
    result = run_module(main, dict(path=path, keys=KEYS, missing=missing))
    assert result == {key: value.format(path=path) if isinstance(value, str) else value
                      for key, value in expected.items()}


@pytest.mark.parametrize('key', ['', 'A=B', 'A B', '#A'])
def test_invalid_key_names_fail(run_module, env_file, key):
    result = run_module(main, dict(path=str(env_file('comments')), keys=['REDIS_URL', key]))
    assert result['failed'] and result['msg'].startswith('Not valid key names')


def test_through_ansible_check_then_real_then_idempotent(ansible_adhoc, env_file):
    path = env_file('comments')
    args = f'path={path} keys={",".join(KEYS)}'

    out, result = ansible_adhoc('env_file_keys', args, '--check', '--diff')
    assert result == dict(changed=True, removed=KEYS)
    assert '-REDIS_URL=********' in out and '-CELERY_BROKER_URL=********' in out
    assert 'dev_password' not in out
    assert path.read_bytes() == (FIXTURES / 'comments.before').read_bytes()

    out, result = ansible_adhoc('env_file_keys', args)
    assert result['changed']
    assert path.read_bytes() == (FIXTURES / 'comments.after').read_bytes()

    out, result = ansible_adhoc('env_file_keys', args, '--diff')
    assert result == dict(changed=False, removed=[])


@pytest.mark.parametrize('codec', ['utf-16', 'utf-16-be', 'utf-32', 'utf-8-sig'])
def test_a_file_with_a_byte_order_mark_is_edited_in_its_own_encoding(run_module, tmp_path, codec):
    path = tmp_path / '.env'
    before = '# Notepad\r\nREDIS_URL=redis://x\r\nDEBUG=caf\u00e9\r\nREDIS_PASSWORD="a\r\nb"\r\n'
    bom = {'utf-16-be': '\ufeff'}.get(codec, '')
    path.write_bytes((bom + before).encode(codec))
    result = run_module(main, dict(path=str(path), keys=KEYS))
    assert result == dict(changed=True, removed=['REDIS_URL', 'REDIS_PASSWORD'])
    assert path.read_bytes() == (bom + '# Notepad\r\nDEBUG=caf\u00e9\r\n').encode(codec)
    assert run_module(main, dict(path=str(path), keys=KEYS)) == dict(changed=False, removed=[])


@pytest.mark.parametrize('data, error', [
    ('REDIS_URL=x\n'.encode('utf-16-le'), 'holds NUL bytes'),
    (b'REDIS_URL=x\nNAME=Jos\xe9\n', 'not UTF-8 text'),
])
def test_a_file_it_cannot_decode_fails_and_stays(run_module, tmp_path, data, error):
    path = tmp_path / '.env'
    path.write_bytes(data)
    result = run_module(main, dict(path=str(path), keys=KEYS))
    assert result['failed'] and result['msg'].startswith(f'Cannot read {path}: {error}')
    assert path.read_bytes() == data


# Issue 20, item 4: python-decouple (the app's reader) has no escapes, so for it `\"` ends the value on
# its line; python-dotenv and docker compose read on to the next quote. The editor removed all four lines.
ESCAPED_QUOTE = 'REDIS_PASSWORD="Zq9!x\\"\nMYSQL_HOST=db\nMYSQL_USER=mall\nSECRET_KEY="k"\n'


def test_a_line_the_readers_disagree_on_is_refused_and_the_file_stays(run_module, tmp_path):
    path = tmp_path / '.env'
    path.write_text(ESCAPED_QUOTE)
    result = run_module(main, dict(path=str(path), keys=KEYS), diff=True)
    assert result['failed'] and not result['changed']
    assert result['refused'][0] == dict(file=str(path), line=1, key='REDIS_PASSWORD',
                                        reason=result['refused'][0]['reason'])
    assert {item['line'] for item in result['refused']} <= {1, 2, 3, 4}
    assert 'diff' not in result
    assert path.read_text() == ESCAPED_QUOTE


def test_diff_shows_each_removed_line_of_a_multi_line_value(run_module, tmp_path):
    path = tmp_path / '.env'
    path.write_text('A=1\nREDIS_PASSWORD="first\nsecond\nthird"\nB=2\n')
    diff = run_module(main, dict(path=str(path), keys=KEYS), check_mode=True, diff=True)['diff']
    before = diff['before'].splitlines()
    assert len(before) == 5
    assert before[1:4] == ['REDIS_PASSWORD=********', '********', '********']
    assert diff['after'].splitlines() == ['A=********', 'B=********']
