"""The shell-driven live tests: each starts its own throwaway containers,
runs real services, asserts, and removes what it made."""
import pathlib
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent
SCRIPTS = sorted(p.name for p in HERE.glob("*_live.sh"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_live_script(script):
    result = subprocess.run(["bash", str(HERE / script)], capture_output=True, text=True, check=False)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, f"{script} failed:\n{tail}"
