"""Unit tests of the Redis-use search of the preflight role (plugins/module_utils/_redis_use.py, which the
redis_use_info module runs on the host): every use is found with its line, Django's own cache API is not."""
from __future__ import annotations

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils._redis_use import scan_source, scan_tree


def found(code, path='module.py', **extra):
    uses, problem = scan_source(code, path, **extra)
    assert problem is None
    return {(use['line'], use['kind'], use['name']) for use in uses}


@pytest.mark.parametrize('code, use', [
    ('from django_redis import get_redis_connection\nr = get_redis_connection("default")\n',
     (2, 'call', 'get_redis_connection')),
    ('import django_redis\nclient = django_redis.get_redis_connection()\n', (2, 'call', 'get_redis_connection')),
    ('@shared_task\ndef send(): pass\n', (1, 'decorator', 'shared_task')),
    ('@shared_task(bind=True)\ndef send(self): pass\n', (1, 'decorator', 'shared_task')),
    ('@app.task\ndef send(): pass\n', (1, 'decorator', 'app.task')),
    ('@celery_app.task(name="x")\nasync def send(): pass\n', (1, 'decorator', 'celery_app.task')),
    ('send_mail.delay(user.pk)\n', (1, 'call', 'delay')),
    ('send_mail.apply_async(args=(1,), countdown=5)\n', (1, 'call', 'apply_async')),
    ('celery_app.send_task("orders.notify")\n', (1, 'call', 'send_task')),
    # Imports, in every form (the first one was missed by the old patterns).
    ('"""Utils."""\nfrom redis.exceptions import RedisError\n', (2, 'import', 'redis.exceptions')),
    ('import redis\n', (1, 'import', 'redis')),
    ('import redis.exceptions as errors\n', (1, 'import', 'redis.exceptions')),
    ('import os, redis\n', (1, 'import', 'redis')),
    ('from redis import Redis\n', (1, 'import', 'redis')),
    ('def f():\n    import redis\n', (2, 'import', 'redis')),
    ('try:\n    from django_redis.exceptions import ConnectionInterrupted\nexcept ImportError:\n    pass\n',
     (2, 'import', 'django_redis.exceptions')),
    ('from celery import shared_task\n', (1, 'import', 'celery')),
    ('from celery.result import AsyncResult\n', (1, 'import', 'celery.result')),
    ('from kombu import Queue\n', (1, 'import', 'kombu')),
    # django-redis's own cache methods.
    ("with cache.lock('checkout', timeout=5):\n    pass\n", (1, 'call', 'lock')),
    ("cache.delete_pattern('cart:*')\n", (1, 'call', 'delete_pattern')),
    ("left = cache.ttl('token')\n", (1, 'call', 'ttl')),
    ("left = cache.pttl(key)\n", (1, 'call', 'pttl')),
    ("found = cache.keys('product_*')\n", (1, 'call', 'keys')),
    ("for key in cache.iter_keys('cart:*'):\n    pass\n", (1, 'call', 'iter_keys')),
    ("cache.persist('banner')\n", (1, 'call', 'persist')),
    ("cache.expire('banner', timeout=10)\n", (1, 'call', 'expire')),
    ("caches['sessions'].delete_pattern('s:*')\n", (1, 'call', 'delete_pattern')),
    ('def f(self):\n    return self.cache.keys(prefix)\n', (2, 'call', 'keys')),
    ("product_cache.delete_pattern(\n    'p:*',\n)\n", (1, 'call', 'delete_pattern')),
    # Redis session engines other than Django's cache backend.
    ("SESSION_ENGINE = 'redis_sessions.session'\n", (1, 'setting', 'SESSION_ENGINE')),
    ('SESSION_ENGINE = "redis_sessions_fork.session"\n', (1, 'setting', 'SESSION_ENGINE')),
    ("SESSION_ENGINE = 'django_redis_sessions.session'\n", (1, 'setting', 'SESSION_ENGINE')),
    ("SESSION_REDIS = {'host': 'redis', 'port': 6379}\n", (1, 'setting', 'SESSION_REDIS')),
    ("SESSION_REDIS_HOST = 'redis'\n", (1, 'setting', 'SESSION_REDIS_HOST')),
])
def test_each_redis_use_is_found_with_its_line(code, use):
    assert use in found(code)


@pytest.mark.parametrize('code', [
    # Django's own cache API, which the database cache serves as well.
    "from django.core.cache import cache\nvalue = cache.get('k')\ncache.set('k', 1, 30)\n",
    "cache.add('k', 1)\ncache.delete('k')\ncache.get_many(['a'])\ncache.set_many({'a': 1})\n",
    "cache.touch('k', 10)\ncache.incr('n')\ncache.get_or_set('k', 1)\ncache.clear()\n",
    "caches['default'].get('k')\ncaches['default'].delete_many(['a'])\n",
    # Not a cache at all.
    'for key in cache.keys():\n    pass\n',
    'names = sorted(settings.keys())\nfor k in request.GET.keys():\n    pass\n',
    'data = my_cache.keys()\nlocal_cache.lock()\n',
    'lock = threading.Lock()\nwith lock:\n    pass\n',
    "found = registry.keys('x')\nlocker.lock('y')\n",
    # Commented out, or in a string.
    "# cache.delete_pattern('cart:*')\n",
    "    # SESSION_ENGINE = 'redis_sessions.session'\n",
    '"""import redis\nfrom celery import shared_task\n"""\n',
    # The project's own modules, imported relatively, and modules that only start with the same letters.
    'from .celery import app as celery_app\n',
    'from . import redis\nfrom .redis import helpers\n',
    'import redisearch_helpers\nfrom celery_utils import x\n',
    "SESSION_ENGINE = 'django.contrib.sessions.backends.db'\n",
    # Django's cache sessions: the settings change moves them to cached_db and the sessions role carries them.
    "SESSION_ENGINE = 'django.contrib.sessions.backends.cache'\n",
    "SESSION_ENGINE = 'django.contrib.sessions.backends.cached_db'\n",
])
def test_the_plain_django_cache_api_is_not_flagged(code):
    assert found(code) == set()


def test_extra_modules_and_calls_are_uses():
    code = 'import redis_lock\nfrom pottery.cache import redis_cache\nbus.publish_event("x")\nfoo.publish_event()\n'
    assert found(code, extra_modules=['redis_lock', 'pottery'], extra_calls=['publish_event']) == {
        (1, 'import', 'redis_lock'), (2, 'import', 'pottery.cache'), (3, 'call', 'publish_event'),
        (4, 'call', 'publish_event')}


def test_only_the_celery_app_definition_is_marked_as_the_celery_app():
    app, dummy = scan_source('from celery import Celery\napp = Celery("shop")\n', 'shop/celery.py')
    tasks, dummy = scan_source('from celery import Celery, shared_task\n', 'shop/celery.py')
    elsewhere, dummy = scan_source('from celery import Celery\n', 'shop/tasks.py')
    assert [use['celery_app'] for use in app + tasks + elsewhere] == [True, False, False]


def test_a_file_that_does_not_parse_is_reported_with_its_line():
    uses, problem = scan_source('import redis\n\nprint "old"\n', 'legacy.py')
    assert uses == [] and (problem['path'], problem['line']) == ('legacy.py', 3)
    assert problem['error'].startswith('SyntaxError: ')
    dummy, problem = scan_source(b'x = 1\x00\n', 'nul.py')
    assert (problem['path'], problem['line']) == ('nul.py', 1)


def test_the_tree_skips_virtualenvs_migrations_hidden_and_excluded_directories(tmp_path):
    files = {
        'shop/locks.py': 'from redis.exceptions import RedisError\n',
        'venv/lib/redis/client.py': 'import redis\n',
        'othervenv/site.py': 'import redis\n',
        'othervenv/pyvenv.cfg': 'home = /usr/bin\n',
        'shop/migrations/0001_initial.py': 'import redis\n',
        '.git/hooks/x.py': 'import redis\n',
        'node_modules/x.py': 'import redis\n',
        'legacy/py2.py': 'print "x"\n',
        'shop/old/py2.py': 'print "x"\n',
        'other/old/keep.py': 'import kombu\n',
        'README.md': 'import redis\n',
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = scan_tree(str(tmp_path), excludes=['venv', 'shop/old'])
    assert [(u['path'], u['line'], u['kind'], u['name']) for u in result['uses']] == [
        (str(tmp_path / 'other/old/keep.py'), 1, 'import', 'kombu'),
        (str(tmp_path / 'shop/locks.py'), 1, 'import', 'redis.exceptions')]
    assert [(p['path'], p['line']) for p in result['unparseable']] == [(str(tmp_path / 'legacy/py2.py'), 1)]
    assert result['files'] == 3
