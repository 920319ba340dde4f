#!/usr/bin/env bash
# Live test of the Redis part of a restore point and a rollback (tests/integration/redis_rollback.yml runs the
# rollback role's roles/rollback/tasks/redis.yml) against a real Redis in a container, for each case: write keys
# (some with a TTL), take the snapshot, remove the container and its volume, roll back, count the keys.
#   aof      appendonly yes: Redis 7 loads its append-only file, not dump.rdb
#   elsewhere  the data in /bitnami/redis/data, with the volume mounted there, and CONFIG renamed away
#   empty    a record that names another dbfilename: Redis starts empty and the rollback must fail naming the counts
# LIVE_PREFIX names the containers and volumes (default rbtest); RBTEST_CASES picks cases (default all three).
# Removes everything it created, also on failure.
set -euo pipefail

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

PREFIX=$(unique_name "${LIVE_PREFIX:-rbtest}")
PASSWORD=pw
KEYS=1000
TTL_KEYS=100
make_workdir rbtest
docker image inspect "$MALL_TEST_IMAGE" >/dev/null 2>&1 || fail "image $MALL_TEST_IMAGE missing: run scripts/bootstrap.sh"

# A free port on 127.0.0.1, published by the container and by the one the rollback makes again.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# field FILE EXPR: evaluate a Python expression on the JSON in FILE, as `r`.
field() { python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print($2)" "$1"; }

rcli() { docker exec -i "$1" redis-cli -a "$PASSWORD" --no-auth-warning "${@:2}"; }

wait_for_redis() {
  for _ in $(seq 1 100); do
    [ "$(rcli "$1" PING 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  docker logs "$1" | tail -20
  fail "Redis in $1 did not answer PING"
}

# run_case NAME DATA_DIR RECORD_OVERRIDE_JSON REDIS_OPTIONS...: prints the path of the rollback's result JSON;
# the playbook's exit status is in $WORK/NAME.rc.
run_case() {
  local name=$1 data_dir=$2 override=$3 container="$PREFIX-$1" volume="$PREFIX-$1-data" port
  shift 3
  port=$(free_port)
  remove_on_exit container "$container"
  remove_on_exit volume "$volume"
  docker run -d --name "$container" -p "127.0.0.1:$port:6379" -v "$volume:$data_dir" "$MALL_TEST_IMAGE" \
    redis-server --requirepass "$PASSWORD" --dir "$data_dir" --repl-diskless-sync no "$@" >/dev/null
  wait_for_redis "$container"
  {
    for i in $(seq 1 "$KEYS"); do
      if [ "$i" -le "$TTL_KEYS" ]; then echo "SET key:$i value:$i EX 3600"; else echo "SET key:$i value:$i"; fi
    done
  } | rcli "$container" >/dev/null
  local common=(-e "rbtest_restore_point=$WORK/$name" -e "mall_redis_container=$container"
                -e "mall_redis_host=127.0.0.1 mall_redis_port=$port mall_redis_password=$PASSWORD mall_secure_logging=false")
  ansible-playbook "$ROOT/tests/integration/redis_rollback.yml" "${common[@]}" -e rbtest_phase=snapshot \
    -e "{\"rbtest_record_override\": $override}" >"$WORK/$name-snapshot.log" ||
    { cat "$WORK/$name-snapshot.log" >&2; fail "$name: snapshot"; }
  docker rm -f "$container" >/dev/null
  docker volume rm "$volume" >/dev/null
  local rc=0
  ansible-playbook "$ROOT/tests/integration/redis_rollback.yml" "${common[@]}" -e rbtest_phase=rollback \
    -e "rbtest_result=$WORK/$name-result.json" >"$WORK/$name-rollback.log" || rc=$?
  echo "$rc" >"$WORK/$name.rc"
  if [ "$rc" = 0 ]; then wait_for_redis "$container"; fi
}

# A rollback that passed holds every key, the TTLs too, where this Redis reads them.
expect_all_back() {  # expect_all_back NAME
  local name=$1 container="$PREFIX-$1" keys expires
  [ "$(cat "$WORK/$name.rc")" = 0 ] || { tail -30 "$WORK/$name-rollback.log" >&2; fail "$name: the rollback failed"; }
  keys=$(rcli "$container" DBSIZE)
  expires=$(rcli "$container" INFO keyspace | sed -n 's/^db0:keys=[0-9]*,expires=\([0-9]*\),.*/\1/p')
  [ "$keys" = "$KEYS" ] || fail "$name: the restored Redis holds $keys keys, not $KEYS"
  [ "$expires" = "$TTL_KEYS" ] || fail "$name: the restored Redis holds ${expires:-0} keys with a TTL, not $TTL_KEYS"
  [ "$(field "$WORK/$name-result.json" "r['restore']['short'] == [] and r['restore']['keys_read'] == $KEYS")" = True ] ||
    fail "$name: redis_restore_check says $(cat "$WORK/$name-result.json")"
  log "$name: $keys keys back ($expires with a TTL), read at start: $(field "$WORK/$name-result.json" "r['restore']['keys_read']"), snapshot put at $(field "$WORK/$name-result.json" "r['target']")"
}

log "image $MALL_TEST_IMAGE, names $PREFIX-*"

case_aof() {
  run_case aof /data '{}' --appendonly yes
  expect_all_back aof
  [ "$(field "$WORK/aof-result.json" "r['target']")" = /data/appendonly.aof ] || fail "aof: the snapshot went to $(field "$WORK/aof-result.json" "r['target']")"
  [ "$(rcli "$PREFIX-aof" CONFIG GET appendonly | tail -1)" = yes ] || fail "aof: appendonly is not yes after the rollback"
  docker restart "$PREFIX-aof" >/dev/null
  wait_for_redis "$PREFIX-aof"
  [ "$(rcli "$PREFIX-aof" DBSIZE)" = "$KEYS" ] || fail "aof: after a restart (from its own append-only file) $(rcli "$PREFIX-aof" DBSIZE) keys"
  log "aof: $KEYS keys again after a restart, from Redis's own append-only file"
}

case_elsewhere() {
  run_case elsewhere /bitnami/redis/data '{}' --appendonly no --rename-command CONFIG '""'
  expect_all_back elsewhere
  [ "$(field "$WORK/elsewhere-result.json" "r['target']")" = /bitnami/redis/data/dump.rdb ] ||
    fail "elsewhere: the snapshot went to $(field "$WORK/elsewhere-result.json" "r['target']")"
  grep -q '"data_config_source": "command"' "$WORK/elsewhere/manifest.json" || fail "elsewhere: the record does not say it read the command line"
}

case_empty() {
  run_case empty /data '{"data_config": {"dbfilename": "not-read.rdb"}}' --appendonly no
  [ "$(cat "$WORK/empty.rc")" != 0 ] || fail "empty: the rollback passed on an empty Redis"
  [ "$(field "$WORK/empty-result.json" "r['restore']['short'] == [
    {'what': 'keys read from the snapshot at start', 'expected': $KEYS, 'found': 0},
    {'what': 'keys without a TTL in db0', 'expected': $((KEYS - TTL_KEYS)), 'found': 0}]")" = True ] ||
    fail "empty: redis_restore_check says $(cat "$WORK/empty-result.json")"
  log "empty: the rollback failed, short: $(field "$WORK/empty-result.json" "r['restore']['short']")"
}

for case in ${RBTEST_CASES:-aof elsewhere empty}; do "case_$case"; done

log "PASSED"
