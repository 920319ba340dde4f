"""Unit tests of the models of the three readers of env files (plugins/module_utils/_env_readers.py).

CORPUS holds the shapes where python-decouple (the app's reader), python-dotenv and docker compose may read
a line differently. The models are pure; test_models_read_as_the_real_libraries_do checks them against
python-decouple and python-dotenv themselves when both are importable (a throwaway venv:
pip install python-decouple==3.8 python-dotenv). docker compose's model follows compose-go's parser.
"""
from __future__ import annotations

import io

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _env_readers as readers
from ansible_collections.mall.cache_migration.plugins.module_utils._env_file import disagreements
from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import BOM, split_lines

KEYS = {'REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD'}

# text -> (line, key) of each refusal when KEYS are removed; [] where the readers agree on the edit.
CORPUS = {
    # Issue 20: decouple ends the value with its line; dotenv reads the four lines as one broken binding.
    'REDIS_PASSWORD="Zq9!x\\"\nMYSQL_HOST=db\nMYSQL_USER=mall\nSECRET_KEY="k"\n':
        [(1, 'REDIS_PASSWORD')] * 3 + [(4, 'REDIS_PASSWORD')],
    # Unterminated: dotenv skips the line, decouple assigns it, compose stops reading the file.
    'REDIS_PASSWORD="Zq9!x\\"\nMYSQL_HOST=db\n': [(1, 'REDIS_PASSWORD')],
    "REDIS_PASSWORD='abc\nMYSQL_HOST=db\n": [(1, 'REDIS_PASSWORD')],
    # decouple has no export: its key is 'export REDIS_URL'.
    'export REDIS_URL=redis://x\nA=1\n': [(1, 'REDIS_URL')],
    'export A=1\n': [],
    # A byte order mark stays in decouple's first key.
    BOM + 'REDIS_URL=x\nA=1\n': [(1, 'REDIS_URL')],
    BOM + 'A=1\nREDIS_URL=x\n': [],
    # A kept multi-line value holds a line decouple reads as REDIS_URL.
    'CERT="-----BEGIN-----\nREDIS_URL=inside\n-----END-----"\n': [(2, 'REDIS_URL')],
    # A removed multi-line value holds a line decouple reads as a key of its own.
    'REDIS_PASSWORD="line1\nDEBUG=1\nline3"\nA=1\n': [(1, 'REDIS_PASSWORD')],
    # ... and one that holds no '=' goes whole for every reader.
    'REDIS_PASSWORD="line1\nline2 \\" quote\nline3" # note\nA=1\n': [],
    # compose reads 'KEY: value'; the others do not.
    'REDIS_URL: redis://x\nA=1\n': [(1, 'REDIS_URL')],
    # compose stops reading at a bare key followed by a comment; at a kept line it reads nothing, before or after.
    'A=1\nREDIS_PORT  # set by the shell\n': [(2, 'REDIS_PORT')],
    'A="never closed\nREDIS_URL=x\n': [],
    # decouple and compose read a bare key (compose from the shell), dotenv with no value: all go.
    'A=1\nREDIS_PORT\n': [],
    # Inline comments and '#' inside values change values only: the edit keeps or removes whole lines.
    'REDIS_HOST=cache  # note\nA=v # note\nREDIS_PASSWORD=p#ss\nB=\'x # y\'\n': [],
    'REDIS_HOST= # note\nA=1\n': [],
    # Duplicate keys: every reader takes the last, every assignment goes.
    'REDIS_URL=a\nA=1\nREDIS_URL=b\nA=2\n': [],
    # An escaped quote all three close on the same line.
    'A="say \\"hi\\""\nREDIS_URL=x\n': [],
    # decouple splits at a lone CR too.
    'A="x\rREDIS_URL=y"\n': [(1, 'REDIS_URL')],
    'CRLF=1\r\nREDIS_URL=x\r\n': [],
}


@pytest.mark.parametrize('text', sorted(CORPUS))
def test_refusals_name_the_line_and_key(text):
    found = disagreements('.env', text, KEYS)
    assert [(item['line'], item['key']) for item in found] == CORPUS[text]
    assert all(item['file'] == '.env' and item['reason'] for item in found)


def test_a_reason_names_no_text_of_a_value():
    text = 'REDIS_PASSWORD="line1\nMIIBs3cret==\n"\n'
    [found] = disagreements('.env', text, KEYS)
    assert 's3cret' not in found['reason'] and 'python-decouple' in found['reason']


def _models(text):
    bom = BOM if text.startswith(BOM) else ''
    lines = split_lines(text[len(bom):])
    return (dict((key, first + 1) for key, first, end in readers.decouple_assignments(lines, bom)),
            [(key, first + 1, end - first) for key, first, end in readers.dotenv_assignments(lines, bom)])


@pytest.mark.parametrize('text', sorted(CORPUS))
def test_models_read_as_the_real_libraries_do(tmp_path, text):
    decouple = pytest.importorskip('decouple')
    dotenv_parser = pytest.importorskip('dotenv.parser')
    path = tmp_path / '.env'
    path.write_bytes(text.encode())
    real_decouple = decouple.RepositoryEnv(str(path)).data
    real_dotenv = [(binding.key, binding.original.line, len(split_lines(binding.original.string.lstrip())))
                   for binding in dotenv_parser.parse_stream(io.StringIO(text, newline=''))
                   if binding.key is not None]
    decouple_model, dotenv_model = _models(text)
    assert list(decouple_model) == list(real_decouple)
    assert dotenv_model == real_dotenv


@pytest.mark.parametrize('text, error_line', [
    ('A="x\nB=1\n', 1),
    ('A=1\nB C=2\n', 2),
    ('A=1\nB # c\n', 2),
])
def test_compose_stops_at_the_line_it_cannot_parse(text, error_line):
    with pytest.raises(readers.ReaderError) as caught:
        list(readers.compose_assignments(split_lines(text)))
    assert text[:caught.value.pos].count('\n') + 1 == error_line


def test_compose_reads_export_colon_and_bare_keys():
    lines = split_lines('export A=1\nB: 2\nC\nD="x\ny" E=3\n')
    assert list(readers.compose_assignments(lines)) == [
        ('A', 0, 1), ('B', 1, 2), ('C', 2, 3), ('D', 3, 5), ('E', 4, 5)]


# Keys that compose-go's own tests (dotenv/godotenv_test.go, parser_test.go) expect from these texts.
@pytest.mark.parametrize('text, keys', [
    ('export OPTION_A=2', ['OPTION_A']),
    ('export exportFoo=2', ['exportFoo']),
    ('exportFOO=2', ['exportFOO']),
    ('export_FOO =2', ['export_FOO']),
    ('export\tOPTION_A=2', ['OPTION_A']),
    ('ONE=1\nTWO=\'2\'\nTHREE = "3"', ['ONE', 'TWO', 'THREE']),
    ('TEST_URLS="stratum+tcp://a:3333\nstratum+tcp://a:443"', ['TEST_URLS']),
    ('a=b\na[1]=c\na.propertyKey=d\n', ['a', 'a[1]', 'a.propertyKey']),
])
def test_compose_model_reads_the_keys_compose_go_tests_expect(text, keys):
    assert [key for key, first, end in readers.compose_assignments(split_lines(text))] == keys
