"""Unit tests of preflight_other_redis_use_patterns (roles/preflight/defaults/main.yml).

Each pattern is applied to a real file by the function that ansible.builtin.find
runs for the preflight task "Search the app's code for Redis used beyond the
cache" (`contains` with `read_whole_file: true`).
"""
from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible.modules.find import contentfilter

DEFAULTS = pathlib.Path(__file__).resolve().parents[3] / 'roles' / 'preflight' / 'defaults' / 'main.yml'
PATTERNS = yaml.safe_load(DEFAULTS.read_text())['preflight_other_redis_use_patterns']


def flagged(tmp_path, code):
    """The names of the patterns that find a match in a .py file holding code."""
    path = tmp_path / 'module.py'
    path.write_text(code)
    return {name for name, pattern in PATTERNS.items()
            if contentfilter(str(path), pattern, 'utf-8', read_whole_file=True)}


@pytest.mark.parametrize('code, name', [
    ('from django_redis import get_redis_connection\n', 'get_redis_connection'),
    ('@shared_task\ndef send(): pass\n', 'Celery tasks'),
    ('import redis\n', 'direct redis client'),
    # django-redis's own cache methods.
    ("with cache.lock('checkout', timeout=5):\n    pass\n", 'django-redis cache API'),
    ("cache.delete_pattern('cart:*')\n", 'django-redis cache API'),
    ("left = cache.ttl('token')\n", 'django-redis cache API'),
    ("left = cache.pttl(key)\n", 'django-redis cache API'),
    ("found = cache.keys('product_*')\n", 'django-redis cache API'),
    ("for key in cache.iter_keys('cart:*'):\n    pass\n", 'django-redis cache API'),
    ("cache.persist('banner')\n", 'django-redis cache API'),
    ("cache.expire('banner', timeout=10)\n", 'django-redis cache API'),
    ("caches['sessions'].delete_pattern('s:*')\n", 'django-redis cache API'),
    ('def f(self):\n    return self.cache.keys(prefix)\n', 'django-redis cache API'),
    # Redis session engines other than Django's cache backend.
    ("SESSION_ENGINE = 'redis_sessions.session'\n", 'Redis session engines'),
    ('SESSION_ENGINE = "redis_sessions_fork.session"\n', 'Redis session engines'),
    ("SESSION_ENGINE = 'django_redis_sessions.session'\n", 'Redis session engines'),
    ("SESSION_REDIS = {'host': 'redis', 'port': 6379}\n", 'Redis session engines'),
    ("SESSION_REDIS_HOST = 'redis'\n", 'Redis session engines'),
])
def test_each_redis_use_is_found(tmp_path, code, name):
    assert flagged(tmp_path, code) == {name}


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
    # Commented out.
    "# cache.delete_pattern('cart:*')\n",
    "    # SESSION_ENGINE = 'redis_sessions.session'\n",
    "SESSION_ENGINE = 'django.contrib.sessions.backends.db'\n",
    # Django's cache sessions: the settings change moves them to cached_db and the sessions role carries them.
    "SESSION_ENGINE = 'django.contrib.sessions.backends.cache'\n",
    "SESSION_ENGINE = 'django.contrib.sessions.backends.cached_db'\n",
])
def test_the_plain_django_cache_api_is_not_flagged(tmp_path, code):
    assert flagged(tmp_path, code) == set()
