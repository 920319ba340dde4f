"""The ast planner of django_settings on the settings shapes real projects have."""
from __future__ import annotations

import ast

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils._settings_source import (
    Planner,
    Refusal,
    SettingsFile,
    mask_secrets,
    new_contents,
    statement_diff,
)

REDIS = "django_redis.cache.RedisCache"
KEYS = ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "CELERY_BROKER_URL")
OPTIONS = dict(table="mall_cache", max_entries=20000, cull_frequency=3, defaults={})


def path_of(name):
    return "/srv/app/" + name.replace(".", "/") + ".py"


def load(modules):
    """{module name: SettingsFile}; a name ending in .__init__ is a package."""
    files = {}
    for name, data in modules.items():
        data = data.encode() if isinstance(data, str) else data
        key = name[:-len(".__init__")] if name.endswith(".__init__") else name
        files[key] = SettingsFile(path_of(name), data, module=name)
    return files


def plan(modules, settings="app.settings", runtime=None, keys=KEYS, options=None):
    files = load(modules)
    options = OPTIONS if options is None else options
    runtime = runtime or {}
    init_files = [s for n, s in files.items() if s.module.endswith(".__init__") and settings.startswith(n + ".")]
    edits = Planner(files, settings, set(files), runtime, options).plan(keys, init_files)
    return files, edits


def migrate(modules, **kwargs):
    """New bytes of every module after the plan, and the plan."""
    files, edits = plan(modules, **kwargs)
    contents = new_contents(edits)
    after = {}
    for name, data in modules.items():
        data = data.encode() if isinstance(data, str) else data
        after[name] = contents.get(path_of(name), data)
    return after, edits


def caches_of(text, name="CACHES"):
    namespace = {"config": lambda key, default=None, cast=None: default}
    exec(compile(text, "<settings>", "exec"), namespace)
    return namespace[name]


BASE = '''"""Settings."""
import os

SECRET_KEY = "x"

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://:pw@127.0.0.1:6379/1",
        "KEY_PREFIX": "mall",  # shared
        "TIMEOUT": 300,
    }
}  # redis
SESSION_ENGINE = "django.contrib.sessions.backends.db"
AUTH_USER_MODEL = "users.User"
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
'''


def unchanged_statements(before, after):
    """ast.dump of the statements other than CACHES, before and after."""
    def dumps(text):
        return [ast.dump(s) for s in ast.parse(text).body
                if not (isinstance(s, ast.Assign) and any(getattr(t, "id", "") == "CACHES" for t in s.targets))]
    return dumps(before), dumps(after)


def test_trailing_comment_after_brace_keeps_every_other_setting():
    after, edits = migrate({"app.settings": BASE})
    text = after["app.settings"].decode()
    old, new = unchanged_statements(BASE, text)
    assert old == new
    assert text.endswith(BASE[BASE.index("}  # redis") + 1:])
    caches = caches_of(text)
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert caches["default"]["LOCATION"] == "mall_cache"
    assert caches["default"]["KEY_PREFIX"] == "mall"
    assert caches["default"]["TIMEOUT"] == 300
    assert caches["default"]["OPTIONS"] == {"MAX_ENTRIES": 20000, "CULL_FREQUENCY": 3}
    assert [e.describe()["action"] for e in edits] == ["replace"]
    assert edits[0].describe()["start"] == 6 and edits[0].describe()["end"] == 13


def test_nested_braces_in_strings():
    text = BASE.replace('"KEY_PREFIX": "mall",', '"KEY_PREFIX": "{mall}",').replace(
        '"SECRET_KEY = "x"', '"SECRET_KEY = "}{"')
    after, dummy = migrate({"app.settings": text})
    assert caches_of(after["app.settings"].decode())["default"]["KEY_PREFIX"] == "{mall}"


def test_caches_assigned_twice_in_one_file_both_rewritten():
    text = BASE + 'CACHES = {"default": {"BACKEND": "%s", "LOCATION": "redis://b/2", "VERSION": 2}}\n' % REDIS
    after, edits = migrate({"app.settings": text})
    new = after["app.settings"].decode()
    assert len(edits) == 2
    assert caches_of(new)["default"]["VERSION"] == 2
    assert "redis" not in new.replace("# redis", "")


def test_subscript_assignment_after_caches():
    text = ('CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n'
            'CACHES["default"] = {"BACKEND": "%s", "LOCATION": "redis://x", "KEY_PREFIX": "p"}\n' % REDIS)
    after, edits = migrate({"app.settings": text})
    new = after["app.settings"].decode()
    assert new.splitlines()[0] == text.splitlines()[0]
    assert caches_of(new)["default"]["KEY_PREFIX"] == "p"
    assert caches_of(new)["default"]["BACKEND"].endswith("DatabaseCache")


def test_update_after_caches_and_other_alias_untouched():
    text = ('CACHES = {"local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n'
            'CACHES.update({"default": {"BACKEND": "%s", "LOCATION": "redis://x"}})\n' % REDIS)
    after, dummy = migrate({"app.settings": text})
    caches = caches_of(after["app.settings"].decode())
    assert caches["local"] == {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    assert caches["default"]["BACKEND"].endswith("DatabaseCache")


def test_annotated_assignment():
    text = 'CACHES: dict = {"default": {"BACKEND": "%s", "LOCATION": "redis://x"}}\n' % REDIS
    after, dummy = migrate({"app.settings": text})
    assert caches_of(after["app.settings"].decode())["default"]["LOCATION"] == "mall_cache"


def test_tabs():
    text = 'CACHES = {\n\t"default": {\n\t\t"BACKEND": "%s",\n\t\t"TIMEOUT": 60,\n\t}\n}\nDEBUG = True\n' % REDIS
    after, dummy = migrate({"app.settings": text})
    new = after["app.settings"].decode()
    assert caches_of(new)["default"]["TIMEOUT"] == 60
    assert "\n\t\t'BACKEND'" in new
    assert new.endswith("}\nDEBUG = True\n")


def test_crlf_kept():
    text = BASE.replace("\n", "\r\n")
    after, dummy = migrate({"app.settings": text})
    new = after["app.settings"].decode()
    assert "\n" not in new.replace("\r\n", "")
    assert caches_of(new)["default"]["LOCATION"] == "mall_cache"


def test_bom_kept():
    data = b"\xef\xbb\xbf" + BASE.encode()
    after, dummy = migrate({"app.settings": data})
    assert after["app.settings"].startswith(b"\xef\xbb\xbf")
    assert caches_of(after["app.settings"][3:].decode())["default"]["LOCATION"] == "mall_cache"


def test_encoding_line_latin1():
    text = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + BASE
    after, dummy = migrate({"app.settings": text.encode("latin-1")})
    assert after["app.settings"].startswith("# -*- coding: latin-1 -*-\n# caf\xe9\n".encode("latin-1"))
    assert b"DatabaseCache" in after["app.settings"]


def test_no_final_newline():
    text = BASE.rstrip("\n")
    after, dummy = migrate({"app.settings": text})
    assert after["app.settings"].decode().endswith("]," + "\n}")


def test_star_import_chain_three_deep_rewrites_effective_and_shadowed():
    modules = {
        "app.settings.base": BASE,
        "app.settings.common": "from .base import *  # noqa\nDEBUG = False\n",
        "app.settings.dev": ("from .common import *\n"
                             'CACHES = {"default": {"BACKEND": "%s", "LOCATION": "redis://dev", "TIMEOUT": 5}}\n'
                             % REDIS),
    }
    after, edits = migrate(modules, settings="app.settings.dev")
    assert {e.describe()["file"] for e in edits} == {path_of("app.settings.base"), path_of("app.settings.dev")}
    assert caches_of(after["app.settings.dev"].decode().replace("from .common import *\n", ""))["default"]["TIMEOUT"] == 5
    assert after["app.settings.common"] == modules["app.settings.common"].encode()


def test_try_star_import_of_local_override():
    modules = {
        "app.settings.base": BASE,
        "app.settings.prod": ("from .base import *\n"
                              "try:\n    from .local import *\nexcept ImportError:\n    pass\n"),
        "app.settings.local": 'CACHES = {"default": {"BACKEND": "%s", "LOCATION": "redis://local"}}\n' % REDIS,
    }
    after, edits = migrate(modules, settings="app.settings.prod")
    assert {e.describe()["file"] for e in edits} == {path_of("app.settings.base"), path_of("app.settings.local")}


def test_key_prefix_with_trailing_comment_stays_valid_python():
    after, dummy = migrate({"app.settings": BASE})
    compile(after["app.settings"], "settings", "exec")


def test_caches_built_by_a_function_is_refused_with_file_and_line():
    text = "import x\n\nCACHES = x.caches()\n"
    with pytest.raises(Refusal, match=r"/srv/app/app/settings.py:3: CACHES is built by Call"):
        plan({"app.settings": text})


def test_caches_in_a_conditional_is_refused():
    text = "import os\nif os.environ.get('X'):\n    CACHES = {}\n"
    with pytest.raises(Refusal, match=r"settings.py:2 sets CACHES inside if"):
        plan({"app.settings": text})


def test_backend_not_a_literal_is_refused():
    text = "CACHES = {'default': {'BACKEND': config('CACHE_BACKEND')}}\n"
    with pytest.raises(Refusal, match="BACKEND of CACHES\\['default'\\] is not a string literal"):
        plan({"app.settings": text})


def test_statement_sharing_a_line_is_refused():
    text = BASE + "CELERY_BROKER_URL = 'redis://x'; DEBUG = True\n"
    with pytest.raises(Refusal, match="shares its line"):
        plan({"app.settings": text})


def test_syntax_error_is_refused_with_line():
    with pytest.raises(Refusal, match=r"settings.py:2 does not parse"):
        plan({"app.settings": "A = 1\nB = (\n"})


def test_celery_settings_and_unused_env_reads_removed():
    text = ("from decouple import config\n"
            "REDIS_HOST = config('REDIS_HOST', default='127.0.0.1')\n"
            "REDIS_PORT = config('REDIS_PORT', default=6379, cast=int)\n"
            "CACHES = {'default': {'BACKEND': '%s', 'LOCATION': f'redis://{REDIS_HOST}:{REDIS_PORT}/1'}}\n"
            "CELERY_BROKER_URL = config('CELERY_BROKER_URL')\n"
            "CELERY_TASK_ALWAYS_EAGER = True\n"
            "DEBUG = True\n" % REDIS)
    after, edits = migrate({"app.settings": text})
    new = after["app.settings"].decode()
    assert "REDIS_HOST" not in new and "CELERY" not in new
    assert new.startswith("from decouple import config\nCACHES = {'default': {\n")
    assert new.endswith("DEBUG = True\n")
    assert sorted(e.describe()["action"] for e in edits) == ["remove"] * 4 + ["replace"]


def test_used_env_read_without_default_is_refused():
    text = ("REDIS_URL = config('REDIS_URL')\n"
            "CACHES = {'default': {'BACKEND': '%s', 'LOCATION': REDIS_URL}}\n"
            "SESSION_REDIS = REDIS_URL\n" % REDIS)
    with pytest.raises(Refusal, match=r"settings.py:1 reads REDIS_URL without a default"):
        plan({"app.settings": text})


def test_session_engine_on_redis_cache_becomes_cached_db():
    text = BASE.replace('"django.contrib.sessions.backends.db"',
                        'config("SESSION_ENGINE", default="django.contrib.sessions.backends.cache")')
    runtime = {"session_engine": "django.contrib.sessions.backends.cache", "session_cache_alias": "default"}
    after, edits = migrate({"app.settings": text}, runtime=runtime)
    assert caches_of(after["app.settings"].decode(), "SESSION_ENGINE") == "django.contrib.sessions.backends.cached_db"
    assert "SESSION_ENGINE" in {e.setting for e in edits}


def test_celery_app_import_removed_from_package():
    modules = {
        "app.__init__": "# app\nfrom .celery import app as celery_app\n\n__all__ = ('celery_app',)\n",
        "app.celery": "from celery import Celery\napp = Celery('app')\n",
        "app.settings": BASE,
    }
    after, dummy = migrate(modules)
    assert after["app.__init__"] == b"# app\n\n"


def test_second_plan_is_empty():
    modules = {"app.settings.base": BASE,
               "app.settings.dev": "from .base import *\nCELERY_X = 1\n"}
    after, dummy = migrate(modules, settings="app.settings.dev")
    again, edits = migrate(dict(after), settings="app.settings.dev")
    assert edits == []
    assert again == after


def test_diff_holds_changed_statements_only_with_secrets_masked():
    files, edits = plan({"app.settings": BASE})
    diff = statement_diff(edits)
    assert "pw@" not in diff["before"] and "********" in diff["before"]
    assert "AUTH_USER_MODEL" not in diff["before"] + diff["after"]
    assert "DatabaseCache" in diff["after"]


def test_mask_secrets_leaves_plain_strings():
    assert mask_secrets("A = 'plain'\nB = 'redis://:s3cret@h/1'\n") == "A = 'plain'\nB = '********'\n"


# The mysql backend: django-mysql's MySQLCache, and django_mysql joins INSTALLED_APPS --------------------

MYSQL = dict(OPTIONS, backend="mysql")
REDIS_CACHES = """CACHES = {
    "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://r:6379/1", "TIMEOUT": 60},
}
"""


@pytest.mark.parametrize("apps, expected", [
    # One element a line, trailing comma, a comment after the last element.
    ('INSTALLED_APPS = [\n    "django.contrib.auth",\n    "shop",  # ours\n]\n',
     'INSTALLED_APPS = [\n    "django.contrib.auth",\n    "shop",  # ours\n    \'django_mysql\',\n]\n'),
    # No trailing comma, tabs, CRLF.
    ('INSTALLED_APPS = (\r\n\t"django.contrib.auth",\r\n\t"shop"\r\n)\r\n',
     'INSTALLED_APPS = (\r\n\t"django.contrib.auth",\r\n\t"shop",\r\n\t\'django_mysql\',\r\n)\r\n'),
    # All on one line, with and without a trailing comma.
    ('INSTALLED_APPS = ["a", "b"]\n', 'INSTALLED_APPS = ["a", "b", \'django_mysql\']\n'),
    ('INSTALLED_APPS = ("a",)\n', 'INSTALLED_APPS = ("a", \'django_mysql\',)\n'),
    # Empty.
    ('INSTALLED_APPS = []\n', "INSTALLED_APPS = ['django_mysql']\n"),
])
def test_mysql_backend_adds_django_mysql_to_installed_apps_in_its_layout(apps, expected):
    after, edits = migrate({"app.settings": apps + REDIS_CACHES}, options=MYSQL)
    text = after["app.settings"].decode()
    assert text.startswith(expected)
    namespace = {}
    exec(compile(text, "<settings>", "exec"), namespace)
    assert namespace["INSTALLED_APPS"][-1] == "django_mysql"
    assert namespace["CACHES"]["default"] == {
        "BACKEND": "django_mysql.cache.MySQLCache", "LOCATION": "mall_cache", "TIMEOUT": 60,
        "OPTIONS": {"MAX_ENTRIES": 20000, "CULL_FREQUENCY": 3, "CULL_PROBABILITY": 0},
    }
    assert sorted(e.setting for e in edits) == ["CACHES", "INSTALLED_APPS"]


def test_mysql_backend_appends_to_the_effective_installed_apps_of_a_star_import_chain():
    base = 'INSTALLED_APPS = ["a"]\n' + REDIS_CACHES
    development = 'from .base import *  # noqa\n\nINSTALLED_APPS += ["debug_toolbar"]\n'
    after, dummy = migrate({"app.settings.base": base, "app.settings.development": development},
                           settings="app.settings.development", options=MYSQL)
    assert after["app.settings.base"].decode().startswith('INSTALLED_APPS = ["a"]\n')
    assert after["app.settings.development"].decode().endswith('INSTALLED_APPS += ["debug_toolbar", \'django_mysql\']\n')


def test_mysql_backend_leaves_installed_apps_that_hold_django_mysql_and_a_database_backend_adds_nothing():
    modules = {"app.settings": 'INSTALLED_APPS = ["a", "django_mysql"]\n' + REDIS_CACHES}
    dummy, edits = plan(modules, runtime={"installed_apps": ["a", "django_mysql"]}, options=MYSQL)
    assert [e.setting for e in edits] == ["CACHES"]
    dummy, edits = plan({"app.settings": 'INSTALLED_APPS = ["a"]\n' + REDIS_CACHES})
    assert [e.setting for e in edits] == ["CACHES"]
    assert "DatabaseCache" in edits[0].text


def test_mysql_backend_refuses_installed_apps_it_cannot_append_to():
    with pytest.raises(Refusal, match="INSTALLED_APPS is not a list or tuple literal"):
        plan({"app.settings": 'INSTALLED_APPS = list(BASE_APPS)\n' + REDIS_CACHES}, options=MYSQL)
    with pytest.raises(Refusal, match="INSTALLED_APPS is not a list or tuple literal"):
        plan({"app.settings": 'INSTALLED_APPS = ["a"]\nINSTALLED_APPS.append("b")\n' + REDIS_CACHES},
             options=MYSQL)


def test_nothing_to_move_adds_no_app():
    modules = {"app.settings": 'INSTALLED_APPS = ["a"]\nCACHES = {"default": {"BACKEND": "%s"}}\n'
               % "django.core.cache.backends.locmem.LocMemCache"}
    dummy, edits = plan(modules, options=MYSQL)
    assert edits == []


TWO_ALIASES = '''CACHES = {
    "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1"%s},
    "carts": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/2"%s},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
'''


@pytest.mark.parametrize("default, carts", [
    ("", ""),
    (', "KEY_PREFIX": "mall"', ', "KEY_PREFIX": "mall"'),
    (', "KEY_PREFIX": "mall", "VERSION": 2', ', "VERSION": 2, "KEY_PREFIX": "mall"'),
])
def test_two_redis_aliases_that_would_share_the_table_and_its_keys_are_refused_by_name(default, carts):
    with pytest.raises(Refusal, match=r"The CACHES aliases 'carts' and 'default' would share the table mall_cache"):
        plan({"app.settings": TWO_ALIASES % (default, carts)})


def test_aliases_whose_settings_read_the_same_prefix_are_refused_by_what_django_read():
    text = TWO_ALIASES % (', "KEY_PREFIX": config("A")', ', "KEY_PREFIX": config("B")')
    runtime = {"caches": {"default": {"backend": REDIS, "key_prefix": "shop"},
                          "carts": {"backend": REDIS, "key_prefix": "shop"}}}
    with pytest.raises(Refusal, match=r"'carts' and 'default'"):
        plan({"app.settings": text}, runtime=runtime)


@pytest.mark.parametrize("default, carts", [
    (', "KEY_PREFIX": "mall"', ', "KEY_PREFIX": "carts"'),
    (', "KEY_PREFIX": "mall"', ''),
    ('', ', "VERSION": 2'),
    ('', ', "KEY_FUNCTION": "shop.cache.carts_key"'),
])
def test_two_redis_aliases_with_their_own_namespace_are_both_planned(default, carts):
    dummy, edits = plan({"app.settings": TWO_ALIASES % (default, carts)})
    assert sorted(edit.describe()["reason"] for edit in edits if edit.setting == "CACHES") == [
        "CACHES['carts'] on Redis becomes DatabaseCache on mall_cache",
        "CACHES['default'] on Redis becomes DatabaseCache on mall_cache"]


def test_an_alias_django_does_not_use_any_more_is_not_compared():
    runtime = {"caches": {"default": {"backend": REDIS, "key_prefix": ""}}}
    dummy, edits = plan({"app.settings": TWO_ALIASES % ("", "")}, runtime=runtime)
    assert len([edit for edit in edits if edit.setting == "CACHES"]) == 2
