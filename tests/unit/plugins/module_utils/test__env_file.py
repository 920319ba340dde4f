"""Unit tests of the env file reader (plugins/module_utils/_env_file.py).

env_file_keys edits with it and cache_verify looks for leftovers with it, so the shapes
where the earlier three readers disagreed (a bare key, a quoted value over several lines,
UTF-16) are tested here once, and through both modules in tests/unit/plugins/modules.
"""
from __future__ import annotations

import codecs

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _env_file as env_file

KEYS = ['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND']


@pytest.mark.parametrize('text, found', [
    ('REDIS_URL=redis://x\n', [(1, 'REDIS_URL')]),
    ('export REDIS_URL=redis://x\n', [(1, 'REDIS_URL')]),
    ('  export   REDIS_HOST = cache\n', [(1, 'REDIS_HOST')]),
    ('REDIS_URL=\n', [(1, 'REDIS_URL')]),
    ('# REDIS_URL=redis://x\n', []),
    ('   #export REDIS_URL=redis://x\n', []),
    ('REDIS_URL_BACKUP=x\nMY_REDIS_URL=x\nredis_url=x\n', []),
    ('DEBUG=True\r\nREDIS_PORT=6379\r\n', [(2, 'REDIS_PORT')]),
    ('A=1\n\nCELERY_BROKER_URL=redis://x\nCELERY_RESULT_BACKEND=redis://y',
     [(3, 'CELERY_BROKER_URL'), (4, 'CELERY_RESULT_BACKEND')]),
    ('SECRET=has REDIS_URL=inside\n', []),
    # A bare key assigns it (python-dotenv gives it no value), with or without export or a comment.
    ('REDIS_URL\n', [(1, 'REDIS_URL')]),
    ('export REDIS_HOST\nREDIS_PORT  # set by the shell\n', [(1, 'REDIS_HOST'), (2, 'REDIS_PORT')]),
    ('REDIS_URL is gone\n', []),
    # A quoted value may span lines: its own key counts once, the lines inside it never.
    ('A=1\nREDIS_PASSWORD="first\nREDIS_HOST=inside\nlast"\nREDIS_PORT=6379\n',
     [(2, 'REDIS_PASSWORD'), (5, 'REDIS_PORT')]),
    ("CERT='-----BEGIN-----\nREDIS_URL=redis://inside\n-----END-----'\n", []),
    ('NOTE="say \\"hi\\"\nREDIS_URL=inside"\nREDIS_URL=x\n', [(3, 'REDIS_URL')]),
    # A byte order mark is not part of the first key.
    ('\ufeffREDIS_URL=x\n', [(1, 'REDIS_URL')]),
])
def test_find_keys(text, found):
    assert env_file.find_keys(text, KEYS) == found


@pytest.mark.parametrize('codec', ['utf-8-sig', 'utf-16', 'utf-16-le', 'utf-16-be', 'utf-32'])
def test_decode_keeps_the_byte_order_mark_so_the_text_encodes_back_to_the_same_bytes(codec):
    data = 'REDIS_URL=redis://x\r\nDEBUG=caf\u00e9\n'.encode(codec)
    if codec in ('utf-16-le', 'utf-16-be'):
        data = codecs.BOM_UTF16_LE + data if codec.endswith('le') else codecs.BOM_UTF16_BE + data
    text, encoding = env_file.decode(data)
    assert text == '\ufeffREDIS_URL=redis://x\r\nDEBUG=caf\u00e9\n'
    assert text.encode(encoding) == data


def test_decode_of_plain_utf8():
    assert env_file.decode(b'A=caf\xc3\xa9\n') == ('A=caf\u00e9\n', 'utf-8')


@pytest.mark.parametrize('data, error', [
    (b'A=caf\xe9\n', 'not UTF-8 text'),
    ('REDIS_URL=x\n'.encode('utf-16-le'), 'holds NUL bytes'),
    (codecs.BOM_UTF16_LE + b'R\x00=', 'not utf-16-le text'),
])
def test_decode_refuses_what_it_cannot_read(data, error):
    with pytest.raises(env_file.EnvFileError, match=error):
        env_file.decode(data)


def test_scan_files_reads_crlf_and_bom_and_reports_no_values(tmp_path):
    path = tmp_path / '.env.production'
    path.write_bytes(b'\xef\xbb\xbfREDIS_URL=redis://:s3cret@h:6379/1\r\n# REDIS_HOST=h\r\n'
                     b'export REDIS_PASSWORD=s3cret\r\n')
    found, unreadable = env_file.scan_files([str(path)], ['REDIS_URL', 'REDIS_HOST', 'REDIS_PASSWORD'])
    assert found == [
        dict(file=str(path), line=1, key='REDIS_URL'),
        dict(file=str(path), line=3, key='REDIS_PASSWORD'),
    ]
    assert unreadable == []
    assert 's3cret' not in repr(found)


def test_scan_files_reads_utf16_with_a_byte_order_mark(tmp_path):
    path = tmp_path / '.env'
    path.write_bytes('# saved by Notepad\r\nREDIS_URL=redis://x\r\n'.encode('utf-16'))
    assert env_file.scan_files([str(path)], KEYS) == ([dict(file=str(path), line=2, key='REDIS_URL')], [])


def test_scan_files_reports_unreadable_files_and_goes_on(tmp_path):
    present = tmp_path / '.env'
    present.write_text('REDIS_HOST=h\n')
    missing = str(tmp_path / '.env.missing')
    no_bom = tmp_path / '.env.utf16'
    no_bom.write_bytes('REDIS_HOST=h\n'.encode('utf-16-le'))
    latin1 = tmp_path / '.env.latin1'
    latin1.write_bytes(b'REDIS_HOST=h\nNAME=Jos\xe9\n')
    found, unreadable = env_file.scan_files([missing, str(tmp_path), str(no_bom), str(latin1), str(present)],
                                            ['REDIS_HOST'])
    # The files it cannot read are reported, never taken for files without leftovers.
    assert found == [dict(file=str(present), line=1, key='REDIS_HOST')]
    assert [item['file'] for item in unreadable] == [missing, str(tmp_path), str(no_bom), str(latin1)]
    assert unreadable[:2] == [
        dict(file=missing, error='No such file or directory'),
        dict(file=str(tmp_path), error='Is a directory'),
    ]
    assert unreadable[2]['error'].startswith('holds NUL bytes')
    assert unreadable[3]['error'].startswith('not UTF-8 text')


def test_assignments_span_the_lines_of_a_quoted_value():
    lines = ['A=1\n', 'B="x\n', 'y"\n', 'C\n', '# D=1\n', "E='\n", "'  # closed\n", 'F=\n']
    assert list(env_file.assignments(lines)) == [
        ('A', 0, 1, 'A='), ('B', 1, 3, 'B='), ('C', 3, 4, None), ('E', 5, 7, 'E='), ('F', 7, 8, None)]
