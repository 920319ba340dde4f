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

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

WHEELS=('Django>=4.2,<5' 'django-redis==5.4.0' 'redis==5.0.1' 'PyMySQL')

# Runs inside the container, as root; the arguments are the requirements to install.
prepare_script() {
  cat <<'PREPARE'
set -euo pipefail
install -d -o mysql -g mysql /run/mysqld
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
nohup mariadbd --user=mysql --bind-address=127.0.0.1 >/var/log/mariadbd.log 2>&1 &
redis-server --daemonize yes --bind 127.0.0.1 --requirepass cvtest-redis-pw --logfile /var/log/redis.log
for _ in $(seq 1 60); do
  mariadb -e 'SELECT 1' >/dev/null 2>&1 && break
  sleep 1
done
mariadb <<'SQL'
CREATE DATABASE IF NOT EXISTS mall CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'mall'@'127.0.0.1' IDENTIFIED BY 'cvtest-db-pw';
GRANT ALL ON mall.* TO 'mall'@'127.0.0.1';
SQL

python3 -m venv /srv/mall/venv
/srv/mall/venv/bin/pip install -q --disable-pip-version-check --no-index --find-links /wheelhouse "$@"

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
cat >cvsite/database.py <<'EOF'
from .base import *  # noqa: F401,F403

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "mall_server_cache",
    }
}
EOF
cat >cvsite/database_local_time.py <<'EOF'
# Without USE_TZ, DatabaseCache stores `expires` in local time: here five hours behind UTC.
from .base import *  # noqa: F401,F403

USE_TZ = False
TIME_ZONE = "America/New_York"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "mall_server_cache_local",
    }
}
EOF
cat >cvsite/database_small.py <<'EOF'
from .base import *  # noqa: F401,F403

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "mall_server_cache_small",
        "OPTIONS": {"MAX_ENTRIES": 5},
    }
}
EOF
cat >cvsite/redis.py <<'EOF'
from .base import *  # noqa: F401,F403

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://:cvtest-redis-pw@127.0.0.1:6379/1",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        "KEY_PREFIX": "mall_server",
        "TIMEOUT": 300,
    }
}
EOF
cat >cvsite/broken.py <<'EOF'
# The rollback block of the migration guide: Django's own RedisCache given django-redis' OPTIONS.
from .base import *  # noqa: F401,F403

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://:cvtest-redis-pw@127.0.0.1:6379/1",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        "KEY_PREFIX": "mall_server",
        "TIMEOUT": 300,
    }
}
EOF
# An env file as people leave them: CRLF, `export`, spaces, comments.
printf '%s\r\n' '# mall-server' 'MYSQL_DATABASE=mall' 'export REDIS_URL=redis://:cvtest-redis-pw@127.0.0.1:6379/1' \
  '# REDIS_HOST=127.0.0.1' 'CELERY_BROKER_URL = redis://127.0.0.1:6379/0' >.env.leftover
printf '%s\n' 'MYSQL_DATABASE=mall' 'DEBUG=False' >.env.clean
for settings in database database_local_time database_small; do
  DJANGO_SETTINGS_MODULE=cvsite.$settings venv/bin/python manage.py createcachetable
done
PREPARE
}

up() {
  docker image inspect "$MALL_TEST_IMAGE" >/dev/null 2>&1 || {
    echo "image $MALL_TEST_IMAGE missing: run scripts/bootstrap.sh" >&2
    return 1
  }
  ls "$MALL_WHEELHOUSE"/django_redis-5.4.0-*.whl >/dev/null 2>&1 || {
    echo "no django-redis 5.4.0 in $MALL_WHEELHOUSE: run scripts/bootstrap.sh" >&2
    return 1
  }
  local name
  name="cvtest-$(date +%s)-$RANDOM"
  docker run -d --name "$name" -v "$MALL_WHEELHOUSE:/wheelhouse:ro" "$MALL_TEST_IMAGE" sleep infinity >/dev/null
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
    trap 'down "$name"' EXIT
    # -s shows the latency figures the tests print.
    MALL_LIVE_HOST=$name pytest -v -s "$ROOT/tests/integration/test_cache_verify_live.py"
    ;;
  *) echo "usage: $0 [test|up|down NAME]" >&2; exit 2 ;;
esac
