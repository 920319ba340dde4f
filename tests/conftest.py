"""Make the collection importable as ansible_collections.mall.cache_migration.

scripts/bootstrap.sh links this work tree into the collections folder named
by ANSIBLE_COLLECTIONS_PATH; tests import the plugins through that path, as
Ansible itself does.
"""
import os
import pathlib
import sys

import pytest

_DEFAULT = pathlib.Path(__file__).resolve().parent.parent / ".cache" / "collections"
_COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(_DEFAULT)).split(os.pathsep)[0]
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)


# Live tests by their length, the longest last: sorted to start first.
LONGEST_LAST = ("playbooks_live.sh", "secrets_canary_live.sh", "test_awx_runner.py", "other_layout_live.sh")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Under pytest-xdist (make test: -n 2 --dist loadgroup): start the long tests first
    (Molecule, then the live tests), so that the two workers end near together, and keep the
    tests of one file on one worker."""
    def cost(item):
        if item.path.name == "test_molecule.py":
            return (0, 0)
        if item.path.parent.name == "integration":
            # The longest live tests first among them (other_layout_live.sh takes 12 to 23 minutes).
            return (1, -next((rank for rank, name in enumerate(LONGEST_LAST, 1) if name in item.nodeid), 0))
        return (2, 0)

    items.sort(key=cost)
    # The tests of one file share its module- and session-scoped fixtures (one ansible-test
    # run, one sandbox): keep each file on one worker. Molecule scenarios (grouped in their
    # parametrization) and the live scripts (each on its own containers) stay apart.
    for item in items:
        if item.path.name not in ("test_molecule.py", "test_live_scripts.py"):
            item.add_marker(pytest.mark.xdist_group(str(item.path.relative_to(item.config.rootpath))))
