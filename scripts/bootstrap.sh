#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to the point where the collection can be
# tested: host packages, a running Docker engine, the pinned controller tools,
# the collections we build on (from PyPI, never Galaxy), the test image and a
# wheelhouse for the containers. Every stage checks first and reuses what is
# there, so a second run costs seconds. Prints the time each stage took.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

ANSIBLE_BUNDLE_VERSION=12.3.0

stage() {
  local name=$1; shift
  local start=$SECONDS
  "$@"
  printf 'bootstrap: %-12s %4ss\n' "$name" "$((SECONDS - start))"
}

host_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  [ ${#missing[@]} -eq 0 ] && return 0
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

docker_engine() {
  docker info >/dev/null 2>&1 && return 0
  # No systemd here: the engine runs as a plain background daemon.
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "bootstrap: dockerd did not answer within 60 s, see /var/log/dockerd.log" >&2
  return 1
}

tools_venv() {
  local stamp="$MALL_VENV/.requirements.sha256"
  local want
  want=$(sha256sum "$ROOT/requirements/tools.txt" | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  python3 -m venv "$MALL_VENV"
  "$MALL_VENV/bin/pip" install -qq --disable-pip-version-check -r "$ROOT/requirements/tools.txt"
  echo "$want" >"$stamp"
}

pinned_venv() {
  # A venv at $1 holding exactly the pins of requirements file $2, with their wheels kept in
  # $1/wheels for the venvs that ansible-test makes per sanity test. Re-made only when the file's
  # sha256 changes.
  local venv=$1 requirements=$2
  local stamp="$venv/.requirements.sha256"
  local want
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  python3 -m venv "$venv"
  rm -rf "$venv/wheels"
  # --no-deps here and --no-index below: a requirement missing from the file fails now.
  "$venv/bin/pip" download -qq --disable-pip-version-check --no-deps -d "$venv/wheels" -r "$requirements"
  "$venv/bin/pip" install -qq --disable-pip-version-check --no-index --find-links "$venv/wheels" -r "$requirements"
  echo "$want" >"$stamp"
}

sanity_venv() {
  # ansible-test sanity (tests/test_sanity.py) runs from a venv of its own: its pins are
  # the ones ansible-core ships for its sanity tests and would fight tools.txt.
  command -v shellcheck >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
  }
  pinned_venv "$MALL_CACHE/sanity-venv" "$ROOT/requirements/sanity.txt"
}

core217_venv() {
  # The declared minimum ansible-core (tests/test_minimum_core.py): its ansible-test with the
  # sanity pins it ships, and its ansible-playbook.
  pinned_venv "$MALL_CACHE/core217-venv" "$ROOT/requirements/ansible-core-2.17.txt"
}

collections() {
  local dest="$MALL_COLLECTIONS/ansible_collections"
  mkdir -p "$dest/mall"
  # Our own collection is the work tree itself.
  ln -sfn "$ROOT" "$dest/mall/cache_migration"
  # The stamp follows requirements/collections.txt too: a collection added there is extracted.
  local stamp
  stamp="$MALL_COLLECTIONS/.bundle-$ANSIBLE_BUNDLE_VERSION-$(sha256sum "$ROOT/requirements/collections.txt" | cut -c1-12)"
  [ -f "$stamp" ] && return 0
  local wheel_dir="$MALL_CACHE/wheels-bundle"
  mkdir -p "$wheel_dir"
  [ -n "$(ls "$wheel_dir"/ansible-"$ANSIBLE_BUNDLE_VERSION"-*.whl 2>/dev/null)" ] ||
    "$MALL_VENV/bin/pip" download -qq --disable-pip-version-check --no-deps -d "$wheel_dir" "ansible==$ANSIBLE_BUNDLE_VERSION"
  "$MALL_VENV/bin/python" "$ROOT/scripts/extract_collections.py" \
    "$(ls "$wheel_dir"/ansible-"$ANSIBLE_BUNDLE_VERSION"-*.whl)" "$dest" "$ROOT/requirements/collections.txt"
  touch "$stamp"
}

image() {
  docker image inspect "$MALL_TEST_IMAGE" >/dev/null 2>&1 && return 0
  # A configured image that can be pulled wins; otherwise build it from Debian packages.
  docker pull -q "$MALL_TEST_IMAGE" >/dev/null 2>&1 && return 0
  local rootfs="$MALL_CACHE/rootfs" mirror
  # The mirror apt uses here: a machine behind a company mirror reaches no other.
  mirror=$(bash "$ROOT/scripts/debian_mirror.sh")
  rm -rf "$rootfs"
  debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,python3-pymysql,python3-requests,python3-yaml,mariadb-server,mariadb-client,libmariadb3,redis-server,redis-tools,ca-certificates,sudo,bash,procps,iproute2,netcat-openbsd,git,curl \
    bookworm "$rootfs" "$mirror" >"$MALL_CACHE/debootstrap.log" 2>&1
  tar -C "$rootfs" -c . | docker import -c 'CMD ["sleep","infinity"]' - "$MALL_TEST_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

wheelhouse() {
  # Markers are evaluated by the interpreter that downloads: use Debian's own
  # python3, the one the image has (3.11.2 needs async-timeout for redis).
  local reqs=("$ROOT"/tests/fixtures/mall-server/requirements*.txt "$ROOT"/tests/fixtures/mall-server-realworld/requirements.txt "$ROOT/requirements/wheelhouse-extra.txt")
  local want
  want=$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)
  [ -f "$MALL_WHEELHOUSE/.stamp" ] && [ "$(cat "$MALL_WHEELHOUSE/.stamp")" = "$want" ] && return 0
  local dl_venv="$MALL_CACHE/debian-python"
  [ -x "$dl_venv/bin/pip" ] || /usr/bin/python3 -m venv "$dl_venv"
  mkdir -p "$MALL_WHEELHOUSE"
  local r
  for r in "${reqs[@]}"; do
    "$dl_venv/bin/pip" download -qq --disable-pip-version-check -d "$MALL_WHEELHOUSE" -r "$r"
  done
  echo "$want" >"$MALL_WHEELHOUSE/.stamp"
}

mkdir -p "$MALL_CACHE"
total_start=$SECONDS
stage host-packages host_packages
stage dockerd docker_engine
stage tools-venv tools_venv
stage sanity-venv sanity_venv
stage core217-venv core217_venv
stage collections collections
stage image image
stage wheelhouse wheelhouse
printf 'bootstrap: %-12s %4ss\n' total "$((SECONDS - total_start))"
