"""Fixtures for the unit tests of modules.

The collection is importable as ansible_collections.mall.cache_migration
through tests/conftest.py.
"""
from __future__ import annotations

import contextlib
import http.server
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
import venv
import zipfile

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mall.cache_migration.plugins.module_utils import _text_file

# The project's Django, from the wheelhouse the test containers install from.
DJANGO_WHEELS = ('django-5.2.*-py3-none-any.whl', 'asgiref-*-py3-none-any.whl', 'sqlparse-*-py3-none-any.whl')
DJANGO_MYSQL_WHEELS = ('django_mysql-*-py3-none-any.whl', 'pymysql-*-py3-none-any.whl', 'django_redis-*-py3-none-any.whl',
                       'redis-*-py3-none-any.whl')
TEST_IMAGE = os.environ.get('MALL_TEST_IMAGE', 'mall-cache-migration/bookworm:1')

# The folder above ansible_collections/ that this collection was imported from.
COLLECTIONS_PATH = pathlib.Path(_text_file.__file__).parents[5]


def wheel_venv(root, patterns):
    """A "venv" in root whose python is this interpreter, without site-packages, with the wheels of patterns on its path."""
    wheelhouse = pathlib.Path(os.environ.get('MALL_WHEELHOUSE', pathlib.Path(__file__).parents[2] / '.cache' / 'wheelhouse'))
    for pattern in patterns:
        wheels = sorted(wheelhouse.glob(pattern))
        if not wheels:
            pytest.fail(f'no {pattern} in {wheelhouse}: run scripts/bootstrap.sh')
        zipfile.ZipFile(wheels[-1]).extractall(root / 'site')
    python = root / 'bin' / 'python'
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\nPYTHONPATH={root / "site"} exec {sys.executable} -S "$@"\n')
    python.chmod(0o755)
    return root


@pytest.fixture(scope='session')
def django_venv(tmp_path_factory):
    """A "venv" whose python is this interpreter, without site-packages, with Django on its path."""
    return wheel_venv(tmp_path_factory.mktemp('django-venv'), DJANGO_WHEELS)


@pytest.fixture(scope='session')
def django_mysql_venv(tmp_path_factory):
    """As django_venv, with django-mysql, PyMySQL (its settings install it as MySQLdb), django-redis and redis-py."""
    return wheel_venv(tmp_path_factory.mktemp('django-mysql-venv'), DJANGO_WHEELS + DJANGO_MYSQL_WHEELS)


@pytest.fixture(scope='session')
def pip_venv(tmp_path_factory):
    """A real virtualenv that runs `python -m pip`: with the packages of this Python's base installation when they
    hold pip (quick), else with its own pip (ensurepip, some seconds)."""
    root = tmp_path_factory.mktemp('pip-venv') / 'venv'
    base_has_pip = subprocess.run([sys._base_executable, '-c', 'import pip'], capture_output=True, check=False).returncode == 0
    venv.EnvBuilder(system_site_packages=base_has_pip, with_pip=not base_has_pip, symlinks=True).create(root)
    return root


@pytest.fixture(scope='session')
def mariadb():
    """A MariaDB and a Redis of the test image, in one container named after MALL_LIVE_PREFIX.

    Gives the login (the modules' options) of a database of its own, mall_test, the Redis URL and the container.
    """
    docker = pytest.importorskip('docker')
    client = docker.from_env()
    name = '%s-mariadb-%s' % (os.environ.get('MALL_LIVE_PREFIX', 'unit'), uuid.uuid4().hex[:8])
    server = client.containers.run(
        TEST_IMAGE, name=name, detach=True,
        command=['/bin/bash', '-c', 'install -d -o mysql -g mysql /run/mysqld'
                 ' && redis-server --bind 0.0.0.0 --protected-mode no --save "" --daemonize yes'
                 ' && exec mariadbd --user=mysql --bind-address=0.0.0.0'])
    try:
        deadline = time.monotonic() + 120
        while server.exec_run(['mariadb', '-e', 'SELECT 1']).exit_code != 0:
            assert time.monotonic() < deadline, server.logs()[-2000:]
            time.sleep(1)
        created = server.exec_run(['mariadb', '-e', "CREATE DATABASE mall_test; CREATE USER 'mall'@'%' IDENTIFIED BY 'unit-test';"
                                   " GRANT ALL ON mall_test.* TO 'mall'@'%';"])
        assert created.exit_code == 0, created.output
        server.reload()
        address = server.attrs['NetworkSettings']['IPAddress']
        yield {'login': {'login_host': address, 'login_port': 3306, 'login_user': 'mall', 'login_password': 'unit-test',
                         'login_db': 'mall_test'},
               'redis': 'redis://%s:6379/0' % address, 'container': server}
    finally:
        server.remove(force=True)


class ModuleExit(Exception):
    """Raised in place of exit_json() and fail_json(); carries the module's result."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.fixture
def run_module(monkeypatch):
    """Run a module's main() in this process and return its result dict.

    run_module(main, args, check_mode=False, diff=False); a failed module
    returns a result with failed=True and msg instead of raising.
    """
    def exit_json(self, **result):
        self.do_cleanup_files()
        raise ModuleExit(result)

    def fail_json(self, msg, **result):
        self.do_cleanup_files()
        raise ModuleExit(dict(result, failed=True, msg=msg))

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def run(main, args, check_mode=False, diff=False):
        with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
            with pytest.raises(ModuleExit) as caught:
                main()
        return caught.value.result

    return run


@pytest.fixture
def ansible_adhoc(tmp_path):
    """Run a module of this collection through the ansible CLI against localhost.

    ansible_adhoc(module, 'k=v k=v', *options) returns (stdout, result dict).
    """
    if shutil.which('ansible') is None:
        pytest.skip('ansible is not on PATH')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')

    def run(module, args, *options):
        # cwd: no ansible.cfg of the work tree may change the outcome.
        proc = subprocess.run(['ansible', 'localhost', '-m', f'mall.cache_migration.{module}', '-a', args, *options],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
        found = re.search(r'^localhost \| [A-Z]+ => (\{.*)', proc.stdout, re.M | re.S)
        assert found, proc.stdout + proc.stderr
        return proc.stdout, json.loads(found[1])

    return run


@pytest.fixture
def keeps_attributes():
    """with keeps_attributes(path): ... gives path mode 0640 (and, as root, owner 1234:2345)
    and asserts that the block replaced the file by a rename yet kept mode, owner and group."""
    @contextlib.contextmanager
    def check(path):
        os.chmod(path, 0o640)
        if os.geteuid() == 0:
            os.chown(path, 1234, 2345)
        before = os.stat(path)
        yield
        after = os.stat(path)
        assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid, before.st_gid)
        assert after.st_ino != before.st_ino

    return check


@pytest.fixture(scope='session')
def server():
    """A real HTTP server: each path answers the status the test gives it (404 when none)."""
    statuses = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status = statuses.get(self.path, 404)
            self.send_response(status)
            if status == 302:
                self.send_header('Location', '/admin/login/')
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield statuses, 'http://127.0.0.1:%d' % httpd.server_port
    httpd.shutdown()
