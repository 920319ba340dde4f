"""Static checks of the collection: lint, build and plugin documentation."""
import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")


def run(*args, cwd=ROOT, env=None):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_yamllint_finds_nothing():
    run("yamllint", "--strict", ".")


def test_ansible_lint_production_profile_finds_nothing(tmp_path):
    # An ANSIBLE_HOME of its own: ansible-lint puts the collection under it, and a copy of an older tree left
    # in ~/.ansible/collections would be linted against instead of this one.
    out = run("ansible-lint", "--offline", "--profile", "production", "--nocolor",
              env=dict(os.environ, ANSIBLE_HOME=str(tmp_path)))
    assert "Failed" not in out


def test_collection_builds(tmp_path):
    run("ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), str(ROOT))
    assert list(tmp_path.glob("mall-cache_migration-*.tar.gz"))


def test_module_documentation_renders():
    # One ansible-doc for every module (each start costs seconds): the JSON dump has each one's parts.
    docs = json.loads(run("ansible-doc", "-t", "module", "--json", *(f"mall.cache_migration.{m}" for m in MODULES)))
    assert sorted(docs) == [f"mall.cache_migration.{m}" for m in MODULES]
    incomplete = {name: part for name, doc in docs.items() for part in ("doc", "examples", "return")
                  if not doc.get(part)}
    assert not incomplete, f"modules without a documentation part: {incomplete}"
