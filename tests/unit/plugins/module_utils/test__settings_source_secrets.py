"""Secrets in the settings diff: masked by where the literal stands (ast positions), not by what it looks like."""
from __future__ import annotations

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils._settings_source import (
    MASK,
    Planner,
    SettingsFile,
    mask_secrets,
    statement_diff,
)

OPTIONS = dict(table="mall_cache", max_entries=20000, cull_frequency=3, defaults={})
SECRETS = ("hunter2", "s3cret-token", "tok-4711", "api-key-99", "redis-pw")


def diff_of(text, keys=("REDIS_PASSWORD", "REDIS_URL")):
    files = {"app.settings": SettingsFile("/srv/app/settings.py", text.encode(), module="app.settings")}
    edits = Planner(files, "app.settings", set(files), {}, OPTIONS).plan(keys, [])
    diff = statement_diff(edits)
    return diff["before"] + diff["after"]


@pytest.mark.parametrize("text", [
    # A password in the OPTIONS of a Redis alias: no URL, no word in the value itself.
    "CACHES = {'default': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': 'redis://r:6379/1',\n"
    "                      'OPTIONS': {'PASSWORD': 'hunter2'}}}\n",
    # Every string under CACHES, a second alias among them (with a key prefix of its own, which the plan
    # wants of two aliases on one table), and an f-string.
    "CACHES = {'default': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': f'redis://{\"hunter2\"}@r/1'},\n"
    "          'other': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': 'hunter2', 'KEY_PREFIX': 'o'}}\n",
    # A subscript assignment and an update().
    "CACHES = {}\nCACHES['default'] = {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': 'hunter2'}\n",
    "CACHES = {}\nCACHES.update({'default': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': 'hunter2'}})\n",
])
def test_every_string_under_caches_is_masked(text):
    diff = diff_of(text)
    assert "hunter2" not in diff
    assert "redis://" not in diff
    assert repr(MASK) in diff
    # The structure stays readable: the keys, and the reason in the header.
    assert "'OPTIONS'" in diff and "becomes DatabaseCache on mall_cache" in diff


@pytest.mark.parametrize("statement", [
    "CELERY_BROKER_TRANSPORT_OPTIONS = {'password': 'hunter2', 'visibility_timeout': 3600}\n",
    "CELERY_REDIS_PASSWORD = 'hunter2'\n",
    "CELERY_BROKER_URL = 'redis://:hunter2@r:6379/0'\n",
    "CELERY_RESULT_BACKEND_OPTIONS = dict(token='s3cret-token', retry=True)\n",
    "CELERY_AUTH = {'API_KEY': 'api-key-99', 'Secret': ('tok-4711', b'hunter2')}\n",
    "CELERY_SETTINGS = {'nested': {'auth': {'TOKEN': 'tok-4711'}}}\n",
    "REDIS_PASSWORD = config('REDIS_PASSWORD', default='redis-pw')\n",
    "CELERY_BROKER_URL = f'redis://:{REDIS_PASSWORD}@r:6379/0'\n",
])
def test_removed_statements_print_no_secret_and_plain_lines_stay_readable(statement):
    text = ("CELERY_TIMEZONE = 'Europe/Berlin'\n" + statement
            + "CELERY_TASK_ALWAYS_EAGER = True\nDEBUG = True\n")
    diff = diff_of(text)
    assert not [secret for secret in SECRETS if secret in diff]
    assert "CELERY_TIMEZONE = 'Europe/Berlin'" in diff
    assert "CELERY_TASK_ALWAYS_EAGER = True" in diff


@pytest.mark.parametrize("text, masked", [
    ("DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql', 'NAME': 'shop', 'PASSWORD': 'hunter2'}}\n",
     "DATABASES = {'default': {'ENGINE': %(m)s, 'NAME': %(m)s, 'PASSWORD': %(m)s}}\n"),
    ("X = {'PASSWORD': 'hunter2'}\n", "X = {'PASSWORD': %(m)s}\n"),
    ("SECRET_KEY = 'hunter2'  # 'comment'\n", "SECRET_KEY = %(m)s  # 'comment'\n"),
    ("TIMEOUT = 300\nNAME = 'shop'\n", "TIMEOUT = 300\nNAME = 'shop'\n"),
    ("LIST = ['a', 'redis://u:hunter2@h/1']\n", "LIST = ['a', %(m)s]\n"),
    ("DATABASES['default']['PASSWORD'] = (\n    'hunter'\n    '2')\n", "DATABASES['default']['PASSWORD'] = (\n    %(m)s)\n"),
    ("X = {'KEY': '''a\nhunter2'''}\nY = 'b'\n", "X = {'KEY': %(m)s}\nY = 'b'\n"),
    # Columns count characters: the masks land right after multi-byte text.
    ("T = '\u20ac\u20ac'; TOKEN = '\u00e9hunter2'\n", "T = '\u20ac\u20ac'; TOKEN = %(m)s\n"),
    # Form feed and Python's other non-breaks do not shift the lines.
    ("A = 'x'  # \f\u2028\nB = {'PASSWORD': 'hunter2'}\n", "A = 'x'  # \f\u2028\nB = {'PASSWORD': %(m)s}\n"),
    # Text that does not parse is masked as a whole.
    ("X = {'PASSWORD': 'hunter2'\n", "%(mask)s"),
])
def test_mask_secrets_by_structure(text, masked):
    assert mask_secrets(text) == masked % dict(m=repr(MASK), mask=MASK)
