"""Unit tests of compose_service_absent against the fixture files in tests/unit/fixtures/compose.

Each NAME.before is edited with PARAMS and must then equal NAME.after byte for byte.
"""
from __future__ import annotations

import os
import pathlib
import re
import shutil

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import compose_service_absent
from ansible_collections.mall.cache_migration.plugins.modules.compose_service_absent import main

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / 'fixtures' / 'compose'
REDIS = ['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD']
PARAMS = dict(services=['redis-mall'], volumes=['redis_mall_data'], environment_keys=REDIS)
NOTHING = dict(removed_services=[], removed_volumes=[], removed_environment={}, removed_depends_on={}, removed_links={})
GUIDE = dict(removed_services=['redis-mall'], removed_volumes=['redis_mall_data'],
             removed_environment={'mall-server': REDIS}, removed_depends_on={'mall-server': ['redis-mall']},
             removed_links={})

# What each fixture loses.
REMOVED = {
    'guide': GUIDE,
    'crlf': GUIDE,
    'list-form': dict(
        removed_services=['redis-mall'], removed_volumes=['redis_mall_data'],
        removed_environment={'mall-server': REDIS, 'worker': ['REDIS_URL']},
        removed_depends_on={'mall-server': ['redis-mall'], 'worker': ['redis-mall']},
        removed_links={'mall-server': ['redis-mall'], 'worker': ['redis-mall']}),
    'indent4': dict(GUIDE, removed_environment={'mall-server': ['REDIS_URL', 'REDIS_HOST']}),
    'comments': dict(GUIDE, removed_environment={'mall-server': ['REDIS_URL', 'REDIS_HOST', 'REDIS_PASSWORD']}),
    'flow': dict(
        removed_services=['redis-mall'], removed_volumes=['redis_mall_data'],
        removed_environment={'mall-server': ['REDIS_URL', 'REDIS_HOST'], 'worker': ['REDIS_URL']},
        removed_depends_on={'mall-server': ['redis-mall'], 'worker': ['redis-mall']},
        removed_links={'mall-server': ['redis-mall']}),
}


def test_every_fixture_is_listed():
    assert sorted(path.stem for path in FIXTURES.glob('*.before')) == sorted(REMOVED)


@pytest.fixture
def compose_file(tmp_path):
    """A file in tmp_path holding a fixture, or the given text."""
    def make(name=None, text=None):
        path = tmp_path / 'docker-compose.yml'
        if name:
            shutil.copy(FIXTURES / f'{name}.before', path)
        else:
            path.write_bytes(text.encode())
        return path
    return make


@pytest.mark.parametrize('name', sorted(REMOVED))
def test_fixture_edit_is_exact_and_idempotent(run_module, compose_file, name):
    path = compose_file(name)
    first = run_module(main, dict(PARAMS, path=str(path)))
    assert first == dict(REMOVED[name], changed=True, verified=True)
    assert path.read_bytes() == (FIXTURES / f'{name}.after').read_bytes()

    second = run_module(main, dict(PARAMS, path=str(path)))
    assert second == dict(NOTHING, changed=False, verified=True)
    assert path.read_bytes() == (FIXTURES / f'{name}.after').read_bytes()


@pytest.mark.parametrize('name', sorted(REMOVED))
def test_check_mode_reports_and_writes_nothing(run_module, compose_file, name):
    path = compose_file(name)
    before = os.stat(path)
    result = run_module(main, dict(PARAMS, path=str(path)), check_mode=True, diff=True)
    assert result['changed'] and result['removed_services'] == ['redis-mall']
    assert path.read_bytes() == (FIXTURES / f'{name}.before').read_bytes()
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns


@pytest.mark.parametrize('name', sorted(REMOVED))
def test_same_edit_without_pyyaml(run_module, compose_file, monkeypatch, name):
    monkeypatch.setattr(compose_service_absent, 'yaml', None)
    path = compose_file(name)
    assert run_module(main, dict(PARAMS, path=str(path))) == dict(REMOVED[name], changed=True, verified=False)
    assert path.read_bytes() == (FIXTURES / f'{name}.after').read_bytes()


def _unmasked_lines(masked, real):
    """Pairs of lines that differ other than by a value shown as ********."""
    return [(m, r) for m, r in zip(masked.splitlines(), real.splitlines())
            if m != r and not (m.endswith('********') and r.startswith(m[:-len('********')]))]


def test_diff_masks_every_environment_value_and_the_removed_service(run_module, compose_file):
    diff = run_module(main, dict(PARAMS, path=str(compose_file('guide'))), check_mode=True, diff=True)['diff']
    before = (FIXTURES / 'guide.before').read_text()
    after = (FIXTURES / 'guide.after').read_text()
    for secret in ('redis_dev_password', 'dev_password', 'root_dev_password'):
        assert secret in before
        assert secret not in diff['before'] and secret not in diff['after']
    assert len(diff['before'].splitlines()) == len(before.splitlines())
    assert _unmasked_lines(diff['before'], before) == []
    assert _unmasked_lines(diff['after'], after) == []
    assert '    command: ********' in diff['before']
    assert '      MYSQL_HOST: ********' in diff['after']


@pytest.mark.parametrize('name', sorted(REMOVED))
def test_diff_holds_no_value_of_a_removed_variable(run_module, compose_file, name):
    diff = run_module(main, dict(PARAMS, path=str(compose_file(name))), check_mode=True, diff=True)['diff']
    values = re.findall(r'\b(?:REDIS_URL|REDIS_HOST|REDIS_PORT|REDIS_PASSWORD)(?:: |=)([^\s,}\]"\']*)', diff['before'])
    assert values and set(values) == {'********'}
    assert 'REDIS_' not in diff['after'].replace('REDIS_URL_FALLBACK', '')


SECRETS_ELSEWHERE = (
    'x-db-env: &db-env\n'
    '  MYSQL_PASSWORD: anchor-s3cret\n'
    'x-probe: &probe {test: "mysqladmin ping -pflow-s3cret"}\n'
    'services:\n'
    '  redis-mall:\n'
    '    image: redis\n'
    '  mysql-mall:\n'
    '    image: mysql\n'
    '    command: mysqld --init-file=/x --password=cmd-s3cret\n'
    '    entrypoint: ["/bin/sh", "-c", "exec mysqld -uroot -pentry-s3cret"]\n'
    '    healthcheck:\n'
    '      test:\n'
    '        - CMD-SHELL\n'
    '        - mysqladmin ping -phealth-s3cret\n'
    '      interval: 10s\n'
    '  worker:\n'
    '    image: app\n'
    '    healthcheck: {test: [CMD, redis-cli, -a, flowhc-s3cret, ping]}\n'
    '    environment:\n'
    '      REDIS_URL: redis://:env-s3cret@redis-mall:6379/1\n'
    '      DEBUG: "1"\n'
)


def test_diff_masks_extension_fields_and_commands_of_kept_services(run_module, compose_file):
    path = compose_file(text=SECRETS_ELSEWHERE)
    result = run_module(main, dict(PARAMS, path=str(path)), check_mode=True, diff=True)
    assert result['removed_services'] == ['redis-mall'] and result['removed_environment'] == {'worker': ['REDIS_URL']}
    diff = result['diff']
    for secret in re.findall(r'[a-z]+-s3cret', SECRETS_ELSEWHERE):
        assert secret not in diff['before'] + diff['after'], secret
    assert 'x-db-env: ********\n' in diff['after']
    assert '    command: ********\n    entrypoint: ********\n' in diff['after']
    assert '        - ********\n        - ********\n      interval: ********\n' in diff['after']
    assert '    healthcheck: ********\n' in diff['after']
    # Every line is the original's or shows a value as ********.
    original = SECRETS_ELSEWHERE.splitlines()
    assert [line for line in diff['before'].splitlines() if line not in original and not line.endswith('********')] == []


def test_invalid_yaml_error_does_not_quote_the_line(run_module, compose_file):
    path = compose_file(text='services:\n  app:\n    environment:\n      MYSQL_PASSWORD: "quoted-s3cret\n')
    result = run_module(main, dict(PARAMS, path=str(path)))
    assert result['failed'] and 'is not valid YAML' in result['msg'] and 'line ' in result['msg']
    assert 'quoted-s3cret' not in result['msg']


@pytest.mark.parametrize('name', ['merge-key', 'alias'])
def test_without_pyyaml_aliases_and_merge_keys_are_refused(run_module, compose_file, monkeypatch, name):
    monkeypatch.setattr(compose_service_absent, 'yaml', None)
    text = REFUSED[name][0] + '  redis-mall:\n    image: redis\n'
    path = compose_file(text=text)
    result = run_module(main, dict(PARAMS, path=str(path)))
    assert result['failed'], result
    assert 'uses a YAML alias or merge key' in result['msg'] and 'Install PyYAML' in result['msg']
    assert path.read_text() == text


def test_without_pyyaml_a_star_inside_a_value_is_no_alias(run_module, compose_file, monkeypatch):
    monkeypatch.setattr(compose_service_absent, 'yaml', None)
    path = compose_file(text='services:\n  app:\n    command: ls *.py # or *\n  redis-mall:\n    image: redis\n')
    assert run_module(main, dict(PARAMS, path=str(path)))['removed_services'] == ['redis-mall']


# Where comments and blank lines around a removed service go: services=[b].
LAYOUT = {
    'first-then-blank': ('services:\n  b:\n    image: b\n\n  a:\n    image: a\n',
                         'services:\n  a:\n    image: a\n'),
    'between-blanks': ('services:\n  a:\n    image: a\n\n  b:\n    image: b\n\n  c:\n    image: c\n',
                       'services:\n  a:\n    image: a\n\n  c:\n    image: c\n'),
    'last-before-dedent': ('services:\n  a:\n    image: a\n\n  b:\n    image: b\nvolumes: {}\n',
                           'services:\n  a:\n    image: a\nvolumes: {}\n'),
    'last-at-end-of-file': ('services:\n  a:\n    image: a\n\n  b:\n    image: b\n',
                            'services:\n  a:\n    image: a\n'),
    'last-then-blank-then-dedent': ('services:\n  a:\n    image: a\n\n  b:\n    image: b\n\nvolumes: {}\n',
                                    'services:\n  a:\n    image: a\n\nvolumes: {}\n'),
    'no-blank-lines': ('services:\n  a:\n    image: a\n  b:\n    image: b\n  c:\n    image: c\n',
                       'services:\n  a:\n    image: a\n  c:\n    image: c\n'),
    'comments-directly-around': (
        'services:\n  a:\n    image: a\n  # about b\n  b:\n    image: b\n    # inside b\n  # about c\n  c:\n    image: c\n',
        'services:\n  a:\n    image: a\n  # about c\n  c:\n    image: c\n'),
    'comment-set-off-by-blank-stays': (
        'services:\n  a:\n    image: a\n\n  # section\n\n  b:\n    image: b\n\n  c:\n    image: c\n',
        'services:\n  a:\n    image: a\n\n  # section\n\n  c:\n    image: c\n'),
    'parent-comment-stays': ('services:\n# top level\n  b:\n    image: b\n  a:\n    image: a\n',
                             'services:\n# top level\n  a:\n    image: a\n'),
    'last-service-takes-services-key': ('version: "3"\nservices:\n  # the cache\n  b:\n    image: b\n',
                                        'version: "3"\n'),
    'document-marker-stays': ('---\nservices:\n  b: {image: b}\n  a: {image: a}\n',
                              '---\nservices:\n  a: {image: a}\n'),
    'byte-order-mark': ('\ufeffservices:\n  b:\n    image: b\n  a:\n    image: a\n',
                        '\ufeffservices:\n  a:\n    image: a\n'),
}


@pytest.mark.parametrize('before, after', LAYOUT.values(), ids=LAYOUT.keys())
def test_layout_around_removed_service(run_module, compose_file, before, after):
    path = compose_file(text=before)
    assert run_module(main, dict(path=str(path), services=['b']))['changed']
    assert path.read_bytes() == after.encode()


def test_environment_services_limits_the_variables(run_module, compose_file):
    path = compose_file('guide')
    result = run_module(main, dict(PARAMS, path=str(path), environment_services=['mysql-mall']))
    assert result['removed_environment'] == {}
    assert 'REDIS_URL: redis://' in path.read_text()


def test_depends_on_and_links_can_stay(run_module, compose_file):
    path = compose_file('list-form')
    result = run_module(main, dict(PARAMS, path=str(path), remove_depends_on=False))
    assert result['removed_depends_on'] == result['removed_links'] == {}
    assert '      - redis-mall\n    links:\n      - "redis-mall:cache"\n' in path.read_text()


def test_owner_group_and_mode_are_kept(run_module, compose_file, keeps_attributes):
    path = compose_file('crlf')
    with keeps_attributes(path):
        run_module(main, dict(PARAMS, path=str(path), backup=True))
    assert path.read_bytes() == (FIXTURES / 'crlf.after').read_bytes()


REFUSED = {
    'merge-key': ('x-redis: &redis\n  REDIS_URL: redis://redis-mall\nservices:\n  app:\n    environment:\n'
                  '      <<: *redis\n      DEBUG: "1"\n', 'Refusing to write'),
    'alias': ('x-env: &env [REDIS_URL=redis://redis-mall]\nservices:\n  app:\n    environment: *env\n',
              'Refusing to write'),
    'nested-flow': ('services:\n  redis-mall: {image: redis}\n  app: {image: app, depends_on: [redis-mall]}\n',
                    'line 3: depends_on is nested in a flow collection'),
    'flow-over-lines': ('services:\n  app:\n    depends_on: [mysql-mall,\n      redis-mall]\n',
                        'line 3: a flow collection over several lines'),
    'not-yaml': ('services:\n  app:\n    image: [unclosed\n', 'is not valid YAML'),
}


@pytest.mark.parametrize('text, message', REFUSED.values(), ids=REFUSED.keys())
def test_refuses_what_it_cannot_edit_and_writes_nothing(run_module, compose_file, text, message):
    path = compose_file(text=text)
    result = run_module(main, dict(PARAMS, path=str(path)))
    assert result['failed'] and message in result['msg']
    assert path.read_text() == text


def test_missing_file_fails(run_module, tmp_path):
    path = str(tmp_path / 'absent.yml')
    assert run_module(main, dict(PARAMS, path=path)) == dict(failed=True, msg=f'{path} does not exist')


def test_through_ansible_check_then_real_then_idempotent(ansible_adhoc, compose_file):
    path = compose_file('guide')
    args = f'path={path} services=redis-mall volumes=redis_mall_data environment_keys={",".join(REDIS)}'

    out, result = ansible_adhoc('compose_service_absent', args, '--check', '--diff')
    assert result == dict(GUIDE, changed=True, verified=True)
    assert '-      REDIS_PASSWORD: ********' in out and '-  redis-mall:' in out
    assert 'REDIS_URL: redis://' not in out
    assert path.read_bytes() == (FIXTURES / 'guide.before').read_bytes()

    out, result = ansible_adhoc('compose_service_absent', args)
    assert result['changed']
    assert path.read_bytes() == (FIXTURES / 'guide.after').read_bytes()

    out, result = ansible_adhoc('compose_service_absent', args, '--diff')
    assert result == dict(NOTHING, changed=False, verified=True)


def test_diff_masks_commented_out_secrets(run_module, compose_file):
    path = compose_file(text=(
        'services:\n'
        '  mall-server:\n'
        '    image: mall\n'
        '    environment:\n'
        '      # REDIS_PASSWORD: hunter2\n'
        '      MYSQL_HOST: db\n'
        '    # environment:\n'
        '    #  - REDIS_URL=redis://:pw@redis:6379/1\n'
        '    #  - "CELERY_BROKER_URL=redis://:pw2@redis:6379/0"\n'
        '    # just a note: nothing secret\n'))
    diff = run_module(main, dict(path=str(path), services=[], environment_keys=['MYSQL_HOST']),
                      check_mode=True, diff=True)['diff']
    for secret in ('hunter2', ':pw@', ':pw2@'):
        assert secret not in diff['before'] + diff['after']
    assert '      # REDIS_PASSWORD: ********\n' in diff['before']
    assert '    #  - REDIS_URL=********\n' in diff['before']
    assert '    # just a note: nothing secret\n' in diff['before']
