"""Prints, as JSON, what the app's own Django makes of its settings: run with the app's venv Python,
the project as working directory and DJANGO_SETTINGS_MODULE set."""
import json

import django

django.setup()
from django.conf import settings  # noqa: E402
from django.core.cache import caches  # noqa: E402

default = caches['default']
print(json.dumps({
    'backend': settings.CACHES['default']['BACKEND'],
    'class': '%s.%s' % (type(default).__module__, type(default).__qualname__),
    'location': str(settings.CACHES['default'].get('LOCATION', '')),
    'key_prefix': settings.CACHES['default'].get('KEY_PREFIX'),
    'options': settings.CACHES['default'].get('OPTIONS', {}),
    'installed_apps': list(settings.INSTALLED_APPS),
    'session_engine': settings.SESSION_ENGINE,
    'permissions': settings.REST_FRAMEWORK.get('DEFAULT_PERMISSION_CLASSES'),
    'password_validators': len(settings.AUTH_PASSWORD_VALIDATORS),
    'csrf_trusted_origins': settings.CSRF_TRUSTED_ORIGINS,
    'celery_settings': sorted(name for name in dir(settings) if name.startswith('CELERY_')),
}))
