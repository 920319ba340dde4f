"""Every Molecule scenario, run whole (`molecule test`) against real containers.

The output of each run goes to tests/output/molecule-<scenario>.log; its tail is
shown when a scenario fails.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
# These share container names (mall-db, mall-app, network mall-sandbox): under pytest-xdist
# (make test: --dist loadgroup) one group runs on one worker, one scenario after the other.
SHARED_SANDBOX = {"default", "rollback", "faults"}
PARAMS = [pytest.param(s, marks=[pytest.mark.xdist_group("mall-sandbox")] if s in SHARED_SANDBOX else [])
          for s in SCENARIOS]


@pytest.mark.parametrize("scenario", PARAMS)
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
