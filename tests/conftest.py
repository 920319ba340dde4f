"""Make the collection importable as ansible_collections.mall.cache_migration, and order the tests.

scripts/bootstrap.sh links this work tree into the collections folder named
by ANSIBLE_COLLECTIONS_PATH; tests import the plugins through that path, as
Ansible itself does.

Tiers: the tests of CHECK_TIER (lint, sanity, unit, docs, changelog, package) carry the `check` marker:
`make check` runs them, `make test` runs them first and then the rest (`-m "not check"`).

Order: under pytest-xdist (`-n N --dist loadgroup --no-loadscope-reorder`), the scheduling units are
handed out in collection order, so they are sorted longest first by the durations that the last
complete run measured (tests/durations.json, written by the run itself at its end), for the workers
to end near together. A unit the file does not know yet goes first, as it may be long: a scenario, live script
or integration target (a sandbox of its own) before a file of tests.
"""
import json
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
_DEFAULT = ROOT / ".cache" / "collections"
_COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(_DEFAULT)).split(os.pathsep)[0]
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)

DURATIONS = ROOT / "tests" / "durations.json"
# The fast gate: static checks, the unit tests, and the tests that build or render without containers.
CHECK_TIER = ("tests/unit/", "tests/test_collection.py", "tests/test_sanity.py", "tests/test_docs.py",
              "tests/test_changelog.py", "tests/test_package.py", "tests/test_role_docs.py",
              "tests/test_debian_mirror.py")
# A test of the check tier's folders that starts a server in a container (a MariaDB and a Redis) runs with the
# rest, after the gate.
LIVE_FIXTURES = frozenset({"mariadb"})
# Each scenario, live script and integration target has containers of its own, so they run side by side; the
# tests of any other file share its module- and session-scoped fixtures (one ansible-test run, one sandbox)
# and stay on one worker.
SPLIT_FILES = ("test_molecule.py", "test_live_scripts.py", "test_integration_targets.py")


def schedule_unit(nodeid):
    """What one worker runs as a whole: every test of a file, but in SPLIT_FILES every parameter (a scenario, a
    live script, a target) with the tests that share it (a scenario's checks after it). The nodeid may carry
    xdist's `@group` suffix."""
    nodeid = nodeid.split("@")[0]
    path, dummy, test = nodeid.partition("::")
    if pathlib.PurePath(path).name not in SPLIT_FILES:
        return path
    return f"{path}::{test.partition('[')[2].rstrip(']')}" if "[" in test else nodeid


def pytest_configure(config):
    config.addinivalue_line("markers", "check: the fast gate (make check): lint, sanity, unit, docs, package")
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(DurationRecorder(), "mall-durations")


def known_durations():
    return json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    known = known_durations()
    for item in items:
        if item.nodeid.startswith(CHECK_TIER) and not LIVE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.check)
        item.add_marker(pytest.mark.xdist_group(schedule_unit(item.nodeid)))

    # Unknown units first, in the order of SPLIT_FILES (the Molecule scenarios, the longest kind, first) and then
    # files of tests; then the known ones longest first. The sort is stable within a unit.
    def order(item):
        unit = schedule_unit(item.nodeid)
        if unit in known:
            return (1, -known[unit])
        return (0, SPLIT_FILES.index(item.path.name) if item.path.name in SPLIT_FILES else len(SPLIT_FILES))

    items.sort(key=order)


class DurationRecorder:
    """On the controller: the seconds of each scheduling unit (setup, call and teardown of its tests).
    After a passing run with MALL_RECORD_DURATIONS set (make check, make test), they are merged into
    tests/durations.json; a run of a few files leaves it alone."""

    def __init__(self):
        self.seconds = {}

    def pytest_runtest_logreport(self, report):
        unit = schedule_unit(report.nodeid)
        self.seconds[unit] = self.seconds.get(unit, 0.0) + report.duration

    def pytest_sessionfinish(self, session, exitstatus):
        if exitstatus != 0 or not os.environ.get("MALL_RECORD_DURATIONS"):
            return
        known = {unit: seconds for unit, seconds in known_durations().items()
                 if (ROOT / unit.split("::")[0]).exists()}
        known.update({unit: round(seconds, 1) for unit, seconds in self.seconds.items()})
        DURATIONS.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n")
