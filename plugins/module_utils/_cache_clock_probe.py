# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The probe that the cache_clock module runs inside the Django project's virtualenv.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release.

cache_clock sends the source of this whole file to ``<venv>/bin/python -c``
with the project as working directory and DJANGO_SETTINGS_MODULE set, so it
must stay a complete script that needs only the standard library and Django.
It prints one JSON document: the cache's backend and 'now' exactly as the
cache compares it with `expires` when it culls: Django's DatabaseCache a naive
datetime in the connection's time zone (the convention of cache_verify's
probe), django-mysql's MySQLCache milliseconds since the epoch (its _now()).
"""

from __future__ import annotations

import io
import json
import sys


def cache_now(alias):
    import django

    django.setup()
    from django.core.cache import caches
    from django.db import DEFAULT_DB_ALIAS, connections, router
    from django.utils.timezone import now

    cache = caches[alias]
    backend = '%s.%s' % (type(cache).__module__, type(cache).__qualname__)
    if hasattr(cache, 'FOREVER_TIMEOUT') and hasattr(cache, '_now'):
        return {'backend': backend, 'now': str(cache._now()), 'unit': 'ms'}
    model = getattr(cache, 'cache_model_class', None)
    connection = connections[router.db_for_write(model) if model else DEFAULT_DB_ALIAS]
    return {'backend': backend, 'unit': 'datetime',
            'now': str(connection.ops.adapt_datetimefield_value(now().replace(microsecond=0)))}


def main():
    params = json.loads(sys.stdin.read() or '{}')
    sys.path.insert(0, params.get('project_dir', '.'))
    out, sys.stdout = sys.stdout, io.StringIO()
    try:
        report = cache_now(params.get('alias', 'default'))
    except BaseException as exc:
        report = {'error': '%s: %s' % (type(exc).__name__, exc)}
    sys.stdout = out
    sys.stdout.write(json.dumps(report))


if __name__ == '__main__':
    main()
