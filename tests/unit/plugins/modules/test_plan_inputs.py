"""Unit tests of mall.cache_migration.plan_inputs: the sha256 of real files and of a real venv's `pip freeze --all`."""
from __future__ import annotations

import hashlib
import os
import subprocess

from ansible_collections.mall.cache_migration.plugins.modules import plan_inputs


def digest(data):
    return hashlib.sha256(data).hexdigest()


def freeze(venv):
    return subprocess.run([str(venv / 'bin' / 'python'), '-m', 'pip', 'freeze', '--all'], check=True, capture_output=True,
                          env=dict(os.environ, LC_ALL='C', PIP_DISABLE_PIP_VERSION_CHECK='1')).stdout


def test_each_file_has_the_sha256_of_its_content_and_a_missing_one_null(run_module, tmp_path):
    settings = tmp_path / 'settings.py'
    settings.write_bytes(b'CACHES = {}\n')
    (tmp_path / 'linked.env').write_bytes(b'REDIS_URL=redis://redis\n')
    (tmp_path / '.env').symlink_to('linked.env')
    (tmp_path / 'broken.env').symlink_to('nowhere.env')
    files = [str(settings), str(tmp_path / '.env'), str(tmp_path / 'missing.py'), str(tmp_path / 'broken.env'),
             str(settings / 'under_a_file.py')]
    result = run_module(plan_inputs.main, {'files': files})
    assert result == {'changed': False, 'pip_freeze_sha256': None, 'files': {
        str(settings): digest(b'CACHES = {}\n'),
        # A link counts as the file it leads to.
        str(tmp_path / '.env'): digest(b'REDIS_URL=redis://redis\n'),
        str(tmp_path / 'missing.py'): None,
        str(tmp_path / 'broken.env'): None,
        str(settings / 'under_a_file.py'): None,
    }}


def test_a_changed_file_changes_its_sha256_and_no_other(run_module, tmp_path):
    first, second = tmp_path / 'a.py', tmp_path / 'b.py'
    first.write_text('A = 1\n')
    second.write_text('B = 1\n')
    before = run_module(plan_inputs.main, {'files': [str(first), str(second)]})['files']
    first.write_text('A = 2\n')
    after = run_module(plan_inputs.main, {'files': [str(first), str(second)]})['files']
    assert before[str(first)] != after[str(first)] and before[str(second)] == after[str(second)]


def test_a_directory_is_refused_by_its_path(run_module, tmp_path):
    result = run_module(plan_inputs.main, {'files': [str(tmp_path)]})
    assert result['failed'] and result['path'] == str(tmp_path)


def test_the_pip_freeze_sha256_is_that_of_the_venvs_own_pip_freeze_all_and_follows_its_packages(run_module, pip_venv):
    before = run_module(plan_inputs.main, {'venv': str(pip_venv)}, check_mode=True)
    assert before == {'changed': False, 'files': {}, 'pip_freeze_sha256': digest(freeze(pip_venv))}
    site_packages = next(pip_venv.glob('lib/python3*/site-packages'))
    package = site_packages / 'mall_plan_probe-1.0.dist-info'
    package.mkdir()
    try:
        (package / 'METADATA').write_text('Metadata-Version: 2.1\nName: mall-plan-probe\nVersion: 1.0\n')
        after = run_module(plan_inputs.main, {'venv': str(pip_venv)})['pip_freeze_sha256']
        listed = freeze(pip_venv)
    finally:
        (package / 'METADATA').unlink()
        package.rmdir()
    assert b'mall-plan-probe==1.0' in listed.splitlines()
    assert after == digest(listed) != before['pip_freeze_sha256']


def test_a_folder_that_is_no_venv_is_refused(run_module, tmp_path):
    result = run_module(plan_inputs.main, {'venv': str(tmp_path)})
    assert result['failed'] and result['msg'].startswith('%s is not a virtualenv' % tmp_path)
