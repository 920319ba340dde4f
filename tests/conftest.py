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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Start the long tests first (Molecule, then the live tests), so that under pytest-xdist
    (make test: -n 2) the two workers end near together."""
    def cost(item):
        if item.path.name == "test_molecule.py":
            return 0
        return 1 if item.path.parent.name == "integration" else 2

    items.sort(key=cost)
