"""ansible-test integration, one pytest test per target of tests/integration/targets.

Each target runs in a copy of the collection of its own (tests/ansible_test_run.py), so targets run side by side:
tests/conftest.py makes each test a scheduling unit. The copy's tests/integration/integration_config.yml, which
ansible-test passes to the target as extra vars, gives the test image and the prefix of the target's containers:
MALL_IT_PREFIX (default `it`) and the target's name; and the wheelhouse for the containers' virtualenvs.

It runs with `--local --python 3.11` from the tools' venv (community.docker needs requests there). Without
`--requirements`, ansible-test installs nothing into a Python it does not manage (requirements_allowed in
ansible_test/_internal/python_requirements.py), so the run is offline; the collections it needs are the
dependencies linked beside the copy, and Galaxy is never asked.
"""
import os

import pytest
import yaml

from ansible_collections.mall.cache_migration.tests.ansible_test_run import (
    CACHE, PYTHON, ROOT, SanityVenv, copy_collection, link_dependencies,
)

# The tools' venv: the same ansible-core, with requests for community.docker on the controller.
TOOLS_VENV = os.environ.get("MALL_VENV", str(CACHE / "venv"))

TARGETS = sorted(path.name for path in (ROOT / "tests" / "integration" / "targets").iterdir()
                 if "hidden" not in (path / "aliases").read_text().split())
IMAGE = os.environ.get("MALL_TEST_IMAGE", "mall-cache-migration/bookworm:1")
WHEELHOUSE = os.environ.get("MALL_WHEELHOUSE", str(ROOT / ".cache" / "wheelhouse"))


@pytest.mark.parametrize("target", TARGETS)
def test_integration_target(target, tmp_path):
    collection = tmp_path / "ansible_collections" / "mall" / "cache_migration"
    copy_collection(collection)
    link_dependencies(collection.parent.parent)
    (collection / "tests" / "integration" / "integration_config.yml").write_text(yaml.safe_dump({
        "mall_test_image": IMAGE, "mall_wheelhouse": WHEELHOUSE,
        "mall_it_prefix": os.environ.get("MALL_IT_PREFIX", "it"),
    }))
    venv = SanityVenv(TOOLS_VENV)
    venv.home = tmp_path / "home"  # one per target: targets run side by side
    venv.home.mkdir()
    proc, log = venv.ansible_test(collection, "integration", target, "--local", "--python", PYTHON, "--color", "no")
    assert proc.returncode == 0, log[-8000:]
