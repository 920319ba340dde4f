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

# Scenarios whose containers share names (mall-db, mall-app, mall-sandbox): never two at once.
_SHARED_SANDBOX_SCENARIOS = {"default", "rollback", "faults"}


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (make test: -n 2 --dist loadgroup), put the scenarios that share
    container names in one group, which runs on one worker in order, and start the long
    tests (Molecule, then the live scripts) first, so the two workers end near together."""
    def cost(item):
        path = item.path.name
        if path == "test_molecule.py":
            return 0
        if item.path.parent.name == "integration":
            return 1
        return 2

    for item in items:
        callspec = getattr(item, "callspec", None)
        if item.path.name == "test_molecule.py" and callspec and callspec.params.get("scenario") in _SHARED_SANDBOX_SCENARIOS:
            item.add_marker(pytest.mark.xdist_group("mall-sandbox"))
    items.sort(key=cost)
