"""Live test of mall.cache_migration.pip_sync on real virtualenvs, no container needed.

Each test copies a template venv made with Debian's /usr/bin/python3 (the
interpreter the wheelhouse was downloaded for) and runs the module through
`ansible localhost`, offline from the wheelhouse. pip's own configuration and
PIP_* variables of this machine are kept out, so only the options under test
decide where pip looks.

The "before" requirements are tests/fixtures/mall-server/requirements.txt
(with the Redis stack at the guide's pins); "after" is the same without
django-redis, redis and celery.
"""
import json
import os
import pathlib
import shutil
import subprocess
import time
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WHEELHOUSE = pathlib.Path(os.environ.get('MALL_WHEELHOUSE', ROOT / '.cache' / 'wheelhouse'))
FIXTURE_REQUIREMENTS = ROOT / 'tests' / 'fixtures' / 'mall-server' / 'requirements.txt'
SYSTEM_PYTHON = '/usr/bin/python3'
REDIS_STACK = {'django-redis': '5.4.0', 'redis': '5.0.1', 'celery': '5.3.4'}
# Used when the fixture app is absent; the wheelhouse must then hold these.
FALLBACK_REQUIREMENTS = ['Django>=4.2,<5', 'PyMySQL', 'python-decouple']
ANSIBLE = shutil.which('ansible') or str(ROOT / '.cache' / 'venv' / 'bin' / 'ansible')

pytestmark = [
    pytest.mark.skipif(not list(WHEELHOUSE.glob('*.whl')),
                       reason='no wheelhouse at %s (scripts/bootstrap.sh builds it)' % WHEELHOUSE),
    pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason='needs Debian python3-venv'),
]

TIMINGS = []


def canonical(name):
    return name.lower().replace('_', '-').replace('.', '-')


def requirement_name(line):
    return canonical(line.split('[')[0].split(';')[0].split('=')[0].split('<')[0].split('>')[0].strip())


def app_requirements():
    if FIXTURE_REQUIREMENTS.exists():
        lines = [line.split('#')[0].strip() for line in FIXTURE_REQUIREMENTS.read_text().splitlines()]
        lines = [line for line in lines if line]
    else:
        lines = list(FALLBACK_REQUIREMENTS)
    after = [line for line in lines if requirement_name(line) not in REDIS_STACK]
    return after, after + ['%s==%s' % pin for pin in REDIS_STACK.items()]


def subprocess_env():
    env = {key: value for key, value in os.environ.items() if not key.startswith('PIP_')}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        ANSIBLE_COLLECTIONS_PATH=os.environ.get('ANSIBLE_COLLECTIONS_PATH',
                                                str(ROOT / '.cache' / 'collections')),
        ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
        ANSIBLE_DEPRECATION_WARNINGS='0',
        ANSIBLE_LOCALHOST_WARNING='0',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
    )
    return env


ENV = subprocess_env()


def pip(venv, *args):
    return subprocess.run([str(venv / 'bin' / 'python'), '-m', 'pip', *args], env=ENV,
                          check=True, capture_output=True, text=True).stdout


def freeze(venv):
    return pip(venv, 'freeze', '--all', '--local').splitlines()


def versions(venv):
    return {canonical(line.split('==')[0]): line.split('==')[1] for line in freeze(venv)}


def pip_sync(label, venv, requirements, *flags, **options):
    """Run the module once through `ansible localhost`; returns its result."""
    args = {'venv': str(venv), 'requirements': str(requirements),
            'no_index': True, 'find_links': [str(WHEELHOUSE)]}
    args.update(options)
    start = time.monotonic()
    proc = subprocess.run([ANSIBLE, 'localhost', '-m', 'mall.cache_migration.pip_sync',
                           '-a', json.dumps(args), *flags],
                          env=ENV, capture_output=True, text=True, timeout=600, check=False)
    TIMINGS.append((label, time.monotonic() - start))
    try:
        result = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
    except (ValueError, KeyError, IndexError):
        pytest.fail('no JSON result from ansible (rc=%d):\n%s\n%s' % (proc.returncode, proc.stdout, proc.stderr))
    assert (proc.returncode != 0) == bool(result.get('failed')), proc.stderr
    return result


def package_names(packages):
    return {canonical(p['name']) for p in packages}


@pytest.fixture(scope='module', autouse=True)
def report_timings():
    yield
    for label, seconds in TIMINGS:
        print('pip_sync %-40s %5.1f s' % (label, seconds))


@pytest.fixture(scope='module')
def requirement_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp('requirements')
    after, before = app_requirements()
    (folder / 'after.txt').write_text('\n'.join(after) + '\n')
    (folder / 'before.txt').write_text('\n'.join(before) + '\n')
    return folder / 'before.txt', folder / 'after.txt'


def make_template(folder, requirements):
    start = time.monotonic()
    subprocess.run([SYSTEM_PYTHON, '-m', 'venv', str(folder)], check=True)
    pip(folder, 'install', '--quiet', '--no-index', '--find-links', str(WHEELHOUSE),
        '--requirement', str(requirements))
    TIMINGS.append(('template %s (venv + pip install)' % requirements.stem, time.monotonic() - start))
    return folder


@pytest.fixture(scope='module')
def templates(tmp_path_factory, requirement_files):
    """Venvs as a plain `pip install -r` leaves them, for the before and the after file."""
    folder = tmp_path_factory.mktemp('templates')
    before, after = requirement_files
    return make_template(folder / 'before', before), make_template(folder / 'after', after)


@pytest.fixture
def before_venv(templates, tmp_path):
    # `python -m pip` works from a copied venv: bin/python links to the system interpreter.
    return pathlib.Path(shutil.copytree(templates[0], tmp_path / 'venv', symlinks=True))


@pytest.fixture
def after_venv(templates, tmp_path):
    return pathlib.Path(shutil.copytree(templates[1], tmp_path / 'venv', symlinks=True))


@pytest.fixture
def expected_removed(templates):
    return set(versions(templates[0])) - set(versions(templates[1]))


def django_init(venv):
    return next(venv.glob('lib/python3*/site-packages/django/__init__.py'))


def test_the_redis_stack_pulls_in_celery_dependencies(expected_removed):
    # Guards the other tests against a wheelhouse too small to mean anything.
    assert {'django-redis', 'redis', 'celery', 'kombu', 'amqp', 'billiard', 'vine',
            'click', 'click-didyoumean', 'click-repl', 'click-plugins'} <= expected_removed


def test_sync_removes_exactly_what_only_the_redis_stack_needed(
        before_venv, requirement_files, templates, expected_removed):
    before, after = requirement_files
    django = django_init(before_venv)
    mtime = django.stat().st_mtime_ns

    result = pip_sync('sync before -> after', before_venv, after)

    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert result['installed'] == []
    assert package_names(result['removed']) == expected_removed
    assert versions(before_venv) == versions(templates[1])
    assert django.stat().st_mtime_ns == mtime, 'Django was reinstalled'
    assert result['pip_check'] == 'No broken requirements found.'
    pip(before_venv, 'check')
    assert result['after_freeze'] == freeze(before_venv)
    assert result['before_freeze'] == freeze(templates[0])

    again = pip_sync('second run (after)', before_venv, after)
    assert not again['changed'] and not again.get('failed'), again.get('msg')
    assert (again['installed'], again['removed']) == ([], [])
    assert again['after_freeze'] == again['before_freeze'] == freeze(before_venv)


def test_check_mode_changes_nothing_and_predicts_the_real_run(before_venv, requirement_files):
    before, after = requirement_files
    untouched = freeze(before_venv)

    predicted = pip_sync('check mode before -> after', before_venv, after, '--check', '--diff')

    assert predicted['changed'] and not predicted.get('failed'), predicted.get('msg')
    assert freeze(before_venv) == untouched
    assert predicted['after_freeze'] == predicted['before_freeze'] == untouched
    assert predicted['diff']['before'].splitlines() == sorted(untouched, key=canonical_pin)

    done = pip_sync('real run after check mode', before_venv, after, '--diff')

    assert not done.get('failed'), done.get('msg')
    assert (done['installed'], done['removed']) == (predicted['installed'], predicted['removed'])
    assert done['diff'] == predicted['diff']
    assert sorted(freeze(before_venv), key=canonical_pin) == predicted['diff']['after'].splitlines()


def canonical_pin(line):
    return canonical(line.split('==')[0])


def test_unreachable_index_fails_and_changes_nothing(after_venv, requirement_files):
    before, after = requirement_files
    untouched = freeze(after_venv)

    result = pip_sync('unreachable index', after_venv, before,
                      no_index=False, find_links=[], index_url='http://127.0.0.1:9/simple')

    assert result['failed'] and not result['changed']
    assert 'nothing was changed' in result['msg']
    assert 'django-redis' in result['msg'].lower()  # pip's own words on what it could not get
    assert freeze(after_venv) == untouched


def test_reverse_sync_reinstalls_the_redis_stack_at_its_pins(after_venv, requirement_files, templates):
    before, after = requirement_files
    django = django_init(after_venv)
    mtime = django.stat().st_mtime_ns

    untouched = freeze(after_venv)
    predicted = pip_sync('check mode after -> before', after_venv, before, '--check')
    assert freeze(after_venv) == untouched

    result = pip_sync('reverse sync after -> before', after_venv, before)

    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert (result['installed'], result['removed']) == (predicted['installed'], predicted['removed'])
    installed = {canonical(p['name']): p['version'] for p in result['installed']}
    assert REDIS_STACK.items() <= installed.items()
    assert set(installed) == set(versions(templates[0])) - set(versions(templates[1]))
    assert result['removed'] == []
    assert versions(after_venv) == versions(templates[0])
    assert django.stat().st_mtime_ns == mtime, 'Django was reinstalled'
    assert not pip_sync('second run (before)', after_venv, before)['changed']


def build_wheel(folder, name, version, requires=(), data=None):
    """A minimal pure-Python wheel; `data` adds files under <name>-<version>.data/."""
    info = '%s-%s.dist-info' % (name, version)
    files = {'%s.py' % name: '',
             info + '/METADATA': 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s' % (
                 name, version, ''.join('Requires-Dist: %s\n' % r for r in requires)),
             info + '/WHEEL': 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n'}
    files.update({'%s-%s.data/%s' % (name, version, path): text for path, text in (data or {}).items()})
    files[info + '/RECORD'] = ''.join('%s,,\n' % path for path in files) + info + '/RECORD,,\n'
    with zipfile.ZipFile(folder / ('%s-%s-py3-none-any.whl' % (name, version)), 'w') as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


def test_failed_install_puts_the_venv_back(after_venv, requirement_files, tmp_path):
    # zzbroken's metadata is fine, so the dry run passes; pip installs its dependency
    # zzleaf first and then fails on zzbroken's unknown .data scheme.
    before, after = requirement_files
    extra = tmp_path / 'extra'
    extra.mkdir()
    build_wheel(extra, 'zzleaf', '1.0')
    build_wheel(extra, 'zzbroken', '1.0', ['zzleaf'], data={'bogus/file.txt': 'x'})
    broken = tmp_path / 'broken.txt'
    broken.write_text(after.read_text() + 'redis==5.0.1\nzzbroken==1.0\n')
    untouched = freeze(after_venv)

    result = pip_sync('failed install, restored', after_venv, broken,
                      find_links=[str(WHEELHOUSE), str(extra)])

    assert result['failed']
    assert 'pip install failed' in result['msg'] and 'zzbroken' in result['msg']
    assert 'The venv was restored to its state before the task.' in result['msg']
    assert not result['changed'] and (result['installed'], result['removed']) == ([], [])
    assert freeze(after_venv) == untouched == result['after_freeze']
