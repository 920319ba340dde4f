"""django_settings' main() with a scripted settings probe: what it writes, and how it refuses.

The probe (which loads the project's Django) is replaced by one that reports the project's files and whether the
settings file names the database cache; tests/integration/test_django_settings_live.py runs the real one.
"""
from __future__ import annotations

import hashlib

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import django_settings

REDIS = "django_redis.cache.RedisCache"
DATABASE = "django.core.cache.backends.db.DatabaseCache"
SETTINGS = "shop.settings.dev"


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "shop-project"
    (root / "shop" / "settings").mkdir(parents=True)
    (root / "manage.py").write_text("")
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    python.chmod(0o755)
    return root


def settings_file(project, name):
    return project / "shop" / "settings" / ("%s.py" % name)


@pytest.fixture
def scripted_probe(monkeypatch, project):
    """The probe reports every settings file as loaded, and the database cache once a file names it."""
    def run_probe(module, python, project_dir, full=False):
        files = sorted((project / "shop" / "settings").glob("*.py"))
        backend = DATABASE if any(b"DatabaseCache" in path.read_bytes() for path in files) else REDIS
        return dict(modules=[dict(name="shop.settings." + path.stem, file=str(path)) for path in files],
                    caches=dict(default=dict(backend=backend, is_database=backend == DATABASE)),
                    database=dict(engine="django.db.backends.mysql", name="shop", host="db", port="3306", user="shop"),
                    session_engine="django.contrib.sessions.backends.db", installed_apps=[])

    monkeypatch.setattr(django_settings, "run_probe", run_probe)


def run(run_module, project, **args):
    return run_module(django_settings.main, dict(project_dir=str(project), venv=str(project.parent / "venv"),
                                                 settings=SETTINGS, state="database", table="shop_cache", **args),
                      diff=True)


def digests(project):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(project.rglob("*.py"))}


REDIS_CACHES = (b'CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache",\n'
                b'                     "OPTIONS": {"PASSWORD": "hunter2"}}}\n')
NEW_CACHES = (b'CACHES = {"default": {\n'
              b"    'BACKEND': 'django.core.cache.backends.db.DatabaseCache',\n"
              b"    'LOCATION': 'shop_cache',\n"
              b"    'OPTIONS': {'MAX_ENTRIES': 20000, 'CULL_FREQUENCY': 3},\n"
              b"}}\n")


def test_a_form_feed_after_caches_removes_the_celery_setting_and_nothing_else(run_module, scripted_probe, project):
    dev = settings_file(project, "dev")
    dev.write_bytes(REDIS_CACHES + b"\f\nCELERY_TASK_ALWAYS_EAGER = True\nSECURE_SSL_REDIRECT = True\n")
    result = run(run_module, project)
    assert not result.get("failed"), result.get("msg")
    assert dev.read_bytes() == NEW_CACHES + b"\f\nSECURE_SSL_REDIRECT = True\n"
    assert [(row["setting"], row["start"], row["end"]) for row in result["plan"]] == [
        ("CACHES", 1, 2), ("CELERY_TASK_ALWAYS_EAGER", 4, 4)]
    assert "hunter2" not in result["diff"]["before"]


def test_from_base_import_caches_edits_base(run_module, scripted_probe, project):
    base, dev = settings_file(project, "base"), settings_file(project, "dev")
    base.write_bytes(REDIS_CACHES)
    dev.write_bytes(b"from .base import CACHES  # noqa\nDEBUG = True\n")
    result = run(run_module, project)
    assert not result.get("failed"), result.get("msg")
    assert result["files"] == [str(base)]
    assert base.read_bytes() == NEW_CACHES
    assert dev.read_bytes() == b"from .base import CACHES  # noqa\nDEBUG = True\n"


@pytest.mark.parametrize("text, line, reason", [
    (b"DEBUG = True\n\xe2\x80\xa8" + REDIS_CACHES, 2, "does not parse"),
    (b"from . import base\nCACHES = base.CACHES\n", 2, "CACHES is built by Attribute"),
    (b"A = 1\nB = '\xff'\n" + REDIS_CACHES, 2, "is not valid utf-8 text"),
])
def test_a_refusal_names_file_and_line_and_changes_nothing(run_module, scripted_probe, project, text, line, reason):
    dev = settings_file(project, "dev")
    dev.write_bytes(text)
    before = digests(project)
    result = run(run_module, project)
    assert result["failed"]
    assert (result["refusal"]["file"], result["refusal"]["line"]) == (str(dev), line)
    assert reason in result["refusal"]["reason"]
    assert digests(project) == before
