"""The restore point's database dump and its checks against a real MariaDB (a container of the test image,
reached over the community.docker.docker connection, where mariadb-dump runs as on an app host).

The app's user lacks SHOW VIEW and the database has a view: mysqldump then stops at the view and, through
`| gzip`, its failure was lost (a valid gzip of part of the SQL, under the dump's final name). Now:
- preflight refuses the user, naming SHOW VIEW, before any change;
- forced past preflight, the dump task fails (pipefail) and leaves no file, neither under the final name nor
  under the temporary one;
- a rollback from a restore point whose dump has one byte changed refuses before it restores anything, naming
  the dump, also with rollback_force.
"""
import json
import os
import pathlib
import subprocess
import sys
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIB = ROOT / "tests" / "integration" / "lib.sh"
PLAYBOOK = ROOT / "tests" / "fixtures" / "database_dump.yml"
# Containers carry MALL_LIVE_PREFIX (default "dd") in their name, so that runs side by side do not meet.
HOST = "%s-dump-%s" % (os.environ.get("MALL_LIVE_PREFIX", "dd"), uuid.uuid4().hex[:8])
IMAGE = os.environ.get("MALL_TEST_IMAGE", "mall-cache-migration/bookworm:1")
APP = "/srv/mall"
BACKUPS = "/var/backups/mall"
NAME = "20261207T140000Z"
ENV_FILE = APP + "/.env.production"
ENV_BEFORE = "SECRET_KEY=x\nREDIS_URL=redis://127.0.0.1:6379/1\n"
ENV_MIGRATED = "SECRET_KEY=x\n"
PASSWORD = "dump-test-pw"
# Tables on both sides of the view: mysqldump goes by name and stops at the view.
DATABASE = """
CREATE DATABASE shop CHARACTER SET utf8mb4;
CREATE TABLE shop.a_orders (id INT PRIMARY KEY, total INT);
INSERT INTO shop.a_orders VALUES (1, 10), (2, 20);
CREATE VIEW shop.m_order_totals AS SELECT SUM(total) AS total FROM shop.a_orders;
CREATE TABLE shop.z_customers (id INT PRIMARY KEY);
INSERT INTO shop.z_customers VALUES (7);
CREATE USER 'mall'@'127.0.0.1' IDENTIFIED BY '{password}';
GRANT ALL ON shop.* TO 'mall'@'127.0.0.1';
CREATE USER 'noview'@'127.0.0.1' IDENTIFIED BY '{password}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, TRIGGER, LOCK TABLES ON shop.* TO 'noview'@'127.0.0.1';
""".format(password=PASSWORD)


def docker(*args, stdin=None):
    return subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True, check=False, timeout=300)


def in_host(script):
    """Run a bash script in the container as root; return its stdout."""
    done = docker("exec", "-i", HOST, "bash", "-s", stdin=script)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def exists(path):
    return docker("exec", HOST, "test", "-e", path).returncode == 0


@pytest.fixture(scope="module", autouse=True)
def live_host():
    prelude = subprocess.run(["bash", "-c", ". %s && container_prelude" % LIB], capture_output=True, text=True, check=True).stdout
    started = docker("run", "-d", "--name", HOST, IMAGE, "sleep", "infinity")
    assert started.returncode == 0, started.stderr
    try:
        in_host(prelude + "start_mariadb\nmariadb <<'SQL'\n%s\nSQL\nmkdir -p %s\nprintf '%%s' '%s' > %s\n"
                % (DATABASE, APP, ENV_BEFORE, ENV_FILE))
        yield HOST
    finally:
        docker("rm", "-f", HOST)


def inventory(tmp_path, user, hosts=None, **extra):
    """An inventory of app hosts (app-01 unless `hosts` names others, each with settings of its own), all this container."""
    settings = {
        "ansible_connection": "community.docker.docker", "ansible_host": HOST,
        "ansible_python_interpreter": "/usr/bin/python3",
        "mall_app_dir": APP, "mall_env_files": [ENV_FILE], "mall_compose_file": "",
        "mall_restore_point_root": BACKUPS, "mall_lock_dir": "/run/mall-cache-migration/lock",
        "mall_redis_container": "", "mall_db_host": "127.0.0.1", "mall_db_name": "shop",
        "mall_db_user": user, "mall_db_password": PASSWORD, **extra,
    }
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"mall_servers": {"hosts": {name: dict(settings, **own) for name, own in (hosts or {"app-01": {}}).items()}}}))
    return path


def run_playbook(playbook, hosts, extra, host="app-01"):
    """Run a playbook; return its rc and the results of `host` by task name (the json callback's, no role prefix),
    or with host=None those of every host, by host."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="false")
    playbook_bin = pathlib.Path(sys.executable).with_name("ansible-playbook")
    done = subprocess.run([str(playbook_bin), "-i", str(hosts), str(playbook), "-e", json.dumps(extra)],
                          capture_output=True, text=True, env=env, check=False, timeout=600)
    try:
        plays = json.loads(done.stdout)["plays"]
    except ValueError:
        pytest.fail("no JSON from ansible-playbook (rc %d):\n%s\n%s" % (done.returncode, done.stdout[-3000:], done.stderr[-3000:]))
    results = {}
    for play in plays:
        for task in play["tasks"]:
            for name, result in task["hosts"].items():
                results.setdefault(name, {})[task["task"]["name"].split(" : ")[-1]] = result
    return done.returncode, results if host is None else results.get(host, {})


def failures(results):
    return {name: result.get("msg") for name, result in results.items() if result.get("failed")}


def test_preflight_refuses_a_user_without_show_view_naming_it(tmp_path):
    rc, results = run_playbook(PLAYBOOK, inventory(tmp_path, "noview"), {"scenario": "preflight"})
    assert rc != 0
    assert results["Find the privileges the app's user lacks on the app database"]["ansible_facts"] == {
        "preflight_missing_privileges": ["SHOW VIEW"]}
    assert list(failures(results)) == ["Fail when the app's user may not create the cache table or dump the database, naming what it lacks"]

    rc, results = run_playbook(PLAYBOOK, inventory(tmp_path, "mall"), {"scenario": "preflight"})
    assert rc == 0, failures(results)
    assert results["Find the privileges the app's user lacks on the app database"]["ansible_facts"] == {
        "preflight_missing_privileges": []}


def test_a_dump_that_stops_at_the_view_fails_and_leaves_no_file(tmp_path):
    point = "%s/20261207T130000Z" % BACKUPS
    rc, results = run_playbook(PLAYBOOK, inventory(tmp_path, "noview"), {"scenario": "dump", "restore_point_name": "20261207T130000Z"})
    assert rc != 0
    dumped = results["Dump the app database to a temporary name, failing when mysqldump fails (pipefail)"]
    assert dumped["failed"] is True
    assert not exists(point + "/database.sql.gz") and not exists(point + "/database.partial.sql.gz")
    # The files of the restore point are there; no manifest, so it is no restore point to roll back to.
    assert exists(point + "/files" + ENV_FILE) and not exists(point + "/manifest.json")


def test_a_whole_dump_is_checked_and_waits_under_its_temporary_name_for_the_manifest(tmp_path):
    point = "%s/20261207T133000Z" % BACKUPS
    rc, results = run_playbook(PLAYBOOK, inventory(tmp_path, "mall"), {"scenario": "dump", "restore_point_name": "20261207T133000Z"})
    assert rc == 0, failures(results)
    checked = results["Check the dump (whole gzip, mysqldump's last line, not empty), make it 0600 and take its sha256"]["dump"]
    assert checked["path"] == point + "/database.partial.sql.gz" and checked["size"] > 0
    assert in_host("sha256sum %s | cut -d' ' -f1" % checked["path"]).strip() == checked["sha256"]
    assert in_host("stat -c %%a %s" % checked["path"]).strip() == "600"
    assert not exists(point + "/database.sql.gz")
    # Claimed, not recorded: the registry names a dump only once the manifest lists it.
    rows = in_host("mariadb -N -e \"SELECT host, state, dump FROM shop.mall_cache_migration_fleet\"")
    assert rows.split("\n")[0].split("\t") == ["app-01", "migrating", ""]


def run_module(module, args):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1")
    ansible = pathlib.Path(sys.executable).with_name("ansible")
    done = subprocess.run([str(ansible), "all", "-i", "%s," % HOST, "-c", "community.docker.docker",
                           "-e", "ansible_python_interpreter=/usr/bin/python3", "-m", module, "-a", json.dumps(args)],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"][HOST]
    assert not result.get("failed"), result
    return result


def test_a_rollback_from_a_dump_with_one_byte_changed_refuses_before_it_restores_anything(tmp_path):
    # A restore point as a migration leaves it: the env file's copy and a whole dump, listed by the manifest.
    taken = run_module("mall.cache_migration.restore_point_files", {"root": BACKUPS, "name": NAME, "files": [ENV_FILE]})
    dump = taken["layout"]["database_dump"]
    in_host("mariadb-dump --single-transaction shop | gzip > %s" % dump)
    run_module("mall.cache_migration.restore_point_files", {
        "root": BACKUPS, "name": NAME, "step": "manifest", "restored_files": taken["restored_files"],
        "metadata": {"host": "app-01", "app_dir": APP, "database_dump": {"host": "app-01", "path": dump}}})
    in_host("printf '%%s' '%s' > %s" % (ENV_MIGRATED, ENV_FILE))
    in_host("python3 -c \"import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[len(b) // 2] ^= 1; "
            "open(p, 'wb').write(bytes(b))\" %s" % dump)

    rc, results = run_playbook(ROOT / "playbooks" / "rollback.yml", inventory(tmp_path, "mall"), {
        "rollback_restore_point": NAME, "rollback_force": True, "rollback_restore_database": True})
    assert rc != 0
    # Nothing restored: the env file as the migration left it, the tables as they are, no rollback in the registry.
    assert in_host("cat %s" % ENV_FILE) == ENV_MIGRATED
    assert in_host("mariadb -N -e 'SELECT COUNT(*) FROM shop.a_orders; SELECT COUNT(*) FROM shop.z_customers'").split() == ["2", "1"]
    assert "redis" not in in_host("mariadb -N -e \"SELECT state FROM shop.mall_cache_migration_fleet WHERE host = 'app-01'\" 2>&1 || true")
    assert results["Name the files that differ from their manifest"]["ansible_facts"]["rollback_damaged"] == [
        {"part": "database dump", "path": dump, "problem": "sha256 differs from the manifest"}]
    assert list(failures(results)) == ["Refuse a restore point whose files differ from its manifest"]


CHOOSE = "Choose the dump of this migration (the registry's, or the one the first host of this batch without one takes)"
DUMP = "Dump the app database to a temporary name, failing when mysqldump fails (pipefail)"


def test_one_dump_per_batch_and_only_a_dump_its_host_recorded_is_reused(tmp_path):
    name = "20261207T150000Z"
    fleet = {host: {"mall_restore_point_root": "/var/backups/" + host} for host in ("app-a", "app-b")}
    rc, results = run_playbook(PLAYBOOK, inventory(tmp_path, "mall", fleet), {"scenario": "dump", "restore_point_name": name}, host=None)
    assert rc == 0, {host: failures(tasks) for host, tasks in results.items()}
    taken = {"host": "app-a", "path": "/var/backups/app-a/%s/database.sql.gz" % name}
    assert [results[host][CHOOSE]["ansible_facts"]["restore_point_database_dump"] for host in fleet] == [taken, taken]
    assert results["app-a"][DUMP]["changed"] is True and results["app-b"][DUMP].get("skipped") is True

    # app-a's manifest lists its dump, so it is recorded (as restore_point's main.yml does); an older row names a dump
    # outside its own restore point (another host's, recorded as its own): never reused.
    in_host("""mariadb shop <<'SQL'
UPDATE mall_cache_migration_fleet SET dump = '%s' WHERE host = 'app-a';
INSERT INTO mall_cache_migration_fleet (host, state, restore_point, dump, updated)
VALUES ('app-old', 'migrated', '/var/backups/app-old/20260101T000000Z', '/var/backups/app-x/20260101T000000Z/database.sql.gz', '2026-01-01');
SQL
""" % taken["path"])
    rc, results = run_playbook(PLAYBOOK, inventory(tmp_path, "mall", {"app-c": {"mall_restore_point_root": "/var/backups/app-c"}}),
                               {"scenario": "dump", "restore_point_name": name}, host="app-c")
    assert rc == 0, failures(results)
    assert results[CHOOSE]["ansible_facts"]["restore_point_database_dump"] == taken
    assert results[DUMP].get("skipped") is True
