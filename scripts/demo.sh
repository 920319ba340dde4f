#!/usr/bin/env bash
# `make demo`: a fresh sandbox in its Redis state, then the migration as an
# operator runs it, then the cache report. The sandbox stays up for a look
# around (`docker exec -it mall-app bash`); `make clean` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Removing any earlier sandbox"
ansible-playbook molecule/resources/cleanup.yml >/dev/null
molecule destroy -s default >/dev/null 2>&1

echo "== Creating the sandbox: MariaDB, Redis, mall-server on Redis (molecule create + prepare)"
molecule create -s default >.cache/demo-create.log 2>&1 || { tail -n 40 .cache/demo-create.log; exit 1; }

echo "== ansible-playbook -i inventories/sandbox playbooks/migrate.yml"
ansible-playbook -i inventories/sandbox playbooks/migrate.yml

echo "== ansible-playbook -i inventories/sandbox playbooks/verify.yml -e verify_expected_backend=database"
ansible-playbook -i inventories/sandbox playbooks/verify.yml -e verify_expected_backend=database
