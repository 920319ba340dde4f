#!/usr/bin/env bash
# Builds the execution environment of meta/ee-image.yml on a machine that
# reaches no container registry and no Galaxy (`make ee`):
#   base     the base image, debootstrapped from Debian packages as the test image is;
#   inputs   the build inputs in meta/ee-build/: the collection tarballs (ours, built from
#            the work tree, and its dependencies, from the `ansible` wheel bootstrap unpacked)
#            and the wheelhouse pip installs from inside the build (pip fails TLS there);
#   build    both, then `ansible-builder build`; prints the build time and image size;
#   current  build, unless an image of this very tree exists (the tests' entry: an image of an
#            older tree would run the older collection).
# Image names: MALL_EE_BASE_IMAGE, MALL_EE_IMAGE; each build is also tagged tree-<fingerprint>.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

EE_BASE_IMAGE=${MALL_EE_BASE_IMAGE:-mall-cache-migration/ee-base:2}
EE_IMAGE=${MALL_EE_IMAGE:-mall-cache-migration/ee:1}
INPUTS="$ROOT/meta/ee-build"
CONTEXT="$ROOT/.cache/ee-context"

base() {
  docker image inspect "$EE_BASE_IMAGE" >/dev/null 2>&1 && return 0
  local rootfs="$MALL_CACHE/ee-rootfs-$$"
  rm -rf "$rootfs"
  # Python and pip for ansible-builder's stages; the system packages of meta/ee-bindep.txt
  # are in the base already, so bindep finds nothing to install and apt needs no network.
  debootstrap --variant=minbase \
    --include=python3,python3-pip,ca-certificates,openssh-client,mariadb-client,procps \
    bookworm "$rootfs" "$(bash "$ROOT/scripts/debian_mirror.sh")" >"$MALL_CACHE/ee-debootstrap.log" 2>&1
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' - "$EE_BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

inputs() {
  rm -rf "$INPUTS"
  mkdir -p "$INPUTS/collections" "$INPUTS/wheels"
  ansible-galaxy collection build --force --output-path "$INPUTS/collections" "$ROOT" >/dev/null
  "$MALL_VENV/bin/python" "$ROOT/scripts/ee_collections.py" \
    "$ROOT/galaxy.yml" "$MALL_COLLECTIONS/ansible_collections" "$INPUTS/collections"
  # Debian's python3, the base image's, evaluates the markers; --no-deps: every wheel is pinned.
  local dl_venv="$MALL_CACHE/debian-python"
  [ -x "$dl_venv/bin/pip" ] || /usr/bin/python3 -m venv "$dl_venv"
  "$dl_venv/bin/pip" download -qq --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$INPUTS/wheels" -r "$ROOT/requirements/ee-wheels.txt"
}

# What the image is made of: the content of every file git sees in the tree (tracked, or new and not ignored).
fingerprint() {
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | sort -zu \
    | while IFS= read -r -d '' file; do [ -f "$file" ] && printf '%s\0' "$file"; done \
    | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

tree_image() {
  printf '%s:tree-%s\n' "${EE_IMAGE%:*}" "$(fingerprint)"
}

build() {
  local start=$SECONDS tree
  tree=$(tree_image)
  base
  inputs
  ansible-builder build --container-runtime docker -f "$ROOT/meta/ee-image.yml" \
    -c "$CONTEXT" --build-arg EE_BASE_IMAGE="$EE_BASE_IMAGE" -t "$EE_IMAGE" -t "$tree" -v 1
  printf 'ee: %s built in %ss, %s\n' "$EE_IMAGE" "$((SECONDS - start))" \
    "$(docker image inspect -f '{{.Size}}' "$EE_IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"
}

current() {
  docker image inspect "$(tree_image)" >/dev/null 2>&1 || build
}

"${1:-build}"
