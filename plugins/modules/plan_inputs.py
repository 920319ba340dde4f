#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: plan_inputs
short_description: Fingerprint what a migration plan was computed from, the files it read and the virtualenv's packages
version_added: 1.4.0
description:
  - Returns the sha256 of each file of O(files) (null for a file that does not exist) and the sha256 of the
    virtualenv's C(pip freeze --all), in one call.
  - The plan role records them as the plan's C(inputs); before a saved plan is applied, the plan is computed again
    and the C(mall.cache_migration.plan_drift) filter names each input that differs.
  - A symbolic link is followed, so the content it leads to counts; a broken link counts as a missing file.
  - C(pip freeze --all) runs with the virtualenv's own interpreter (C(<venv>/bin/python -m pip)) and C(LC_ALL=C),
    so the output does not depend on the locale of the connection.
  - It fails when a path is not a regular file (a directory) or cannot be read, or when C(pip freeze) fails.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.attributes.read_only
options:
  files:
    description:
      - The files to fingerprint. Each one is a key of RV(files) as given (after C(~) is expanded).
    type: list
    elements: path
    default: []
  venv:
    description:
      - The app's virtualenv. Without it, no C(pip freeze) runs and RV(pip_freeze_sha256) is null.
    type: path
seealso:
  - module: mall.cache_migration.pip_sync
    description: Installs and removes the packages of the virtualenv whose C(pip freeze) this module fingerprints.
'''

EXAMPLES = r'''
- name: Fingerprint the files the plan read and the app's packages
  mall.cache_migration.plan_inputs:
    files:
      - /srv/mall-server/mall_server/settings/base.py
      - /srv/mall-server/.env.production
    venv: /srv/mall-server/venv
  register: __plan_inputs

- name: Show the settings file's sha256
  ansible.builtin.debug:
    msg: "{{ __plan_inputs.files['/srv/mall-server/mall_server/settings/base.py'] }}"
'''

RETURN = r'''
files:
  description: The sha256 (hex) of each file of O(files), by its path as given; null for a file that does not exist.
  returned: always
  type: dict
  sample: {"/srv/mall-server/mall_server/settings/base.py": "9f2c5e0d...", "/srv/mall-server/.env.local": null}
pip_freeze_sha256:
  description:
    - The sha256 (hex) of the output of C(<venv>/bin/python -m pip freeze --all); null without O(venv).
  returned: always
  type: str
  sample: 3b1f0c8e2d...
'''

import errno
import hashlib

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.mall.cache_migration.plugins.module_utils._restore_point import sha256
from ansible_collections.mall.cache_migration.plugins.module_utils._venv import run_in_venv, tail, venv_python


def file_sha256(module, path):
    """The sha256 of the file at path (a link followed), or None when there is none."""
    try:
        return sha256(path)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        module.fail_json(msg='cannot read %s: %s' % (path, error.strerror), path=path)


def pip_freeze_sha256(module, venv):
    rc, out, err = run_in_venv(module, venv_python(module, venv), ['-m', 'pip', 'freeze', '--all'], environ={'LC_ALL': 'C'})
    if rc != 0:
        module.fail_json(msg='pip freeze in %s failed (rc=%d): %s' % (venv, rc, tail(err or out)), rc=rc)
    return hashlib.sha256(to_bytes(out, errors='surrogate_or_strict')).hexdigest()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='path', default=[]),
            venv=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    venv = module.params['venv']
    module.exit_json(
        changed=False,
        files={path: file_sha256(module, path) for path in module.params['files']},
        pip_freeze_sha256=pip_freeze_sha256(module, venv) if venv else None,
    )


if __name__ == '__main__':
    main()
