"""Live test of mall.cache_migration.cache_verify with MariaDB, Redis and Django 4.2.

Runs in the container that MALL_LIVE_HOST names, or else in one that
tests/integration/cache_verify_live.sh prepares for this module and removes afterwards.
The module runs through Ansible over the community.docker.docker connection, so Ansiballz
ships it and its module_utils (the probe included) exactly as in a playbook.
"""
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

HOST = os.environ.get("MALL_LIVE_HOST")
ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "integration" / "cache_verify_live.sh"
PROJECT = "/srv/mall"
DB_PASSWORD = "cvtest-db-pw"
REDIS_PASSWORD = "cvtest-redis-pw"
BROKEN_CONFIG_ERROR = "TypeError: AbstractConnection.__init__() got an unexpected keyword argument 'CLIENT_CLASS'"
# What the roles pass as mall_redis_env_keys and mall_redis_packages (the module looks for none by default).
LEFTOVERS = dict(
    leftover_keys=["REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"],
    leftover_packages=["redis", "django-redis", "celery", "kombu"],
)


@pytest.fixture(scope="module", autouse=True)
def live_host():
    """The prepared container: MALL_LIVE_HOST's, or a throwaway one made and removed here."""
    global HOST
    if HOST:
        yield HOST
        return
    up = subprocess.run(["bash", str(SCRIPT), "up"], capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stdout + up.stderr
    HOST = up.stdout.strip().splitlines()[-1]
    try:
        yield HOST
    finally:
        subprocess.run(["bash", str(SCRIPT), "down", HOST], capture_output=True, check=False)
        HOST = None


def ansible_env():
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".cache" / "collections"))
    env.update(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1")
    return env


def run_module(*extra_cli_args, **module_args):
    """Run cache_verify on the container; return the host's result as the json callback reports it."""
    ansible = pathlib.Path(sys.executable).with_name("ansible")
    args = dict(project_dir=PROJECT, **module_args)
    completed = subprocess.run(
        [str(ansible), "all", "-i", "%s," % HOST, "-c", "community.docker.docker",
         "-e", "ansible_python_interpreter=/usr/bin/python3",
         "-m", "mall.cache_migration.cache_verify", "-a", json.dumps(args), *extra_cli_args],
        capture_output=True, text=True, env=ansible_env(), check=False,
    )
    report = json.loads(completed.stdout)
    return report["plays"][0]["tasks"][0]["hosts"][HOST]


def container(*command):
    completed = subprocess.run(
        ["docker", "exec", "-w", PROJECT, HOST, *command], capture_output=True, text=True, check=True,
    )
    return completed.stdout.strip()


def django(settings, code):
    """Run Python in the project with the given settings module of cvsite, as the application would."""
    return container("env", "DJANGO_SETTINGS_MODULE=cvsite.%s" % settings, "venv/bin/python", "-c",
                     "import django; django.setup(); from django.core.cache import cache; " + code)


def write_foreign_keys(settings):
    """Keys of "someone else": one valid for an hour and one that has just expired."""
    django(settings, "cache.set('someone_else', 'keep me', 3600); cache.set('someone_else_expired', 'old', 1)")
    time.sleep(1.5)


def read_foreign_key(settings):
    return django(settings, "print(cache.get('someone_else'))")


def print_latency(label, result):
    latency = result["latency"]
    print("%s: set p50 %.3f ms p99 %.3f ms, get p50 %.3f ms p99 %.3f ms" % (
        label, latency["set"]["p50_ms"], latency["set"]["p99_ms"], latency["get"]["p50_ms"], latency["get"]["p99_ms"]))


def assert_round_trip_ok(result):
    assert {name: outcome["ok"] for name, outcome in result["round_trip"].items()} == dict.fromkeys(
        ("set", "get", "touch", "add", "set_many", "get_many", "incr", "delete"), True)
    assert result["cleanup"] == {"keys": 106, "remaining": 0}


def test_database_cache_passes_when_database_is_expected():
    write_foreign_keys("database")

    result = run_module(settings="cvsite.database", expected_backend="database",
                        env_files=[PROJECT + "/.env.clean"], fail_on_leftovers=False, **LEFTOVERS)

    print_latency("DatabaseCache", result)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert result["backend_kind"] == "database" and result["matches_expected"] is True
    assert_round_trip_ok(result)
    database = result["database"]
    assert database["credentials"] == "DATABASES['default']"
    assert database["exists"] and database["expires_indexes"] == ["mall_server_cache_expires"]
    # Only the two foreign keys: the probe's 106 keys are gone again.
    assert (database["rows"], database["expired_rows"]) == (2, 1)
    assert result["write_guard"]["blocked"] is False
    assert result["check"]["rc"] == 0
    assert result["leftovers"]["packages"] == {"django-redis": "5.4.0", "redis": "5.0.1"}
    assert DB_PASSWORD not in json.dumps(result)
    assert read_foreign_key("database") == "keep me"
    # The same verdicts as data: the table was taken from LOCATION (no table given).
    checks = result["checks"]
    # (The json callback sorts keys.)
    assert sorted(checks) == ["backend", "latency", "leftovers", "manage_check", "round_trip", "table"]
    assert all(check["ok"] for check in checks.values())
    assert checks["table"]["figures"]["table"] == "mall_server_cache" and checks["table"]["figures"]["rows"] == 2
    assert checks["leftovers"]["figures"]["found"] is True
    assert checks["leftovers"]["summary"].endswith("(reported only: fail_on_leftovers is off)")


def test_database_cache_fails_clearly_when_redis_is_expected():
    result = run_module(settings="cvsite.database", expected_backend="redis")

    assert result["failed"] is True
    assert result["matches_expected"] is False
    assert result["failures"] == [
        "cache 'default' uses django.core.cache.backends.db.DatabaseCache (database), expected redis"]
    assert_round_trip_ok(result)
    assert [name for name, check in result["checks"].items() if not check["ok"]] == ["backend"]
    assert result["checks"]["backend"]["reason"] == result["failures"][0]


def test_expired_rows_are_counted_in_local_time_without_use_tz():
    # Django stores `expires` in New York time here: a naive UTC comparison would call the hour-long key expired.
    write_foreign_keys("database_local_time")

    result = run_module(settings="cvsite.database_local_time", table="mall_server_cache_local",
                        expected_backend="database", fail_on_leftovers=False)

    assert not result.get("failed"), result.get("msg")
    assert (result["database"]["rows"], result["database"]["expired_rows"]) == (2, 1)
    assert read_foreign_key("database_local_time") == "keep me"


def test_leftovers_fail_a_database_check_without_showing_values():
    result = run_module(settings="cvsite.database", expected_backend="database",
                        env_files=[PROJECT + "/.env.leftover", PROJECT + "/.env.missing"], **LEFTOVERS)

    assert result["failed"] is True
    assert result["leftovers"]["env_keys"] == [
        {"file": PROJECT + "/.env.leftover", "line": 3, "key": "REDIS_URL"},
        {"file": PROJECT + "/.env.leftover", "line": 5, "key": "CELERY_BROKER_URL"},
    ]
    assert result["failures"] == [
        "env file /srv/mall/.env.missing cannot be read: No such file or directory",
        "leftover packages installed in the virtualenv: django-redis 5.4.0, redis 5.0.1",
        "leftover keys in /srv/mall/.env.leftover: REDIS_URL (line 3), CELERY_BROKER_URL (line 5)",
    ]
    assert REDIS_PASSWORD not in json.dumps(result)
    assert [name for name, check in result["checks"].items() if not check["ok"]] == ["leftovers"]
    assert result["checks"]["leftovers"]["reason"] == "; ".join(result["failures"])


def test_probe_writes_nothing_when_django_would_cull_foreign_entries():
    django("database_small", "cache.set_many({'someone_else_%d' % n: n for n in range(3)}, 3600)")

    result = run_module(settings="cvsite.database_small", table="mall_server_cache_small", operations=10,
                        fail_on_leftovers=False)

    assert result["failed"] is True
    assert result["write_guard"] == {
        "rows": 3, "max_entries": 5, "cull_frequency": 3, "keys_needed": 16, "blocked": True}
    assert "round_trip" not in result and "cleanup" not in result
    assert "would make Django cull entries it did not write" in result["msg"]
    assert django("database_small", "print(len(cache.get_many(['someone_else_%d' % n for n in range(3)])))") == "3"


def test_django_redis_passes_when_redis_is_expected():
    write_foreign_keys("redis")

    result = run_module(settings="cvsite.redis", expected_backend="redis")

    print_latency("django-redis", result)
    assert not result.get("failed"), result.get("msg")
    assert result["backend"] == "django_redis.cache.RedisCache" and result["backend_kind"] == "redis"
    assert result["location"] == "redis://:********@127.0.0.1:6379/1"
    assert_round_trip_ok(result)
    redis = result["redis"]
    assert redis["ping"] is True and redis["pattern"] == "mall_server:*"
    assert redis["prefix_keys"] >= 1 and redis["prefix_keys_complete"] is True
    assert redis["used_memory"] > 0
    assert "database" not in result
    assert REDIS_PASSWORD not in json.dumps(result)
    assert read_foreign_key("redis") == "keep me"
    probe_keys = container("redis-cli", "-a", REDIS_PASSWORD, "--no-auth-warning", "-n", "1",
                           "--scan", "--pattern", "*cache_verify:*")
    assert probe_keys == ""


def test_guide_rollback_block_reports_the_type_error():
    write_foreign_keys("redis")

    result = run_module(settings="cvsite.broken", expected_backend="redis")

    assert result["failed"] is True
    # manage.py check accepts the setting; only the first cache call fails.
    assert result["check"]["rc"] == 0
    assert result["backend_kind"] == "redis" and result["matches_expected"] is True
    assert result["redis"] == {"ping": False, "error": BROKEN_CONFIG_ERROR}
    assert {outcome["error"] for outcome in result["round_trip"].values()} == {BROKEN_CONFIG_ERROR}
    assert result["latency"]["error"] == BROKEN_CONFIG_ERROR
    every_call = "set, get, touch, add, set_many, get_many, incr, delete"
    assert "cache round trip failed (%s): %s" % (every_call, BROKEN_CONFIG_ERROR) in result["failures"]
    assert read_foreign_key("redis") == "keep me"


def test_check_mode_gives_the_same_verdict():
    result = run_module("--check", settings="cvsite.database", expected_backend="database",
                        fail_on_leftovers=False)

    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert_round_trip_ok(result)


def test_login_options_connect_through_the_unix_socket():
    # root logs in over the socket with MariaDB's unix_socket authentication, without a password.
    result = run_module(settings="cvsite.database", expected_backend="database", fail_on_leftovers=False,
                        login_user="root", login_unix_socket="/run/mysqld/mysqld.sock", config_file="")

    assert not result.get("failed"), result.get("msg")
    database = result["database"]
    assert database["credentials"] == "login options"
    assert database["server"] == "root@/run/mysqld/mysqld.sock/mall"
    assert database["exists"] and database["expires_indexes"] == ["mall_server_cache_expires"]


def test_the_password_can_come_from_a_config_file():
    config_file = "/tmp/cvtest-client.cnf"
    container("sh", "-c", "umask 077 && printf '[client]\\npassword = %s\\n' > %s" % (DB_PASSWORD, config_file))
    login = dict(settings="cvsite.database", expected_backend="database", fail_on_leftovers=False,
                 login_user="mall", login_host="127.0.0.1")

    without_file = run_module(config_file="", **login)
    with_file = run_module(config_file=config_file, **login)

    assert without_file["failed"] is True
    assert "Access denied for user 'mall'" in without_file["database"]["error"]
    assert not with_file.get("failed"), with_file.get("msg")
    assert with_file["database"]["exists"] and with_file["database"]["rows"] >= 0
    assert DB_PASSWORD not in json.dumps(with_file)
