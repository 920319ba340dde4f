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
import codecs
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

    # Everything is met now, so the second run asks neither pip nor the index (here: none there).
    again = pip_sync('second run (after)', before_venv, after,
                     no_index=False, find_links=[], index_url='http://127.0.0.1:9/simple')
    assert not again['changed'] and not again.get('failed'), again.get('msg')
    assert (again['installed'], again['removed']) == ([], [])
    assert again['after_freeze'] == again['before_freeze'] == []
    assert versions(before_venv) == versions(templates[1])


def test_check_mode_changes_nothing_and_predicts_the_real_run(before_venv, requirement_files):
    before, after = requirement_files
    untouched = freeze(before_venv)

    predicted = pip_sync('check mode before -> after', before_venv, after, '--check', '--diff')

    assert predicted['changed'] and not predicted.get('failed'), predicted.get('msg')
    assert freeze(before_venv) == untouched
    assert predicted['after_freeze'] == predicted['before_freeze'] == []
    assert predicted['diff'][0]['before'].splitlines() == sorted(untouched, key=canonical_pin)

    done = pip_sync('real run after check mode', before_venv, after, '--diff')

    assert not done.get('failed'), done.get('msg')
    assert (done['installed'], done['removed']) == (predicted['installed'], predicted['removed'])
    assert done['diff'] == predicted['diff']
    assert sorted(freeze(before_venv), key=canonical_pin) == predicted['diff'][0]['after'].splitlines()


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
    # The celery line goes before the install fails, and must come back.
    broken.write_bytes((after.read_text() + 'celery==5.3.4\nredis==5.0.1\nzzbroken==1.0\n').encode('utf-16'))
    original = broken.read_bytes()
    untouched = freeze(after_venv)

    result = pip_sync('failed install, restored', after_venv, broken,
                      find_links=[str(WHEELHOUSE), str(extra)], remove=['celery'])

    assert result['failed']
    assert 'pip install failed' in result['msg'] and 'zzbroken' in result['msg']
    assert 'The requirements file and the venv were restored to their state before the task.' in result['msg']
    assert not result['changed'] and (result['installed'], result['removed']) == ([], [])
    assert result['requirements_removed'] == []
    assert freeze(after_venv) == untouched == result['after_freeze']
    assert broken.read_bytes() == original


def utf16_crlf(lines):
    """A requirements file as Windows editors save it: UTF-16LE with a BOM and CRLF line ends."""
    return codecs.BOM_UTF16_LE + ''.join(line + '\r\n' for line in lines).encode('utf-16-le')


def test_remove_edits_a_utf16_file_byte_for_byte_and_syncs_to_the_rest(
        before_venv, templates, expected_removed, tmp_path):
    # The Redis stack in every spelling pip accepts: other case and separators, a marker,
    # extras, an inline comment, a duplicate line. pip itself reads this file.
    after_lines, dummy = app_requirements()
    redis_lines = ['Django_Redis==5.4.0  # the cache backend', 'REDIS==5.0.1 ; python_version >= "3.8"',
                   'celery[redis]==5.3.4', 'redis==5.0.1']
    requirements = tmp_path / 'app' / 'requirements.txt'
    requirements.parent.mkdir()
    requirements.write_bytes(utf16_crlf(['# mall-server'] + redis_lines[:2] + after_lines + redis_lines[2:]))
    original = requirements.read_bytes()
    expected = utf16_crlf(['# mall-server'] + after_lines)
    options = {'remove': list(REDIS_STACK)}

    predicted = pip_sync('check mode, UTF-16 file', before_venv, requirements, '--check', '--diff', **options)

    assert predicted['changed'] and not predicted.get('failed'), predicted.get('msg')
    assert requirements.read_bytes() == original
    assert predicted['requirements_removed'] == ['Django_Redis', 'REDIS', 'celery', 'redis']
    assert package_names(predicted['removed']) == expected_removed
    assert predicted['diff'][1]['after'] == '# mall-server\r\n' + ''.join(line + '\r\n' for line in after_lines)

    result = pip_sync('remove from UTF-16 file', before_venv, requirements, **options)

    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert (result['requirements_removed'], result['removed']) == (predicted['requirements_removed'],
                                                                   predicted['removed'])
    assert requirements.read_bytes() == expected
    assert versions(before_venv) == versions(templates[1])
    # pip itself reads the edited file and finds the venv in sync with it.
    report = json.loads(pip(before_venv, 'install', '--dry-run', '--quiet', '--report', '-', '--no-index',
                            '--find-links', str(WHEELHOUSE), '--requirement', str(requirements)))
    assert report['install'] == []

    again = pip_sync('second run, UTF-16 file', before_venv, requirements, **options)
    assert not again['changed'] and not again.get('failed'), again.get('msg')
    assert again['requirements_removed'] == [] and requirements.read_bytes() == expected


def test_includes_resolve_against_the_file_and_editable_lines_are_refused_first(after_venv, tmp_path):
    app = tmp_path / 'app'
    (app / 'requirements').mkdir(parents=True)
    after_lines, dummy = app_requirements()
    (app / 'requirements' / 'base.txt').write_text('\n'.join(after_lines) + '\n')
    requirements = app / 'requirements.txt'
    requirements.write_text('-r requirements/base.txt\nredis==5.0.1\n')
    untouched = freeze(after_venv)

    result = pip_sync('include beside the file', after_venv, requirements, remove=['redis'])

    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert result['installed'] == [] and result['removed'] == []
    assert requirements.read_text() == '-r requirements/base.txt\n'
    assert freeze(after_venv) == untouched

    requirements.write_text('-r requirements/base.txt\nredis==5.0.1\n-e %s\n' % app)
    refused = pip_sync('editable line, check mode', after_venv, requirements, '--check', remove=['redis'])
    assert refused['failed'] and 'editable requirements cannot be synced' in refused['msg']
    assert requirements.read_text().startswith('-r requirements/base.txt\nredis==5.0.1\n')


ROLE_PLAYBOOK = pathlib.Path(__file__).with_name('pip_sync_role.yml')
ANSIBLE_PLAYBOOK = shutil.which('ansible-playbook') or str(ROOT / '.cache' / 'venv' / 'bin' / 'ansible-playbook')


def run_role(label, app, venv, *flags, env=ENV, **extra_vars):
    """Run tests/integration/pip_sync_role.yml; returns (rc, {task name: result})."""
    extra = {'mall_app_dir': str(app), 'mall_venv': str(venv), 'mall_pip_no_index': True,
             'mall_pip_find_links': [str(WHEELHOUSE)],
             # As for the implicit localhost of `ansible localhost`: the controller's own Python.
             'ansible_python_interpreter': '{{ ansible_playbook_python }}'}
    extra.update(extra_vars)
    start = time.monotonic()
    proc = subprocess.run([ANSIBLE_PLAYBOOK, '-i', 'localhost,', '-c', 'local', str(ROLE_PLAYBOOK),
                           '-e', json.dumps(extra), *flags],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    TIMINGS.append((label, time.monotonic() - start))
    try:
        tasks = json.loads(proc.stdout)['plays'][0]['tasks']
    except (ValueError, KeyError, IndexError):
        pytest.fail('no JSON result from ansible-playbook (rc=%d):\n%s\n%s'
                    % (proc.returncode, proc.stdout, proc.stderr))
    # Task names as the callback gives them, without the "role : " prefix.
    return proc.returncode, {task['task']['name'].split(' : ')[-1]: task['hosts']['localhost'] for task in tasks}


PLAN = 'Plan the sync of the virtualenv, changing nothing'
SYNC = 'Make the virtualenv match the requirements without Redis and Celery'


def test_role_syncs_includes_from_the_app_not_from_the_temp_directory(before_venv, templates, tmp_path):
    # Before, the role wrote the target to a file in the system temp directory, so
    # `-r requirements/base.txt` was read from there: any local user could plant it.
    after_lines, dummy = app_requirements()
    app = tmp_path / 'app'
    (app / 'requirements').mkdir(parents=True)
    (app / 'requirements' / 'base.txt').write_text('\n'.join(after_lines) + '\n')
    requirements = app / 'requirements.txt'
    requirements.write_bytes(utf16_crlf(['-r requirements/base.txt', 'django-redis==5.4.0', 'redis==5.0.1',
                                         'celery==5.3.4']))
    planted = tmp_path / 'systmp'
    (planted / 'requirements').mkdir(parents=True)
    (planted / 'requirements' / 'base.txt').write_text('zzplanted==1.0\n')
    extra = tmp_path / 'extra'
    extra.mkdir()
    build_wheel(extra, 'zzplanted', '1.0')
    env = dict(ENV, TMPDIR=str(planted))

    rc, tasks = run_role('role, include and UTF-16 file', app, before_venv, env=env,
                         mall_pip_find_links=[str(WHEELHOUSE), str(extra)])

    assert rc == 0, [(name, task.get('msg')) for name, task in tasks.items() if task.get('failed')]
    assert not tasks[PLAN]['changed'] and tasks[SYNC]['changed']
    assert tasks[SYNC]['requirements_removed'] == ['django-redis', 'redis', 'celery']
    assert requirements.read_bytes() == utf16_crlf(['-r requirements/base.txt'])
    assert versions(before_venv) == versions(templates[1])
    assert 'zzplanted' not in versions(before_venv)

    rc, tasks = run_role('role, second run', app, before_venv, env=env)
    assert rc == 0 and not tasks[SYNC]['changed'], tasks


def test_preflight_plan_refuses_an_editable_line_and_changes_nothing(after_venv, tmp_path):
    app = tmp_path / 'app'
    app.mkdir()
    requirements = app / 'requirements.txt'
    requirements.write_text('Django==4.2.30\nredis==5.0.1 \\\n    --hash=sha256:%s\n-e ./src\n' % ('0' * 64))
    original = requirements.read_bytes()
    untouched = freeze(after_venv)

    rc, tasks = run_role('preflight plan, editable line', app, after_venv, plan_only=True)

    assert rc != 0 and tasks[PLAN]['failed']
    assert 'editable requirements cannot be synced' in tasks[PLAN]['msg']
    assert requirements.read_bytes() == original and freeze(after_venv) == untouched


def git(app, *args):
    subprocess.run(['git', '-C', str(app), '-c', 'user.name=test', '-c', 'user.email=test@example.org', *args],
                   check=True, capture_output=True)


def test_role_syncs_to_the_requirements_of_a_release_before_its_checkout(before_venv, templates, tmp_path):
    after_lines, before_lines = app_requirements()
    app = tmp_path / 'app'
    (app / 'requirements').mkdir(parents=True)
    requirements = app / 'requirements.txt'
    requirements.write_text('-r requirements/base.txt\n')
    (app / 'requirements' / 'base.txt').write_text('\n'.join(after_lines) + '\n')
    git(app, 'init', '-q')
    git(app, 'add', '-A')
    git(app, 'commit', '-qm', 'release 2.0.0')
    git(app, 'tag', '2.0.0')
    # The working tree is still the Redis release.
    (app / 'requirements' / 'base.txt').write_text('\n'.join(before_lines) + '\n')
    working_tree = requirements.read_bytes(), (app / 'requirements' / 'base.txt').read_bytes()

    rc, tasks = run_role('role, release 2.0.0 from git', app, before_venv, mall_release_version='2.0.0')

    assert rc == 0, [(name, task.get('msg')) for name, task in tasks.items() if task.get('failed')]
    assert tasks[SYNC]['changed'] and tasks[SYNC]['requirements_removed'] == []
    assert versions(before_venv) == versions(templates[1])
    assert (requirements.read_bytes(), (app / 'requirements' / 'base.txt').read_bytes()) == working_tree
