"""cache_verify's environment options hold SECRET_KEY and passwords: they must never reach the output.

Through the ansible CLI at -vvv, where a task's invocation (its module_args) is printed.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.unit.conftest import COLLECTIONS_PATH

CANARY = 'sec-canary-env-value-4711'


@pytest.mark.parametrize('option', ['secret_environment', 'environment'])
def test_environment_values_are_not_in_the_output_at_vvv(tmp_path, option):
    """SECRET_KEY as a secret, or among the plain values (masked by its name), even when the module fails first."""
    if shutil.which('ansible') is None:
        pytest.skip('ansible is not on PATH')
    args = json.dumps({'project_dir': str(tmp_path / 'no-project'), 'settings': 'mall_server.settings.production',
                       option: {'SECRET_KEY': CANARY}})
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    proc = subprocess.run(['ansible', 'localhost', '-m', 'mall.cache_migration.cache_verify', '-a', args, '-vvv'],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    found = re.search(r'^localhost \| FAILED! => (\{.*)', proc.stdout, re.M | re.S)
    assert found, output
    result = json.loads(found[1])
    assert result['invocation']['module_args'][option] == {'SECRET_KEY': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'}
    assert CANARY not in output
