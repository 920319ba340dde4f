"""ansible-test sanity on a copy of the collection, offline: the machinery of tests/test_sanity.py
(ansible-core of tools.txt) and tests/test_minimum_core.py (the declared minimum, 2.17).

ansible-test only runs inside a real ``ansible_collections/<namespace>/<name>`` tree (it
resolves the symlink that scripts/bootstrap.sh makes and then finds no such parent), so
the collection is copied into one first. It runs from a venv of pinned requirements made by
scripts/bootstrap.sh (``pinned_venv``), with ``--local``.

Even with ``--local``, ansible-test makes a venv of its own for each sanity test that has
requirements and bootstraps pip into it with a get-pip.py that it downloads from
ci-files.testing.ansible.com, which CI cannot reach. So it runs with a HOME of its own,
in which this file puts:
- ``~/.ansible/test/cache/get_pip_<version>.py``, the place ansible-test looks first: a
  stand-in that installs pip from the pip wheel kept in the venv's wheels folder,
  as get-pip.py does with the pip it embeds;
- ``~/.config/pip/pip.conf`` with ``no-index`` and ``find-links`` to that folder, since
  ansible-test passes pip no environment but HOME and PATH. The per-test venvs are built
  from exactly the wheels of the venv's requirements file, with no network.
The venvs stay in that HOME (<venv>/home) and are reused by later runs.
"""
import os
import pathlib
import shutil
import subprocess
import xml.etree.ElementTree as ET

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = pathlib.Path(os.environ.get("MALL_CACHE", str(ROOT / ".cache")))
PYTHON = "3.11"

# Every test of `ansible-test sanity --list-tests` (the same on ansible-core 2.17.14 and 2.19.14) but those
# in EXCLUDED.
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

# Left out of the copy: not Ansible content but the project's harness and test data.
OUT_OF_SCOPE = (
    "scripts/",  # bootstrap and helper scripts of the repository
    "tests/fixtures/",  # the Django project that the roles migrate, with its own style
    "tests/unit/fixtures/",  # byte-exact inputs, CRLF and BOM on purpose
    "tests/output/",  # ansible-test's own results
)

GET_PIP_STAND_IN = '''\
"""Stand-in for ansible-test's get-pip.py, written by tests/ansible_test_run.py.

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
# Written by tests/ansible_test_run.py: the venvs of ansible-test sanity install from the
# wheels of the venv's requirements file and nothing else.
[global]
no-index = true
find-links = {wheels}
disable-pip-version-check = true
"""


def collection_files():
    """Paths of the collection relative to ROOT: what git tracks or would track."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode()
        paths = {p for p in out.split("\0") if p}
    else:
        skip_dirs = {".git", ".cache", "__pycache__", ".pytest_cache"}
        paths = set()
        for dirpath, dirnames, filenames in os.walk(ROOT):
            dirnames[:] = [d for d in dirnames if d not in skip_dirs]
            for name in filenames:
                if not name.endswith((".pyc", ".tar.gz")):
                    paths.add(os.path.relpath(os.path.join(dirpath, name), ROOT))
    return sorted(p for p in paths
                  if not p.startswith(OUT_OF_SCOPE) and os.path.lexists(ROOT / p))


def copy_collection(dest):
    for rel in collection_files():
        src, dst = ROOT / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)


def link_dependencies(tree):
    """The collections of galaxy.yml's dependencies beside the copy, where ansible-test finds them:
    the modules import community.mysql's module_utils and use its doc fragment."""
    installed = pathlib.Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(CACHE / "collections")).split(os.pathsep)[0])
    for name in yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]:
        namespace, collection = name.split(".")
        source = installed / "ansible_collections" / namespace / collection
        assert source.is_dir(), f"{name} is missing in {installed}: run scripts/bootstrap.sh"
        (tree / namespace).mkdir(exist_ok=True)
        os.symlink(source, tree / namespace / collection)


class SanityVenv:
    """A venv of scripts/bootstrap.sh's pinned_venv, with its ansible-test, wheels and HOME."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.bin = self.path / "bin"
        self.ansible_test_path = self.bin / "ansible-test"
        self.wheels = self.path / "wheels"
        self.home = self.path / "home"

    def prepare_home(self):
        pip_wheels = sorted(self.wheels.glob("pip-*.whl"))
        assert pip_wheels, f"no pip wheel in {self.wheels}: run scripts/bootstrap.sh"
        pip_version = pip_wheels[-1].name.split("-")[1]
        cache = self.home / ".ansible" / "test" / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        (cache / f"get_pip_{pip_version.replace('.', '_')}.py").write_text(
            GET_PIP_STAND_IN.format(wheels=str(self.wheels)))
        pip_conf = self.home / ".config" / "pip" / "pip.conf"
        pip_conf.parent.mkdir(parents=True, exist_ok=True)
        pip_conf.write_text(PIP_CONF.format(wheels=self.wheels))

    def collection(self, tmp_path_factory):
        """A copy of the collection in an ansible_collections tree, with the dependencies beside it."""
        self.prepare_home()
        dest = tmp_path_factory.mktemp("sanity") / "ansible_collections" / "mall" / "cache_migration"
        copy_collection(dest)
        link_dependencies(dest.parent.parent)
        return dest

    def ansible_test(self, collection, *args, timeout=1800):
        env = dict(os.environ, HOME=str(self.home), PATH=f"{self.bin}{os.pathsep}{os.environ['PATH']}")
        env.pop("ANSIBLE_COLLECTIONS_PATH", None)
        cmd = [str(self.ansible_test_path), *args]
        proc = subprocess.run(cmd, cwd=collection, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout, check=False)
        return proc, f"$ {' '.join(cmd)}\nexit {proc.returncode}\n{proc.stdout}"

    def sanity(self, collection, tests):
        """Run these sanity tests once; return {test: junit testcase} and the console output."""
        args = ["sanity", "--local", "--python", PYTHON, "--color", "no", "--junit"]
        for name in tests:
            args += ["--test", name]
        log = self.ansible_test(collection, *args)[1]
        results = {}
        # One file per test: ansible-test-sanity-<test>.xml, or <test>-python-<version> for the
        # tests that run on each Python.
        for xml in (collection / "tests" / "output" / "junit").glob("ansible-test-sanity-*.xml"):
            name = xml.stem.removeprefix("ansible-test-sanity-").removesuffix(f"-python-{PYTHON}")
            results[name] = ET.parse(xml).getroot().find(".//testcase")
        return SanityRun(results, log)


class SanityRun(dict):
    """{test: junit testcase} of one ansible-test run, with its console output as .log."""

    def __init__(self, results, log):
        super().__init__(results)
        self.log = log

    def __repr__(self):
        return f"<sanity run of {len(self)} tests>"

    def problems(self, name):
        """Why test `name` did not pass, or '' when it passed or had no file to check."""
        case = self.get(name)
        if case is None:
            return f"ansible-test wrote no result for {name}:\n{self.log[-6000:]}"
        failures = [el for el in case if el.tag in ("failure", "error")]
        if failures:
            return "\n".join(f"{el.get('message', '')}\n{el.text or ''}" for el in failures)
        skipped = case.find("skipped")
        if skipped is None:
            return ""
        # A test with no file to check is skipped with this reason; so is one whose program
        # is missing (shellcheck, pwsh), but that one warns first.
        reason = skipped.get("message") or skipped.text or ""
        section = self.log.partition(f'Running sanity test "{name}"')[2].partition("Running sanity test")[0]
        if reason == "No tests applicable." and "Required program" not in section:
            return ""
        return f"{name} did not run: {reason}{section}"


def listed_tests(proc):
    """The tests of `ansible-test sanity --list-tests`."""
    return {line for line in proc.stdout.splitlines() if line and not line.startswith("WARNING")}
