"""The lock and the restore points, against a real host: this machine over the local connection
with a throwaway project (tests/local_host.py).

- check mode creates neither the lock nor its directory;
- a lock in a directory that other users can write to is refused;
- the lock records its holder; a second run is refused with that record; after kill -9 of the
  holder, the next run says its process is gone and mall_lock_break_stale=true takes it over;
- rollback goes by the manifests, not by folder names, and refuses to overwrite a file that
  changed after the migration unless rollback_force=true, which keeps a copy of it. A rollback that
  gets that far reads the fleet's registry first, in the app database: a MariaDB container (lk-db).
"""
import hashlib
import json
import os
import signal
import subprocess
import time

import docker
import pytest
from ansible_collections.mall.cache_migration.tests.local_host import ROOT, checksums, failures, make_host, run_playbook

# A run that takes the lock and nothing else: every migrate.yml step is tagged, the lock is "always".
LOCK_ONLY = ("--tags", "no_step_but_the_lock")


@pytest.fixture
def host(tmp_path):
    return make_host(tmp_path)


TEST_IMAGE = os.environ.get("MALL_TEST_IMAGE", "mall-cache-migration/bookworm:1")
DATABASE_CONTAINER = "lk-db"


@pytest.fixture(scope="module")
def database():
    """The app database of the local host, as the inventory names it: a MariaDB of the test image."""
    client = docker.from_env()

    def remove():
        try:
            client.containers.get(DATABASE_CONTAINER).remove(force=True)
        except docker.errors.NotFound:
            pass

    remove()
    server = client.containers.run(
        TEST_IMAGE, name=DATABASE_CONTAINER, detach=True,
        command=["/bin/bash", "-c", "install -d -o mysql -g mysql /run/mysqld && exec mariadbd --user=mysql --bind-address=0.0.0.0"])
    try:
        deadline = time.monotonic() + 120
        while server.exec_run(["mariadb", "-e", "SELECT 1"]).exit_code != 0:
            assert time.monotonic() < deadline, server.logs()[-2000:]
            time.sleep(1)
        created = server.exec_run(["mariadb", "-e", "CREATE DATABASE mall_lock_test; CREATE USER 'mall'@'%' IDENTIFIED BY 'lock-test';"
                                   " GRANT ALL ON mall_lock_test.* TO 'mall'@'%';"])
        assert created.exit_code == 0, created.output
        server.reload()
        yield {"mall_db_host": server.attrs["NetworkSettings"]["IPAddress"], "mall_db_name": "mall_lock_test",
               "mall_db_user": "mall", "mall_db_password": "lock-test"}
    finally:
        remove()


def output_of(result):
    return result.stdout + result.stderr


def test_check_mode_creates_no_lock(host):
    result = run_playbook(host, "migrate.yml", {}, "--check", *LOCK_ONLY)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert not (host["base"] / "run").exists()
    # The same run for real takes the lock (its directory stays, 0700) and releases it.
    result = run_playbook(host, "migrate.yml", {}, *LOCK_ONLY)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert (host["base"] / "run").stat().st_mode & 0o777 == 0o700
    assert not (host["base"] / "run" / "lock").exists()


def test_a_lock_where_others_can_write_is_refused(host):
    shared = host["base"] / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    result = run_playbook(host, "migrate.yml", {"mall_lock_dir": str(shared / "lock")}, *LOCK_ONLY)
    assert result.returncode != 0
    assert "which belongs to uid 0 with mode 1777: any user who can write there could take or fake the lock" in output_of(result)
    assert list(shared.iterdir()) == []


def wait_for(path, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file() and path.stat().st_size > 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{path} did not appear")


def test_the_lock_records_its_holder_and_a_killed_run_can_be_taken_over(host):
    lock = host["base"] / "run" / "lock"
    release = host["base"] / "release"
    holder = subprocess.Popen(
        # It holds the lock far longer than the test takes on a loaded machine, until `release` exists.
        ["ansible-playbook", "-i", str(host["inventory"]), "-e", "hold_seconds=1800", "-e", f"hold_until={release}",
         str(ROOT / "tests" / "fixtures" / "hold_lock.yml")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    try:
        wait_for(lock / "owner.json")
        owner = json.loads((lock / "owner.json").read_text())
        assert owner["pid"] == holder.pid
        assert owner["controller"] == os.uname().nodename
        assert owner["host"] == "local-host" and owner["play"] == "Hold the lock" and owner["user"] == "root"
        assert oct((lock / "owner.json").stat().st_mode & 0o777) == "0o600"

        for extra in ({}, {"mall_lock_break_stale": True}):
            refused = run_playbook(host, "migrate.yml", extra, *LOCK_ONLY)
            assert refused.returncode != 0
            assert (f'Another migration or rollback holds {lock} on local-host: "Hold the lock" started {owner["started"]} '
                    f'by root on {owner["controller"]} (pid {holder.pid}), still running: wait for it to finish.') in output_of(refused), \
                output_of(refused)[-3000:]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        # The worker that waits in "Hold it" outlives the kill: let it go.
        release.touch()

    # The killed run left its lock behind, with its record.
    assert json.loads((lock / "owner.json").read_text()) == owner
    refused = run_playbook(host, "migrate.yml", {}, *LOCK_ONLY)
    assert refused.returncode != 0
    assert f"(pid {holder.pid}), whose process is gone: run again with -e mall_lock_break_stale=true" in output_of(refused)
    assert json.loads((lock / "owner.json").read_text()) == owner

    taken = run_playbook(host, "migrate.yml", {"mall_lock_break_stale": True}, *LOCK_ONLY)
    assert taken.returncode == 0, output_of(taken)[-3000:]
    took_over = output_of(taken).split("Take over the lock of a run that is gone]")[1].split("TASK [")[0]
    assert "ok: [local-host]" in took_over, took_over
    assert not lock.exists() and list((host["base"] / "run").iterdir()) == []


def test_a_lock_without_a_record_is_never_broken(host):
    lock = host["base"] / "run" / "lock"
    lock.mkdir(parents=True)
    refused = run_playbook(host, "migrate.yml", {"mall_lock_break_stale": True}, *LOCK_ONLY)
    assert refused.returncode != 0
    assert "it records no owner" in output_of(refused)
    assert lock.is_dir()


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_restore_point(root, name, created, files, migrated=None, app_dir=None):
    """A restore point as the restore_point role leaves it: copies of the files, a manifest, and
    (when the migration finished) migrated.json with the files' checksums after the migration."""
    point = root / name
    for path, before in files.items():
        copy = point / ("files" + str(path))
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(before)
    manifest = {
        # The host's app by default (local_host.make_host: base/app beside base/restore-points).
        "created": created, "host": "local-host", "app_dir": app_dir or str(root.parent / "app"),
        "restored_files": [{"path": str(path), "checksum": hashlib.sha256(before.encode()).hexdigest(),
                            "mode": "0644", "pw_name": "root", "gr_name": "root", "size": len(before)}
                           for path, before in files.items()],
        "contents": [],
    }
    (point / "manifest.json").write_text(json.dumps(manifest))
    if migrated is not None:
        (point / "migrated.json").write_text(json.dumps(
            {"recorded": "now", "files": [{"path": str(p), "checksum": hashlib.sha256(t.encode()).hexdigest()}
                                          for p, t in migrated.items()]}))
    return point


def test_rollback_goes_by_the_manifest_and_refuses_files_changed_since_the_migration(host):
    root = host["base"] / "restore-points"
    env_file = host["app"] / ".env.production"
    before = env_file.read_text()
    after_migration = "SECRET_KEY=x\n"
    env_file.write_text(after_migration + "FEATURE_FLAG=on\n")  # an edit made after the migration
    now = checksums(host["app"])
    write_restore_point(root, "20261126T071900Z", "20261126T071900Z", {env_file: before}, {env_file: after_migration})
    # Folders that are not restore points, with names that sort last, and an older restore point
    # whose name sorts after the real newest one.
    (root / "zzzz-other-tool").mkdir()
    (root / "99999999T999999Z").mkdir()
    write_restore_point(root, "zz-renamed-copy", "20250101T000000Z", {env_file: "OLD=1\n"})
    # Another app's on the same root, newer: never this app's to go back to.
    write_restore_point(root, "20261127T080000Z-0b7e5d21", "20261127T080000Z", {env_file: "OTHER=1\n"}, app_dir="/srv/shop")

    refused = run_playbook(host, "rollback.yml", {})
    assert refused.returncode != 0
    assert (f"Rolling back to 20261126T071900Z: these files changed after the migration (their checksum is neither the one "
            f"the migration left nor the one before it): {env_file}.") in output_of(refused)
    assert checksums(host["app"]) == now
    assert not (host["base"] / "run" / "lock").exists()


def test_rollback_with_no_restore_point_names_the_folders_it_skipped(host):
    root = host["base"] / "restore-points"
    (root / "zzzz-other-tool").mkdir(parents=True)
    refused = run_playbook(host, "rollback.yml", {})
    assert refused.returncode != 0
    assert f"No restore point with a valid manifest in {root} on local-host (not restore points: zzzz-other-tool)." in output_of(refused)
    named = run_playbook(host, "rollback.yml", {"rollback_restore_point": "zzzz-other-tool"})
    assert named.returncode != 0
    assert "rollback_restore_point zzzz-other-tool is not a restore point" in output_of(named)
    assert "(no manifest.json)" in output_of(named)
    assert checksums(host["app"]) == host["before"]


@pytest.mark.parametrize("extra, argument", [
    ({"rollback_restore_database": "maybe"}, "rollback_restore_database"),
    ({"rollback_redis_data_owner_id": "redis"}, "rollback_redis_data_owner_id"),
])
def test_rollback_refuses_a_bad_argument_before_the_lock(host, monkeypatch, extra, argument):
    monkeypatch.setenv("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.json")
    refused = run_playbook(host, "rollback.yml", extra)
    assert refused.returncode != 0
    [(play, failed)] = failures(refused)
    # Refused by the validation play, naming the argument; no lock was ever taken.
    assert play == "Check the settings of mall-server hosts"
    assert [error for error in failed["argument_errors"] if f"'{argument}'" in error], failed
    assert not (host["base"] / "run").exists()
    assert checksums(host["app"]) == host["before"]


def test_rollback_force_puts_the_file_back_and_keeps_the_changed_one(host, database):
    root = host["base"] / "restore-points"
    env_file = host["app"] / ".env.production"
    before = env_file.read_text()
    changed = "SECRET_KEY=x\nFEATURE_FLAG=on\n"
    env_file.write_text(changed)
    write_restore_point(root, "20261126T071900Z", "20261126T071900Z", {env_file: before}, {env_file: "SECRET_KEY=x\n"})

    forced = run_playbook(host, "rollback.yml", {"rollback_force": True, **database})
    # The project here has no virtualenv, so the run stops at the pip sync, after the files.
    assert "Put back the files byte for byte" in output_of(forced)
    assert env_file.read_text() == before
    copies = [p for p in host["app"].iterdir() if p.name.startswith(".env.production.") and p.name.endswith("~")]
    assert [p.read_text() for p in copies] == [changed]
    assert not (host["base"] / "run" / "lock").exists()
