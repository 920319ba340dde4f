"""The execution environment's definition (meta/ee-image.yml) and the collection's own EE
metadata (meta/execution-environment.yml), checked with ansible-builder itself, offline and
in seconds; `make ee` builds the image (tests/integration/test_awx_runner.py runs jobs in it)."""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
META = ROOT / "meta"
# The collections bootstrap unpacked from the `ansible` wheel.
COLLECTIONS = pathlib.Path(os.environ["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)[0]) / "ansible_collections"
sys.path.insert(0, str(ROOT / "scripts"))
import ee_collections  # noqa: E402  (scripts/ is not a package)


def pins(path):
    """{name: version} of the name==version lines of a requirements file, names normalised."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            found[re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()] = version
    return found


def requirement_names(lines):
    return {re.sub(r"[-_.]+", "-", re.split(r"[<>=!~; \[]", line.strip(), maxsplit=1)[0]).lower()
            for line in lines if line.strip() and not line.startswith("#")}


def builder(*args, cwd):
    result = subprocess.run(["ansible-builder", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"ansible-builder {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_create_makes_the_context_of_an_offline_build(tmp_path):
    # The definition with stand-ins for what `scripts/ee.sh inputs` puts in meta/ee-build/.
    meta = tmp_path / "meta"
    shutil.copytree(META, meta, ignore=shutil.ignore_patterns("ee-build", "runtime.yml"))
    collections = yaml.safe_load((META / "ee-collections.yml").read_text())["collections"]
    (meta / "ee-build" / "collections").mkdir(parents=True)
    (meta / "ee-build" / "wheels").mkdir()
    for entry in collections:
        (meta / "ee-build" / "collections" / pathlib.Path(entry["name"]).name).write_bytes(b"")
    (meta / "ee-build" / "wheels" / "docker-7.1.0-py3-none-any.whl").write_bytes(b"")
    context = tmp_path / "context"
    builder("create", "-f", str(meta / "ee-image.yml"), "-c", str(context), "--output-filename", "Dockerfile",
            cwd=tmp_path)

    dockerfile = (context / "Dockerfile").read_text()
    tools = pins(ROOT / "requirements" / "tools.txt")
    assert 'ARG EE_BASE_IMAGE="mall-cache-migration/ee-base:2"' in dockerfile
    assert "FROM $EE_BASE_IMAGE AS base" in dockerfile
    assert (f'ARG ANSIBLE_INSTALL_REFS="ansible-core=={tools["ansible-core"]} '
            f'ansible-runner=={tools["ansible-runner"]}"') in dockerfile
    assert 'ARG PKGMGR="/usr/bin/apt-get"' in dockerfile
    assert 'ARG ANSIBLE_GALAXY_CLI_COLLECTION_OPTS="--offline"' in dockerfile
    # pip inside the build: the wheelhouse only, from the first stage on, and not in the image.
    base_stage = dockerfile.split("# Galaxy build stage")[0]
    assert "COPY _build/configs/ee-pip.conf /etc/pip.conf" in base_stage
    assert base_stage.index("/etc/pip.conf") < base_stage.index("pip install")
    assert dockerfile.rstrip().count("RUN rm /etc/pip.conf") == 1
    assert "no-index = true" in (context / "_build" / "configs" / "ee-pip.conf").read_text()
    built = context / "_build"
    assert sorted(p.name for p in (built / "collections").iterdir()) == sorted(
        pathlib.Path(e["name"]).name for e in collections)
    assert (built / "wheelhouse" / "docker-7.1.0-py3-none-any.whl").exists()
    assert yaml.safe_load((built / "requirements.yml").read_text())["collections"] == collections
    assert {"pymysql", "requests", "docker"} <= requirement_names((built / "requirements.txt").read_text().splitlines())
    assert "openssh-client [platform:dpkg]" in (built / "bindep.txt").read_text()


def test_the_collections_are_ours_and_our_dependencies_at_the_pinned_versions():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    pinned = dict(line.split() for line in (ROOT / "requirements" / "collections.txt").read_text().splitlines()
                  if line.strip() and not line.startswith("#"))
    wanted = {f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"}
    for fqcn, _folder, version in ee_collections.dependencies(COLLECTIONS, galaxy["dependencies"]):
        assert pinned[fqcn] == version
        wanted.add(f"{fqcn.replace('.', '-')}-{version}.tar.gz")
    listed = yaml.safe_load((META / "ee-collections.yml").read_text())["collections"]
    assert {pathlib.Path(e["name"]).name for e in listed} == wanted
    assert all(e["type"] == "file" for e in listed)


def test_every_requirement_of_the_ee_has_a_pinned_wheel(tmp_path):
    # What ansible-builder's introspection gathers from the EE's collections and our
    # definition: every name must be in the wheelhouse pins (the build is offline).
    folder = tmp_path / "ansible_collections"
    for entry in yaml.safe_load((META / "ee-collections.yml").read_text())["collections"]:
        namespace, name = pathlib.Path(entry["name"]).name.split("-")[:2]
        (folder / namespace).mkdir(parents=True, exist_ok=True)
        (folder / namespace / name).symlink_to((COLLECTIONS / namespace / name).resolve())
    out = builder("introspect", "--sanitize", "--user-pip", str(META / "ee-requirements.txt"),
                  "--user-bindep", str(META / "ee-bindep.txt"), str(tmp_path), cwd=tmp_path)
    found = yaml.safe_load(out)
    python = found["python"]
    # Our collection's own metadata (meta/execution-environment.yml) is read from the collection root.
    assert {"pymysql", "requests", "docker"} <= requirement_names(python)
    assert any("mariadb-client" in line for line in found["system"])
    wheels = pins(ROOT / "requirements" / "ee-wheels.txt")
    assert requirement_names(python) <= set(wheels), requirement_names(python) - set(wheels)
    tools = pins(ROOT / "requirements" / "tools.txt")
    for name in ("ansible-core", "ansible-runner"):
        assert wheels[name] == tools[name]
    image = yaml.safe_load((META / "ee-image.yml").read_text())
    assert image["dependencies"]["ansible_core"]["package_pip"] == f"ansible-core=={tools['ansible-core']}"
    assert image["dependencies"]["ansible_runner"]["package_pip"] == f"ansible-runner=={tools['ansible-runner']}"
