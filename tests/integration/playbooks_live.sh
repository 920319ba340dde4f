#!/usr/bin/env bash
# Live test of playbooks/verify.yml and playbooks/maintain.yml against a real host.
#
# Starts one throwaway container ($MTEST_HOST, default mtest-host) of the test image with MariaDB running as a
# plain process and mall-server from tests/fixtures/mall-server with the release overlay of
# tests/fixtures/mall-server-release applied, so its cache is Django's DatabaseCache; a
# virtualenv with the release requirements from the local wheelhouse; the Redis keys gone from
# .env.development, as the migration leaves it. It seeds the cache table through Django with
# EXPIRED rows in the past, LIVE rows in the future and FOREVER rows without expiry, then runs
# over the community.docker.docker connection:
#   verify.yml                                       rc 0, every report line [ok], JSON report 0600
#   verify.yml -e verify_expected_backend=redis      fails, saying the cache is not Redis
#   maintain.yml --check (utc and django clocks)     reports what it would delete, deletes nothing
#   maintain.yml, batches of 500, at most 3          deletes 1500, reports what the bound leaves
#   maintain.yml, batches of 500                     deletes the rest, keeps LIVE and FOREVER rows
#   maintain.yml                                     changed=0 in the PLAY RECAP
#   maintain.yml -e maintain_optimize=true           runs OPTIMIZE TABLE, changed=1
#   maintain.yml -e mall_cache_table=<missing>       says there is nothing to maintain, changed=0
# and, against a second copy of the app before the release (on Redis, with redis-server), verify.yml
# expecting redis (passes, leftovers reported only) and expecting database (fails on the backend
# and the leftovers; with verify_fail_on_leftovers=false on the backend only).
# and removes the container on exit, also on failure.
#
# Usage: playbooks_live.sh            (needs scripts/bootstrap.sh to have run)
#        MTEST_KEEP_LOGS=DIR playbooks_live.sh   keeps every ansible-playbook output in DIR
set -euo pipefail

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_RETRY_FILES_ENABLED=false

HOST=${MTEST_HOST:-mtest-host}
APP=/srv/mall-server
REDIS_APP=/srv/mall-server-redis
REDIS_KEYS=25
DB_NAME=mall_server_dev
DB_USER=mall_user
DB_PASSWORD="mtest-$(date +%s)-$RANDOM"
TABLE=mall_server_cache
EXPIRED=2345
LIVE=300
FOREVER=2
make_workdir mtest-playbooks
LOGS=${MTEST_KEEP_LOGS:-$WORK/logs}
mkdir -p "$LOGS"

sql() { docker exec -i "$HOST" mariadb -N -B "$DB_NAME" -e "$1"; }
count_rows() { sql "SELECT COUNT(*) FROM $TABLE${1:+ WHERE $1}"; }
expired_rows() { count_rows 'expires < UTC_TIMESTAMP()'; }

# Runs inside the container, as root.
prepare_script() {
  container_prelude
  cat <<'PREPARE'
start_mariadb
create_db "$DB_NAME" "$DB_USER" "$DB_PASSWORD"

cd "$APP"
# The release overlay: its files are already copied over the tree; delete what it removes.
while read -r path; do
  [ -n "$path" ] && rm -f -- "$path"
done <DELETED
rm -f DELETED
# The env file as the migration leaves it: no Redis or Celery keys; the database on this host.
sed -i -E -e '/^(REDIS_|CELERY_)/d' -e "s/^MYSQL_HOST=.*/MYSQL_HOST=127.0.0.1/" \
  -e "s/^MYSQL_PASSWORD=.*/MYSQL_PASSWORD=$DB_PASSWORD/" .env.development

make_venv venv -r requirements.txt
export DJANGO_SETTINGS_MODULE=mall_server.settings.development
venv/bin/python manage.py migrate -v 0
venv/bin/python manage.py createcachetable
# Rows as the app leaves them, through Django (pickled, base64): expired from one minute to
# about two days ago, live for one to two hours, and some without expiry.
venv/bin/python manage.py shell -c "
from django.core.cache import cache
for n in range($EXPIRED):
    cache.set('mtest:expired:%d' % n, {'n': n, 'pad': 'x' * (n % 400)}, -60 - n * 70)
for n in range($LIVE):
    cache.set('mtest:live:%d' % n, {'n': n, 'pad': 'y' * 100}, 3600 + n * 10)
for n in range($FOREVER):
    cache.set('mtest:forever:%d' % n, 'kept', None)
"

# The app before the release, on Redis (the password of the fixture's env file).
start_redis redis_dev_password
cd "$REDIS_APP"
sed -i -E -e "s/^MYSQL_HOST=.*/MYSQL_HOST=127.0.0.1/" -e "s/^MYSQL_PASSWORD=.*/MYSQL_PASSWORD=$DB_PASSWORD/" \
  -e 's/@mall-server-redis-dev:/@127.0.0.1:/' .env.development
make_venv venv -r requirements.txt
venv/bin/python manage.py shell -c "
from django.core.cache import cache
for n in range($REDIS_KEYS):
    cache.set('mtest:redis:%d' % n, n, 3600)
"
PREPARE
}

up() {
  need_image_and_wheel 'django-4.2*.whl' 'Django 4.2'
  if docker container inspect "$HOST" >/dev/null 2>&1; then
    fail "a container $HOST exists already (another run of this test?); remove it with: docker rm -f $HOST"
  fi
  start_host "$HOST"
  remove_on_exit container "$HOST"
  docker exec "$HOST" mkdir -p "$APP"
  docker cp -q "$ROOT/tests/fixtures/mall-server/." "$HOST:$APP/"
  docker cp -q "$ROOT/tests/fixtures/mall-server-release/." "$HOST:$APP/"
  docker exec "$HOST" mkdir -p "$REDIS_APP"
  docker cp -q "$ROOT/tests/fixtures/mall-server/." "$HOST:$REDIS_APP/"
  prepare_script | docker exec -i -e APP="$APP" -e REDIS_APP="$REDIS_APP" -e REDIS_KEYS="$REDIS_KEYS" -e DB_NAME="$DB_NAME" -e DB_USER="$DB_USER" -e DB_PASSWORD="$DB_PASSWORD" \
    -e EXPIRED="$EXPIRED" -e LIVE="$LIVE" -e FOREVER="$FOREVER" "$HOST" bash -s >"$LOGS/prepare.log" 2>&1 \
    || { tail -30 "$LOGS/prepare.log"; fail "preparing $HOST"; }
}

write_inventory() {
  cat >"$WORK/inventory.yml" <<EOF
all:
  children:
    mall_servers:
      hosts:
        $HOST:
          ansible_connection: community.docker.docker
          ansible_python_interpreter: /usr/bin/python3
          mall_app_dir: $APP
          mall_venv: $APP/venv
          mall_settings_module: mall_server.settings.development
          mall_env_files:
            - $APP/.env.development
          mall_db_host: 127.0.0.1
          mall_db_name: $DB_NAME
          mall_db_user: $DB_USER
          mall_db_password: $DB_PASSWORD
          mall_cache_table: $TABLE
          mall_redis_container: ''
EOF
}

# Usage: play NAME EXPECTED_RC playbook [options]; the output goes to $LOGS/NAME.log.
play() {
  local name=$1 want=$2 playbook=$3 rc=0 start
  shift 3
  start=$(now)
  ansible-playbook -i "$WORK/inventory.yml" "$ROOT/playbooks/$playbook" "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
  log "$name: ansible-playbook $playbook $* -> rc $rc in $(elapsed "$start" "$(now)") s"
  if [ "$want" = fail ] && [ "$rc" -eq 0 ]; then
    cat "$LOGS/$name.log"
    fail "$name: expected a failure, got rc 0"
  elif [ "$want" != fail ] && [ "$rc" -ne "$want" ]; then
    cat "$LOGS/$name.log"
    fail "$name: expected rc $want, got $rc"
  fi
}

expect() {  # expect NAME REGEX: the output of run NAME matches the extended regex
  grep -Eq -- "$2" "$LOGS/$1.log" || { cat "$LOGS/$1.log"; fail "$1: no line matches /$2/"; }
}

refuse() {  # refuse NAME REGEX: the output of run NAME does not match it
  if grep -Eq -- "$2" "$LOGS/$1.log"; then cat "$LOGS/$1.log"; fail "$1: a line matches /$2/"; fi
}

recap_changed() {  # the changed= count of the PLAY RECAP line of the host
  sed -nE "s/^$HOST +: .*changed=([0-9]+).*/\1/p" "$LOGS/$1.log"
}

show() {  # print the lines of the report tasks: the debug messages
  sed -nE 's/^ *"(\[ok\]|\[FAIL\])(.*)",?$/    \1\2/p; s/^ *"msg": "(.*)"$/    \1/p' "$LOGS/$1.log"
}

main() {
  local total start
  total=$(now)
  start=$(now)
  up
  write_inventory
  log "prepared $HOST in $(elapsed "$start" "$(now)") s"
  [ "$(expired_rows)" -eq "$EXPIRED" ] || fail "seeding: $(expired_rows) expired rows, expected $EXPIRED"
  [ "$(count_rows)" -eq $((EXPIRED + LIVE + FOREVER)) ] || fail "seeding: $(count_rows) rows"

  # verify: all checks pass on the database cache; the JSON report is written, mode 0600.
  play verify 0 verify.yml -e verify_report_file="$WORK/verify-report.json"
  show verify
  for check in backend round_trip table latency leftovers manage_check; do
    expect verify "\"\[ok\]   $check: "
  done
  refuse verify '\[FAIL\]'
  expect verify "table: $DB_NAME.$TABLE: $((EXPIRED + LIVE + FOREVER)) rows, $EXPIRED expired, $FOREVER never expire"
  expect verify 'backend: django.core.cache.backends.db.DatabaseCache \(database\) at mall_server_cache, expected any'
  [ "$(stat -c %a "$WORK/verify-report.json")" = 600 ] || fail "verify-report.json is not mode 0600"
  if grep -q -- "$DB_PASSWORD" "$WORK/verify-report.json" "$LOGS/verify.log"; then fail "the database password is in the report"; fi
  python3 - "$WORK/verify-report.json" "$HOST" "$((EXPIRED + LIVE + FOREVER))" <<'PY' || fail "verify-report.json"
import json, sys
path, host, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
doc = json.load(open(path))
result = doc["hosts"][host]
assert doc["expected_backend"] == "any" and doc["checked_at"].endswith("Z"), doc
assert result["backend_kind"] == "database" and result["failures"] == [], result
assert result["database"]["rows"] == rows, result["database"]
assert "invocation" not in result
print("playbooks_live: verify-report.json: %s, %d rows, latency set p50 %s ms, get p50 %s ms" % (
    result["backend"], result["database"]["rows"], result["latency"]["set"]["p50_ms"], result["latency"]["get"]["p50_ms"]))
PY
  [ "$(count_rows)" -eq $((EXPIRED + LIVE + FOREVER)) ] || fail "verify left $(count_rows) rows"

  # verify in check mode runs the same checks.
  play verify-check 0 verify.yml --check
  refuse verify-check '\[FAIL\]'

  # verify expecting Redis fails with the module's message.
  play verify-redis fail verify.yml -e verify_expected_backend=redis
  show verify-redis
  expect verify-redis '"\[FAIL\] backend: django.core.cache.backends.db.DatabaseCache \(database\) at mall_server_cache, expected redis"'
  expect verify-redis "cache check\(s\) failed: cache 'default' uses django.core.cache.backends.db.DatabaseCache \(database\), expected redis"
  expect verify-redis "$HOST +: .*failed=1"

  # maintain --check: counts, reports, deletes nothing; changed because rows would go.
  play maintain-check 0 maintain.yml --check -e maintain_batch_size=500
  show maintain-check
  expect maintain-check "Would delete $EXPIRED expired rows \(expires before [0-9: -]+\) in 5 batches of at most 500"
  [ "$(recap_changed maintain-check)" -ge 1 ] || fail "maintain --check reported no change"
  [ "$(count_rows)" -eq $((EXPIRED + LIVE + FOREVER)) ] || fail "maintain --check deleted rows: $(count_rows) left"

  # The same with Django's own clock (USE_TZ = True here, so the same rows).
  play maintain-check-django 0 maintain.yml --check -e maintain_expiry_clock=django
  expect maintain-check-django "Would delete $EXPIRED expired rows .* in 3 batches of at most 1000"
  [ "$(count_rows)" -eq $((EXPIRED + LIVE + FOREVER)) ] || fail "maintain --check deleted rows"

  # maintain with a bound: 3 batches of 500, the rest is reported.
  play maintain-bounded 0 maintain.yml -e maintain_batch_size=500 -e maintain_max_batches=3
  show maintain-bounded
  expect maintain-bounded "Deleted 1500 of $EXPIRED expired rows in 3 batches \(500, 500, 500\)"
  expect maintain-bounded "leaves at least $((EXPIRED - 1500)) for the next run"
  [ "$(expired_rows)" -eq $((EXPIRED - 1500)) ] || fail "after the bounded run: $(expired_rows) expired rows"

  # maintain: the rest goes, live and never-expiring rows stay.
  play maintain 0 maintain.yml -e maintain_batch_size=500
  show maintain
  expect maintain "Deleted $((EXPIRED - 1500)) of $((EXPIRED - 1500)) expired rows in 2 batches \(500, $((EXPIRED - 2000))\)"
  [ "$(expired_rows)" -eq 0 ] || fail "after maintain: $(expired_rows) expired rows"
  [ "$(count_rows)" -eq $((LIVE + FOREVER)) ] || fail "after maintain: $(count_rows) rows, expected $((LIVE + FOREVER))"
  [ "$(count_rows "cache_key LIKE '%mtest:live:%' OR cache_key LIKE '%mtest:forever:%'")" -eq $((LIVE + FOREVER)) ] \
    || fail "live or never-expiring rows are gone"
  [ "$(recap_changed maintain)" -ge 1 ] || fail "maintain deleted rows but reported no change"

  # A second run has nothing to do.
  play maintain-again 0 maintain.yml
  show maintain-again
  expect maintain-again "Nothing to delete"
  [ "$(recap_changed maintain-again)" -eq 0 ] || fail "second maintain run: changed=$(recap_changed maintain-again)"
  [ "$(count_rows)" -eq $((LIVE + FOREVER)) ] || fail "second maintain run deleted rows"

  # OPTIMIZE TABLE on request: check mode says so, the run does it.
  play maintain-optimize-check 0 maintain.yml --check -e maintain_optimize=true
  expect maintain-optimize-check "Would run OPTIMIZE TABLE"
  [ "$(recap_changed maintain-optimize-check)" -eq 1 ] || fail "optimize --check: changed=$(recap_changed maintain-optimize-check)"
  play maintain-optimize 0 maintain.yml -e maintain_optimize=true
  show maintain-optimize
  expect maintain-optimize "OPTIMIZE TABLE took"
  [ "$(recap_changed maintain-optimize)" -eq 1 ] || fail "optimize: changed=$(recap_changed maintain-optimize)"
  [ "$(count_rows)" -eq $((LIVE + FOREVER)) ] || fail "optimize changed the rows"

  # No table, nothing to do.
  play maintain-no-table 0 maintain.yml -e mall_cache_table=mtest_no_such_table
  expect maintain-no-table "$DB_NAME.mtest_no_such_table does not exist: nothing to maintain"
  [ "$(recap_changed maintain-no-table)" -eq 0 ] || fail "maintain without a table: changed=$(recap_changed maintain-no-table)"

  # The app on Redis: verify expecting redis passes and reports the leftovers without failing on them.
  local redis_host=(-e mall_app_dir="$REDIS_APP" -e mall_venv="$REDIS_APP/venv" -e "{\"mall_env_files\": [\"$REDIS_APP/.env.development\"]}")
  play verify-on-redis 0 verify.yml -e verify_expected_backend=redis "${redis_host[@]}"
  show verify-on-redis
  refuse verify-on-redis '\[FAIL\]'
  expect verify-on-redis '"\[ok\]   backend: django_redis.cache.RedisCache \(redis\) at redis://:\*\*\*\*\*\*\*\*@127.0.0.1:6379/1, expected redis"'
  expect verify-on-redis "\[ok\]   redis: ping ok, $REDIS_KEYS keys under mall_server:\*, memory "
  expect verify-on-redis "\[ok\]   leftovers: packages .*redis 5.0.1.*; env keys REDIS_URL:[0-9]+, .* in $REDIS_APP/.env.development; .*\(reported only: fail_on_leftovers is off with expected_backend redis\)"
  refuse verify-on-redis 'redis_dev_password'

  # Expecting the database there fails on the backend and on the leftovers ...
  play verify-on-redis-database fail verify.yml -e verify_expected_backend=database "${redis_host[@]}"
  show verify-on-redis-database
  expect verify-on-redis-database '"\[FAIL\] backend: django_redis.cache.RedisCache \(redis\) at .*, expected database"'
  expect verify-on-redis-database '"\[FAIL\] leftovers: packages '
  expect verify-on-redis-database "cache check\(s\) failed: cache 'default' uses django_redis.cache.RedisCache \(redis\), expected database; .*leftover"
  # ... and with verify_fail_on_leftovers=false on the backend only.
  play verify-on-redis-noleft fail verify.yml -e verify_expected_backend=database -e verify_fail_on_leftovers=false "${redis_host[@]}"
  expect verify-on-redis-noleft '"\[ok\]   leftovers: .*\(reported only: fail_on_leftovers is off\)"'
  expect verify-on-redis-noleft "1 cache check\(s\) failed: cache 'default' uses django_redis.cache.RedisCache \(redis\), expected database"

  # The lock is released after every run.
  docker exec "$HOST" test ! -e /run/mall-cache-migration/lock || fail "the lock is still held"

  log "all passed in $(elapsed "$total" "$(now)") s"
}

main "$@"
