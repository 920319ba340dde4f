"""plan, migrate, verify and rollback run as AWX runs a job: `ansible-runner run` with a private
data dir laid out as AWX lays it, inside the execution environment (meta/ee-image.yml,
`--process-isolation` with docker), against a sandbox of its own (awx-db, awx-app and the
siblings prepare makes, on the network awx-sandbox; MALL_LIVE_PREFIX, default "awx", replaces
"awx" in every name, so that runs side by side do not meet).

The workflow "migrate with approval" is run as AWX runs it: the plan job (migrate.yml in check
mode with diff), whose artifacts AWX reads from the `playbook_on_stats` event, then, once
approved, the migrate job with those artifacts among its extra vars.

What AWX would give the job is made here as AWX makes it: project/ holds the project's
playbooks (the job templates of playbooks/awx_job_templates.yml run playbooks/*.yml of the
project, the collection comes from the EE), inventory/hosts the inventory AWX imported from
the project's group_vars, env/extravars the job template's extra vars, the survey answers
and the secrets the credential injects, the limit a prompt-on-launch answer; one job runs
every host (no job slicing). The EE is built by the session fixture unless Docker has an
image of this very tree (`scripts/ee.sh current`; a build takes minutes).
"""
import json
import os
import pathlib
import shutil
import subprocess

import ansible_runner
import docker
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "inventories" / "sandbox"
RESOURCES = ROOT / "molecule" / "resources"
EE_IMAGE = os.environ.get("MALL_EE_IMAGE", "mall-cache-migration/ee:1")
TEST_IMAGE = os.environ.get("MALL_TEST_IMAGE", "mall-cache-migration/bookworm:1")
WHEELHOUSE = os.environ.get("MALL_WHEELHOUSE", str(ROOT / ".cache" / "wheelhouse"))
PREFIX = os.environ.get("MALL_LIVE_PREFIX", "awx")
NETWORK = f"{PREFIX}-sandbox"
DB, APP, REDIS = f"{PREFIX}-db", f"{PREFIX}-app", f"{PREFIX}-redis"
# The sandbox's names (inventories/sandbox/group_vars/all.yml), made this test's own.
NAMES = {
    "sandbox_network": NETWORK,
    "sandbox_redis_container": REDIS,
    "sandbox_redis_volume": f"{PREFIX}-redis-data",
    "sandbox_decoy_container": f"{PREFIX}-decoy",
    "sandbox_decoy_volume": f"{PREFIX}-decoy-data",
    "mall_db_host": DB,
}
# The task whose result names the restore point a migration took (restore_point_path); runner events name a
# task without its role.
RESTORE_POINT_TASK = "Name the restore point and its layout for the roles that follow"
# The secrets of the "mall.cache_migration secrets" credential, as its injector passes them.
SECRETS = {"mall_db_password": "dev_password", "mall_redis_password": "redis_dev_password"}
# The fixture's env files name the hosts of molecule/default (mall-db, mall-server-redis-dev);
# the app's settings prefer the real environment (python-decouple), so the app container's
# environment points them at this sandbox. It survives the migration and the rollback, which
# put the env files back as they were.
APP_ENVIRONMENT = {
    "MYSQL_HOST": DB,
    "REDIS_URL": f"redis://:redis_dev_password@{REDIS}:6379/1",
    "CELERY_BROKER_URL": f"redis://:redis_dev_password@{REDIS}:6379/0",
    "CELERY_RESULT_BACKEND": f"redis://:redis_dev_password@{REDIS}:6379/0",
}


def ansible_playbook(*args, env=None):
    result = subprocess.run(["ansible-playbook", *args], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, check=False)
    assert result.returncode == 0, f"ansible-playbook {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"


@pytest.fixture(scope="session")
def ee_image():
    # Built unless an image of this very tree exists: one of an older tree runs the older collection.
    subprocess.run(["bash", str(ROOT / "scripts" / "ee.sh"), "current"], check=True,
                   env={**os.environ, "MALL_EE_IMAGE": EE_IMAGE})
    return EE_IMAGE


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """The sandbox of molecule/default under this test's names, made by its prepare playbook."""
    client = docker.from_env()
    work = tmp_path_factory.mktemp("awx-sandbox")
    # The sandbox's group_vars, with the hosts and names of this test.
    inventory = work / "inventory"
    inventory.mkdir()
    (inventory / "group_vars").symlink_to(SANDBOX / "group_vars")
    (inventory / "hosts.yml").write_text(yaml.safe_dump({
        "mall_databases": {"hosts": {DB: {"ansible_connection": "community.docker.docker"}}},
        "mall_servers": {"hosts": {APP: {"ansible_connection": "community.docker.docker"}}},
    }))
    names = work / "names.json"
    names.write_text(json.dumps(NAMES))
    cleanup = ["-i", str(inventory / "hosts.yml"), "-e", f"@{names}", str(RESOURCES / "cleanup.yml")]

    def remove():
        subprocess.run(["ansible-playbook", *cleanup], cwd=ROOT, capture_output=True, check=False)
        for name in (APP, DB):
            try:
                client.containers.get(name).remove(force=True)
            except docker.errors.NotFound:
                pass
        for network in client.networks.list(names=[NETWORK]):
            network.remove()

    remove()
    client.networks.create(NETWORK)
    try:
        client.containers.run(
            TEST_IMAGE, name=DB, detach=True, network=NETWORK,
            command=["/bin/bash", "-c", "install -d -o mysql -g mysql /run/mysqld && exec mariadbd --user=mysql --bind-address=0.0.0.0"])
        client.containers.run(
            TEST_IMAGE, name=APP, detach=True, network=NETWORK, command=["sleep", "infinity"], environment=APP_ENVIRONMENT,
            volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
                     WHEELHOUSE: {"bind": "/wheelhouse", "mode": "ro"}})
        ansible_playbook("-i", str(inventory / "hosts.yml"), "-e", f"@{names}", str(RESOURCES / "prepare.yml"),
                         env={"MOLECULE_EPHEMERAL_DIRECTORY": str(work)})
        yield inventory
    finally:
        remove()


def awx_inventory(inventory_dir):
    """The inventory as AWX imports it from an SCM source: group_vars become group variables."""
    groups = {}
    for group in ("all", "mall_databases", "mall_servers"):
        groups[group] = {"vars": yaml.safe_load((inventory_dir / "group_vars" / f"{group}.yml").read_text())}
    # Inside the EE the docker CLI is not there: the Docker API connection reaches the
    # containers through the engine's socket. Host variables, to win over the group_vars.
    host_vars = {"ansible_connection": "community.docker.docker_api", **NAMES}
    groups["mall_databases"]["hosts"] = {DB: host_vars}
    groups["mall_servers"]["hosts"] = {APP: host_vars}
    return {"all": {"vars": groups.pop("all")["vars"], "children": groups}}


@pytest.fixture(scope="module")
def private_data_dir(sandbox, tmp_path_factory):
    pdd = tmp_path_factory.mktemp("awx-job")
    # project/: the project checkout; its playbooks are the job templates' playbooks.
    shutil.copytree(ROOT / "playbooks", pdd / "project" / "playbooks")
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts").write_text(yaml.safe_dump(awx_inventory(sandbox)))
    (pdd / "env").mkdir()
    return pdd


def run_job(pdd, ee, ident, playbook, extravars, check=False):
    """One AWX job: extra vars (template, survey, credential) in env/extravars, limit from the prompt;
    a job template of job type check with diff mode runs with --check --diff, as AWX runs it.
    ansible-runner names the job's container ansible_runner_<ident>."""
    (pdd / "env" / "extravars").write_text(yaml.safe_dump({**extravars, **SECRETS}))
    # ansible-runner keeps a cmdline it was given in env/cmdline, which the next job would read: each job writes its own.
    (pdd / "env" / "cmdline").write_text("--check --diff" if check else "")
    job = ansible_runner.run(
        private_data_dir=str(pdd), ident=ident, playbook=f"playbooks/{playbook}", limit=APP,
        process_isolation=True, process_isolation_executable="docker", container_image=ee,
        container_volume_mounts=["/var/run/docker.sock:/var/run/docker.sock"],
        quiet=True)
    stdout = (pdd / "artifacts" / ident / "stdout").read_text()
    assert job.status == "successful" and job.rc == 0, f"{ident}: {job.status} rc={job.rc}\n{stdout[-6000:]}"
    events = list(job.events)
    assert not [e for e in events if e["event"] in ("runner_on_failed", "runner_on_unreachable")
                and not e["event_data"].get("ignore_errors")], stdout[-6000:]
    stats = next(e for e in events if e["event"] == "playbook_on_stats")["event_data"]
    assert not stats["failures"] and not stats["dark"], stats
    assert set(stats["ok"]) == {APP}, "the limit left another host in the job"
    return stats, stdout, events


def restore_point_paths(events):
    """The restore points the job took (or, in check mode, would take)."""
    return [e["event_data"]["res"]["ansible_facts"]["restore_point_path"] for e in events
            if e["event"] == "runner_on_ok" and e["event_data"].get("task") == RESTORE_POINT_TASK]


def restore_point_plan(events):
    """The plan.json of the restore point the job took, read in the app container."""
    named = restore_point_paths(events)
    assert len(named) == 1, named
    read = docker.from_env().containers.get(APP).exec_run(["cat", f"{named[0]}/plan.json"])
    assert read.exit_code == 0, read.output
    return json.loads(read.output)


def test_plan_approve_apply_verify_rollback_as_awx_jobs(ee_image, private_data_dir):
    template = {"mall_serial": 1, "mall_max_fail_percentage": 0}
    # The workflow's survey answers: extra vars of both its jobs.
    survey = {"post_checks_operations": 50}

    # The plan node: the plan job template, migrate.yml in check mode with diff.
    stats, _stdout, events = run_job(private_data_dir, ee_image, f"{PREFIX}-plan", "migrate.yml", {**template, **survey},
                                     check=True)
    # AWX takes a job's artifacts from the stats event (set_stats data).
    artifacts = stats["artifact_data"]
    assert set(artifacts["mall_plan"]) == {APP}
    plan = artifacts["mall_plan"][APP]
    assert (plan["schema_version"], plan["host"], plan["pending"]) == (1, APP, True)
    assert plan["steps"], plan
    # AWX keeps the artifacts in its database and shows them with the job.
    for secret in SECRETS.values():
        assert secret not in json.dumps(artifacts)
    app = docker.from_env().containers.get(APP)
    for path in restore_point_paths(events):
        assert app.exec_run(["test", "-e", path]).exit_code != 0, f"the check-mode job wrote {path}"

    # Approved: the apply node, the migrate job. AWX gives the nodes after a job its artifacts as
    # extra vars (through the approval node); the workflow's own extra vars win over them.
    stats, _stdout, events = run_job(private_data_dir, ee_image, f"{PREFIX}-migrate", "migrate.yml",
                                     {**template, **artifacts, **survey})
    assert stats["changed"].get(APP, 0) > 0
    assert restore_point_plan(events) == plan, "the restore point holds another plan than the approved one"

    # The job's artifacts directory, as the EE sees it.
    report = f"/runner/artifacts/{PREFIX}-verify/verify-report.json"
    stats, stdout, _events = run_job(private_data_dir, ee_image, f"{PREFIX}-verify", "verify.yml",
                                     {"verify_expected_backend": "database", "verify_operations": 20,
                                      "verify_report_file": report})
    assert stats["changed"].get(APP, 0) == 0
    collected = json.loads((private_data_dir / "artifacts" / f"{PREFIX}-verify" / "verify-report.json").read_text())
    assert collected["expected_backend"] == "database"
    result = collected["hosts"][APP]
    assert not result["failures"], result
    assert result["checks"]["backend"]["ok"], result["checks"]["backend"]
    assert result["checks"]["backend"]["figures"]["backend_kind"] == "database"
    assert result["checks"]["round_trip"]["ok"]
    for secret in SECRETS.values():
        assert secret not in stdout and secret not in json.dumps(collected)

    stats, _stdout, _events = run_job(private_data_dir, ee_image, f"{PREFIX}-rollback", "rollback.yml", template)
    assert stats["changed"].get(APP, 0) > 0
