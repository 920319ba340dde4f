"""A real host for playbook tests that need no containers: this machine over the local connection,
with a throwaway mall-server project, restore point root and lock under a temporary directory.
Used by tests/test_bad_input.py and tests/test_lock_and_restore_points.py."""
import hashlib
import json
import os
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def project_files(base):
    app = base / "app"
    files = {
        "mall_server/settings/base.py": "CACHES = {\n    'default': {'BACKEND': 'django_redis.cache.RedisCache'},\n}\n",
        "mall_server/__init__.py": "from .celery import app as celery_app\n",
        "requirements.txt": "Django==4.2.16\nredis==5.0.1\ndjango-redis==5.4.0\ncelery==5.3.6\n",
        ".env.production": "SECRET_KEY=x\nREDIS_URL=redis://127.0.0.1:6379/1\n",
        "docker-compose.yml": "services:\n  redis-mall:\n    image: redis:7\n",
    }
    for name, text in files.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_text(text)
    return app


def checksums(app):
    return {str(p.relative_to(app)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(app.rglob("*")) if p.is_file()}


def make_host(base):
    """An inventory of this machine (local connection) with a throwaway project under base:
    the app, its restore point root (base/restore-points) and its lock (base/run/lock)."""
    app = project_files(base)
    settings = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "mall_app_dir": str(app),
        "mall_env_files": [str(app / ".env.production")],
        "mall_compose_file": str(app / "docker-compose.yml"),
        "mall_restore_point_root": str(base / "restore-points"),
        "mall_lock_dir": str(base / "run" / "lock"),
        "mall_redis_container": "",
    }
    inventory = base / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"mall_servers": {"hosts": {"local-host": settings}}}))
    return {"base": base, "app": app, "inventory": inventory, "before": checksums(app)}


def run_playbook(host, playbook, extra, *args, ansible_playbook="ansible-playbook"):
    # PYTHONHASHSEED: Ansible's message for a bad boolean lists a set of the valid ones, whose order follows the
    # hash seed; docs/bad-input.md holds such messages as the runs print them.
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="false",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_DEPRECATION_WARNINGS="false", PYTHONHASHSEED="0")
    command = [ansible_playbook, "-i", str(host["inventory"]), str(ROOT / "playbooks" / playbook),
               "-e", json.dumps(extra), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=300)


def failures(result):
    """(play, failed result) of each failed task or loop item of a run whose stdout callback was
    ansible.posix.json (ANSIBLE_STDOUT_CALLBACK)."""
    return [(play["play"]["name"], failed)
            for play in json.loads(result.stdout)["plays"] for task in play["tasks"]
            for outcome in task["hosts"].values()
            for failed in outcome.get("results", [outcome]) if failed.get("failed")]
