"""Unit tests of preflight_other_redis_use_patterns (roles/preflight/defaults/main.yml) and of
__preflight_redis_use_any (roles/preflight/vars/main.yml), the one regex they become.

Each pattern, and the combined regex as Ansible renders it, is applied to a real file by the
function that ansible.builtin.find runs for the preflight tasks "Search the app's code for
Redis used beyond the cache" (the combined regex, which decides the refusal) and "Tell which
Redis uses the code has" (each pattern), with `contains` and `read_whole_file: true`.
"""
from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible.modules.find import contentfilter
from ansible.template import Templar, trust_as_template

ROLE = pathlib.Path(__file__).resolve().parents[3] / 'roles' / 'preflight'
PATTERNS = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())['preflight_other_redis_use_patterns']
COMBINED = yaml.safe_load((ROLE / 'vars' / 'main.yml').read_text())['__preflight_redis_use_any']


def combined(patterns):
    """__preflight_redis_use_any as Ansible renders it from these patterns."""
    variables = {'preflight_other_redis_use_patterns': patterns}
    return Templar(loader=None, variables=variables).template(trust_as_template(COMBINED))


def found(tmp_path, pattern, code):
    """Whether ansible.builtin.find's `contains` with read_whole_file matches a .py file holding code."""
    path = tmp_path / 'module.py'
    path.write_text(code)
    return contentfilter(str(path), pattern, 'utf-8', read_whole_file=True)


def flagged(tmp_path, code):
    """The names of the patterns that find a match in a .py file holding code."""
    return {name for name, pattern in PATTERNS.items() if found(tmp_path, pattern, code)}


REDIS_USES = [
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
]
PLAIN_DJANGO = [
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
]


@pytest.mark.parametrize('code, name', REDIS_USES)
def test_each_redis_use_is_found(tmp_path, code, name):
    assert flagged(tmp_path, code) == {name}


@pytest.mark.parametrize('code', PLAIN_DJANGO)
def test_the_plain_django_cache_api_is_not_flagged(tmp_path, code):
    assert flagged(tmp_path, code) == set()


@pytest.mark.parametrize('code, refused', [(use[0], True) for use in REDIS_USES] + [(code, False) for code in PLAIN_DJANGO])
def test_the_combined_regex_refuses_exactly_what_one_pattern_finds(tmp_path, code, refused):
    # Below other code, so that each pattern's ^ must match at a line start, as (?m) makes it.
    assert bool(found(tmp_path, combined(PATTERNS), 'import os\n\n' + code)) is refused


def test_each_pattern_keeps_its_own_flags_in_its_own_group():
    patterns = {'multiline': '(?m)^import redis', 'two flags': '(?mi)^from REDIS', 'none': 'redis_url|REDIS_URL$'}
    assert combined(patterns) == '(?m:^import redis)|(?mi:^from REDIS)|(?:redis_url|REDIS_URL$)'


@pytest.mark.parametrize('code, refused', [
    ('x = 1\nimport redis\n', True),  # (?m): ^ at any line start
    ('x = 1\nfrom redis import Redis\n', True),  # (?mi): either case
    ('x = 1\nREDIS_URL\n', True),  # no flag: $ at the end of the file
    ('REDIS_URL = 1\n', False),  # no flag: $ only at the end, (?m) does not leak into the group
    ('x = 1\nIMPORT REDIS\n', False),  # (?i) of one pattern does not leak into the others
])
def test_flags_apply_to_their_pattern_only(tmp_path, code, refused):
    patterns = {'multiline': '(?m)^import redis', 'two flags': '(?mi)^from REDIS', 'none': 'redis_url|REDIS_URL$'}
    assert bool(found(tmp_path, combined(patterns), code)) is refused


@pytest.mark.parametrize('pattern', ['(?m)^import redis\n', 'import redis\n'])
def test_a_pattern_written_as_a_yaml_block_keeps_its_newline_in_its_group(pattern):
    # `key: |` ends the pattern with a newline; it must not fall outside the group, where it would
    # join the next pattern.
    assert combined({'block': pattern, 'other': 'celery'}).endswith('redis\n)|(?:celery)')
