"""Unit tests of project_command: real commands, the environment off their command line and out of the result."""
from __future__ import annotations

import hashlib
import json
import sys

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


def test_the_holder_of_a_lock_is_named_or_said_to_be_gone():
    assert project_command.describe_holder((7, 'mall_user', '10.0.0.5:41234')) == 'connection 7 of mall_user from 10.0.0.5:41234'
    assert project_command.describe_holder(None) == 'a connection that is gone by now'
