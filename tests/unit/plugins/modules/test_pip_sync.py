"""Unit tests of the pure logic of mall.cache_migration.pip_sync.

The probe that runs inside the target venv (plugins/module_utils/_pip_probe.py) is
tested here too, in this interpreter, whose pip vendors the same `packaging` library.
"""
import codecs
import inspect
import json
import pathlib
import subprocess
import sys

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils import _pip_probe
from ansible_collections.mall.cache_migration.plugins.modules import pip_sync

pytest.importorskip('pip._vendor.packaging')
from pip._vendor.packaging.markers import default_environment  # noqa: E402
from pip._internal.utils.encoding import auto_decode  # noqa: E402

# A Linux CPython 3.11.2, like Debian 12's, whatever runs the tests.
ENV = dict(default_environment(), python_version='3.11', python_full_version='3.11.2',
           sys_platform='linux', platform_system='Linux', os_name='posix')


@pytest.fixture(scope='module')
def probe():
    return vars(_pip_probe)


def dist(name, version='1.0', requires=(), extras=(), in_venv=True):
    return {'name': name, 'version': version, 'requires_dist': list(requires),
            'provides_extra': list(extras), 'in_venv': in_venv}


# Trimmed but faithful Requires-Dist of the packages the Redis removal is about.
REDIS_STACK = [
    dist('Django', '4.2.30', ['asgiref (<4,>=3.6.0)', 'sqlparse (>=0.3.1)',
                              'backports.zoneinfo ; python_version < "3.9"',
                              'tzdata ; sys_platform == "win32"',
                              "argon2-cffi (>=19.1.0) ; extra == 'argon2'",
                              "bcrypt ; extra == 'bcrypt'"], ['argon2', 'bcrypt']),
    dist('asgiref', '3.8.1', ['typing_extensions>=4; python_version < "3.11"']),
    dist('sqlparse', '0.5.0'),
    dist('django-redis', '5.4.0', ['Django>=3.2', 'redis!=4.0.0,!=4.0.1,>=3',
                                   "hiredis!=4.0.0,!=4.0.1,>=3; extra == 'hiredis'"], ['hiredis']),
    dist('redis', '5.0.1', ['async-timeout>=4.0.2; python_full_version <= "3.11.2"',
                            "hiredis>=1.0.0; extra == 'hiredis'"], ['hiredis', 'ocsp']),
    dist('async-timeout', '4.0.3'),
    dist('celery', '5.3.4', ['billiard<5.0,>=4.1.0', 'kombu<6.0,>=5.3.2', 'vine<6.0,>=5.0.0',
                             'click<9.0,>=8.1.2', 'click-didyoumean>=0.3.0', 'click-repl>=0.2.0',
                             'click-plugins>=1.1.1', 'tzdata>=2022.7', 'python-dateutil>=2.8.2',
                             'importlib-metadata>=3.6; python_version < "3.8"',
                             "redis!=4.5.5,<6.0.0,>=4.5.2; extra == 'redis'",
                             "pytest-celery==0.0.0; extra == 'pytest'"], ['redis', 'pytest']),
    dist('kombu', '5.3.4', ['amqp<6.0.0,>=5.1.1', 'vine', 'typing-extensions; python_version < "3.10"',
                            "redis!=4.5.5,<6.0.0,>=4.5.2; extra == 'redis'"], ['redis']),
    dist('amqp', '5.2.0', ['vine<6.0.0,>=5.0.0']),
    dist('vine', '5.1.0'),
    dist('billiard', '4.2.0'),
    dist('click', '8.1.7'),
    dist('click-didyoumean', '0.3.0', ['click>=7']),
    dist('click-repl', '0.3.0', ['click>=7.0', 'prompt-toolkit>=3.0.36']),
    dist('click-plugins', '1.1.1', ['click>=4.0']),
    dist('prompt_toolkit', '3.0.43', ['wcwidth']),
    dist('wcwidth', '0.2.13'),
    dist('tzdata', '2024.1'),
    dist('python-dateutil', '2.9.0', ['six>=1.5']),
    dist('six', '1.16.0'),
    dist('python-decouple', '3.8'),
    dist('PyMySQL', '1.1.0', ["cryptography; extra == 'rsa'"], ['rsa', 'ed25519']),
    dist('pip', '23.0.1'),
    dist('setuptools', '66.1.1'),
]
AFTER = ['Django==4.2.30', 'python-decouple==3.8', 'PyMySQL==1.1.0']
BEFORE = AFTER + ['django-redis==5.4.0', 'redis==5.0.1', 'celery==5.3.4']
CELERY_ONLY = {'celery', 'kombu', 'amqp', 'vine', 'billiard', 'click', 'click-didyoumean',
               'click-repl', 'click-plugins', 'prompt-toolkit', 'wcwidth', 'tzdata',
               'python-dateutil', 'six'}


def installed_of(dists):
    return {pip_sync.canonicalize(d['name']): {'name': d['name'], 'version': d['version']}
            for d in dists if d['in_venv']}


def plan_for(probe, lines, dists, planned=(), keep=pip_sync.ALWAYS_KEEP):
    """What the module does with a probe's answer, the probe run on fake metadata."""
    described = probe['describe'](list(planned) + dists, lines, ENV)
    described['installed'] = installed_of(dists)
    return pip_sync.make_plan(described, list(planned), {pip_sync.canonicalize(k) for k in keep})


def names(packages):
    return {pip_sync.canonicalize(p['name']) for p in packages}


@pytest.mark.parametrize('name, expected', [
    ('Django', 'django'),
    ('django_redis', 'django-redis'),
    ('zope.interface', 'zope-interface'),
    ('Foo__Bar--baz..QUX', 'foo-bar-baz-qux'),
    ('prompt-toolkit', 'prompt-toolkit'),
])
def test_canonicalize_follows_pep_503(name, expected):
    assert pip_sync.canonicalize(name) == expected


def requirement_lines(path):
    return pip_sync.Requirements(str(path)).lines()


@pytest.mark.parametrize('text, expected', [
    ('Django==4.2.30\n\n# comment\nredis==5.0.1  # pinned\n', ['Django==4.2.30', 'redis==5.0.1']),
    ('celery[redis]==5.3.4 ; python_version >= "3.8"\n', ['celery[redis]==5.3.4 ; python_version >= "3.8"']),
    ('Django==4.2.30 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n', ['Django==4.2.30']),
    ('--index-url https://pypi.org/simple\n--no-binary :all:\n-c constraints.txt\nvine\n', ['vine']),
    ('pkg @ https://example.org/pkg-1.0.whl\n', ['pkg @ https://example.org/pkg-1.0.whl']),
    ('url#not-a-comment==1\n', ['url#not-a-comment==1']),
])
def test_read_requirements_keeps_requirement_lines_only(tmp_path, text, expected):
    path = tmp_path / 'requirements.txt'
    path.write_text(text)
    (tmp_path / 'constraints.txt').write_text('vine<6\n')
    assert requirement_lines(path) == expected


def test_read_requirements_follows_includes_and_survives_cycles(tmp_path):
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'base.txt').write_text('Django==4.2.30\n-r sub/extra.txt\n-rlast.txt\n')
    (tmp_path / 'sub' / 'extra.txt').write_text('--requirement=../base.txt\nredis==5.0.1\n')
    (tmp_path / 'last.txt').write_text('--requirement base.txt\ncelery==5.3.4\n')
    assert requirement_lines(tmp_path / 'base.txt') == [
        'Django==4.2.30', 'redis==5.0.1', 'celery==5.3.4']


def test_read_requirements_expands_environment_variables(tmp_path, monkeypatch):
    monkeypatch.setenv('DJANGO_VERSION', '4.2.30')
    path = tmp_path / 'requirements.txt'
    path.write_text('Django==${DJANGO_VERSION}\nredis==${UNSET_VERSION}\n')
    assert requirement_lines(path) == ['Django==4.2.30', 'redis==${UNSET_VERSION}']


@pytest.mark.parametrize('text, message', [
    ('-e git+https://example.org/app.git#egg=app\n', 'editable requirements cannot be synced'),
    ('--editable=./app\n', 'editable requirements cannot be synced'),
    ('Django\n-e.\n', r'line 2: editable requirements cannot be synced'),
    ('-r missing.txt\n', 'cannot read requirements file .*missing.txt'),
    ('-c https://example.org/constraints.txt\n', 'remote requirements files cannot be synced'),
    ('-r base.txt\n', 'cannot read requirements file'),
    ('-r\n', '-r needs a value'),
    ('--index-url "https://x\n', 'No closing quotation'),
])
def test_read_requirements_refuses_what_it_cannot_name(tmp_path, text, message):
    path = tmp_path / 'requirements.txt'
    path.write_text(text)
    with pytest.raises(pip_sync.SyncError, match=message):
        pip_sync.Requirements(str(path))


REDIS_NAMES = ('django-redis', 'redis', 'celery')


def edit(tmp_path, data, names=REDIS_NAMES):
    """(requirements, dropped entries, names as written) of requirements.txt holding data."""
    path = tmp_path / 'requirements.txt'
    path.write_bytes(data)
    requirements = pip_sync.Requirements(str(path))
    dropped, removed = requirements.dropped(names)
    return requirements, dropped, removed


# Each shape, with what pip installs from it before and after the Redis lines go.
@pytest.mark.parametrize('before, after, removed', [
    # Names as pip compares them (PEP 503): case, -, _ and . alike; redis-om is another project.
    (b'Django_Redis==5.4.0\nREDIS==5.0.1\ndjango.redis\nredis-om==0.3\nCelery\n', b'redis-om==0.3\n',
     ['Django_Redis', 'REDIS', 'django.redis', 'Celery']),
    # Duplicate lines all go; a duplicate of a kept package stays as it was.
    (b'redis==5.0.1\nDjango==4.2.30\nredis==5.0.1\nDjango==4.2.30\n', b'Django==4.2.30\nDjango==4.2.30\n',
     ['redis', 'redis']),
    # Environment markers and extras.
    (b'celery[redis,sqs]==5.3.4 ; python_version >= "3.8"\nredis;python_version<"4"\nkombu[redis]\n',
     b'kombu[redis]\n', ['celery', 'redis']),
    # Inline comments, comment lines and blank lines are kept unless on a removed line.
    (b'# cache\nredis==5.0.1  # pinned by ops\n\nPyMySQL  # db\n', b'# cache\n\nPyMySQL  # db\n', ['redis']),
    # A requirement with --hash continuation lines goes with them; the next one keeps its own.
    (b'redis==5.0.1 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\nDjango==4.2.30 \\\n    --hash=sha256:cc\n',
     b'Django==4.2.30 \\\n    --hash=sha256:cc\n', ['redis']),
    # A comment line ends a continuation, as in pip: the line after it is not the requirement's.
    (b'redis==5.0.1 \\\n# note\nvine\n', b'vine\n', ['redis']),
    # A last line without a line end, and mixed line ends, keep their bytes.
    (b'Django\r\nredis\nvine', b'Django\r\nvine', ['redis']),
    (b'Django\r\nvine\r\nredis', b'Django\r\nvine\r\n', ['redis']),
])
def test_remove_drops_the_lines_pip_reads_as_the_package(tmp_path, before, after, removed):
    requirements, dropped, names = edit(tmp_path, before)
    assert names == removed
    assert requirements.top.encode(dropped) == after
    assert requirements.top.encode(()) == before


def test_a_utf16_file_with_bom_and_crlf_is_edited_in_its_own_encoding(tmp_path):
    text = 'Django==4.2.30\r\ndjango-redis==5.4.0 \\\r\n    --hash=sha256:aa\r\nPyMySQL  # café\r\n'
    requirements, dropped, names = edit(tmp_path, codecs.BOM_UTF16_LE + text.encode('utf-16-le'))
    assert names == ['django-redis']
    assert requirements.lines(dropped) == ['Django==4.2.30', 'PyMySQL']
    edited = requirements.top.encode(dropped)
    assert edited == codecs.BOM_UTF16_LE + 'Django==4.2.30\r\nPyMySQL  # café\r\n'.encode('utf-16-le')
    # pip decodes the result to the same requirements.
    assert auto_decode(edited).splitlines() == ['Django==4.2.30', 'PyMySQL  # café']


@pytest.mark.parametrize('data', [
    codecs.BOM_UTF8 + b'Django\r\nredis\r\n',
    codecs.BOM_UTF16_BE + 'Django\nredis\n'.encode('utf-16-be'),
    '# -*- coding: latin-1 -*-\nDjango  # Zürich\nredis\n'.encode('latin-1'),
])
def test_other_encodings_are_read_as_pip_reads_them_and_written_back_alike(tmp_path, data):
    requirements, dropped, names = edit(tmp_path, data)
    assert names == ['redis'] and requirements.lines(dropped) == ['Django']
    assert auto_decode(requirements.top.encode(dropped)).splitlines()[-1].startswith('Django')
    assert requirements.top.encode(()) == data


def test_a_file_pip_cannot_decode_is_refused(tmp_path):
    with pytest.raises(pip_sync.SyncError, match='cannot be read as pip reads it'):
        edit(tmp_path, b'Django\nredis\xff\n')


def test_a_removed_package_in_an_included_file_is_refused(tmp_path):
    (tmp_path / 'base.txt').write_text('Django\nredis==5.0.1\n')
    with pytest.raises(pip_sync.SyncError, match=r'redis in .*base.txt.*remove the line there first'):
        edit(tmp_path, b'-r base.txt\ncelery\n')


def test_a_removed_package_in_a_constraints_file_is_left_alone(tmp_path):
    (tmp_path / 'constraints.txt').write_text('redis<6\n')
    requirements, dropped, names = edit(tmp_path, b'-c constraints.txt\nDjango\nredis\n')
    assert names == ['redis'] and requirements.lines(dropped) == ['Django']


def test_pip_reads_copies_whose_includes_resolve_against_the_original_directory(tmp_path):
    app = tmp_path / 'app'
    (app / 'requirements').mkdir(parents=True)
    (app / 'wheels').mkdir()
    (app / 'requirements' / 'base.txt').write_text('Django==4.2.30\n-c pins.txt\n')
    (app / 'requirements' / 'pins.txt').write_text('-r extra.txt\nasgiref<4\n')
    (app / 'requirements' / 'extra.txt').write_text('PyMySQL\n')
    top = app / 'requirements.txt'
    top.write_text('-r requirements/base.txt\n--find-links wheels\n--find-links ./absent\nredis==5.0.1\n')
    private = tmp_path / 'private'
    private.mkdir()
    # A file planted next to where pip reads the copies must not be what it installs.
    (private / 'requirements').mkdir()
    (private / 'requirements' / 'base.txt').write_text('evil\n')

    requirements = pip_sync.Requirements(str(top))
    dropped, dummy = requirements.dropped(REDIS_NAMES)
    copy = requirements.materialize(str(private), dropped)

    assert requirements.lines(dropped) == ['Django==4.2.30', 'PyMySQL']
    copies = {path.name: path.read_text(encoding='utf-8-sig') for path in private.glob('requirements-*')}
    assert len(copies) == 4
    base = [name for name in copies if name.endswith('-base.txt')][0]
    assert copies[pathlib.Path(copy).name] == '-r %s\n--find-links %s\n--find-links ./absent\n' % (
        private / base, app / 'wheels')
    pins = [name for name in copies if name.endswith('-pins.txt')][0]
    assert copies[base] == 'Django==4.2.30\n-c %s\n' % (private / pins)
    # pip reads the copy as UTF-8 whatever the original's coding comment said.
    assert pathlib.Path(copy).read_bytes().startswith(codecs.BOM_UTF8)


def test_shown_text_masks_credentials_in_urls(tmp_path):
    requirements, dropped, dummy = edit(
        tmp_path, b'--index-url https://deploy:s3cret@pypi.example/simple\nredis\nDjango\n')
    assert requirements.top.shown(dropped) == '--index-url https://********@pypi.example/simple\nDjango\n'
    assert 's3cret' not in requirements.top.shown()


@pytest.mark.parametrize('requires, extras, expected', [
    # No marker: needed by the package itself.
    (['vine'], [], [{'name': 'vine', 'extras': [], 'when': [''], 'satisfied': False}]),
    # A false marker drops the requirement; a true one keeps it.
    (['typing-extensions; python_version < "3.10"'], [], []),
    (['async-timeout>=4.0.2; python_full_version <= "3.11.2"'], [],
     [{'name': 'async-timeout', 'extras': [], 'when': [''], 'satisfied': False}]),
    # Extras: applies only under the extra; old-style spelling matched to the canonical one.
    (["redis>=4.5.2; extra == 'redis'"], ['redis'], [{'name': 'redis', 'extras': [], 'when': ['redis'], 'satisfied': False}]),
    (["sqs-dep; extra == 'sqs_extra'"], ['sqs_extra'],
     [{'name': 'sqs-dep', 'extras': [], 'when': ['sqs-extra'], 'satisfied': False}]),
    # Extra and a false marker together: never.
    (["pywin32; extra == 'win' and sys_platform == 'win32'"], ['win'], []),
    # Requested extras of the dependency are kept, canonicalized.
    (['Celery[Redis,SQS]>=5'], [], [{'name': 'celery', 'extras': ['redis', 'sqs'], 'when': [''], 'satisfied': False}]),
])
def test_probe_resolves_markers_and_extras(probe, requires, extras, expected):
    described = probe['describe']([dist('pkg', requires=requires, extras=extras)], ['pkg'], ENV)
    assert described['dists']['pkg']['requires'] == expected


def test_probe_lets_planned_metadata_win_and_reports_invalid_lines(probe):
    dists = [dist('Django', '5.0', ['asgiref']), dist('django', '4.2.30', ['sqlparse'])]
    described = probe['describe'](dists, ['django>=4', 'not a requirement!'], ENV)
    assert described['dists']['django']['version'] == '5.0'
    assert [r['name'] for r in described['dists']['django']['requires']] == ['asgiref']
    assert described['roots'] == [{'name': 'django', 'extras': [], 'satisfied': True}]
    assert len(described['invalid']) == 1 and 'not a requirement!' in described['invalid'][0]


def test_probe_skips_roots_whose_marker_is_false(probe):
    described = probe['describe']([], ['pywin32; sys_platform == "win32"', 'Celery[redis]'], ENV)
    assert described['roots'] == [{'name': 'celery', 'extras': ['redis'], 'satisfied': False}]


def test_probe_is_shipped_as_module_utils_not_embedded():
    # Issue 10: the probe lives in plugins/module_utils, so Ansiballz ships it and linters see it.
    assert not hasattr(pip_sync, 'PROBE')
    assert pip_sync._pip_probe is _pip_probe


def test_probe_runs_as_a_script_in_a_real_interpreter():
    out = subprocess.run([sys.executable, '-I', '-c', inspect.getsource(_pip_probe)], check=True, text=True,
                         capture_output=True,
                         input=json.dumps({'requirements': ['pytest'], 'planned': []})).stdout
    result = json.loads(out)
    assert result['roots'] == [{'name': 'pytest', 'extras': [], 'satisfied': True}]
    assert 'pluggy' in {req['name'] for req in result['dists']['pytest']['requires']}
    assert result['installed']['pytest']['name'] == 'pytest'


def graph(**requires):
    """dists as the probe returns them: name=[(dep, extras, when), ...]."""
    return {name.replace('_', '-'): {'requires': [{'name': dep, 'extras': list(extras), 'when': list(when)}
                                                  for dep, extras, when in reqs]}
            for name, reqs in requires.items()}


@pytest.mark.parametrize('roots, dists, needed, missing', [
    ([('a', [])], graph(a=[('b', [], [''])], b=[('c', [], [''])], c=[]), {'a', 'b', 'c'}, []),
    # A requirement that applies only under an extra nobody asked for is not followed.
    ([('a', [])], graph(a=[('b', [], ['x'])], b=[]), {'a'}, []),
    ([('a', ['X'])], graph(a=[('b', [], ['x'])], b=[]), {'a', 'b'}, []),
    # An extra asked for later, through another path, is still followed.
    ([('a', []), ('d', [])],
     graph(a=[('c', [], [''])], d=[('c', ['y'], [''])], c=[('e', [], ['y'])], e=[]),
     {'a', 'c', 'd', 'e'}, []),
    # Extras of a dependency activate that dependency's extra requirements.
    ([('celery', ['redis'])],
     graph(celery=[('kombu', [], ['']), ('redis', [], ['redis'])], kombu=[], redis=[]),
     {'celery', 'kombu', 'redis'}, []),
    # Cycles end.
    ([('a', [])], graph(a=[('b', [], [''])], b=[('a', [], [''])]), {'a', 'b'}, []),
    # Names are compared canonicalized.
    ([('Zope.Interface', [])], graph(zope_interface=[]), {'zope-interface'}, []),
    # A needed name found nowhere is reported, under the spelling that asked for it.
    ([('a', [])], graph(a=[('Ghost_Pkg', [], [''])]), {'a'}, ['Ghost_Pkg']),
])
def test_closure(roots, dists, needed, missing):
    followed, found_missing = pip_sync.closure([{'name': n, 'extras': e} for n, e in roots], dists)
    assert (set(followed), found_missing) == (needed, missing)


def test_an_included_constraints_file_is_known(tmp_path):
    (tmp_path / 'constraints.txt').write_text('Django<5\n')
    (tmp_path / 'base.txt').write_text('Django\n')
    (tmp_path / 'requirements.txt').write_text('-r base.txt\n')
    assert not pip_sync.Requirements(str(tmp_path / 'requirements.txt')).constrained
    (tmp_path / 'base.txt').write_text('-c constraints.txt\nDjango\n')
    assert pip_sync.Requirements(str(tmp_path / 'requirements.txt')).constrained


@pytest.mark.parametrize('lines, dists, met', [
    # What the migration leaves: every pin and every dependency installed at a fitting version.
    (AFTER, REDIS_STACK, True),
    (BEFORE, REDIS_STACK, True),
    (['Django>=4.2,<5'], REDIS_STACK, True),
    # Another version, a package or a dependency missing: pip would install something.
    (['Django==5.0'], REDIS_STACK, False),
    (AFTER + ['gunicorn'], REDIS_STACK, False),
    (['Django==4.2.30'], [d for d in REDIS_STACK if d['name'] != 'sqlparse'], False),
    # A dependency under a requested extra counts, one under an extra nobody asked for does not.
    (['celery[redis]==5.3.4'], [d for d in REDIS_STACK if d['name'] not in ('redis', 'async-timeout')], False),
    (['celery==5.3.4'], [d for d in REDIS_STACK if d['name'] not in ('redis', 'async-timeout')], True),
    (['kombu'], [dist('kombu', '5.3.4', ['vine<5']), dist('amqp', '5.2.0'), dist('vine', '5.1.0')], False),
    # pip counts an installed pre-release as meeting a range, as here.
    (['Django>=4.2'], [dist('Django', '5.0rc1')], True),
    # A URL is something only pip can compare with what is installed.
    (['Django @ https://example.org/Django-4.2.30-py3-none-any.whl'], REDIS_STACK, False),
])
def test_all_met_tells_when_pip_would_install_nothing(probe, lines, dists, met):
    assert pip_sync.all_met(probe['describe'](dists, lines, ENV)) is met


def test_plan_removes_exactly_what_only_the_redis_stack_needed(probe):
    plan = plan_for(probe, AFTER, REDIS_STACK)
    assert plan['to_install'] == []
    assert names(plan['to_remove']) == CELERY_ONLY | {'django-redis', 'redis', 'async-timeout'}
    assert {'name': 'kombu', 'version': '5.3.4'} in plan['to_remove']
    assert plan['after'] == ['asgiref==3.8.1', 'Django==4.2.30', 'pip==23.0.1', 'PyMySQL==1.1.0',
                             'python-decouple==3.8', 'setuptools==66.1.1', 'sqlparse==0.5.0']
    assert len(plan['before']) == len(REDIS_STACK)


def test_plan_is_empty_when_the_venv_is_in_sync(probe):
    plan = plan_for(probe, BEFORE, REDIS_STACK)
    assert (plan['to_install'], plan['to_remove']) == ([], [])
    assert plan['before'] == plan['after']


def test_plan_follows_extras_of_the_requirements(probe):
    # celery[redis] needs redis itself, so only django-redis goes.
    plan = plan_for(probe, AFTER + ['celery[redis]==5.3.4'], REDIS_STACK)
    assert names(plan['to_remove']) == {'django-redis'}


def test_plan_uses_planned_metadata_in_place_of_installed(probe):
    # The upgraded Django no longer needs sqlparse but needs a new package.
    planned = [dist('Django', '5.0', ['asgiref', 'newdep']), dist('newdep', '1.0')]
    plan = plan_for(probe, AFTER, REDIS_STACK, planned=planned)
    assert plan['to_install'] == [{'name': 'Django', 'version': '5.0'}, {'name': 'newdep', 'version': '1.0'}]
    assert 'sqlparse' in names(plan['to_remove'])
    assert 'Django==5.0' in plan['after'] and 'newdep==1.0' in plan['after']


@pytest.mark.parametrize('keep, kept', [
    # Only pip, setuptools and wheel by default.
    (pip_sync.ALWAYS_KEEP, set()),
    # A kept package keeps its own dependencies too.
    (pip_sync.ALWAYS_KEEP + ('click-repl',), {'click-repl', 'click', 'prompt-toolkit', 'wcwidth'}),
    (pip_sync.ALWAYS_KEEP + ('Python_DateUtil',), {'python-dateutil', 'six'}),
])
def test_plan_keeps_kept_packages_and_their_dependencies(probe, keep, kept):
    plan = plan_for(probe, AFTER, REDIS_STACK, keep=keep)
    assert names(plan['to_remove']) == (CELERY_ONLY | {'django-redis', 'redis', 'async-timeout'}) - kept


def test_plan_never_removes_packages_outside_the_venv(probe):
    dists = REDIS_STACK + [dist('system-only', '1.0', in_venv=False)]
    plan = plan_for(probe, AFTER, dists)
    assert 'system-only' not in names(plan['to_remove'])
    assert 'system-only==1.0' not in plan['before'] + plan['after']


@pytest.mark.parametrize('lines, message', [
    (['not valid!'], 'cannot parse requirements'),
    (['./local/checkout'], 'cannot parse requirements'),
    (['Django', 'never-installed'], 'neither installed nor planned by pip: never-installed'),
])
def test_plan_refuses_requirements_it_cannot_follow(probe, lines, message):
    with pytest.raises(pip_sync.SyncError, match=message):
        plan_for(probe, lines, REDIS_STACK)


@pytest.mark.parametrize('before, after, expected', [
    (['Django==4.2.30', 'pip==23.0.1'], ['Django==4.2.30', 'pip==23.0.1'], []),
    (['Django==4.2.30'], ['django==4.2.29'], ['Django==4.2.30 -> django==4.2.29']),
    (['kombu==5.3.4'], [], ['kombu==5.3.4 -> (absent)']),
    ([], ['zz_leaf==1.0'], ['(absent) -> zz_leaf==1.0']),
    (['app @ file:///srv/app-1.0.whl'], ['app==1.0'], ['app @ file:///srv/app-1.0.whl -> app==1.0']),
    (['# Editable install with no version control (app==1.0)', '-e /srv/app'], ['-e /srv/app'], []),
])
def test_freeze_difference(before, after, expected):
    assert pip_sync.freeze_difference(before, after) == expected


@pytest.mark.parametrize('pip_check, problems', [
    ('pygobject 3.42.2 requires pycairo, which is not installed.', []),
    ('Django 4.2.30 requires asgiref, which is not installed.',
     ['Django 4.2.30 requires asgiref, which is not installed.']),
    ('kombu 5.3.4 has requirement vine==5.0.0, but you have vine 5.1.0.\n'
     'pygobject 3.42.2 requires pycairo, which is not installed.',
     ['kombu 5.3.4 has requirement vine==5.0.0, but you have vine 5.1.0.']),
])
def test_venv_problems_ignores_packages_outside_the_venv(pip_check, problems):
    assert pip_sync.venv_problems(pip_check, {'django', 'kombu', 'vine', 'pip'}) == problems


INDEX_DEFAULTS = {'index_url': None, 'extra_index_urls': [], 'find_links': [], 'no_index': False, 'timeout': 15}


@pytest.mark.parametrize('params, expected', [
    ({}, ['--timeout', '15']),
    ({'index_url': 'https://deploy:s3cret@mirror/simple', 'extra_index_urls': ['https://a/simple', 'https://b/simple']},
     ['--timeout', '15']),
    ({'find_links': ['/srv/wheelhouse'], 'no_index': True, 'timeout': 3},
     ['--timeout', '3', '--find-links', '/srv/wheelhouse', '--no-index']),
])
def test_index_args(params, expected):
    assert pip_sync.index_args(dict(INDEX_DEFAULTS, **params)) == expected


def test_the_index_urls_reach_pip_through_its_environment_and_are_no_log():
    """An index URL may hold credentials: never on pip's command line (ps), never in the module's output."""
    params = dict(INDEX_DEFAULTS, index_url='https://deploy:s3cret@mirror/simple', extra_index_urls=['https://a/simple', 'https://b/simple'])
    assert pip_sync.index_environment(params) == {'PIP_INDEX_URL': 'https://deploy:s3cret@mirror/simple',
                                                  'PIP_EXTRA_INDEX_URL': 'https://a/simple https://b/simple'}
    assert pip_sync.index_environment(INDEX_DEFAULTS) == {}
    spec = pip_sync.argument_spec()
    assert spec['index_url']['no_log'] is True
    assert spec['extra_index_urls']['no_log'] is True


@pytest.mark.parametrize('version, message', [
    (None, r'pip is not installed in the venv; add it with: /v/bin/python -m ensurepip --upgrade'),
    ((22, 1, 2), r"pip 22\.1\.2 in the venv is older than 22\.2.*/v/bin/python -m pip install --upgrade 'pip>=22\.2'"),
    ((9,), r'pip 9 in the venv is older'),
])
def test_check_pip_refuses_missing_or_old_pip(version, message):
    with pytest.raises(pip_sync.SyncError, match=message):
        pip_sync.check_pip(version, '/v/bin/python')


@pytest.mark.parametrize('version', [(22, 2), (23, 0, 1), (25, 1)])
def test_check_pip_accepts_pip_with_dry_run_reports(version):
    pip_sync.check_pip(version, '/v/bin/python')


def fake_venv(tmp_path, pip_answer):
    """A venv whose python answers anything (the question of pip's version first) with pip_answer and exit code 0."""
    python = tmp_path / 'venv' / 'bin' / 'python'
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\necho "%s"\n' % pip_answer)
    python.chmod(0o755)
    (tmp_path / 'requirements.txt').write_text('Django==4.2.30\n')
    return {'venv': str(tmp_path / 'venv'), 'requirements': str(tmp_path / 'requirements.txt')}


def test_module_fails_on_a_venv_with_old_pip_before_running_pip_install(run_module, tmp_path):
    args = fake_venv(tmp_path, '21.3.1')
    result = run_module(pip_sync.main, args)
    assert result['failed'] and not result['changed']
    assert "pip 21.3.1 in the venv is older than 22.2" in result['msg']
    assert "-m pip install --upgrade 'pip>=22.2'" in result['msg']


def test_module_fails_on_a_venv_without_pip(run_module, tmp_path):
    result = run_module(pip_sync.main, fake_venv(tmp_path, ''))
    assert result['failed'] and 'ensurepip --upgrade' in result['msg']


def test_module_fails_on_a_path_that_is_no_venv(run_module, tmp_path):
    result = run_module(pip_sync.main, {'venv': str(tmp_path), 'requirements': str(tmp_path / 'r.txt')})
    assert result['failed'] and 'is not a virtualenv' in result['msg']


@pytest.mark.parametrize('check_mode', [True, False])
def test_module_refuses_editable_lines_before_running_pip_or_editing(run_module, tmp_path, check_mode):
    args = fake_venv(tmp_path, '23.0.1')
    requirements = tmp_path / 'requirements.txt'
    requirements.write_bytes(b'redis==5.0.1\r\n-e git+https://example.org/app.git#egg=app\r\n')
    result = run_module(pip_sync.main, dict(args, remove=['redis']), check_mode=check_mode)
    assert result['failed'] and not result['changed']
    assert 'nothing was changed' in result['msg'] and 'editable requirements cannot be synced' in result['msg']
    assert result['before_freeze'] == [] and result['requirements_removed'] == []
    assert requirements.read_bytes() == b'redis==5.0.1\r\n-e git+https://example.org/app.git#egg=app\r\n'


def test_module_refuses_remove_with_a_revision(run_module, tmp_path):
    args = fake_venv(tmp_path, '23.0.1')
    result = run_module(pip_sync.main, dict(args, remove=['redis'], revision='2.0.0'))
    assert result['failed'] and 'give one of them' in result['msg']
