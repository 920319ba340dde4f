#!/usr/bin/env bash
# Canary test: no secret reaches any output, at -vvv, on either machine.
#
# Distinctive secrets (canaries) are planted in a throwaway sandbox of its own, all named sec-canary-*:
#   db-password   the database password, with ' " $ ! in it: in the inventory, the env file, a
#                 compose healthcheck and an x- anchor; searched as its two halves, so that a
#                 quoted or escaped form counts too
#   redis         the Redis password: --requirepass and the healthcheck of the Redis container,
#                 REDIS_URL and REDIS_PASSWORD in the env file and the compose file, the inventory
#   secret-key    SECRET_KEY: the env file, the compose file, and mall_app_environment of every run
#   env-value     a secret value of the env file that the migration keeps (JWT_SECRET_KEY)
#   old-password  a commented-out password in the env file (#MYSQL_PASSWORD=...)
#   env-percent   MALL_API_TOKEN in mall_app_environment, with a % in it (cron ends a command at a %)
#   index-url-*   the user and password of mall_pip_index_url (pip ignores it: mall_pip_no_index)
# mall_app_environment also holds common words (database, redis, 1, true): only the secrets may be
# masked, so the runs must still read the data they decide on (the warm-up's source, verify's report).
# Containers: an app host (mall-server of tests/fixtures/mall-server on Redis, MariaDB on
# 127.0.0.1, the Docker socket, a syslog socket /dev/log written to /var/log/syslog) and the
# Redis container with its volume, on a network of their own.
#
# Runs at -vvv, with --diff where the run edits files:
#   migrate.yml --diff        (ps sampled on the app host the whole run, the dump included)
#   verify.yml -e verify_expected_backend=database -e verify_report_file=...
#   maintain.yml, then the cron line of the MySQLCache cull run as cron runs it  (ps sampled)
#   rollback.yml --diff, rollback_restore_database=true      (ps sampled, the import included)
# with cache_settings_backend=mysql (the cull's cron entry and its env file), and counts each
# canary in: the controller output of each run, verify.yml's JSON report, the app host's /var/log
# (syslog included), the ps samples, the cron file of the cull, and every file under the restore
# point root that is not mode 0600. Every count must be 0. The checks are not vacuous: syslog must
# hold module invocations, the ps samples a dump, the cull and an import, the restore point a dump,
# the cull's env file (0600, root) the app's secrets, and each run its expected result: a key set
# on Redis before the migration is in the database cache after it (the warm-up read its source as
# redis, though redis is a value of mall_app_environment), verify's report holds no masked value, and
# the rollback removes the cron entry with its env file and brings the app back on Redis with the
# imported database. (The rollback's warm-up does not copy a MySQLCache back: its probe lists the rows
# of Django's DatabaseCache only, so that is not checked here.)
#
# Usage: secrets_canary_live.sh                    (needs scripts/bootstrap.sh to have run)
#        SEC_KEEP_LOGS=DIR secrets_canary_live.sh  keeps every output in DIR
#        SEC_REPORT_ONLY=1 secrets_canary_live.sh  prints the counts and fails on nothing (to
#                                                  measure a tree that leaks)
#        LIVE_NAME_PREFIX=me- secrets_canary_live.sh  its containers, network and volume named me-sec-canary-*
set -euo pipefail

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_RETRY_FILES_ENABLED=false

NAME=$(unique_name sec-canary)
HOST=$NAME-app
REDIS=$NAME-redis
NETWORK=$NAME-net
VOLUME=${NAME}_redis_data
APP=/srv/mall-server
DB_NAME=mall_server_dev
DB_USER=mall_user
RESTORE_ROOT=/var/backups/mall-cache-migration
REPORT_ONLY=${SEC_REPORT_ONLY:-}
CULL_CRON_FILE=/etc/cron.d/mall-cache-migration-cull
CULL_ENV_FILE=/etc/mall-cache-migration-cull.env

# The canaries; each must be unique in any output, so each carries a random tail.
TAG=$RANDOM$RANDOM
DB_HEAD=c4nDbHead$TAG
DB_TAIL=c4nDbTail$TAG
# The quotes and the $ are part of the password: it must survive every layer as it is.
# shellcheck disable=SC2089
DB_PASSWORD="$DB_HEAD'\"\$!$DB_TAIL"
REDIS_PASSWORD=c4nRedis$TAG
SECRET_KEY=c4nSecretKey$TAG-x9
ENV_VALUE=c4nEnvValue$TAG
OLD_PASSWORD=c4nOldPw$TAG
APP_TOKEN="c4nTok%en$TAG"
INDEX_USER=c4nIdxUser$TAG
INDEX_PASSWORD=c4nIdxPw$TAG
CANARY_NAMES=(db-password-1 db-password-2 redis secret-key env-value old-password env-percent index-url-user index-url-password)
CANARY_VALUES=("$DB_HEAD" "$DB_TAIL" "$REDIS_PASSWORD" "$SECRET_KEY" "$ENV_VALUE" "$OLD_PASSWORD" "$APP_TOKEN" "$INDEX_USER" "$INDEX_PASSWORD")
# shellcheck disable=SC2090
export DB_PASSWORD REDIS_PASSWORD SECRET_KEY ENV_VALUE OLD_PASSWORD APP_TOKEN INDEX_USER INDEX_PASSWORD REDIS VOLUME DB_NAME DB_USER APP

make_workdir sec-canary
LOGS=${SEC_KEEP_LOGS:-$WORK/logs}
mkdir -p "$LOGS" "$WORK/files" "$WORK/inventory/group_vars"
chmod 0700 "$WORK"

on_host() { docker exec -i "$HOST" "$@"; }

# ---------------------------------------------------------------------------------------------
# Files with the canaries, written on the controller with Python (no shell quoting on the way).
write_files() {
  python3 - "$ROOT/tests/fixtures/mall-server" "$WORK/files" <<'PY'
import os, pathlib, sys
fixture, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
e = os.environ
redis_url = f"redis://:{e['REDIS_PASSWORD']}@{e['REDIS']}:6379"
# The env file as the fixture's, with the canaries. python-decouple takes a value as written
# (less one pair of enclosing quotes), so the password, which neither starts nor ends with a
# quote, is written bare.
(out / '.env.development').write_text(f"""# mall-server development environment (secrets canary)
# Database Configuration
MYSQL_DATABASE={e['DB_NAME']}
MYSQL_USER={e['DB_USER']}
MYSQL_PASSWORD={e['DB_PASSWORD']}
#MYSQL_PASSWORD={e['OLD_PASSWORD']}
MYSQL_HOST=127.0.0.1
MYSQL_PORT=3306

# Redis Configuration
REDIS_URL={redis_url}/1
REDIS_HOST={e['REDIS']}
REDIS_PORT=6379
REDIS_PASSWORD={e['REDIS_PASSWORD']}

# Celery Configuration
CELERY_BROKER_URL={redis_url}/0
CELERY_RESULT_BACKEND={redis_url}/0

# Django Configuration
DEBUG=True
SECRET_KEY={e['SECRET_KEY']}
ALLOWED_HOSTS=localhost,127.0.0.1

# JWT Configuration
JWT_SECRET_KEY={e['ENV_VALUE']}
JWT_ALGORITHM=HS256
""")
# The fixture's compose file with the canaries, a shared x- environment block and a healthcheck
# of the kept database service that carries the password. YAML single quotes: ' doubled.
yaml_db_password = e['DB_PASSWORD'].replace("'", "''")
compose = (fixture / 'docker-compose.dev.yml').read_text()
compose = compose.replace('redis_dev_password', e['REDIS_PASSWORD']).replace('root_dev_password', f"'{yaml_db_password}'")
compose = compose.replace('dev_password', f"'{yaml_db_password}'")
compose = compose.replace('      test: ["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"]',
                          f"      test: ['CMD-SHELL', 'mariadb-admin ping -u{e['DB_USER']} -p{yaml_db_password}']")
compose = compose.replace('\nservices:\n', f"""
x-app-secrets: &app-secrets
  JWT_SECRET_KEY: {e['ENV_VALUE']}
  SECRET_KEY: {e['SECRET_KEY']}

services:
""", 1)
compose = compose.replace('      DJANGO_SETTINGS_MODULE: mall_server.settings.development\n',
                          '      <<: *app-secrets\n      DJANGO_SETTINGS_MODULE: mall_server.settings.development\n', 1)
assert compose.count(e['REDIS_PASSWORD']) >= 3 and compose.count(yaml_db_password) >= 3, compose
(out / 'docker-compose.dev.yml').write_text(compose)
PY
}

write_inventory() {
  cat >"$WORK/inventory/hosts.yml" <<EOF
mall_servers:
  hosts:
    $HOST:
      ansible_connection: community.docker.docker
EOF
  # JSON is YAML: no quoting of the canaries to get wrong.
  python3 - "$WORK/inventory/group_vars/mall_servers.yml" "$HOST" <<'PY'
import json, os, sys
e = os.environ
app = e['APP']
settings = dict(
    ansible_python_interpreter='/usr/bin/python3',
    mall_app_dir=app,
    mall_settings_module='mall_server.settings.development',
    mall_env_files=[f'{app}/.env.development'],
    # Secrets, and common words that must not be masked where the roles read results.
    mall_app_environment={'MALL_ENV_FILE': f'{app}/.env.development', 'SECRET_KEY': e['SECRET_KEY'],
                          'MALL_API_TOKEN': e['APP_TOKEN'], 'MALL_PLAIN_DATABASE': 'database',
                          'MALL_PLAIN_REDIS': 'redis', 'MALL_PLAIN_ONE': '1', 'MALL_PLAIN_TRUE': 'true'},
    cache_settings_backend='mysql',
    mall_compose_file=f'{app}/docker-compose.dev.yml',
    mall_app_restart_command=f'env MALL_START_TIMEOUT=120 {app}/bin/mall-serverctl restart',
    mall_app_log_file=f'{app}/logs/mall-server.log',
    mall_app_url='http://127.0.0.1:8000',
    mall_db_host='127.0.0.1',
    mall_db_name=e['DB_NAME'],
    mall_db_user=e['DB_USER'],
    mall_db_password=e['DB_PASSWORD'],
    mall_redis_container=e['REDIS'],
    mall_redis_volume=e['VOLUME'],
    mall_redis_host=e['REDIS'],
    mall_redis_port=6379,
    mall_redis_password=e['REDIS_PASSWORD'],
    mall_pip_find_links=['/wheelhouse'],
    mall_pip_no_index=True,
    # Never contacted (mall_pip_no_index); pip gets it all the same.
    mall_pip_index_url=f"https://{e['INDEX_USER']}:{e['INDEX_PASSWORD']}@127.0.0.1:9/simple",
)
with open(sys.argv[1], 'w') as f:
    json.dump(settings, f, indent=2)
PY
}

# ---------------------------------------------------------------------------------------------
# Runs inside the app host, as root.
prepare_script() {
  container_prelude
  cat <<'PREPARE'
# A syslog socket, so that what modules log ("Invoked with ...") lands in /var/log/syslog.
nohup python3 -c '
import os, socket
path = "/dev/log"
if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)
with open("/var/log/syslog", "ab", buffering=0) as log:
    while True:
        log.write(sock.recv(65536).rstrip(b"\0") + b"\n")
' >/dev/null 2>&1 </dev/null &
for _ in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.1; done
# ansible.builtin.cron looks for crontab even when it writes a file of /etc/cron.d (the image has no
# cron); no cron daemon runs: the test runs the cull's line itself, as cron would.
printf '#!/bin/sh\nexit 0\n' >/usr/local/bin/crontab
chmod 0755 /usr/local/bin/crontab

start_mariadb
# SQL string literal: ' doubled (the password has no backslash).
mariadb <<SQL
CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '${DB_PASSWORD//\'/\'\'}';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1';
SQL
# Some bulk, so that the dump runs long enough for the ps samples to see it.
mariadb "$DB_NAME" <<'SQL'
SET SESSION max_recursive_iterations = 100000;
CREATE TABLE sec_bulk (id INT PRIMARY KEY, pad TEXT);
INSERT INTO sec_bulk WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
  SELECT i, REPEAT(MD5(i), 24) FROM n;
SQL

cd "$APP"
make_venv venv -r requirements.txt
export DJANGO_SETTINGS_MODULE=mall_server.settings.development
venv/bin/python manage.py migrate -v 0
venv/bin/python manage.py seed_demo >/dev/null
# Slow hosts (a shared CI machine) need more than the default 20 s.
MALL_START_TIMEOUT=120 bin/mall-serverctl start
PREPARE
}

up() {
  need_image_and_wheel 'django-4.2*.whl' 'Django 4.2'
  docker network create "$NETWORK" >/dev/null
  remove_on_exit network "$NETWORK"
  remove_on_exit container "$REDIS"
  remove_on_exit volume "$VOLUME"
  docker run -d --name "$REDIS" --network "$NETWORK" -v "$VOLUME:/data" \
    --label com.docker.compose.project=mall-server --label com.docker.compose.service=redis-mall \
    --health-cmd "redis-cli -a $REDIS_PASSWORD --no-auth-warning ping" --health-interval 5s \
    "$MALL_TEST_IMAGE" redis-server --requirepass "$REDIS_PASSWORD" --dir /data --appendonly no --protected-mode no >/dev/null
  remove_on_exit container "$HOST"
  docker run -d --init --name "$HOST" --network "$NETWORK" -v /var/run/docker.sock:/var/run/docker.sock \
    -v "$MALL_WHEELHOUSE:/wheelhouse:ro" "$MALL_TEST_IMAGE" sleep infinity >/dev/null
  docker exec "$HOST" mkdir -p "$APP"
  docker cp -q "$ROOT/tests/fixtures/mall-server/." "$HOST:$APP/"
  docker cp -q "$WORK/files/.env.development" "$HOST:$APP/.env.development"
  docker cp -q "$WORK/files/docker-compose.dev.yml" "$HOST:$APP/docker-compose.dev.yml"
  on_host chmod 0640 "$APP/.env.development"
  prepare_script | docker exec -i -e APP="$APP" -e DB_NAME="$DB_NAME" -e DB_USER="$DB_USER" -e DB_PASSWORD="$DB_PASSWORD" \
    "$HOST" bash -s >"$LOGS/prepare.log" 2>&1 || { tail -30 "$LOGS/prepare.log"; fail "preparing $HOST"; }
}

# ---------------------------------------------------------------------------------------------
# The command line of every process on the app host (what ps shows), sampled every 20 ms until
# ps_stop; each distinct one once, into /root/ps-NAME.txt. One Python process, so that sampling
# this often costs little.
ps_start() {
  docker exec -d "$HOST" python3 -c '
import os, sys, time
out, stop = "/root/ps-%s.txt" % sys.argv[1], "/root/ps-stop"
if os.path.exists(stop):
    os.unlink(stop)
seen = set()
with open(out, "a") as f:
    while not os.path.exists(stop):
        for pid in os.listdir("/proc"):
            try:
                cmdline = open("/proc/%s/cmdline" % pid, "rb").read() if pid.isdigit() else b""
            except OSError:
                continue
            if cmdline and cmdline not in seen:
                seen.add(cmdline)
                f.write(cmdline.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace") + "\n")
                f.flush()
        time.sleep(0.02)
' "$1"
}
ps_stop() {
  on_host touch /root/ps-stop
  sleep 0.5
  docker cp -q "$HOST:/root/ps-$1.txt" "$LOGS/ps-$1.txt"
}

# What was not as expected; the counts are printed all the same, then the test fails.
CHECKS_FAILED=()

# Usage: play NAME EXPECTED_RC playbook [options]; the output goes to $LOGS/NAME.log.
play() {
  local name=$1 want=$2 playbook=$3 rc=0 start
  shift 3
  start=$(now)
  ansible-playbook -vvv -i "$WORK/inventory" "$ROOT/playbooks/$playbook" "$@" \
    >"$LOGS/$name.log" 2>&1 || rc=$?
  log "$name: ansible-playbook -vvv $playbook $* -> rc $rc in $(elapsed "$start" "$(now)") s"
  if [ "$rc" -ne "$want" ]; then
    { grep -E '^(fatal|failed|TASK)' "$LOGS/$name.log" | grep -B1 -E '^(fatal|failed)' || true; } | head -6 | cut -c1-300 || true
    CHECKS_FAILED+=("$name: rc $rc, expected $want")
  fi
}

# must WHAT COMMAND...: a check that the canary's search is not vacuous.
must() {
  local what=$1
  shift
  if ! "$@" >/dev/null 2>&1; then
    log "not as expected: $what"
    CHECKS_FAILED+=("$what")
  fi
}

# app_cache CODE: runs Python CODE in the app's Django shell (its settings and env file), as the app would.
app_cache() {
  docker exec -w "$APP" -e DJANGO_SETTINGS_MODULE=mall_server.settings.development -e MALL_ENV_FILE="$APP/.env.development" \
    "$HOST" venv/bin/python manage.py shell -c "from django.core.cache import cache; $1"
}

# The cull's line of the cron file, run as cron runs it: its command up to the first % that is not
# escaped, each \% as %, through /bin/sh with cron's small environment.
run_cull_as_cron() {
  on_host python3 -c '
import subprocess, sys
line = next(l for l in open(sys.argv[1]) if "cull_mysql_caches" in l and not l.startswith("#"))
job, command, i = line.rstrip("\n").split(None, 6)[6], "", 0
while i < len(job) and job[i] != "%":
    escaped = job.startswith("\\%", i)
    command += "%" if escaped else job[i]
    i += 2 if escaped else 1
sys.exit(subprocess.run(["/bin/sh", "-c", command], env={"PATH": "/usr/bin:/bin", "HOME": "/root", "SHELL": "/bin/sh"}).returncode)
' "$CULL_CRON_FILE"
}

# count OUTPUT FILE...: one line per canary with its number of occurrences in the files.
LEAKS=0
COUNTS=()
count() {
  local output=$1 i n total=0
  shift
  [ "$#" -gt 0 ] || set -- /dev/null
  for i in "${!CANARY_VALUES[@]}"; do
    n=$(cat -- "$@" 2>/dev/null | { grep -o -F -- "${CANARY_VALUES[$i]}" || true; } | wc -l)
    COUNTS+=("$(printf '%-26s %-13s %s' "$output" "${CANARY_NAMES[$i]}" "$n")")
    total=$((total + n))
  done
  LEAKS=$((LEAKS + total))
  if [ "$total" -gt 0 ]; then
    log "LEAK in $output: $total occurrence(s); first lines:"
    for i in "${!CANARY_VALUES[@]}"; do
      { grep -n -F -- "${CANARY_VALUES[$i]}" "$@" 2>/dev/null || true; } | head -3 | cut -c1-240 | sed "s/^/    ${CANARY_NAMES[$i]}: /" || true
    done
  fi
}

main() {
  local total start probe
  total=$(now)
  start=$(now)
  write_files
  write_inventory
  up
  log "prepared $HOST and $REDIS in $(elapsed "$start" "$(now)") s"

  # A key in Redis, which the migration's warm-up copies into the database cache.
  app_cache "cache.set('sec_probe_before', 'before', 3600)"
  ps_start migrate
  play migrate 0 migrate.yml --diff
  ps_stop migrate
  probe=$(app_cache "print(cache.get('sec_probe_before'))" 2>/dev/null | tail -1 || true)
  must "the migration's warm-up copied the key set on Redis (read: $probe)" test "$probe" = before
  play verify 0 verify.yml -e verify_expected_backend=database -e verify_report_file="$WORK/verify-report.json"
  ps_start cull
  play maintain 0 maintain.yml
  run_cull_as_cron >"$LOGS/cull.log" 2>&1 || CHECKS_FAILED+=("the cull's cron line failed: $(tail -3 "$LOGS/cull.log")")
  ps_stop cull
  docker cp -q "$HOST:$CULL_CRON_FILE" "$LOGS/cron-cull" || CHECKS_FAILED+=("no cron file of the cull")
  docker cp -q "$HOST:$CULL_ENV_FILE" "$WORK/cull.env" || CHECKS_FAILED+=("no env file of the cull")
  must "the cron line of the cull reads its env file" grep -qF ". $CULL_ENV_FILE" "$LOGS/cron-cull"
  must "the cull's env file holds the app's secrets" grep -qF "$APP_TOKEN" "$WORK/cull.env"
  must "the cull's env file is 0600 and root's" bash -c "[ \"\$(docker exec $HOST stat -c '%a %U' $CULL_ENV_FILE)\" = '600 root' ]"
  # A change after the migration, which the import of the dump undoes.
  on_host mariadb "$DB_NAME" -e "UPDATE sec_bulk SET pad = 'changed after the migration' WHERE id = 1"
  ps_start rollback
  play rollback 0 rollback.yml --diff -e '{"rollback_restore_database": true}'
  ps_stop rollback
  must "the rollback removed the cull's cron file and env file" \
    docker exec "$HOST" sh -c "! test -e $CULL_CRON_FILE && ! test -e $CULL_ENV_FILE"
  must "verify.yml's report holds no masked value" python3 -c '
import json, sys
def values(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from values(value)
    elif isinstance(node, list):
        for value in node:
            yield from values(value)
    else:
        yield str(node)
sys.exit(any("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in v or "********" in v for v in values(json.load(open(sys.argv[1])))))
' "$WORK/verify-report.json"

  # What the runs must have done, so that the search below finds what there is to find.
  must "migrate: the app on the database cache" grep -Eq 'DatabaseCache|MySQLCache' "$LOGS/migrate.log"
  must "verify.yml wrote its report" test -s "$WORK/verify-report.json"
  must "the ps samples hold the dump" grep -Eq '(mysqldump|mariadb-dump) ' "$LOGS/ps-migrate.txt"
  must "the ps samples hold the import" grep -Eq '^(/usr/bin/)?(mysql|mariadb) .*--one-database' "$LOGS/ps-rollback.txt"
  must "the ps samples hold the cull" grep -q 'cull_mysql_caches' "$LOGS/ps-cull.txt"
  must "the ps samples hold pip" grep -q ' -m pip install' "$LOGS/ps-migrate.txt"
  must "the rollback imported the dump (the change after the migration is undone)" \
    bash -c "[ \"\$(docker exec $HOST mariadb -N -B $DB_NAME -e \"SELECT COUNT(*) FROM sec_bulk WHERE pad = 'changed after the migration'\")\" = 0 ]"
  must "the rollback put the app back on Redis" \
    bash -c "docker exec $HOST curl -fsS http://127.0.0.1:8000/healthz | grep -q redis"
  docker exec "$HOST" tar -C / -cf - var/log | tar -C "$WORK" -xf -
  must "syslog holds the modules' invocations" grep -q 'Invoked with' "$WORK/var/log/syslog"
  # The restore point: every file that is not 0600 (there should be none) is searched.
  on_host find "$RESTORE_ROOT" -type f -printf '%m %p\n' >"$LOGS/restore-point-files.txt"
  must "the restore point holds a dump" grep -q 'database.sql.gz$' "$LOGS/restore-point-files.txt"
  local loose=()
  while read -r mode path; do
    [ "$mode" = 600 ] && continue
    log "restore point file not 0600: $mode $path"
    docker cp -q "$HOST:$path" "$WORK/loose-${#loose[@]}"
    loose+=("$WORK/loose-${#loose[@]}")
  done <"$LOGS/restore-point-files.txt"

  local run log_files=()
  for run in migrate verify maintain rollback; do count "output of $run.yml" "$LOGS/$run.log"; done
  count "verify.yml JSON report" "$WORK/verify-report.json"
  while IFS= read -r -d '' run; do log_files+=("$run"); done < <(find "$WORK/var/log" -type f -print0)
  count "app host /var/log" "${log_files[@]}"
  count "ps during migrate" "$LOGS/ps-migrate.txt"
  count "ps during rollback" "$LOGS/ps-rollback.txt"
  count "ps during the cull" "$LOGS/ps-cull.txt"
  count "cron file of the cull" "$LOGS/cron-cull"
  count "output of the cull" "$LOGS/cull.log"
  count "restore point, not 0600" "${loose[@]}"
  [ "${#loose[@]}" -eq 0 ] || CHECKS_FAILED+=("${#loose[@]} restore point file(s) not 0600")

  log "occurrences of each canary (output, canary, count):"
  printf '    %s\n' "${COUNTS[@]}"
  log "searched: $(find "$WORK/var/log" -type f | wc -l) files under /var/log ($(grep -c 'Invoked with' "$WORK/var/log/syslog" || true) syslog invocations)," \
    "$(grep -c -E '(mysqldump|mariadb-dump) ' "$LOGS/ps-migrate.txt" || true) ps lines of the dump," \
    "$(grep -c -E -- '--one-database' "$LOGS/ps-rollback.txt" || true) of the import"
  if [ "${#CHECKS_FAILED[@]}" -gt 0 ]; then
    printf '    not as expected: %s\n' "${CHECKS_FAILED[@]}"
    [ -n "$REPORT_ONLY" ] || fail "${#CHECKS_FAILED[@]} check(s) not as expected"
  fi
  [ "$LEAKS" -eq 0 ] || [ -n "$REPORT_ONLY" ] || fail "$LEAKS occurrence(s) of secrets in the outputs"
  log "all passed in $(elapsed "$total" "$(now)") s"
}

main "$@"
