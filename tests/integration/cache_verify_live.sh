#!/usr/bin/env bash
# Live test of mall.cache_migration.cache_verify against real services.
#
# Starts one throwaway container of the test image with MariaDB and Redis (with
# a password) running as plain processes, a virtualenv with Django 4.2,
# django-redis 5.4.0, redis 5.0.1 and PyMySQL from the local wheelhouse, and a
# minimal Django project with one settings module per cache setup:
#   cvsite.database             DatabaseCache, USE_TZ=True
#   cvsite.database_local_time  DatabaseCache, USE_TZ=False in America/New_York
#   cvsite.database_small       DatabaseCache with MAX_ENTRIES 5
#   cvsite.redis                django_redis.cache.RedisCache
#   cvsite.broken               Django's RedisCache with django-redis' CLIENT_CLASS (the guide's rollback block)
# tests/integration/test_cache_verify_live.py then runs the module in it over
# the community.docker.docker connection.
#
# Usage: cache_verify_live.sh [test]   prepare, run the tests, remove the container
#        cache_verify_live.sh up       prepare and print the container name
#        cache_verify_live.sh down NAME
# Needs scripts/bootstrap.sh to have run (Docker engine, image, wheelhouse).
set -euo pipefail

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# stdout of `up` is the container name: messages go to stderr.
LIVE_LOG_FD=2

WHEELS=('Django>=4.2,<5' 'django-redis==5.4.0' 'redis==5.0.1' 'PyMySQL')

# Runs inside the container, as root; the arguments are the requirements to install.
prepare_script() {
  container_prelude
  cat <<'PREPARE'
start_mariadb
start_redis cvtest-redis-pw
create_db mall mall cvtest-db-pw
make_venv /srv/mall/venv "$@"

mkdir -p /srv/mall/cvsite
cd /srv/mall
cat >manage.py <<'EOF'
#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvsite.database")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
EOF
cat >cvsite/__init__.py <<'EOF'
import pymysql

pymysql.install_as_MySQLdb()
EOF
cat >cvsite/base.py <<'EOF'
SECRET_KEY = "cvtest-not-secret"
INSTALLED_APPS = []
USE_TZ = True
TIME_ZONE = "UTC"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "NAME": "mall",
        "USER": "mall",
        "PASSWORD": "cvtest-db-pw",
        "HOST": "127.0.0.1",
        "PORT": "3306",
        "OPTIONS": {"charset": "utf8mb4"},
    }
}
EOF
# cache_settings MODULE NOTE BACKEND LOCATION [ENTRY...]: cvsite/MODULE.py, that is cvsite/base.py with
# that default cache; NOTE (may be empty) is its first comment, each ENTRY one more "KEY": value.
cache_settings() {
  local module=$1 note=$2 backend=$3 location=$4 entry
  shift 4
  {
    [ -z "$note" ] || printf '# %s\n' "$note"
    printf 'from .base import *  # noqa: F401,F403\n\nCACHES = {\n    "default": {\n'
    printf '        "BACKEND": "%s",\n        "LOCATION": "%s",\n' "$backend" "$location"
    for entry; do printf '        %s,\n' "$entry"; done
    printf '    }\n}\n'
  } >"cvsite/$module.py"
}
DB_CACHE=django.core.cache.backends.db.DatabaseCache
REDIS_URL=redis://:cvtest-redis-pw@127.0.0.1:6379/1
REDIS_ENTRIES=('"OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"}' '"KEY_PREFIX": "mall_server"' '"TIMEOUT": 300')
cache_settings database '' "$DB_CACHE" mall_server_cache
cache_settings database_local_time \
  'Without USE_TZ, DatabaseCache stores `expires` in local time: here five hours behind UTC.' \
  "$DB_CACHE" mall_server_cache_local
printf '%s\n' 'USE_TZ = False' 'TIME_ZONE = "America/New_York"' >>cvsite/database_local_time.py
cache_settings database_small '' "$DB_CACHE" mall_server_cache_small '"OPTIONS": {"MAX_ENTRIES": 5}'
cache_settings redis '' django_redis.cache.RedisCache "$REDIS_URL" "${REDIS_ENTRIES[@]}"
cache_settings broken "The rollback block of the migration guide: Django's own RedisCache given django-redis' OPTIONS." \
  django.core.cache.backends.redis.RedisCache "$REDIS_URL" "${REDIS_ENTRIES[@]}"
# An env file as people leave them: CRLF, `export`, spaces, comments.
printf '%s\r\n' '# mall-server' 'MYSQL_DATABASE=mall' "export REDIS_URL=$REDIS_URL" \
  '# REDIS_HOST=127.0.0.1' 'CELERY_BROKER_URL = redis://127.0.0.1:6379/0' >.env.leftover
printf '%s\n' 'MYSQL_DATABASE=mall' 'DEBUG=False' >.env.clean
for settings in database database_local_time database_small; do
  DJANGO_SETTINGS_MODULE=cvsite.$settings venv/bin/python manage.py createcachetable
done
PREPARE
}

up() {
  need_image_and_wheel 'django_redis-5.4.0-*.whl' 'django-redis 5.4.0'
  local name
  name=$(unique_name cvtest)
  start_host "$name"
  # Not removed on exit: `up` hands it over; `test` registers it below.
  if ! prepare_script | docker exec -i "$name" bash -s -- "${WHEELS[@]}" >&2; then
    docker rm -f "$name" >/dev/null
    return 1
  fi
  echo "$name"
}

down() {
  docker rm -f "$1" >/dev/null
}

case "${1:-test}" in
  up) up ;;
  down) down "$2" ;;
  test)
    name=$(up)
    remove_on_exit container "$name"
    # -s shows the latency figures the tests print.
    MALL_LIVE_HOST=$name pytest -v -s "$ROOT/tests/integration/test_cache_verify_live.py"
    ;;
  *) echo "usage: $0 [test|up|down NAME]" >&2; exit 2 ;;
esac
