"""Every Molecule scenario, run whole (`molecule test`) against real containers.

The output of each run goes to tests/output/molecule-<scenario>.log; its tail is
shown when a scenario fails.
"""
import os
import pathlib
import subprocess

import pytest

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
