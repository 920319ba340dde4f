"""A run that preflight refuses writes nothing anywhere, and neither does a --check run (issue 21, item 3).

playbooks/migrate.yml over the local connection (tests/local_host.py) with a throwaway Django project whose
database and Redis are real (the `mariadb` fixture's container) and whose venv holds Django, PyMySQL and django-redis from the wheelhouse.
What is compared before and after each run: the database's tables with CHECKSUM TABLE (the fleet's registry,
mall_cache_migration_fleet, must not appear), the Redis keys (SCAN) and the sha256 of the project's files."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest

from ansible_collections.mall.cache_migration.tests.local_host import checksums, make_host, run_playbook

SETTINGS = """import pymysql

pymysql.install_as_MySQLdb()
SECRET_KEY = "x"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.mysql", "NAME": "mall_test", "HOST": "{address}", "PORT": "3306",
                          "USER": "{user}", "PASSWORD": "unit-test"}}}}
CACHES = {{"default": {{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://{address}:6379/0"}}}}
"""
TASKS = '"""Orders."""\nfrom celery import shared_task\n\n\n@shared_task\ndef notify(order_id):\n    return order_id\n'
COMPOSE = ("services:\n  mall-server:\n    image: mall-server\n    depends_on: [redis-mall]\n"
           "  redis-mall:\n    image: redis:7\n    volumes: [redis_mall_data:/data]\nvolumes:\n  redis_mall_data: {}\n")
REQUIREMENTS = "Django==4.2.30\nPyMySQL==1.2.4\ndjango-redis==5.4.0\nredis==5.0.1\n"
MANAGE = "import sys\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n"


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A virtualenv with pip (pip_sync plans with it) and the packages of REQUIREMENTS, from the wheelhouse."""
    wheelhouse = pathlib.Path(os.environ.get("MALL_WHEELHOUSE", pathlib.Path(__file__).parents[3] / ".cache" / "wheelhouse"))
    path = tmp_path_factory.mktemp("refused-run") / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(path)], check=True)
    subprocess.run([str(path / "bin" / "pip"), "install", "-q", "--no-index", "--find-links", str(wheelhouse),
                    *REQUIREMENTS.split()], check=True)
    return path


def project(tmp_path, mariadb, venv, refusal=None):
    """The project, its database and Redis as the inventory names them; refusal: what preflight refuses in it."""
    host = make_host(tmp_path)
    app, address, user = host["app"], mariadb["login"]["login_host"], "mall"
    (app / "mall_server" / "__init__.py").write_text("")
    (app / "mall_server" / "settings" / "__init__.py").write_text("")
    (app / "manage.py").write_text(MANAGE)
    (app / "docker-compose.yml").write_text(COMPOSE)
    (app / "requirements.txt").write_text(REQUIREMENTS)
    if refusal == "redis_use":
        (app / "orders").mkdir()
        (app / "orders" / "__init__.py").write_text("")
        (app / "orders" / "tasks.py").write_text(TASKS)
    if refusal == "missing_requirements":
        (app / "requirements.txt").unlink()
    if refusal == "editable_requirement":
        (app / "requirements.txt").write_text(REQUIREMENTS + "-e ./vendor/shipping\n")
    if refusal == "grants":
        # A user that may write the app's tables (and so the registry) but lacks what the dump and the index need.
        granted = mariadb["container"].exec_run(["mariadb", "-e", "CREATE USER IF NOT EXISTS 'mall_nodump'@'%' IDENTIFIED BY"
                                                 " 'unit-test'; GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON mall_test.*"
                                                 " TO 'mall_nodump'@'%';"])
        assert granted.exit_code == 0, granted.output
        user = "mall_nodump"
    (app / "mall_server" / "settings" / "production.py").write_text(SETTINGS.format(address=address, user=user))
    host["extra"] = {"mall_db_host": address, "mall_db_port": 3306, "mall_db_name": "mall_test", "mall_db_user": user,
                     "mall_db_password": "unit-test", "mall_redis_host": address, "mall_redis_port": 6379, "mall_venv": str(venv),
                     "mall_plan_dir": ""}
    return host


def database_and_redis(container):
    """Every table of mall_test with its CHECKSUM TABLE, and every key of the Redis (SCAN)."""
    tables = container.exec_run(["mariadb", "-N", "-e", "SELECT TABLE_NAME FROM information_schema.TABLES"
                                 " WHERE TABLE_SCHEMA = 'mall_test' ORDER BY TABLE_NAME"])
    assert tables.exit_code == 0, tables.output
    names = tables.output.decode().split()
    checksummed = {}
    if names:
        listed = container.exec_run(["mariadb", "-N", "-e", "CHECKSUM TABLE " + ", ".join("mall_test.`%s`" % n for n in names)])
        assert listed.exit_code == 0, listed.output
        checksummed = dict(line.split("\t") for line in listed.output.decode().splitlines())
    keys = container.exec_run(["redis-cli", "--scan"])
    assert keys.exit_code == 0, keys.output
    return {"tables": checksummed, "redis_keys": sorted(keys.output.decode().split())}


def fingerprint(host, container):
    return dict(database_and_redis(container), files=checksums(host["app"]))


@pytest.fixture
def seeded(mariadb):
    """The app's tables and some keys in its Redis, without the fleet's registry."""
    container = mariadb["container"]
    seeded = container.exec_run(["mariadb", "-e", "DROP TABLE IF EXISTS mall_test.mall_cache_migration_fleet;"
                                 " CREATE TABLE IF NOT EXISTS mall_test.orders (id INT PRIMARY KEY, total INT);"
                                 " REPLACE INTO mall_test.orders VALUES (1, 100), (2, 250);"])
    assert seeded.exit_code == 0, seeded.output
    for key, value in (("product:1", "a"), (":1:banner", "b")):
        assert container.exec_run(["redis-cli", "SET", key, value]).exit_code == 0
    return mariadb


def migrate(host, *args):
    result = run_playbook(host, "migrate.yml", host["extra"], *args)
    return result, json.loads(result.stdout)


def failures(report):
    """(task name without its role, message) of each failed task, in order."""
    return [(task["task"]["name"].split(" : ")[-1], outcome.get("msg")) for play in report["plays"] for task in play["tasks"]
            for outcome in task["hosts"].values() if outcome.get("failed")]


@pytest.fixture(autouse=True)
def json_callback(monkeypatch):
    monkeypatch.setenv("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.json")
    monkeypatch.setenv("ANSIBLE_LOAD_CALLBACK_PLUGINS", "1")


@pytest.mark.parametrize("refusal, refused_by, check", [
    # app.yml, before any connection.
    ("redis_use", "Refuse Redis used beyond the cache", False),
    # The first check of preflight's main.yml, after the first play connected to the database.
    ("missing_requirements", "Fail when a file the migration needs is missing", False),
    ("missing_requirements", "Fail when a file the migration needs is missing", True),
    ("grants", "Fail when the app's user may not create the cache table or dump the database, naming what it lacks", False),
    # pip_sync's plan, after the copy of the settings was proven.
    ("editable_requirement", "Plan the sync of the virtualenv, changing nothing", False),
], ids=["redis_use", "missing_file", "missing_file-check", "grants", "requirements"])
def test_a_refused_run_writes_nothing(tmp_path, seeded, venv, refusal, refused_by, check):
    host = project(tmp_path, seeded, venv, refusal)
    before = fingerprint(host, seeded["container"])
    assert "mall_cache_migration_fleet" not in before["tables"]
    result, report = migrate(host, *(["--check"] if check else []))
    assert result.returncode != 0
    assert [name for name, dummy in failures(report)][:1] == [refused_by]
    assert fingerprint(host, seeded["container"]) == before
    assert not (host["base"] / "restore-points").exists()


def test_a_check_run_of_a_project_it_accepts_writes_nothing(tmp_path, seeded, venv):
    host = project(tmp_path, seeded, venv)
    before = fingerprint(host, seeded["container"])
    result, report = migrate(host, "--check")
    assert result.returncode == 0, failures(report)
    assert report["stats"]["local-host"]["failures"] == 0
    assert fingerprint(host, seeded["container"]) == before
