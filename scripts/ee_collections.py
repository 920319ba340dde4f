"""Pack the collections this one depends on into tarballs for the execution environment.

Usage: ee_collections.py GALAXY_YML COLLECTIONS_DIR DEST

Follows the dependencies of galaxy.yml, then those of each dependency's MANIFEST.json,
through the collections bootstrap unpacked from the `ansible` wheel (COLLECTIONS_DIR is an
ansible_collections folder). A collection artifact is its folder with MANIFEST.json and
FILES.json; the wheel leaves some files out (tests, CI files) but keeps FILES.json whole, and
`ansible-galaxy collection install` fails on an entry it cannot find. So the tarball gets a
FILES.json of the files there, and MANIFEST.json that FILES.json's checksum.
"""
import hashlib
import io
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


def artifact_metadata(folder):
    """FILES.json of the files in folder, and MANIFEST.json with its checksum."""
    files = json.loads((folder / "FILES.json").read_text())
    files["files"] = [f for f in files["files"] if f["name"] == "." or (folder / f["name"]).exists()]
    files_json = json.dumps(files, indent=4).encode()
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    return files_json, json.dumps(manifest, indent=4).encode()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def main(galaxy_yml, collections_dir, dest):
    wanted = yaml.safe_load(pathlib.Path(galaxy_yml).read_text()).get("dependencies") or {}
    dest = pathlib.Path(dest)
    for fqcn, folder, version in dependencies(pathlib.Path(collections_dir), wanted):
        tarball = dest / f"{fqcn.replace('.', '-')}-{version}.tar.gz"
        with tarfile.open(tarball, "w:gz") as tar:
            files_json, manifest_json = artifact_metadata(folder)
            add_bytes(tar, "MANIFEST.json", manifest_json)
            add_bytes(tar, "FILES.json", files_json)
            for path in sorted(folder.iterdir()):
                if path.name not in ("MANIFEST.json", "FILES.json"):
                    tar.add(path, arcname=path.name)
        print(f"ee: {tarball.name}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
