"""Every Molecule scenario, run whole (`molecule test`) against real containers, then checked for what it left.

The output of each run goes to tests/output/molecule-<scenario>.log; its tail is
shown when a scenario fails.
"""
import os
import pathlib
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Each scenario has containers and a network of its own (mall-*, ft-*, fh-*, fl-*, rw-*), so
# under pytest-xdist (make test) they run side by side, longest first (tests/conftest.py).
SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario):
    log = ROOT / "tests" / "output" / f"molecule-{scenario}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        result = subprocess.run(
            ["molecule", "test", "-s", scenario],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=os.environ, check=False,
        )
    tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-80:])
    assert result.returncode == 0, f"molecule test -s {scenario} failed, see {log}:\n{tail}"


def platforms(scenario):
    return yaml.safe_load((ROOT / "molecule" / scenario / "molecule.yml").read_text())["platforms"]


# What `docker ls` lists of each kind, and the field that names one.
DOCKER_LISTS = {"container": (["docker", "container", "ls", "--all"], "{{.Names}}"),
                "network": (["docker", "network", "ls"], "{{.Name}}")}


def docker_names(kind):
    command, name = DOCKER_LISTS[kind]
    return set(subprocess.run(command + ["--format", name], capture_output=True, text=True, check=True).stdout.split())


# The two checks below run right after their scenario, on its worker (tests/conftest.py makes the three one unit).
# They also keep that worker's queue short: pytest-xdist hands a worker more work once it has two tests or fewer
# left, and a long scenario would hold whatever it was handed until it ends.
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_left_no_container(scenario):
    left = {platform["name"] for platform in platforms(scenario)} & docker_names("container")
    assert not left, f"molecule test -s {scenario} left its containers: {sorted(left)}"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_left_no_network(scenario):
    networks = {network["name"] for platform in platforms(scenario) for network in platform.get("networks", [])}
    left = networks & docker_names("network")
    assert not left, f"molecule test -s {scenario} left its networks: {sorted(left)}"
