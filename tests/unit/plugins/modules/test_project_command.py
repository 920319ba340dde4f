"""Unit tests of project_command: real commands, the environment off their command line and out of the result."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTIONS_PATH

from ansible_collections.mall.cache_migration.plugins.modules import project_command

SECRET = 'S3cret-"quote$HOME!'


def run(run_module, tmp_path, **args):
    return run_module(project_command.main, dict(dict(chdir=str(tmp_path)), **args))


def test_environment_reaches_the_command_but_not_its_command_line_nor_the_result(run_module, tmp_path):
    # The child prints whether it got the value (by its hash: the value itself must not be in its arguments),
    # and its own command line as the kernel has it.
    probe = ("import hashlib, os; print(hashlib.sha256(os.environ['MALL_SECRET'].encode()).hexdigest() == %r, os.environ['MALL_PORT']);"
             "print(open('/proc/self/cmdline').read().replace(chr(0), ' '))" % hashlib.sha256(SECRET.encode()).hexdigest())
    result = run(run_module, tmp_path, argv=[sys.executable, '-c', probe],
                 environment={'MALL_SECRET': SECRET, 'MALL_PORT': 8000})
    assert result.get('failed') is not True, result
    first, cmdline = result['stdout'].splitlines()[:2]
    assert first == 'True 8000'
    assert SECRET not in cmdline
    assert SECRET not in json.dumps(result)
    assert result['cmd'][0] == sys.executable


def test_cmd_is_split_as_a_shell_would_without_a_shell(run_module, tmp_path):
    result = run(run_module, tmp_path, cmd="printf '%s|' a 'b c' '$HOME'")
    assert result['stdout'] == 'a|b c|$HOME|'
    assert result['cmd'] == ['printf', '%s|', 'a', 'b c', '$HOME']


def test_runs_in_chdir(run_module, tmp_path):
    result = run(run_module, tmp_path, argv=['pwd'])
    assert result['stdout'].strip() == str(tmp_path)


def test_a_failing_command_fails_with_its_code_and_output(run_module, tmp_path):
    result = run(run_module, tmp_path, argv=[sys.executable, '-c', 'import sys; sys.stderr.write("boom"); sys.exit(3)'])
    assert result['failed'] is True
    assert result['rc'] == 3
    assert result['stderr'] == 'boom'


@pytest.mark.parametrize('password_option', ['secret_environment', 'environment'])
def test_only_secrets_are_masked_in_the_result_at_vvv(tmp_path, password_option):
    """Ansible masks every occurrence of a no_log value: a common word in the app's environment
    (MYSQL_DATABASE=database) must not mask the data of the result, a password must never show,
    whether it comes as a secret or among the plain values under a name that looks secret."""
    if shutil.which('ansible') is None:
        pytest.skip('ansible is not on PATH')
    password, url_password = 'c4nPassw0rd-4711', 'c4nUrlPw-4711'
    script = 'echo "$MYSQL_DATABASE $CACHE_BACKEND $WORKERS $USE_TZ $DB_PASSWORD $MALL_REDIS_URL"'
    args = dict(argv=['sh', '-c', script], chdir=str(tmp_path),
                environment={'MYSQL_DATABASE': 'database', 'CACHE_BACKEND': 'redis', 'WORKERS': 1, 'USE_TZ': True,
                             'MALL_REDIS_URL': 'redis://:%s@redis:6379/0' % url_password})
    args.setdefault(password_option, {})['DB_PASSWORD'] = password
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    proc = subprocess.run(['ansible', 'localhost', '-m', 'mall.cache_migration.project_command', '-a', json.dumps(args), '-vvv'],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    found = re.search(r'^localhost \| CHANGED => (\{.*)', proc.stdout, re.M | re.S)
    assert found, output
    result = json.loads(found[1])
    assert result['stdout'].split()[:4] == ['database', 'redis', '1', 'True']
    assert result['invocation']['module_args']['environment']['MYSQL_DATABASE'] == 'database'
    assert password not in output
    assert url_password not in output
