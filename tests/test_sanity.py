"""ansible-test sanity on the collection, with no ignore files.

ansible-test only runs inside a real ``ansible_collections/<namespace>/<name>`` tree (it
resolves the symlink that scripts/bootstrap.sh makes and then finds no such parent), so
the collection is copied into one first. It runs from .cache/sanity-venv
(requirements/sanity.txt, bootstrap stage sanity-venv) with ``--local``.

Even with ``--local``, ansible-test makes a venv of its own for each sanity test that has
requirements and bootstraps pip into it with a get-pip.py that it downloads from
ci-files.testing.ansible.com, which CI cannot reach. So it runs with a HOME of its own,
in which this file puts:
- ``~/.ansible/test/cache/get_pip_<version>.py``, the place ansible-test looks first: a
  stand-in that installs pip from the pip wheel kept in the sanity venv's wheels folder,
  as get-pip.py does with the pip it embeds;
- ``~/.config/pip/pip.conf`` with ``no-index`` and ``find-links`` to that folder, since
  ansible-test passes pip no environment but HOME and PATH. The per-test venvs are built
  from exactly the wheels of requirements/sanity.txt, with no network.
The venvs stay in that HOME (.cache/sanity-venv/home) and are reused by later runs.
"""
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.mall.cache_migration.tests.ansible_test import (
    ANSIBLE_TEST, HOME, PYTHON, WHEELS, ansible_test, collection_files, copy_collection, link_dependencies,
)

# Every test of `ansible-test sanity --list-tests` (ansible-core 2.19.14) but those in EXCLUDED.
SANITY_TESTS = [
    "action-plugin-docs",
    "ansible-doc",
    "changelog",
    "compile",
    "empty-init",
    "ignores",
    "import",
    "line-endings",
    "no-assert",
    "no-get-exception",
    "no-illegal-filenames",
    "no-smart-quotes",
    "pep8",
    "pylint",
    "replace-urlopen",
    "runtime-metadata",
    "shebang",
    "shellcheck",
    "symlinks",
    "use-argspec-type-path",
    "use-compat-six",
    "validate-modules",
    "yamllint",
]
EXCLUDED = {
    "pslint": "needs PowerShell and PSScriptAnalyzer, on neither PyPI nor Debian; "
              "the collection has no PowerShell",
}

GET_PIP_STAND_IN = '''\
"""Stand-in for ansible-test's get-pip.py, written by tests/test_sanity.py.

Runs `pip install <args>` with the pip wheel of {wheels}, as get-pip.py does with the
pip it embeds. get-pip.py's own --no-setuptools and --no-wheel mean "do not add them".
"""
import glob
import os
import sys

WHEELS = {wheels!r}
sys.path.insert(0, sorted(glob.glob(os.path.join(WHEELS, "pip-*.whl")))[-1])
from pip._internal.cli.main import main  # noqa: E402

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-index", "--find-links", WHEELS] + args))
'''

PIP_CONF = """\
# Written by tests/test_sanity.py: the venvs of ansible-test sanity install from the
# wheels of requirements/sanity.txt and nothing else.
[global]
no-index = true
find-links = {wheels}
disable-pip-version-check = true
"""


def prepare_home():
    pip_wheels = sorted(WHEELS.glob("pip-*.whl"))
    assert pip_wheels, f"no pip wheel in {WHEELS}: run scripts/bootstrap.sh"
    pip_version = pip_wheels[-1].name.split("-")[1]
    cache = HOME / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"get_pip_{pip_version.replace('.', '_')}.py").write_text(
        GET_PIP_STAND_IN.format(wheels=str(WHEELS)))
    pip_conf = HOME / ".config" / "pip" / "pip.conf"
    pip_conf.parent.mkdir(parents=True, exist_ok=True)
    pip_conf.write_text(PIP_CONF.format(wheels=WHEELS))


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A copy of the collection in an ansible_collections tree, and ansible-test's HOME."""
    if not ANSIBLE_TEST.exists():
        pytest.fail(f"{ANSIBLE_TEST} is missing: run scripts/bootstrap.sh")
    prepare_home()
    dest = tmp_path_factory.mktemp("sanity") / "ansible_collections" / "mall" / "cache_migration"
    copy_collection(dest)
    link_dependencies(dest.parent.parent)
    return dest


class SanityRun(dict):
    """{test: junit testcase} of one ansible-test run, with its console output as .log."""

    def __init__(self, results, log):
        super().__init__(results)
        self.log = log

    def __repr__(self):
        return f"<sanity run of {len(self)} tests>"


@pytest.fixture(scope="module")
def sanity(collection):
    """Run every sanity test once; return {test: junit testcase} and the console output."""
    args = ["sanity", "--local", "--python", PYTHON, "--color", "no", "--junit"]
    for name in SANITY_TESTS:
        args += ["--test", name]
    log = ansible_test(collection, *args)[1]
    results = {}
    # One file per test: ansible-test-sanity-<test>.xml, or <test>-python-<version> for the
    # tests that run on each Python.
    for xml in (collection / "tests" / "output" / "junit").glob("ansible-test-sanity-*.xml"):
        name = xml.stem.removeprefix("ansible-test-sanity-").removesuffix(f"-python-{PYTHON}")
        results[name] = ET.parse(xml).getroot().find(".//testcase")
    return SanityRun(results, log)


def test_collection_has_no_sanity_ignore_files():
    ignores = [p for p in collection_files() if p.startswith("tests/sanity/") and "ignore" in p]
    assert not ignores, f"sanity must pass without ignore files: {ignores}"


def test_every_sanity_test_is_run_or_excluded_with_a_reason(collection):
    proc, log = ansible_test(collection, "sanity", "--list-tests", timeout=300)
    assert proc.returncode == 0, log
    listed = {line for line in proc.stdout.splitlines() if line and not line.startswith("WARNING")}
    assert listed == set(SANITY_TESTS) | set(EXCLUDED), log


@pytest.mark.parametrize("name", SANITY_TESTS)
def test_sanity(sanity, name):
    log = sanity.log
    case = sanity.get(name)
    assert case is not None, f"ansible-test wrote no result for {name}:\n{log[-6000:]}"
    problems = [el for el in case if el.tag in ("failure", "error")]
    assert not problems, "\n".join(
        f"{el.get('message', '')}\n{el.text or ''}" for el in problems)
    skipped = case.find("skipped")
    if skipped is not None:
        # A test with no file to check is skipped with this reason; so is one whose program
        # is missing (shellcheck, pwsh), but that one warns first.
        reason = skipped.get("message") or skipped.text or ""
        section = log.partition(f'Running sanity test "{name}"')[2].partition("Running sanity test")[0]
        assert reason == "No tests applicable." and "Required program" not in section, \
            f"{name} did not run: {reason}{section}"
