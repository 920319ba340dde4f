"""Extract selected collections from the `ansible` bundle wheel.

The wheel is a zip holding ansible_collections/<ns>/<name>/...; taking only
the collections we need costs 16 MB instead of the bundle's 593 MB.
"""
import json
import pathlib
import shutil
import sys
import zipfile


def wanted(spec_path):
    for line in pathlib.Path(spec_path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            fqcn, version = line.split()
            yield fqcn, version


def main(wheel, dest, spec_path):
    dest = pathlib.Path(dest)
    with zipfile.ZipFile(wheel) as bundle:
        names = bundle.namelist()
        for fqcn, version in wanted(spec_path):
            namespace, name = fqcn.split(".")
            prefix = f"ansible_collections/{namespace}/{name}/"
            members = [n for n in names if n.startswith(prefix)]
            if not members:
                sys.exit(f"{fqcn} is not in {wheel}")
            manifest = json.loads(bundle.read(prefix + "MANIFEST.json"))
            found = manifest["collection_info"]["version"]
            if found != version:
                sys.exit(f"{fqcn}: the wheel has {found}, requirements/collections.txt pins {version}")
            target = dest / namespace / name
            shutil.rmtree(target, ignore_errors=True)
            for member in members:
                bundle.extract(member, dest.parent)
            print(f"collections: {fqcn} {found}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
