"""Pack the collections this one depends on into tarballs for the execution environment.

Usage: ee_collections.py GALAXY_YML COLLECTIONS_DIR DEST

Follows the dependencies of galaxy.yml, then those of each dependency's MANIFEST.json,
through the collections bootstrap unpacked from the `ansible` wheel (COLLECTIONS_DIR is an
ansible_collections folder). An unpacked collection holds MANIFEST.json and FILES.json, so
a tar of its folder is the artifact `ansible-galaxy collection install` takes.
"""
import json
import pathlib
import sys
import tarfile

import yaml


def dependencies(collections_dir, fqcns):
    """Yield (fqcn, folder, version) of fqcns and everything they depend on, each once."""
    seen = set()
    todo = list(fqcns)
    while todo:
        fqcn = todo.pop(0)
        if fqcn in seen:
            continue
        seen.add(fqcn)
        folder = collections_dir.joinpath(*fqcn.split("."))
        manifest_path = folder / "MANIFEST.json"
        if not manifest_path.is_file():
            sys.exit(f"{fqcn} is not in {collections_dir}: run scripts/bootstrap.sh")
        info = json.loads(manifest_path.read_text())["collection_info"]
        todo.extend(info.get("dependencies") or {})
        yield fqcn, folder, info["version"]


def main(galaxy_yml, collections_dir, dest):
    wanted = yaml.safe_load(pathlib.Path(galaxy_yml).read_text()).get("dependencies") or {}
    dest = pathlib.Path(dest)
    for fqcn, folder, version in dependencies(pathlib.Path(collections_dir), wanted):
        tarball = dest / f"{fqcn.replace('.', '-')}-{version}.tar.gz"
        with tarfile.open(tarball, "w:gz") as tar:
            for path in sorted(folder.iterdir()):
                tar.add(path, arcname=path.name)
        print(f"ee: {tarball.name}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
