"""Live test of mall.cache_migration.django_settings on a real Django project in a real virtualenv.

The venv is made once with Debian's /usr/bin/python3 from the wheelhouse (Django, python-decouple,
django-redis, redis), offline. Each test writes a project with the shape real projects have:
settings split into base.py and development.py (star import), the guide's broken block with a
comment after its brace in base.py, CACHES defined again in development.py from REDIS_HOST/PORT/PASSWORD
read through decouple (which reads .env), sessions on the cache, CRLF in one file, no final newline in
another, manage.py without its exec bit. The module runs through `ansible localhost`.
"""
import ast
import hashlib
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WHEELHOUSE = pathlib.Path(os.environ.get('MALL_WHEELHOUSE', ROOT / '.cache' / 'wheelhouse'))
SYSTEM_PYTHON = '/usr/bin/python3'
PACKAGES = ['Django>=4.2,<6', 'python-decouple', 'django-redis', 'redis']
SECRET = 'guide-redis-s3cret'

pytestmark = [
    pytest.mark.skipif(not list(WHEELHOUSE.glob('*.whl')), reason='no wheelhouse (scripts/bootstrap.sh builds it)'),
    pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason='needs Debian python3-venv'),
]

BASE = '''"""Shared settings."""
from decouple import config

SECRET_KEY = config("SECRET_KEY")
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/unused.sqlite3"}}

# The guide's rollback block: Django's own RedisCache given django-redis' CLIENT_CLASS.
CACHES = {
    'default': {
        'BACKEND': 'django.core.cache.backends.redis.RedisCache',
        'LOCATION': 'redis://:%s@127.0.0.1:6379/1',
        'OPTIONS': {
            'CLIENT_CLASS': 'django_redis.client.DefaultClient',
        },
    }
}  # redis
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
AUTH_PASSWORD_VALIDATORS = []
CSRF_TRUSTED_ORIGINS = ["https://shop.example"]
CELERY_TASK_ALWAYS_EAGER = True
''' % SECRET

DEVELOPMENT = '''from .base import *  # noqa: F401,F403

REDIS_HOST = config("REDIS_HOST", default="127.0.0.1")
REDIS_PORT = config("REDIS_PORT", default=6379, cast=int)
REDIS_PASSWORD = config("REDIS_PASSWORD", default="")

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://:{REDIS_PASSWORD}@{REDIS_HOST}:{REDIS_PORT}/1",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        "KEY_PREFIX": "mall"  # shared
        ,
        "TIMEOUT": config("CACHE_TIMEOUT", default=300, cast=int),
    },
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
CELERY_BROKER_URL = config("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
DEBUG = True'''

MANAGE = '''import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.development")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
'''

ENV = 'SECRET_KEY=live-test-secret-key\nREDIS_HOST=127.0.0.1\nREDIS_PASSWORD=%s\n' % SECRET


DJANGO_MYSQL = 'django-mysql==4.19.0'


def make_venv(tmp_path_factory, packages):
    path = tmp_path_factory.mktemp('django-settings') / 'venv'
    subprocess.run([SYSTEM_PYTHON, '-m', 'venv', str(path)], check=True)
    subprocess.run([str(path / 'bin' / 'pip'), 'install', '-q', '--no-index', '--find-links', str(WHEELHOUSE),
                    *packages], check=True, env=dict(os.environ, PIP_CONFIG_FILE=os.devnull))
    return path


@pytest.fixture(scope='module')
def venv(tmp_path_factory):
    return make_venv(tmp_path_factory, PACKAGES)


@pytest.fixture(scope='module')
def mysql_venv(tmp_path_factory):
    """The venv as cache_settings leaves it before the edit with cache_settings_backend=mysql."""
    return make_venv(tmp_path_factory, PACKAGES + [DJANGO_MYSQL])


@pytest.fixture
def project(tmp_path):
    root = tmp_path / 'shop-project'
    (root / 'shop' / 'settings').mkdir(parents=True)
    (root / 'manage.py').write_text(MANAGE)
    os.chmod(root / 'manage.py', 0o644)
    (root / 'shop' / '__init__.py').write_text('')
    (root / 'shop' / 'settings' / '__init__.py').write_text('')
    (root / 'shop' / 'settings' / 'base.py').write_bytes(BASE.replace('\n', '\r\n').encode())
    (root / 'shop' / 'settings' / 'development.py').write_text(DEVELOPMENT)
    (root / '.env').write_text(ENV)
    return root


def run_module(venv, project, *options, settings='shop.settings.development', **args):
    params = dict(project_dir=str(project), venv=str(venv), settings=settings, state='database',
                  table='shop_cache', redis_env_keys=['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD',
                                                      'CELERY_BROKER_URL'])
    params.update(args)
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               ANSIBLE_LOAD_CALLBACK_PLUGINS='1')
    proc = subprocess.run(['ansible', 'localhost', '-m', 'mall.cache_migration.django_settings',
                           '-a', json.dumps(params), *options],
                          cwd=project.parent, env=env, capture_output=True, text=True, timeout=180, check=False)
    report = json.loads(proc.stdout)
    result = report['plays'][0]['tasks'][0]['hosts']['localhost']
    return proc.stdout + proc.stderr, result


def digests(project):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(project.rglob('*')) if p.is_file()
            and '__pycache__' not in p.parts}


def effective_backend(venv, project, settings='shop.settings.development'):
    code = 'from django.conf import settings; print(settings.CACHES["default"]["BACKEND"])'
    proc = subprocess.run([str(venv / 'bin' / 'python'), '-c', code], cwd=project, capture_output=True, text=True,
                          env=dict(os.environ, DJANGO_SETTINGS_MODULE=settings), check=True)
    return proc.stdout.strip()


def test_check_mode_plans_proves_and_changes_nothing(venv, project):
    before = digests(project)
    output, result = run_module(venv, project, '--check', '--diff', prove=True)
    assert not result.get('failed'), result.get('msg')
    assert result['changed']
    assert result['proof']['ok'] and result['proof']['backend'].endswith('DatabaseCache')
    settings_dir = project / 'shop' / 'settings'
    assert result['files'] == [str(settings_dir / 'base.py'), str(settings_dir / 'development.py')]
    assert digests(project) == before
    assert SECRET not in output
    effective = [row for row in result['statements'] if row['setting'] == 'CACHES' and row['effective']]
    assert [(row['file'], row['start'], row['end']) for row in effective] == [
        (str(settings_dir / 'development.py'), 7, 17)]
    assert result['sessions'] == {'engine': 'django.contrib.sessions.backends.cache', 'cache_alias': 'default',
                                  'on_redis': True}


def statements_outside(plan, path, text):
    """ast.dump of each top-level statement the plan does not name."""
    named = [(row['start'], row['end']) for row in plan if row['file'] == path]
    return [ast.dump(node) for node in ast.parse(text).body
            if not any(start == node.lineno for start, dummy in named)]


def test_change_is_exact_and_idempotent_and_django_reports_the_database(venv, project):
    originals = {str(p): p.read_bytes() for p in (project / 'shop' / 'settings').glob('*.py')}
    dummy, result = run_module(venv, project)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] and result['backend'] == 'django.core.cache.backends.db.DatabaseCache'
    assert effective_backend(venv, project) == 'django.core.cache.backends.db.DatabaseCache'

    base = project / 'shop' / 'settings' / 'base.py'
    development = project / 'shop' / 'settings' / 'development.py'
    for path in (base, development):
        old, new = originals[str(path)].decode(), path.read_bytes().decode()
        kept_old = statements_outside(result['plan'], str(path), old)
        assert kept_old and all(dump in [ast.dump(n) for n in ast.parse(new).body] for dump in kept_old)
    new_base = base.read_bytes()
    assert b'\n' not in new_base.replace(b'\r\n', b'')
    assert new_base.endswith(originals[str(base)][originals[str(base)].index(b'}  # redis') + 1:].replace(
        b'CELERY_TASK_ALWAYS_EAGER = True\r\n', b''))
    new_development = development.read_text()
    assert not new_development.endswith('\n') and new_development.endswith('DEBUG = True')
    assert 'REDIS_HOST' not in new_development and 'CELERY' not in new_development
    assert "'KEY_PREFIX': \"mall\"," in new_development
    assert "'TIMEOUT': config(\"CACHE_TIMEOUT\", default=300, cast=int)," in new_development
    assert '"local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},' in new_development
    assert "SESSION_ENGINE = 'django.contrib.sessions.backends.cached_db'" in new_development

    check = subprocess.run([str(venv / 'bin' / 'python'), 'manage.py', 'check'], cwd=project,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr

    after = digests(project)
    dummy, again = run_module(venv, project)
    assert not again['changed'] and again['plan'] == []
    assert digests(project) == after


# A settings module that takes CACHES from base by name, after a form feed, with U+2028 in a comment: characters
# str.splitlines() breaks at and Python does not.
SPLIT = ('"""Production settings.\u2028"""\nfrom .base import SECRET_KEY, INSTALLED_APPS, DATABASES, CACHES  # noqa\n'
         '\f\nCELERY_TASK_ALWAYS_EAGER = False  # \u2028\x85\nSECURE_SSL_REDIRECT = False\n\f\nDEBUG = False\n')


def test_odd_characters_and_a_named_import_of_caches_change_only_the_planned_statements(venv, project):
    base = project / 'shop' / 'settings' / 'base.py'
    split = project / 'shop' / 'settings' / 'split.py'
    base.write_bytes(BASE.replace('\n}  # redis\n', '\n}  # redis\f\n\f\n').replace('\n', '\r\n').encode())
    split.write_text(SPLIT)
    originals = {path: path.read_bytes() for path in (base, split)}
    output, result = run_module(venv, project, '--diff', prove=True, settings='shop.settings.split')
    assert not result.get('failed'), result.get('msg')
    assert SECRET not in output
    assert sorted((row['file'], row['setting']) for row in result['plan']) == [
        (str(base), 'CACHES'), (str(split), 'CELERY_TASK_ALWAYS_EAGER')]
    assert effective_backend(venv, project, 'shop.settings.split') == 'django.core.cache.backends.db.DatabaseCache'
    # split.py loses its CELERY line alone; base.py its CACHES alias, and nothing else (its own CELERY line is no
    # setting of shop.settings.split).
    assert split.read_text() == SPLIT.replace('CELERY_TASK_ALWAYS_EAGER = False  # \u2028\x85\n', '')
    old_base, new_base = originals[base].decode(), base.read_bytes().decode()
    alias = old_base[old_base.index("{\r\n        'BACKEND'"):old_base.index('    }\r\n}  # redis') + len('    }')]
    assert new_base.replace(new_base[new_base.index("{\r\n        'BACKEND'"):new_base.index('    }\r\n}  # redis')
                                     + len('    }')], alias) == old_base
    assert "'LOCATION': 'shop_cache'," in new_base

    after = digests(project)
    dummy, again = run_module(venv, project, settings='shop.settings.split')
    assert not again['changed'] and again['plan'] == []
    assert digests(project) == after


@pytest.mark.parametrize('settings_text, message', [
    ('from .base import *\nimport os\nCACHES = dict(default={"BACKEND": "x"}) if os.environ.get("X") else {}\n',
     'development.py:3: CACHES is built by IfExp'),
    ('from .base import *\nfor alias in ("a",):\n    CACHES = {}\n',
     'development.py:2 sets CACHES inside for'),
    ('from .base import *\nREDIS_URL = config("REDIS_URL")\nBROKER = REDIS_URL\n',
     'development.py:2 reads REDIS_URL without a default'),
    ('from .base import *\nSESSION_REDIS = CACHES["default"]["OPTIONS"]["CLIENT_CLASS"]\n',
     'The planned settings change does not work'),
])
def test_refused_before_any_change(venv, project, settings_text, message):
    (project / '.env').write_text(ENV + 'REDIS_URL=redis://127.0.0.1:6379/1\n')
    (project / 'shop' / 'settings' / 'development.py').write_text(settings_text)
    before = digests(project)
    dummy, result = run_module(venv, project, prove=True)
    assert result.get('failed') and message in result['msg'], result.get('msg')
    assert digests(project) == before


def test_settings_that_do_not_load_are_refused(venv, project):
    (project / '.env').write_text('')
    dummy, result = run_module(venv, project)
    assert result.get('failed')
    assert 'Cannot load the settings shop.settings.development' in result['msg']
    assert 'SECRET_KEY not found' in result['msg']


def test_proof_loads_the_env_files_as_they_will_be(venv, project):
    """A module the settings import reads REDIS_URL without a default: once env_cleanup removes the key it
    would not load, so the proof (which removes it from the copy's .env) refuses before any change."""
    (project / '.env').write_text(ENV + 'REDIS_URL=redis://127.0.0.1:6379/1\n')
    (project / 'shop' / 'redis_conf.py').write_text('from decouple import config\n\nURL = config("REDIS_URL")\n')
    (project / 'shop' / 'settings' / 'development.py').write_text(
        DEVELOPMENT.replace('from .base import *  # noqa: F401,F403\n',
                            'from .base import *  # noqa: F401,F403\nfrom shop.redis_conf import URL as BROKER\n'))
    before = digests(project)
    dummy, result = run_module(venv, project, prove=True, env_files=[str(project / '.env')])
    assert result.get('failed'), result
    assert 'The planned settings change does not work' in result['msg']
    assert 'REDIS_URL not found' in result['msg']
    assert digests(project) == before


MYSQL_ARGS = dict(backend='mysql', proof_requirement=DJANGO_MYSQL, pip_find_links=[str(WHEELHOUSE)], pip_no_index=True)


def installed_apps(venv, project, settings='shop.settings.development'):
    code = 'import json; from django.conf import settings; print(json.dumps(list(settings.INSTALLED_APPS)))'
    proc = subprocess.run([str(venv / 'bin' / 'python'), '-c', code], cwd=project, capture_output=True, text=True,
                          env=dict(os.environ, DJANGO_SETTINGS_MODULE=settings), check=True)
    return json.loads(proc.stdout)


def test_mysql_proof_installs_django_mysql_into_its_copy_only(venv, project):
    before = digests(project)
    dummy, result = run_module(venv, project, '--check', prove=True, **MYSQL_ARGS)
    assert not result.get('failed'), result.get('msg')
    assert result['proof'] == {'ok': True, 'backend': 'django_mysql.cache.MySQLCache', 'max_entries': 20000,
                               'problems': []}
    assert [row['setting'] for row in result['plan'] if row['setting'] == 'INSTALLED_APPS'] == ['INSTALLED_APPS']
    assert digests(project) == before
    probe = subprocess.run([str(venv / 'bin' / 'python'), '-c', 'import django_mysql'], capture_output=True,
                           check=False)
    assert probe.returncode != 0, 'the proof installed django-mysql into the venv'


def test_mysql_proof_without_a_requirement_to_install_is_refused(venv, project):
    before = digests(project)
    dummy, result = run_module(venv, project, '--check', prove=True, backend='mysql')
    assert result.get('failed') and 'cannot import django_mysql' in result['msg'], result.get('msg')
    assert digests(project) == before


def test_mysql_change_uses_mysqlcache_adds_the_app_once_and_is_idempotent(mysql_venv, project):
    base = project / 'shop' / 'settings' / 'base.py'
    original_base = base.read_bytes()
    dummy, result = run_module(mysql_venv, project, prove=True, **MYSQL_ARGS)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] and result['backend'] == 'django_mysql.cache.MySQLCache'
    assert effective_backend(mysql_venv, project) == 'django_mysql.cache.MySQLCache'
    assert installed_apps(mysql_venv, project) == [
        'django.contrib.contenttypes', 'django.contrib.auth', 'django.contrib.sessions', 'django_mysql']
    # The one INSTALLED_APPS line gains the app and keeps its CRLF; every other byte of it stays.
    old_line = b'INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]'
    new_line = old_line[:-1] + b", 'django_mysql']"
    assert base.read_bytes().startswith(original_base[:original_base.index(old_line)] + new_line + b'\r\n')
    check = subprocess.run([str(mysql_venv / 'bin' / 'python'), 'manage.py', 'check'], cwd=project,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr

    after = digests(project)
    dummy, again = run_module(mysql_venv, project, **MYSQL_ARGS)
    assert not again['changed'] and again['plan'] == []
    assert digests(project) == after
