#!/usr/bin/env bash
# Live test of mall.cache_migration.redis_snapshot against a real Redis in a container:
# snapshots over the network in both sync modes (disk and diskless), the failure messages
# for a wrong password and a user without +sync, check mode, and then the rollback path:
# each snapshot restored into a re-created container with community.docker
# (redis_snapshot_restore.yml), checked with redis-cli.
# LIVE_PREFIX names the container and volume (default rstest). Needs scripts/bootstrap.sh to have run. Removes everything it created, also on failure.
set -euo pipefail

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LIVE_ELAPSED_FORMAT=%.2f
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

PREFIX=$(unique_name "${LIVE_PREFIX:-rstest}")
CONTAINER="$PREFIX-redis"
VOLUME="$PREFIX-data"
PASSWORD=pw
KEYS=1000
TTL_KEYS=100
# A value with spaces and non-ASCII bytes, to compare after the restore.
SAMPLE_KEY=key:500
SAMPLE_VALUE='Grüße aus dem Cache, 500'
make_workdir rstest
remove_on_exit container "$CONTAINER"
remove_on_exit volume "$VOLUME"

rcli() { docker exec -i "$CONTAINER" redis-cli -a "$PASSWORD" --no-auth-warning "$@"; }

wait_for_redis() {
  # LOADING is answered while the dump is read; PONG means the data is in.
  for _ in $(seq 1 100); do
    [ "$(rcli PING 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  docker logs "$CONTAINER" | tail -20
  fail "Redis in $CONTAINER did not answer PING"
}

# Runs the module ad hoc and prints its result as JSON with `failed` set; `ansible` exits
# non-zero on a failure, which the callers check for themselves.
# Usage: snapshot [ansible options] -- module arguments
snapshot() {
  local opts=() out
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  out=$(ansible localhost "${opts[@]}" -m mall.cache_migration.redis_snapshot -a "$*" 2>/dev/null) || true
  # The minimal callback prints "localhost | CHANGED => {...}" or "localhost | FAILED! => {...}".
  python3 -c '
import json, re, sys
m = re.search(r"\| ([A-Z]+)!? => ", sys.argv[1])
r = json.loads(sys.argv[1][m.end():])
r["failed"] = m.group(1) == "FAILED"
print(json.dumps(r))' "$out"
}

# field JSON EXPR: evaluate a Python expression on the result `r`.
field() { python3 -c "import json, sys; r = json.loads(sys.argv[1]); print($2)" "$1"; }

expect() {  # expect JSON EXPR DESCRIPTION
  [ "$(field "$1" "$2")" = True ] || { printf '%s\n' "$1"; fail "$3"; }
}

log "image $MALL_TEST_IMAGE, container $CONTAINER, volume $VOLUME"
docker run -d --name "$CONTAINER" -v "$VOLUME:/data" "$MALL_TEST_IMAGE" \
  redis-server --requirepass "$PASSWORD" --dir /data --appendonly no >/dev/null
wait_for_redis
IP=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$CONTAINER")
REDIS_UID=$(docker run --rm "$MALL_TEST_IMAGE" id -u redis)
REDIS_GID=$(docker run --rm "$MALL_TEST_IMAGE" id -g redis)
log "Redis $(rcli INFO server | sed -n 's/^redis_version:\(.*\)\r$/\1/p') at $IP; redis user $REDIS_UID:$REDIS_GID in the image"

{
  for i in $(seq 1 "$KEYS"); do
    if [ "$i" -le "$TTL_KEYS" ]; then echo "SET key:$i value:$i EX 3600"; else echo "SET key:$i value:$i"; fi
  done
  echo "SET $SAMPLE_KEY \"$SAMPLE_VALUE\""
} | rcli >/dev/null
[ "$(rcli DBSIZE)" = "$KEYS" ] || fail "expected $KEYS keys after loading, got $(rcli DBSIZE)"
log "wrote $KEYS keys, $TTL_KEYS of them with a TTL"

common="host=$IP password=$PASSWORD"

r=$(snapshot -- "$common dest=$WORK/check/dump.rdb")
expect "$r" "'does not exist' in r['msg']" "a missing directory must be reported"
r=$(snapshot --check -- "$common dest=$WORK/nodir/dump.rdb")
expect "$r" "r['changed'] and not r['failed']" "check mode must go on where an earlier task would make the directory"
[ ! -e "$WORK/nodir" ] || fail "check mode made the directory"
mkdir -p "$WORK/check" "$WORK/disk" "$WORK/diskless" "$WORK/acl"
r=$(snapshot --check -- "$common dest=$WORK/check/dump.rdb")
expect "$r" "r['changed'] is True and r['keyspace']['db0'] == {'keys': $KEYS, 'expires': $TTL_KEYS} and 'sync_mode' not in r" \
  "check mode must predict a change and report the keyspace"
[ ! -e "$WORK/check/dump.rdb" ] || fail "check mode wrote a file"
log "check mode: changed, keyspace $(field "$r" "r['keyspace']"), nothing written"

r=$(snapshot -- "host=$IP password=wrong dest=$WORK/check/dump.rdb")
expect "$r" "r['failed'] and 'Authentication' in r['msg']" "a wrong password must fail clearly"
log "wrong password: $(field "$r" "r['msg']")"

rcli ACL SETUSER snap on '>snappw' +info '+config|get' >/dev/null
r=$(snapshot -- "host=$IP username=snap password=snappw dest=$WORK/acl/dump.rdb")
expect "$r" "r['failed'] and '+sync' in r['msg']" "a user without +sync must be told which permission it lacks"
log "ACL user without +sync: $(field "$r" "r['msg']")"

declare -A SECONDS_TAKEN SIZE
for mode in disk diskless; do
  if [ "$mode" = disk ]; then rcli CONFIG SET repl-diskless-sync no >/dev/null; else rcli CONFIG SET repl-diskless-sync yes >/dev/null; fi
  start=$(now)
  r=$(snapshot -- "$common dest=$WORK/$mode/dump.rdb")
  SECONDS_TAKEN[$mode]=$(elapsed "$start" "$(now)")
  expect "$r" "not r['failed'] and r['sync_mode'] == '$mode' and r['changed'] is True" "snapshot in $mode mode"
  expect "$r" "r['keyspace'] == {'db0': {'keys': $KEYS, 'expires': $TTL_KEYS}}" "keyspace in $mode mode"
  expect "$r" "r['data_config_source'] == 'config' and r['data_config'] == {'dir': '/data', 'dbfilename': 'dump.rdb',
    'appendonly': 'no', 'appendfilename': 'appendonly.aof', 'appenddirname': 'appendonlydir'}" "data_config in $mode mode"
  [ "$(sha256sum "$WORK/$mode/dump.rdb" | cut -d' ' -f1)" = "$(field "$r" "r['sha256']")" ] || fail "sha256 of the $mode file"
  [ "$(stat -c %a "$WORK/$mode/dump.rdb")" = 600 ] || fail "mode of the $mode file"
  SIZE[$mode]=$(field "$r" "r['size']")
  log "$mode: ${SIZE[$mode]} bytes, rdb_version $(field "$r" "r['rdb_version']"), redis $(field "$r" "r['redis_version']"), ${SECONDS_TAKEN[$mode]} s"
done

r=$(snapshot -- "$common dest=$WORK/diskless/dump.rdb")
log "second diskless run on unchanged data: changed=$(field "$r" "r['changed']") (a new snapshot has new aux fields)"

rcli CONFIG SET repl-diskless-sync no >/dev/null
rcli ACL SETUSER snap +replconf +sync >/dev/null
r=$(snapshot -- "host=$IP username=snap password=snappw dest=$WORK/acl/dump.rdb")
expect "$r" "not r['failed'] and r['keyspace']['db0']['keys'] == $KEYS" "ACL user with +info +config|get +replconf +sync"
log "ACL user with +info +config|get +replconf +sync: $(field "$r" "r['size']") bytes"

# redis-check-rdb verifies the CRC64 that the module leaves alone.
for mode in disk diskless; do
  docker run --rm -v "$WORK/$mode:/check:ro" "$MALL_TEST_IMAGE" redis-check-rdb /check/dump.rdb | grep -q 'RDB looks OK' ||
    fail "redis-check-rdb rejects the $mode snapshot"
done
log "redis-check-rdb: both snapshots OK"

for mode in disk diskless; do
  start=$(now)
  ansible-playbook "$ROOT/tests/integration/redis_snapshot_restore.yml" \
    -e "rstest_container=$CONTAINER rstest_volume=$VOLUME rstest_image=$MALL_TEST_IMAGE" \
    -e "rstest_dump=$WORK/$mode/dump.rdb rstest_password=$PASSWORD" \
    -e "rstest_redis_uid=$REDIS_UID rstest_redis_gid=$REDIS_GID" >"$WORK/restore-$mode.log" ||
    { cat "$WORK/restore-$mode.log"; fail "restore playbook ($mode)"; }
  wait_for_redis
  took=$(elapsed "$start" "$(now)")
  keys=$(rcli DBSIZE)
  expires=$(rcli INFO keyspace | sed -n 's/^db0:keys=[0-9]*,expires=\([0-9]*\),.*/\1/p')
  value=$(rcli GET "$SAMPLE_KEY")
  owner=$(docker exec "$CONTAINER" stat -c '%u:%g %a' /data/dump.rdb)
  [ "$keys" = "$KEYS" ] || fail "restored $mode snapshot holds $keys keys, not $KEYS"
  [ "$expires" = "$TTL_KEYS" ] || fail "restored $mode snapshot holds $expires keys with a TTL, not $TTL_KEYS"
  [ "$value" = "$SAMPLE_VALUE" ] || fail "restored $SAMPLE_KEY is '$value'"
  [ "$owner" = "$REDIS_UID:$REDIS_GID 600" ] || fail "dump.rdb in the container is $owner"
  log "restore from $mode snapshot: $keys keys, $expires with TTL, $SAMPLE_KEY matches, dump $owner, ${took} s"
done

log "PASSED"
