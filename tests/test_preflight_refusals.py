"""Preflight's refusals of what the app's own code and settings say, run for real: playbooks/migrate.yml --check over
the local connection (tests/local_host.py) against a throwaway Django project with a virtualenv made offline from the
wheelhouse. No database or Redis server runs: each refusal comes before any connection.

(a) DATABASES on PostgreSQL: refused naming the engine, nothing changed, changed=0.
(b) An app with Celery tasks and an unreachable database: the Celery refusal, with file and line, is the only failure.
Results are read from the JSON callback (ansible.posix.json).
"""
import json
import os
import pathlib
import subprocess

import pytest
from ansible_collections.mall.cache_migration.tests.local_host import checksums, make_host, run_playbook

ROOT = pathlib.Path(__file__).resolve().parent.parent
WHEELHOUSE = pathlib.Path(os.environ.get("MALL_WHEELHOUSE", ROOT / ".cache" / "wheelhouse"))
SYSTEM_PYTHON = "/usr/bin/python3"

pytestmark = [
    pytest.mark.skipif(not list(WHEELHOUSE.glob("django-4*.whl")), reason="no wheelhouse (scripts/bootstrap.sh builds it)"),
    pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason="needs Debian python3-venv"),
]

SETTINGS = """SECRET_KEY = "x"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {{"default": {{"ENGINE": "{engine}", "NAME": "mall_server", "HOST": "127.0.0.1", "PORT": "1",
                          "USER": "mall_user", "PASSWORD": "app-s3cret"}}}}
CACHES = {{"default": {{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1"}}}}
"""
TASKS = '"""Orders."""\nfrom celery import shared_task\n\n\n@shared_task\ndef notify(order_id):\n    return order_id\n'


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    path = tmp_path_factory.mktemp("hc-refusals") / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(path)], check=True)
    subprocess.run([str(path / "bin" / "pip"), "install", "-q", "--no-index", "--find-links", str(WHEELHOUSE),
                    "Django>=4.2,<5"], check=True)
    return path


def project(tmp_path, engine, tasks=False):
    host = make_host(tmp_path)
    app = host["app"]
    (app / "mall_server" / "__init__.py").write_text("")
    (app / "mall_server" / "settings" / "__init__.py").write_text("")
    (app / "mall_server" / "settings" / "production.py").write_text(SETTINGS.format(engine=engine))
    (app / "manage.py").write_text("import sys\nfrom django.core.management import execute_from_command_line\n"
                                   "execute_from_command_line(sys.argv)\n")
    if tasks:
        (app / "orders").mkdir()
        (app / "orders" / "__init__.py").write_text("")
        (app / "orders" / "tasks.py").write_text(TASKS)
    host["before"] = checksums(app)
    return host


def migrate_check(host, venv, monkeypatch, *args, **settings):
    monkeypatch.setenv("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.json")
    monkeypatch.setenv("ANSIBLE_LOAD_CALLBACK_PLUGINS", "1")
    extra = {"mall_venv": str(venv), "mall_db_host": "127.0.0.1", "mall_db_port": 1, "mall_db_name": "mall_server",
             "mall_db_password": "inventory-s3cret", **settings}
    result = run_playbook(host, "migrate.yml", extra, "--check", *args)
    return result, json.loads(result.stdout)


def host_results(report):
    """(task name, result) of every task the host ran, in order."""
    return [(task["task"]["name"], task["hosts"]["local-host"])
            for play in report["plays"] for task in play["tasks"] if "local-host" in task["hosts"]]


def assert_refused_alone(host, result, report, reason):
    """Refused with reason: one failure, the refusal's own; nothing changed; no connection, lock or restore point."""
    ran = host_results(report)
    failed = [(name, outcome) for name, outcome in ran if outcome.get("failed")]
    refusal = [outcome["ansible_facts"]["preflight_refusal"] for dummy, outcome in ran
               if "preflight_refusal" in outcome.get("ansible_facts", {})]
    assert result.returncode != 0
    assert len(refusal) == 1 and refusal[0]["reason"] == reason, ran
    assert [outcome["msg"] for dummy, outcome in failed] == [refusal[0]["msg"]]
    assert refusal[0]["msg"].startswith("Refused: ") and "failed" not in refusal[0]["msg"]
    assert not [name for name, dummy in ran if name.startswith("Connect to the database")]
    assert report["stats"]["local-host"]["changed"] == 0 and report["stats"]["local-host"]["failures"] == 1
    assert (host["base"] / "run").exists() is False and (host["base"] / "restore-points").exists() is False
    assert checksums(host["app"]) == host["before"]
    assert "s3cret" not in result.stdout
    return refusal[0]


def test_a_postgresql_database_is_refused_by_its_engine_before_any_connection(tmp_path, venv, monkeypatch):
    host = project(tmp_path, "django.db.backends.postgresql")
    result, report = migrate_check(host, venv, monkeypatch)
    refusal = assert_refused_alone(host, result, report, "database_engine")
    assert refusal["engine"] == "django.db.backends.postgresql"


def test_celery_tasks_are_refused_with_file_and_line_before_the_unreachable_database(tmp_path, venv, monkeypatch):
    host = project(tmp_path, "django.db.backends.mysql", tasks=True)
    result, report = migrate_check(host, venv, monkeypatch)
    refusal = assert_refused_alone(host, result, report, "redis_use")
    tasks = str(host["app"] / "orders" / "tasks.py")
    assert [(u["path"], u["line"], u["kind"], u["name"]) for u in refusal["uses"]] == [
        (tasks, 2, "import", "celery"), (tasks, 5, "decorator", "shared_task")]


def test_another_database_and_redis_in_the_inventory_than_in_the_app_are_refused(tmp_path, venv, monkeypatch):
    host = project(tmp_path, "django.db.backends.mysql")
    (host["app"] / "mall_server" / "settings" / "production.py").write_text(
        SETTINGS.format(engine="django.db.backends.mysql").replace('"NAME": "mall_server"', '"NAME": "mall_staging"')
        .replace('"HOST": "127.0.0.1"', '"HOST": "127.0.0.2"'))
    host["before"] = checksums(host["app"])
    result, report = migrate_check(host, venv, monkeypatch, mall_redis_port=6380)
    refusal = assert_refused_alone(host, result, report, "inventory_mismatch")
    assert refusal["mismatches"] == [{"setting": "mall_db_host", "app": "127.0.0.2", "inventory": "127.0.0.1"},
                                     {"setting": "mall_db_name", "app": "mall_staging", "inventory": "mall_server"},
                                     {"setting": "mall_redis_port", "app": 6379, "inventory": 6380}]


def test_a_refusal_under_the_lock_fails_the_host_with_the_refusal_and_no_rollback(tmp_path, venv, monkeypatch):
    """With --tags preflight the fleet's registration does not run: preflight refuses under the lock, and the
    rescue of migrate.yml fails the host with the refusal as it is, not as a failure with a rollback's result."""
    host = project(tmp_path, "django.db.backends.mysql", tasks=True)
    result, report = migrate_check(host, venv, monkeypatch, "--tags", "preflight")
    ran = host_results(report)
    refusal = [outcome["ansible_facts"]["preflight_refusal"] for dummy, outcome in ran
               if "preflight_refusal" in outcome.get("ansible_facts", {})]
    failed = [(name.split(" : ")[-1], outcome["msg"]) for name, outcome in ran if outcome.get("failed")]
    assert result.returncode != 0 and len(refusal) == 1 and refusal[0]["reason"] == "redis_use"
    assert failed == [("Refuse Redis used beyond the cache", refusal[0]["msg"]),
                      ("Fail the host with the refusal of preflight alone", refusal[0]["msg"])]
    assert "Keep the cause of the failure" not in [name.split(" : ")[-1] for name, dummy in ran]
    # The lock (taken in a real run, released by the always) is the one change: none of preflight's.
    assert [name.split(" : ")[-1] for name, outcome in ran if outcome.get("changed")] == [
        "Take the lock and record who holds it"]
    assert not (host["base"] / "restore-points").exists() and checksums(host["app"]) == host["before"]
