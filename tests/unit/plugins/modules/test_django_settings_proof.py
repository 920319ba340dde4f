"""django_settings' proof loads, in a copy of the project, the settings that the change writes: the real probe in a
Django venv, on a project whose cache is on Redis. Preflight sizes MAX_ENTRIES first and proves with it."""
from __future__ import annotations

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import django_settings

SETTINGS = '''\
SECRET_KEY = 'unit'
DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}
INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.auth']
CACHES = {'default': {'BACKEND': 'django.core.cache.backends.redis.RedisCache', 'LOCATION': 'redis://redis:6379/2'}}
'''


@pytest.fixture
def project(tmp_path):
    root = tmp_path / 'shop-project'
    (root / 'shop').mkdir(parents=True)
    (root / 'manage.py').write_text('')
    (root / 'shop' / '__init__.py').write_text('')
    (root / 'shop' / 'settings.py').write_text(SETTINGS)
    return root


@pytest.mark.parametrize('max_entries', [300, 12345])
def test_the_proof_reports_the_max_entries_it_loaded(run_module, django_venv, project, max_entries):
    result = run_module(django_settings.main, dict(
        project_dir=str(project), venv=str(django_venv), settings='shop.settings', state='database',
        table='shop_cache', max_entries=max_entries, prove=True), check_mode=True)
    assert not result.get('failed'), result.get('msg')
    assert result['caches']['default']['redis_db'] == 2
    assert 'max_entries' not in result['caches']['default']
    assert result['proof'] == {'ok': True, 'backend': 'django.core.cache.backends.db.DatabaseCache',
                               'max_entries': max_entries, 'problems': []}
    assert (project / 'shop' / 'settings.py').read_text() == SETTINGS
