#!/usr/bin/env bash
# Live test of playbooks/migrate.yml and playbooks/rollback.yml on a Django project that is NOT
# mall-server: another layout, written here, configured only from the collection README.
#
# One throwaway container (nu-host) of the test image, with --init, runs mariadbd and
# `redis-server --requirepass` as plain background processes (no Docker inside, so no Redis
# container, volume or compose file), and a Django 4.2 project:
#   /opt/shop                       project (manage.py), not a git checkout
#   /opt/shop/shopcore/settings.py  one settings module, CACHES on django_redis (double quotes,
#                                   LOCATION from REDIS_URL via python-decouple RepositoryEnv,
#                                   KEY_PREFIX "shop", TIMEOUT 600), CELERY_* settings
#   /opt/shop/shopcore/celery.py    imported from shopcore/__init__.py; no tasks
#   /opt/shop/requirements/base.txt requirements
#   /opt/shop/.venv                 virtualenv (inside the project directory)
#   /opt/shop/config/shop.env       CRLF, comments, blank lines, `export `, quotes, no final newline
#   /opt/shop/.env                  a link to config/shop.env, the name the inventory gives (it stays a link)
#   /opt/shop/bin/shopctl restart   gunicorn --daemon, log in /opt/shop/logs/shop.log
# The env file's path reaches the settings only through SHOP_ENV_FILE (mall_app_environment).
# The database user `shop` has SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, DROP, ALTER,
# LOCK TABLES, SHOW VIEW, TRIGGER on its database, not ALL (preflight wants SHOW VIEW and TRIGGER for the dump).
#
# Runs, with an inventory written from the README's "Inventory settings":
#   migrate.yml with shopcore/stats.py using get_redis_connection   fails in preflight, changes nothing
#   migrate.yml --check --diff       succeeds, changes nothing (files, pip freeze)
#   migrate.yml                      succeeds
#   migrate.yml                      PLAY RECAP changed=0
#   asserts: the env file lost exactly the six key lines (every other byte kept), the
#            requirements lost the redis, django-redis and celery lines, DatabaseCache with
#            KEY_PREFIX "shop" and TIMEOUT 600, no redis/django-redis/celery/kombu, the cache
#            works through Django and the app answers; the restore point's files and modes
#   migrate.yml --check --diff       on the migrated host: changed=0
#   verify.yml -e verify_expected_backend=database   every check [ok]
#   rollback.yml                     succeeds; files byte-identical to before, pip freeze identical,
#                                    django-redis back, the app on Redis with its old keys
#   rollback.yml                     PLAY RECAP changed=0
#   migrate.yml                      succeeds again (a second restore point)
# and that no password shows in any ansible-playbook output.
# and removes everything it made on exit, also on failure.
#
# Usage: other_layout_live.sh                       (needs scripts/bootstrap.sh to have run)
#        NU_KEEP_LOGS=DIR other_layout_live.sh      keeps every ansible-playbook output in DIR
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_RETRY_FILES_ENABLED=false

HOST=${NU_HOST:-nu-host}
APP=/opt/shop
ENV_FILE=$APP/config/shop.env
SETTINGS=$APP/shopcore/settings.py
INIT=$APP/shopcore/__init__.py
REQS=$APP/requirements/base.txt
WHEELS=/opt/wheelhouse
DB_NAME=shop
DB_USER=shop
DB_PASSWORD="nu-db-$(date +%s)-$RANDOM"
REDIS_PASSWORD=nu-redis-pw
TABLE=shop_cache
RESTORE_ROOT=/var/backups/mall-cache-migration
WORK=$(mktemp -d /tmp/nu-other-layout-XXXXXX)
LOGS=${NU_KEEP_LOGS:-$WORK/logs}
mkdir -p "$LOGS" "$WORK/inventory/group_vars/mall_servers" "$WORK/before" "$WORK/after"
STARTED=""

cleanup() {
  if [ -n "$STARTED" ]; then docker rm -f "$HOST" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf 'other_layout_live: %s\n' "$*"; }
fail() { log "FAILED: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
on_host() { docker exec -i -e SHOP_ENV_FILE="$ENV_FILE" -e DJANGO_SETTINGS_MODULE=shopcore.settings "$HOST" "$@"; }
sql() { docker exec -i "$HOST" mariadb -N -B "$DB_NAME" -e "$1"; }
django() { on_host bash -c "cd $APP && .venv/bin/python manage.py shell -c \"\$1\"" _ "$1"; }

# ---------------------------------------------------------------------------------------------
# The env file: each line is kept or dropped by the migration. Written with CRLF line endings
# and without a final newline; the expected result is the kept lines, joined the same way.
ENV_LINES=()
ENV_KEPT=()
env_line() { ENV_LINES+=("$2"); if [ "$1" = keep ]; then ENV_KEPT+=("$2"); fi; }
env_line keep "# Shop configuration, read by shopcore/settings.py (python-decouple)."
env_line keep "# Edit by hand; the path is given in SHOP_ENV_FILE."
env_line keep ""
env_line keep "SECRET_KEY=\"nu-not-secret-0123456789-abcdefghij\""
env_line keep "DEBUG=False"
env_line keep "ALLOWED_HOSTS=127.0.0.1,localhost"
env_line keep ""
env_line keep "# Database"
env_line keep "DB_NAME=$DB_NAME"
env_line keep "DB_USER=$DB_USER"
env_line keep "DB_PASSWORD='$DB_PASSWORD'"
env_line keep "export DB_HOST=\"127.0.0.1\""
env_line keep "DB_PORT=3306"
env_line keep ""
env_line keep "# Cache"
# No export on a dropped line: python-decouple would read its key as "export KEY", so env_file_keys refuses it.
env_line drop "REDIS_URL=\"redis://:$REDIS_PASSWORD@127.0.0.1:6379/1\""
env_line drop "REDIS_HOST=127.0.0.1"
env_line drop "REDIS_PORT=6379   # the default port"
env_line drop "REDIS_PASSWORD='$REDIS_PASSWORD'"
env_line keep "# REDIS_URL=redis://old-cache.example.internal:6379/1   (the old server, commented out)"
env_line keep ""
env_line keep "# Celery (no tasks yet)"
env_line drop "CELERY_BROKER_URL = redis://:$REDIS_PASSWORD@127.0.0.1:6379/0"
env_line drop "CELERY_RESULT_BACKEND='redis://:$REDIS_PASSWORD@127.0.0.1:6379/0'"
env_line keep ""
env_line keep "export SHOP_REGION=eu-west"
env_line keep "LOG_LEVEL=info"
crlf_join() { printf '%s\r\n' "$@" | head -c -2; }

# The requirements file; the migration drops the lines of redis, django-redis and celery.
REQ_LINES=()
REQ_KEPT=()
req_line() { REQ_LINES+=("$2"); if [ "$1" = keep ]; then REQ_KEPT+=("$2"); fi; }
req_line keep "# Runtime requirements of the shop."
req_line keep "Django>=4.2,<5.0"
req_line keep "djangorestframework>=3.14"
req_line keep "PyJWT>=2.8"
req_line keep "PyMySQL>=1.1"
req_line keep "python-decouple==3.8"
req_line keep "gunicorn"
req_line keep ""
req_line keep "# Cache and queue"
req_line drop "django-redis==5.4.0"
req_line drop "redis==5.0.1"
req_line drop "celery==5.3.4"

# ---------------------------------------------------------------------------------------------
# Runs inside the container, as root: services, the project, its virtualenv.
prepare_script() {
  cat <<'PREPARE'
set -euo pipefail
install -d -o mysql -g mysql /run/mysqld
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
nohup mariadbd --user=mysql --bind-address=127.0.0.1 >/var/log/mariadbd.log 2>&1 </dev/null &
cd /var/lib/redis 2>/dev/null || cd /tmp
redis-server --daemonize yes --bind 127.0.0.1 --requirepass nu-redis-pw --logfile /var/log/redis-nu.log
for _ in $(seq 1 60); do
  mariadb -e 'SELECT 1' >/dev/null 2>&1 && break
  sleep 1
done
mariadb <<SQL
CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, DROP, ALTER, LOCK TABLES, SHOW VIEW, TRIGGER ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1';
SQL

id shop >/dev/null 2>&1 || useradd --system --home-dir "$APP" --shell /usr/sbin/nologin shop
mkdir -p "$APP/shopcore" "$APP/requirements" "$APP/config" "$APP/bin" "$APP/logs" "$APP/run"
cd "$APP"
cat >manage.py <<'EOF'
#!/usr/bin/env python
"""Django's command-line utility for the shop."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcore.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
EOF
cat >shopcore/__init__.py <<'EOF'
import pymysql

pymysql.install_as_MySQLdb()

# The Celery app is loaded with Django so that shared_task uses it.
from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
EOF
cat >shopcore/celery.py <<'EOF'
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcore.settings")

app = Celery("shopcore")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
EOF
cat >shopcore/settings.py <<'EOF'
"""Settings of the shop: one module, configured from the env file named in SHOP_ENV_FILE."""
import os
from pathlib import Path

from decouple import Config, Csv, RepositoryEnv

BASE_DIR = Path(__file__).resolve().parent.parent

env = Config(RepositoryEnv(os.environ["SHOP_ENV_FILE"]))

SECRET_KEY = env("SECRET_KEY")
DEBUG = env("DEBUG", default=False, cast=bool)
ALLOWED_HOSTS = env("ALLOWED_HOSTS", default="127.0.0.1", cast=Csv())

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "shopcore.urls"
WSGI_APPLICATION = "shopcore.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "NAME": env("DB_NAME"),
        "USER": env("DB_USER"),
        "PASSWORD": env("DB_PASSWORD"),
        "HOST": os.environ.get("DB_HOST", "127.0.0.1"),
        "PORT": env("DB_PORT", default="3306"),
        "OPTIONS": {"charset": "utf8mb4"},
    }
}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env("REDIS_URL"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
        },
        "KEY_PREFIX": "shop",
        "TIMEOUT": 600,
    }
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="")
CELERY_TASK_SERIALIZER = "json"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="info").upper()},
}
EOF
cat >shopcore/urls.py <<'EOF'
from django.urls import path

from . import views

urlpatterns = [
    path("health/", views.health),
    path("api/products/", views.products),
]
EOF
cat >shopcore/views.py <<'EOF'
from django.core.cache import caches
from django.http import JsonResponse


def health(request):
    return JsonResponse({"status": "ok"})


def products(request):
    cache = caches["default"]
    items = cache.get_or_set(
        "products:all", lambda: [{"id": n, "name": "product %d" % n} for n in range(1, 4)], 60
    )
    return JsonResponse({"products": items, "cache": type(cache).__module__ + "." + type(cache).__name__})
EOF
cat >shopcore/wsgi.py <<'EOF'
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcore.settings")

application = get_wsgi_application()
EOF
cat >bin/shopctl <<'EOF'
#!/bin/bash
# shopctl restart: stops gunicorn if it runs and starts it again in the background.
set -euo pipefail
: "${SHOP_ENV_FILE:?set SHOP_ENV_FILE to the env file}"
export SHOP_ENV_FILE DJANGO_SETTINGS_MODULE=shopcore.settings
cd /opt/shop
pidfile=/opt/shop/run/gunicorn.pid
case "${1:-restart}" in
  restart | start | stop)
    if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      pid=$(cat "$pidfile")
      kill -TERM "$pid"
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
    [ "${1:-restart}" = stop ] && exit 0
    .venv/bin/gunicorn shopcore.wsgi:application --bind 127.0.0.1:8000 --workers 2 --daemon \
      --pid "$pidfile" --error-logfile /opt/shop/logs/shop.log --access-logfile /opt/shop/logs/access.log \
      --capture-output </dev/null
    ;;
  *) echo "usage: $0 restart|start|stop" >&2; exit 2 ;;
esac
EOF
chmod 0755 bin/shopctl manage.py

python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check --no-index --find-links "$WHEELS" -r requirements/base.txt
chown -R shop:shop "$APP"
chown root:shop config/shop.env
chmod 0640 config/shop.env
# The inventory names the env file by a link, as a checkout that links .env to its environment's file does.
ln -s config/shop.env .env
export SHOP_ENV_FILE="$APP/config/shop.env" DJANGO_SETTINGS_MODULE=shopcore.settings
.venv/bin/python manage.py check
.venv/bin/python manage.py migrate -v 0
.venv/bin/python manage.py shell -c "
from django.core.cache import cache
for n in range(20):
    cache.set('nu:seed:%d' % n, {'n': n}, 3600)
"
bin/shopctl restart
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null http://127.0.0.1:8000/health/ && break
  sleep 0.2
done
curl -fsS http://127.0.0.1:8000/api/products/
echo
PREPARE
}

up() {
  docker image inspect "$MALL_TEST_IMAGE" >/dev/null 2>&1 || fail "image $MALL_TEST_IMAGE missing: run scripts/bootstrap.sh"
  ls "$MALL_WHEELHOUSE"/django-4.2*.whl "$MALL_WHEELHOUSE"/django_redis-*.whl >/dev/null 2>&1 \
    || fail "no Django 4.2 / django-redis in $MALL_WHEELHOUSE: run scripts/bootstrap.sh"
  if docker container inspect "$HOST" >/dev/null 2>&1; then
    fail "a container $HOST exists already (another run of this test?); remove it with: docker rm -f $HOST"
  fi
  docker run -d --init --name "$HOST" -v "$MALL_WHEELHOUSE:$WHEELS:ro" "$MALL_TEST_IMAGE" sleep infinity >/dev/null
  STARTED=1
  docker exec "$HOST" mkdir -p "$APP/config" "$APP/requirements"
  crlf_join "${ENV_LINES[@]}" >"$WORK/shop.env"
  crlf_join "${ENV_KEPT[@]}" >"$WORK/shop.env.expected"
  printf '%s\n' "${REQ_LINES[@]}" >"$WORK/base.txt"
  printf '%s\n' "${REQ_KEPT[@]}" >"$WORK/base.txt.expected"
  docker cp -q "$WORK/shop.env" "$HOST:$ENV_FILE"
  docker cp -q "$WORK/base.txt" "$HOST:$REQS"
  prepare_script | docker exec -i -e APP="$APP" -e WHEELS="$WHEELS" -e DB_NAME="$DB_NAME" -e DB_USER="$DB_USER" \
    -e DB_PASSWORD="$DB_PASSWORD" "$HOST" bash -s >"$LOGS/prepare.log" 2>&1 \
    || { tail -40 "$LOGS/prepare.log"; fail "preparing $HOST"; }
}

write_inventory() {
  cat >"$WORK/inventory/hosts.yml" <<EOF
mall_servers:
  hosts:
    $HOST:
      ansible_connection: community.docker.docker
EOF
  cat >"$WORK/inventory/group_vars/mall_servers/main.yml" <<EOF
---
# Written from the README's "Inventory settings" for a project that is not mall-server.
ansible_python_interpreter: /usr/bin/python3

mall_app_dir: $APP
mall_venv: "{{ mall_app_dir }}/.venv"
mall_settings_module: shopcore.settings
mall_requirements_file: "{{ mall_app_dir }}/requirements/base.txt"
mall_env_files:
  - "{{ mall_app_dir }}/.env"
# The settings read the env file named here.
mall_app_environment:
  SHOP_ENV_FILE: "{{ mall_app_dir }}/config/shop.env"
mall_release_version: ""
mall_compose_file: ""

mall_db_host: 127.0.0.1
mall_db_port: 3306
mall_db_name: $DB_NAME
mall_db_user: $DB_USER
mall_db_password: "$DB_PASSWORD"
mall_cache_table: $TABLE

# Redis runs as a plain process on the host: no container, no volume.
mall_redis_container: ""
mall_redis_volume: ""
mall_redis_host: 127.0.0.1
mall_redis_port: 6379
mall_redis_password: "$REDIS_PASSWORD"

mall_app_service: ""
mall_app_restart_command: "{{ mall_app_dir }}/bin/shopctl restart"
mall_app_url: http://127.0.0.1:8000
mall_app_log_file: "{{ mall_app_dir }}/logs/shop.log"

mall_pip_find_links:
  - $WHEELS
mall_pip_no_index: true

# Two of the shop's pages, named as a user may (by default the checks ask the project's own).
post_checks_urls:
  - /health/
  - /api/products/
EOF
}

# ---------------------------------------------------------------------------------------------
# Usage: play NAME EXPECTED_RC playbook [options]; the output goes to $LOGS/NAME.log.
# EXPECTED_RC: a number, `fail` (any rc but 0) or `any`; the rc is left in PLAY_RC.
TIMINGS=()
PLAY_RC=0
play() {
  local name=$1 want=$2 playbook=$3 rc=0 start took
  shift 3
  start=$(now)
  ansible-playbook -i "$WORK/inventory/hosts.yml" "$ROOT/playbooks/$playbook" "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
  took=$(elapsed "$start" "$(now)")
  TIMINGS+=("$name: $took s (rc $rc)")
  log "$name: ansible-playbook $playbook $* -> rc $rc in $took s"
  PLAY_RC=$rc
  if [ "$want" = any ]; then
    return 0
  elif [ "$want" = fail ] && [ "$rc" -eq 0 ]; then
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
  if grep -Eq -- "$2" "$LOGS/$1.log"; then
    grep -En -- "$2" "$LOGS/$1.log" | head -5
    fail "$1: a line matches /$2/"
  fi
}

recap_changed() {  # the changed= count of the PLAY RECAP line of the host
  sed -nE "s/^$HOST +: .*changed=([0-9]+).*/\1/p" "$LOGS/$1.log"
}

show() {  # print the report lines of a run
  sed -nE 's/^ *"(\[ok\]|\[FAIL\])(.*)",?$/    \1\2/p' "$LOGS/$1.log"
}

# The state of the project as files on the controller: DIR/{shop.env,settings.py,__init__.py,
# base.txt,celery.py,freeze.txt,modes.txt}.
snapshot() {
  local dir=$1
  rm -rf "$dir" && mkdir -p "$dir"
  docker cp -q "$HOST:$ENV_FILE" "$dir/shop.env"
  docker cp -q "$HOST:$SETTINGS" "$dir/settings.py"
  docker cp -q "$HOST:$INIT" "$dir/__init__.py"
  docker cp -q "$HOST:$REQS" "$dir/base.txt"
  docker cp -q "$HOST:$APP/shopcore/celery.py" "$dir/celery.py"
  on_host "$APP/.venv/bin/python" -m pip freeze --all --disable-pip-version-check >"$dir/freeze.txt"
  on_host stat -c '%n %U:%G %a' "$ENV_FILE" "$SETTINGS" "$INIT" "$REQS" >"$dir/modes.txt"
}

same_as() {  # same_as DIR WHAT FILE...: the files of the snapshot DIR are byte-identical to $WORK/before
  local dir=$1 what=$2 f
  shift 2
  for f in "$@"; do
    cmp -s "$WORK/before/$f" "$dir/$f" || { diff -u "$WORK/before/$f" "$dir/$f" | head -40; fail "$what: $f differs from before"; }
  done
}

installed() {  # the distributions of the names given that are installed in the venv
  on_host "$APP/.venv/bin/python" - "$@" <<'PY'
import importlib.metadata as md
import sys
for name in sys.argv[1:]:
    try:
        print(name, md.version(name))
    except md.PackageNotFoundError:
        pass
PY
}

restore_points() { on_host bash -c "ls -1 $RESTORE_ROOT 2>/dev/null | grep -v '^current' || true"; }
current_links() { on_host bash -c "ls -1 $RESTORE_ROOT 2>/dev/null | grep '^current' || true"; }

# Fails with the name of the task that failed when it is not of role ROLE.
failed_in_role() {  # failed_in_role NAME ROLE
  local task
  task=$(awk '/^TASK \[/ {t=$0} /^fatal: / {print t; exit}' "$LOGS/$1.log")
  [ -n "$task" ] || { cat "$LOGS/$1.log"; fail "$1: no failed task"; }
  log "$1: failed at $task"
  case "$task" in
    *"$2"*) ;;
    *) fail "$1: failed outside $2: $task" ;;
  esac
}

app_get() { on_host curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:8000$1"; }

main() {
  local total start
  total=$(now)
  start=$(now)
  up
  write_inventory
  log "prepared $HOST in $(elapsed "$start" "$(now)") s"
  sed -n '$p' "$LOGS/prepare.log" | sed 's/^/    app: /'
  snapshot "$WORK/before"
  cmp -s "$WORK/shop.env" "$WORK/before/shop.env" || fail "the env file on the host is not the one written"
  grep -q '^django-redis==5.4.0$' "$WORK/before/freeze.txt" || fail "django-redis is not installed before the migration"
  [ "$(django 'from django.core.cache import cache; print(cache.get("nu:seed:7"))')" = "{'n': 7}" ] \
    || fail "the seeded Redis keys are not readable through Django"

  # 1. Refusal: app code that uses get_redis_connection stops the migration in preflight.
  on_host tee "$APP/shopcore/stats.py" >/dev/null <<'EOF'
from django_redis import get_redis_connection


def visitors_today():
    return get_redis_connection("default").pfcount("shop:visitors")
EOF
  play refuse-get-redis-connection fail migrate.yml
  failed_in_role refuse-get-redis-connection preflight
  expect refuse-get-redis-connection 'get_redis_connection'
  sed -nE '/^fatal: /,/^$/p' "$LOGS/refuse-get-redis-connection.log" | grep -F -i 'get_redis_connection' | head -3 | cut -c1-400 | sed 's/^/    /'
  on_host rm -f "$APP/shopcore/stats.py"
  snapshot "$WORK/after"
  same_as "$WORK/after" "refused run" shop.env settings.py __init__.py base.txt celery.py freeze.txt modes.txt
  [ -z "$(restore_points)" ] || fail "the refused run made a restore point: $(restore_points)"
  [ "$(sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$DB_NAME' AND table_name='$TABLE'")" -eq 0 ] \
    || fail "the refused run created the cache table"
  docker exec "$HOST" test ! -e /run/mall-cache-migration/lock || fail "the refused run left the lock"

  # 2. Check mode with diff: succeeds, changes nothing.
  play check any migrate.yml --check --diff
  if [ "$PLAY_RC" -ne 0 ]; then
    # Before 7ab8d0e, check mode failed here on a host with no restore point yet, at restore_point's
    # "Mark the restore point as the one of the migration under way" (a symlink to the restore
    # point directory that check mode does not create). Workaround then: --skip-tags restore_point.
    if grep -q "src file does not exist, use 'force=yes' if you really want to create the link" "$LOGS/check.log"; then
      fail "check: check mode fails in restore_point on a host never migrated (regression of 7ab8d0e; workaround: --check --skip-tags restore_point)"
    fi
    cat "$LOGS/check.log"
    fail "check: expected rc 0, got $PLAY_RC"
  fi
  expect check 'DatabaseCache'
  snapshot "$WORK/after"
  same_as "$WORK/after" "check mode" shop.env settings.py __init__.py base.txt celery.py freeze.txt modes.txt
  [ -z "$(restore_points)" ] || fail "check mode made a restore point: $(restore_points)"
  [ "$(sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$DB_NAME' AND table_name='$TABLE'")" -eq 0 ] \
    || fail "check mode created the cache table"

  # 3. The migration.
  play migrate 0 migrate.yml
  show migrate
  refuse migrate "$REDIS_PASSWORD|$DB_PASSWORD"
  play migrate-again 0 migrate.yml
  [ "$(recap_changed migrate-again)" = 0 ] || {
    grep -E '^(changed|TASK)' "$LOGS/migrate-again.log" | grep -B1 '^changed' | head -20
    fail "second migrate run: changed=$(recap_changed migrate-again)"
  }

  snapshot "$WORK/after"
  # The env file lost exactly the six key lines; every other byte stays (CRLF, export, quotes,
  # comments, no final newline).
  cmp "$WORK/shop.env.expected" "$WORK/after/shop.env" || {
    diff <(od -c "$WORK/shop.env.expected") <(od -c "$WORK/after/shop.env") | head -20
    fail "the env file is not the original without the six key lines"
  }
  cmp "$WORK/base.txt.expected" "$WORK/after/base.txt" || {
    diff -u "$WORK/base.txt.expected" "$WORK/after/base.txt"
    fail "the requirements file is not the original without the redis, django-redis and celery lines"
  }
  [ "$(sed -n 1p "$WORK/after/modes.txt")" = "$(sed -n 1p "$WORK/before/modes.txt")" ] \
    || fail "env file owner/mode changed: $(sed -n 1p "$WORK/after/modes.txt")"
  [ "$(on_host readlink "$APP/.env")" = config/shop.env ] || fail "the migration replaced the link .env"
  grep -q 'django.core.cache.backends.db.DatabaseCache' "$WORK/after/settings.py" || fail "settings: no DatabaseCache"
  if grep -Eq 'django_redis|REDIS_URL|^CELERY_' "$WORK/after/settings.py"; then fail "settings: Redis or Celery left"; fi
  if grep -Eq 'celery' "$WORK/after/__init__.py"; then fail "__init__.py still imports celery"; fi
  grep -q '^pymysql.install_as_MySQLdb()' "$WORK/after/__init__.py" || fail "__init__.py lost the PyMySQL lines"
  local caches
  caches=$(django 'import json; from django.conf import settings; print(json.dumps(settings.CACHES["default"], sort_keys=True))')
  log "CACHES after the migration: $caches"
  python3 - "$caches" "$TABLE" <<'PY' || fail "CACHES after the migration"
import json, sys
c, table = json.loads(sys.argv[1]), sys.argv[2]
assert c["BACKEND"] == "django.core.cache.backends.db.DatabaseCache", c
assert c["LOCATION"] == table, c
assert c["KEY_PREFIX"] == "shop", c
assert c["TIMEOUT"] == 600, c
PY
  local left
  left=$(installed redis django-redis celery kombu)
  [ -z "$left" ] || fail "still installed after the migration: $left"
  grep -q '^Django==4.2' "$WORK/after/freeze.txt" || fail "Django is gone"
  grep -qi '^python-decouple==' "$WORK/after/freeze.txt" || fail "python-decouple is gone"
  grep -qi '^gunicorn==' "$WORK/after/freeze.txt" || fail "gunicorn is gone"
  [ "$(django 'from django.core.cache import cache; cache.set("nu:after", "db-ok", 60); print(cache.get("nu:after"))')" = db-ok ] \
    || fail "the cache does not work through Django"
  [ "$(sql "SELECT COUNT(*) FROM $TABLE WHERE cache_key LIKE '%nu:after'")" -eq 1 ] || fail "no row of nu:after in $TABLE"
  [ "$(app_get /health/)" = 200 ] || fail "/health/ does not answer 200 after the migration"
  on_host curl -fsS http://127.0.0.1:8000/api/products/ | grep -q 'django.core.cache.backends.db.DatabaseCache' \
    || fail "the running app does not use the database cache"
  [ -n "$(restore_points)" ] || fail "no restore point"
  log "restore point: $(restore_points | tr '\n' ' ')"
  # The restore point (README "Restore points and rollback"): 0700, files 0600, the dump, the
  # files, pip freeze, a manifest; no git commit (not a checkout), no Redis data (no container).
  local rp
  rp="$RESTORE_ROOT/$(restore_points | tail -1)"
  on_host bash -c "cd $rp && find . -type f -printf '%m %P\n' | sort" >"$WORK/restore-point.txt"
  sed 's/^/    restore point: /' "$WORK/restore-point.txt"
  [ "$(on_host stat -c %a "$rp")" = 700 ] || fail "restore point directory is not 0700"
  if grep -qv '^600 ' "$WORK/restore-point.txt"; then fail "a restore point file is not 0600"; fi
  for f in database.sql.gz pip-freeze.txt manifest.json "files${APP}/.env" "files${SETTINGS}" "files${INIT}" "files${REQS}"; do
    grep -q " $f\$" "$WORK/restore-point.txt" || fail "restore point has no $f"
  done
  on_host zcat "$rp/database.sql.gz" >"$WORK/dump.sql"
  grep -q "CREATE TABLE \`auth_user\`" "$WORK/dump.sql" || fail "the dump has no auth_user table"
  [ -z "$(current_links)" ] || fail "$(current_links) still marks a migration under way"

  # Check mode on the migrated host: nothing to do.
  play check-migrated 0 migrate.yml --check --diff
  [ "$(recap_changed check-migrated)" = 0 ] || fail "check mode on the migrated host: changed=$(recap_changed check-migrated)"
  # verify.yml expecting the database cache.
  play verify 0 verify.yml -e verify_expected_backend=database
  show verify
  refuse verify '\[FAIL\]'

  # 4. Rollback: every file back byte for byte, django-redis back, the app on Redis.
  play rollback 0 rollback.yml
  show rollback
  snapshot "$WORK/after"
  same_as "$WORK/after" "rollback" shop.env settings.py __init__.py base.txt celery.py modes.txt
  if ! cmp -s "$WORK/before/freeze.txt" "$WORK/after/freeze.txt"; then
    diff -u "$WORK/before/freeze.txt" "$WORK/after/freeze.txt" || true
    fail "pip freeze after the rollback differs from before the migration"
  fi
  grep -q '^django-redis==5.4.0$' "$WORK/after/freeze.txt" || fail "django-redis is not back"
  [ "$(on_host readlink "$APP/.env")" = config/shop.env ] || fail "the rollback replaced the link .env"
  [ "$(django 'from django.core.cache import cache; print(cache.get("nu:seed:7"))')" = "{'n': 7}" ] \
    || fail "after the rollback the Redis keys are not readable through Django"
  on_host curl -fsS http://127.0.0.1:8000/api/products/ | grep -q 'django_redis.cache.RedisCache' \
    || fail "after the rollback the running app does not use Redis"

  play rollback-again 0 rollback.yml
  [ "$(recap_changed rollback-again)" = 0 ] || {
    grep -E '^(changed|TASK)' "$LOGS/rollback-again.log" | grep -B1 '^changed' | head -20
    fail "second rollback run: changed=$(recap_changed rollback-again)"
  }

  # 5. Migrate again.
  play migrate-after-rollback 0 migrate.yml
  show migrate-after-rollback
  snapshot "$WORK/after"
  cmp -s "$WORK/shop.env.expected" "$WORK/after/shop.env" || fail "second migration: env file"
  left=$(installed redis django-redis celery kombu)
  [ -z "$left" ] || fail "still installed after the second migration: $left"
  docker exec "$HOST" test ! -e /run/mall-cache-migration/lock || fail "the lock is still held"
  [ "$(restore_points | wc -l)" -eq 2 ] || fail "expected 2 restore points, found: $(restore_points | tr '\n' ' ')"
  # Redis ran as a plain process: the collection leaves it alone (no container to remove).
  log "redis-server on the host after the migration: $(on_host redis-cli -a "$REDIS_PASSWORD" --no-auth-warning ping 2>&1)"

  # No password in any ansible-playbook output.
  local leaks
  leaks=$(grep -lF -e "$REDIS_PASSWORD" -e "$DB_PASSWORD" -- "$LOGS"/*.log | grep -v '/prepare.log$' || true)
  [ -z "$leaks" ] || fail "a password is in the output of: $leaks"

  local item
  log "timings:"
  for item in "${TIMINGS[@]}"; do log "  $item"; done
  log "all passed in $(elapsed "$total" "$(now)") s"
}

main "$@"
