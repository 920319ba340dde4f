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


# After the Molecule scenarios, the longest tests, longest first (minutes in make test: other_layout 10,
# the secrets canary 4.5, sanity 4.5, the AWX runner 4, playbooks_live 3, bad input 3, lint 2, the pip
# and lock tests 2 each); the many short ones after them.
LONGEST_FIRST = ("other_layout_live.sh", "secrets_canary_live.sh", "test_sanity.py", "test_awx_runner.py",
                 "playbooks_live.sh", "test_bad_input.py", "test_collection.py", "test_pip_sync_live.py",
                 "test_lock_and_restore_points.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Under pytest-xdist (make test: -n 3 --dist loadgroup --no-loadscope-reorder, which hands the
    scopes out in this order): start the long tests first (Molecule, then the longest others), so
    that the workers end near together, and keep the tests of one file on one worker."""
    def cost(item):
        if item.path.name == "test_molecule.py":
            return 0
        return 1 + next((rank for rank, name in enumerate(LONGEST_FIRST) if name in item.nodeid), len(LONGEST_FIRST))

    items.sort(key=cost)
    # The tests of one file share its module- and session-scoped fixtures (one ansible-test
    # run, one sandbox): keep each file on one worker. The Molecule scenarios and the live scripts
    # (each on containers of its own) stay apart.
    for item in items:
        if item.path.name not in ("test_molecule.py", "test_live_scripts.py"):
            item.add_marker(pytest.mark.xdist_group(str(item.path.relative_to(item.config.rootpath))))
