"""Running ansible-test on a copy of the collection, shared by tests/test_sanity.py and
tests/test_integration_targets.py.

ansible-test only runs inside a real ``ansible_collections/<namespace>/<name>`` tree (it
resolves the symlink that scripts/bootstrap.sh makes and then finds no such parent), so
the collection is copied into one first, with the collections of galaxy.yml's dependencies
linked beside it.
"""
import os
import pathlib
import shutil
import subprocess

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = pathlib.Path(os.environ.get("MALL_CACHE", str(ROOT / ".cache")))
SANITY_VENV = CACHE / "sanity-venv"
ANSIBLE_TEST = SANITY_VENV / "bin" / "ansible-test"
WHEELS = SANITY_VENV / "wheels"
HOME = SANITY_VENV / "home"
# The tools' venv: the same ansible-core, with requests for community.docker on the controller.
TOOLS_VENV = pathlib.Path(os.environ.get("MALL_VENV", str(CACHE / "venv")))
PYTHON = "3.11"

# Left out of the copy: not Ansible content but the project's harness and test data.
OUT_OF_SCOPE = (
    "scripts/",  # bootstrap and helper scripts of the repository
    "tests/fixtures/",  # the Django project that the roles migrate, with its own style
    "tests/unit/fixtures/",  # byte-exact inputs, CRLF and BOM on purpose
    "tests/output/",  # ansible-test's own results
)


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


def collection_copy(base):
    """The collection copied into base/ansible_collections/mall/cache_migration, its dependencies beside it."""
    dest = base / "ansible_collections" / "mall" / "cache_migration"
    copy_collection(dest)
    link_dependencies(dest.parent.parent)
    return dest


def link_dependencies(tree):
    """The collections of galaxy.yml's dependencies beside the copy, where ansible-test finds them:
    the modules import community.mysql's module_utils and use its doc fragment."""
    collections_path = os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(CACHE / "collections"))
    installed = pathlib.Path(collections_path.split(os.pathsep)[0])
    for name in yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]:
        namespace, collection = name.split(".")
        source = installed / "ansible_collections" / namespace / collection
        assert source.is_dir(), f"{name} is missing in {installed}: run scripts/bootstrap.sh"
        (tree / namespace).mkdir(exist_ok=True)
        os.symlink(source, tree / namespace / collection)


def ansible_test(collection, *args, timeout=1800, venv=SANITY_VENV, home=HOME):
    """Run the ansible-test of `venv` in `collection` with HOME `home`, without ANSIBLE_COLLECTIONS_PATH
    (the tree around the copy is the collections path); return the process and a log of the run."""
    env = dict(os.environ, HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    cmd = [str(venv / "bin" / "ansible-test"), *args]
    proc = subprocess.run(cmd, cwd=collection, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, check=False)
    return proc, f"$ {' '.join(cmd)}\nexit {proc.returncode}\n{proc.stdout}"
