"""The built collection: what the tarball carries, its metadata, and an offline install that runs.

The tarball is built once from this tree. A user gets roles, playbooks, plugins, meta, docs and
the example inventories; the test suite, its sandbox and this repository's tooling stay out. The
install test is the one README.md documents for a machine without Galaxy: the dependencies are
already on the collections path, `ansible-galaxy collection install --offline` puts the tarball
into an empty path, and a playbook named by FQCN runs from that copy.
"""
import json
import os
import pathlib
import subprocess
import tarfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
# Top-level entries of the tarball that are only for developing and testing the collection.
NOT_SHIPPED = ["tests", "molecule", "scripts", "requirements", "Makefile", "pytest.ini", ".ci",
               "inventories/sandbox", ".ansible-lint", ".yamllint", ".gitignore", ".cache", ".ansible",
               "venv", ".venv", "changelogs/fragments", "changelogs/.plugin-cache.yaml"]
SHIPPED = ["README.md", "LICENSE", "CHANGELOG.rst", "changelogs/changelog.yaml", "meta/runtime.yml",
           "playbooks/migrate.yml", "playbooks/rollback.yml", "playbooks/validate.yml",
           "inventories/prod/hosts.yml", "docs/README.md"]
MAX_FILE_BYTES = 100 * 1024


def run(*args, env=None, check=True, cwd=ROOT):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    if check:
        assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg-build")
    run("ansible-galaxy", "collection", "build", "--output-path", str(out), str(ROOT))
    (path,) = out.glob(f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz")
    return path


@pytest.fixture(scope="module")
def members(tarball):
    with tarfile.open(tarball) as tar:
        return {m.name: m for m in tar.getmembers() if m.isfile()}


def test_tarball_carries_no_tests_sandbox_or_tooling(members):
    leaked = sorted(name for name in members
                    if any(name == bad or name.startswith(bad + "/") for bad in NOT_SHIPPED))
    assert not leaked, f"the tarball ships files for developers only: {leaked}"
    # The fixture app's .env.production holds passwords; no env file belongs in the tarball.
    env_files = sorted(name for name in members if pathlib.PurePosixPath(name).name.startswith(".env"))
    assert not env_files, f"env files in the tarball: {env_files}"


def test_tarball_carries_what_users_run(members):
    missing = [name for name in SHIPPED if name not in members]
    assert not missing, f"missing from the tarball: {missing}"
    for kind in ("roles", "plugins/modules"):
        assert any(name.startswith(kind + "/") for name in members), f"no {kind} in the tarball"
    shipped_modules = sorted(pathlib.PurePosixPath(n).stem for n in members
                             if n.startswith("plugins/modules/") and n.endswith(".py"))
    assert shipped_modules == MODULES


def test_no_file_in_the_tarball_is_over_100_kb(members):
    big = {name: m.size for name, m in members.items() if m.size > MAX_FILE_BYTES}
    assert not big, f"files over {MAX_FILE_BYTES} bytes: {big}"


def test_license_is_the_gpl_3_text_galaxy_names():
    assert GALAXY["license"] == ["GPL-3.0-or-later"]
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("GNU GENERAL PUBLIC LICENSE")
    assert "Version 3, 29 June 2007" in text and "END OF TERMS AND CONDITIONS" in text


def test_galaxy_yml_has_no_placeholder_urls():
    """A URL the project does not have is left out; a placeholder sends users nowhere."""
    urls = {key: GALAXY[key] for key in ("repository", "documentation", "homepage", "issues") if GALAXY.get(key)}
    placeholders = {k: v for k, v in urls.items()
                    if any(word in v for word in ("example.", ".invalid", "localhost", "changeme"))}
    assert not placeholders, f"placeholder URLs in galaxy.yml: {placeholders}"


def test_action_group_lists_every_module_and_roles_use_it():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert sorted(runtime["action_groups"]["all"]) == MODULES
    users = [p.relative_to(ROOT) for p in (ROOT / "roles").glob("*/tasks/*.yml")
             if "group/mall.cache_migration.all:" in p.read_text()]
    assert users, "no task sets module_defaults for group/mall.cache_migration.all"


def deps_only_collections_path(tmp_path):
    """A collections path with the dependencies (as bootstrap installs them) and not this collection."""
    source = pathlib.Path(os.environ.get("MALL_COLLECTIONS", ROOT / ".cache" / "collections")) / "ansible_collections"
    deps = tmp_path / "deps" / "ansible_collections"
    for fqcn in list(GALAXY["dependencies"]) + ["community.library_inventory_filtering_v1"]:
        namespace, name = fqcn.split(".")
        assert (source / namespace / name / "MANIFEST.json").is_file(), f"{fqcn} is not in {source}; run bootstrap"
        (deps / namespace).mkdir(parents=True, exist_ok=True)
        (deps / namespace / name).symlink_to(source / namespace / name)
    return deps.parent


def test_offline_install_into_an_empty_path_runs_a_playbook_by_fqcn(tarball, tmp_path):
    deps = deps_only_collections_path(tmp_path)
    target = tmp_path / "installed"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(deps), ANSIBLE_GALAXY_SERVER_LIST="")
    # --offline: dependencies come from the collections path; Galaxy is never asked.
    run("ansible-galaxy", "collection", "install", "--offline", "-p", str(target), str(tarball), env=env,
        cwd=tmp_path)
    installed = target / "ansible_collections" / "mall" / "cache_migration"
    manifest = json.loads((installed / "MANIFEST.json").read_text())
    assert manifest["collection_info"]["version"] == GALAXY["version"]
    assert not (installed / "tests").exists()

    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"mall_servers": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "auto_silent"}}}}))
    env["ANSIBLE_COLLECTIONS_PATH"] = f"{target}:{deps}"
    listed = run("ansible-galaxy", "collection", "list", "mall.cache_migration", "--format", "json",
                 env=env, cwd=tmp_path).stdout
    assert list(json.loads(listed)) == [str(target / "ansible_collections")], "another copy would run"

    good = run("ansible-playbook", "-i", str(inventory), "mall.cache_migration.validate", env=env, cwd=tmp_path)
    assert "failed=0" in good.stdout
    bad = run("ansible-playbook", "-i", str(inventory), "mall.cache_migration.validate",
              "-e", "mall_db_port=70000", env=env, cwd=tmp_path, check=False)
    assert bad.returncode != 0 and "mall_db_port" in bad.stdout, bad.stdout + bad.stderr
    # A value of the wrong type fails the role's argument validation, which prints the spec with its
    # defaults: mall_db_login's default refers to the password, and must stay a template there.
    secret = "Pk-Canary-5e3f"
    typed = run("ansible-playbook", "-i", str(inventory), "mall.cache_migration.validate",
                "-e", f"mall_db_password={secret}", "-e", '{"mall_db_port": "mysql"}', env=env, cwd=tmp_path, check=False)
    assert typed.returncode != 0 and "mall_db_port" in typed.stdout, typed.stdout + typed.stderr
    assert secret not in typed.stdout + typed.stderr
