# Shared setup of the live tests (the *_live.sh scripts here): source it right after `set -euo pipefail`.
# shellcheck shell=bash

# The repository root and the project's paths and names (MALL_TEST_IMAGE, MALL_WHEELHOUSE, ...).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

# log/fail prefix their lines with the script's name; LIVE_LOG_FD=2 sends them to stderr.
LIVE_NAME=$(basename "$0" .sh)
log() { printf '%s: %s\n' "$LIVE_NAME" "$*" >&"${LIVE_LOG_FD:-1}"; }
fail() { log "FAILED: $*"; exit 1; }

# Timing: elapsed START END prints the seconds between two `now`s (LIVE_ELAPSED_FORMAT, %.1f).
now() { date +%s.%N; }
elapsed() {
  python3 -c "import sys; print('${LIVE_ELAPSED_FORMAT:-%.1f}' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"
}

# A unique name for throwaway containers and volumes: PREFIX-SECONDS-RANDOM, after
# LIVE_NAME_PREFIX when set (a shared machine: each user's containers by their own prefix).
unique_name() { printf '%s%s-%s-%s\n' "${LIVE_NAME_PREFIX:-}" "$1" "$(date +%s)" "$RANDOM"; }

# Everything registered here is removed on exit, also on failure: containers first, then
# volumes and networks, then directories.
LIVE_CONTAINERS=()
LIVE_VOLUMES=()
LIVE_NETWORKS=()
LIVE_DIRS=()
remove_on_exit() {  # remove_on_exit container|volume|network|dir NAME
  case "$1" in
    container) LIVE_CONTAINERS+=("$2") ;;
    volume) LIVE_VOLUMES+=("$2") ;;
    network) LIVE_NETWORKS+=("$2") ;;
    dir) LIVE_DIRS+=("$2") ;;
  esac
}
live_cleanup() {
  local item
  for item in "${LIVE_CONTAINERS[@]}"; do docker rm -f "$item" >/dev/null 2>&1 || true; done
  for item in "${LIVE_VOLUMES[@]}"; do docker volume rm "$item" >/dev/null 2>&1 || true; done
  for item in "${LIVE_NETWORKS[@]}"; do docker network rm "$item" >/dev/null 2>&1 || true; done
  for item in "${LIVE_DIRS[@]}"; do rm -rf "$item"; done
}
trap live_cleanup EXIT

# make_workdir PREFIX: sets WORK to a new directory under /tmp, removed on exit.
make_workdir() {
  WORK=$(mktemp -d "/tmp/$1-XXXXXX")
  remove_on_exit dir "$WORK"
}

# The test image and the wheelhouse are there (scripts/bootstrap.sh makes them);
# need_image_and_wheel GLOB WHAT, e.g. 'django-4.2*.whl' 'Django 4.2'.
need_image_and_wheel() {
  docker image inspect "$MALL_TEST_IMAGE" >/dev/null 2>&1 || fail "image $MALL_TEST_IMAGE missing: run scripts/bootstrap.sh"
  # shellcheck disable=SC2086  # the glob is meant to expand
  ls "$MALL_WHEELHOUSE"/$1 >/dev/null 2>&1 || fail "no $2 in $MALL_WHEELHOUSE: run scripts/bootstrap.sh"
}

# start_host NAME: a detached container of the test image that only sleeps, with the
# wheelhouse read-only at /wheelhouse; the caller decides whether to remove_on_exit it.
start_host() {
  docker run -d --name "$1" -v "$MALL_WHEELHOUSE:/wheelhouse:ro" "$MALL_TEST_IMAGE" sleep infinity >/dev/null
}

# Prints shell functions for the scripts that run inside such a container, as root
# (`docker exec -i NAME bash -s`): put it in front of them.
container_prelude() {
  cat <<'PRELUDE'
set -euo pipefail
# MariaDB as a plain process on 127.0.0.1; returns once it answers (or after a minute).
start_mariadb() {
  install -d -o mysql -g mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
  nohup mariadbd --user=mysql --bind-address=127.0.0.1 >/var/log/mariadbd.log 2>&1 &
  for _ in $(seq 1 60); do
    mariadb -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 1
  done
}
# create_db NAME USER PASSWORD: a utf8mb4 database and a user with all rights on it, from 127.0.0.1.
create_db() {
  mariadb <<SQL
CREATE DATABASE IF NOT EXISTS $1 CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$2'@'127.0.0.1' IDENTIFIED BY '$3';
GRANT ALL ON $1.* TO '$2'@'127.0.0.1';
SQL
}
# start_redis PASSWORD: redis-server as a daemon on 127.0.0.1.
start_redis() {
  redis-server --daemonize yes --bind 127.0.0.1 --requirepass "$1" --logfile /var/log/redis.log
}
# make_venv DIR PIP-ARGS...: a virtualenv in DIR with the packages from /wheelhouse only.
make_venv() {
  local dir=$1
  shift
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check --no-index --find-links /wheelhouse "$@"
}
PRELUDE
}
