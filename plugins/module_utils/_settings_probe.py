# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The probe that the django_settings module runs inside the Django project's virtualenv.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release.

django_settings sends the source of this whole file to ``<venv>/bin/python -c``
with the project (or a copy of it) as working directory and
DJANGO_SETTINGS_MODULE set, as cache_verify does with its own probe. So it must
stay a complete script that needs only the standard library and Django. It
reads its parameters as JSON on stdin and prints one JSON document.

It reports which of the project's modules importing the settings loaded, and
what Django made of CACHES and the session settings. With ``"full": true`` it
also runs django.setup() and the system checks, to prove that a planned
settings change loads.
"""

from __future__ import annotations

import io
import json
import os
import sys


def describe_error(exc):
    return '%s: %s' % (type(exc).__name__, exc)


def project_modules(names, project_dir):
    """[{name, file}] of the modules in names whose file lies in the project, virtualenvs left out."""
    root = os.path.realpath(project_dir) + os.sep
    prefixes = tuple(os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix))
    found = []
    for name in names:
        path = getattr(sys.modules.get(name), '__file__', None)
        if not path or not path.endswith('.py'):
            continue
        path = os.path.realpath(path)
        if path.startswith(root) and not path.startswith(prefixes):
            found.append({'name': name, 'file': path})
    return found


# The database backends a migration may choose: Django's own, and django-mysql's (not a DatabaseCache subclass).
DATABASE_BACKENDS = ('django.core.cache.backends.db.DatabaseCache', 'django_mysql.cache.MySQLCache')


def is_database_backend(backend_class):
    return any('%s.%s' % (cls.__module__, cls.__qualname__) in DATABASE_BACKENDS for cls in backend_class.__mro__)


def redis_db(location):
    """The database number of a Redis LOCATION (redis://host:6379/1 or ?db=1), 0 when it names none.
    Only the number leaves the probe: a LOCATION may hold a password."""
    from urllib.parse import parse_qs, urlsplit

    if isinstance(location, (list, tuple)):
        location = location[0] if location else ''
    try:
        parts = urlsplit(str(location or ''))
        number = parts.path.strip('/') or parse_qs(parts.query).get('db', ['0'])[0]
        return int(number)
    except ValueError:
        return 0


def redis_server(location):
    """{host, port} of a Redis LOCATION (the first of a list); never its password."""
    from urllib.parse import urlsplit

    if isinstance(location, (list, tuple)):
        location = location[0] if location else ''
    try:
        parts = urlsplit(str(location or ''))
        return {'host': parts.hostname or '', 'port': parts.port or 6379}
    except ValueError:
        return {'host': '', 'port': 6379}


def database_report(databases):
    """ENGINE, NAME, HOST, PORT and USER of DATABASES['default'], as strings; never its PASSWORD."""
    default = databases.get('default') or {}
    return {key.lower(): str(default.get(key) or '') for key in ('ENGINE', 'NAME', 'HOST', 'PORT', 'USER')}


def cache_report(caches):
    from django.utils.module_loading import import_string

    report = {}
    for alias, config in caches.items():
        backend = config.get('BACKEND', '')
        entry = {'backend': backend, 'key_prefix': str(config.get('KEY_PREFIX', '')),
                 'version': config.get('VERSION', 1)}
        if 'redis' in backend.lower():
            entry['redis_db'] = redis_db(config.get('LOCATION'))
            entry['redis_server'] = redis_server(config.get('LOCATION'))
        try:
            entry['is_database'] = is_database_backend(import_string(backend))
        except Exception as exc:
            entry['is_database'] = False
            entry['import_error'] = describe_error(exc)
        if entry['is_database']:
            # As Django's BaseCache reads it: OPTIONS' MAX_ENTRIES, 300 when unset.
            entry['max_entries'] = (config.get('OPTIONS') or {}).get('MAX_ENTRIES', 300)
        report[alias] = entry
    return report


def inspect_settings(params):
    before = set(sys.modules)
    from django.conf import settings

    try:
        caches = settings.CACHES
    except Exception as exc:
        return {'error': 'the settings %s do not load: %s' % (os.environ.get('DJANGO_SETTINGS_MODULE'),
                                                              describe_error(exc))}
    loaded = [name for name in sys.modules if name not in before]
    report = {
        'modules': project_modules(loaded, params['project_dir']),
        'caches': cache_report(caches),
        'database': database_report(settings.DATABASES),
        'session_engine': settings.SESSION_ENGINE,
        'session_cache_alias': settings.SESSION_CACHE_ALIAS,
        'sessions_installed': 'django.contrib.sessions' in settings.INSTALLED_APPS,
        'installed_apps': list(settings.INSTALLED_APPS),
        'celery_settings': sorted(name for name in dir(settings) if name.startswith('CELERY_')),
    }
    try:
        import django
        report['django_version'] = django.get_version()
    except Exception:
        pass
    return report


def prove(report):
    """Every setting reads, the apps load and the system checks pass."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    problems = []
    for name in dir(settings):
        if name.isupper():
            try:
                getattr(settings, name)
            except Exception as exc:
                problems.append('setting %s: %s' % (name, describe_error(exc)))
    try:
        django.setup()
        call_command('check', verbosity=0)
    except BaseException as exc:
        problems.append(describe_error(exc))
    report['proof_problems'] = problems
    return report


def main():
    params = json.loads(sys.stdin.read() or '{}')
    sys.path.insert(0, params['project_dir'])
    # Whatever the settings or the checks print must not mix with the report.
    out, sys.stdout = sys.stdout, io.StringIO()
    try:
        report = inspect_settings(params)
        if params.get('full') and 'error' not in report:
            report = prove(report)
    except BaseException as exc:
        report = {'error': describe_error(exc)}
    sys.stdout = out
    sys.stdout.write(json.dumps(report))


if __name__ == '__main__':
    main()
