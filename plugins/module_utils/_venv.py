# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run commands with the Python interpreter of a virtualenv.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

Modules call the venv's own interpreter (C(<venv>/bin/python -m pip ...),
C(<venv>/bin/python -c ...)) rather than whatever C(pip) is on PATH, so they
act on that venv alone and never need its activation script.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.mall.cache_migration.plugins.module_utils._app_environment import (
    app_environment,
    app_environment_argument_spec,
)

# pip must not stop to ask, nor spend a request on its self-version check.
PIP_ENVIRON = {
    'PIP_DISABLE_PIP_VERSION_CHECK': '1',
    'PIP_NO_INPUT': '1',
    'PIP_NO_COLOR': '1',
}


def pip_index_environment(index_url, extra_index_urls=()):
    """pip's index options as its environment variables: an index URL may hold credentials, and a
    process's environment, unlike its command line, is readable by its own user and root alone."""
    env = {'PIP_INDEX_URL': index_url} if index_url else {}
    if extra_index_urls:
        env['PIP_EXTRA_INDEX_URL'] = ' '.join(extra_index_urls)
    return env


def django_project_argument_spec():
    """Options of every module that runs a probe in the project's Python (doc fragment django_project)."""
    return dict(
        app_environment_argument_spec(),
        project_dir=dict(type='path', required=True),
        venv=dict(type='path'),
        settings=dict(type='str', required=True),
    )


def project_venv(params):
    """The project's virtualenv: the venv option, else <project_dir>/venv."""
    return params['venv'] or os.path.join(params['project_dir'], 'venv')


def project_environment(module):
    """The probe's extra environment: the app's (module_utils._app_environment), and DJANGO_SETTINGS_MODULE."""
    return dict(app_environment(module), DJANGO_SETTINGS_MODULE=module.params['settings'])


def venv_python(module, venv):
    """Path of the venv's interpreter; fails the module when there is none."""
    python = os.path.join(venv, 'bin', 'python')
    if not os.access(python, os.X_OK):
        module.fail_json(msg='%s is not a virtualenv: %s does not exist or is not executable. '
                             'Create it with python3 -m venv %s.' % (venv, python, venv))
    return python


def run_in_venv(module, python, args, data=None, cwd=None, environ=None):
    """Run C(python args...) and return (rc, stdout, stderr); the caller judges rc.

    By default it runs in the module's own temporary directory: `python -m`
    puts the working directory first on sys.path, where a stray `pip/` or a
    module named like a standard one would shadow the venv's packages.
    ``environ`` adds variables (a project's own, for a Django probe).
    """
    return module.run_command([python] + list(args), data=data, cwd=cwd or module.tmpdir,
                              environ_update=dict(PIP_ENVIRON, **(environ or {})))


# pip's version from its metadata, found on the sys.path `python -m pip` would use: a
# tenth of the time `pip --version` takes to start pip.
PIP_VERSION_SCRIPT = ('from importlib import metadata\n'
                      'try:\n    print(metadata.version("pip"))\n'
                      'except metadata.PackageNotFoundError:\n    pass\n')


def pip_version(module, python):
    """pip's version in the venv as a tuple of ints, or None when pip is missing."""
    rc, out, dummy = run_in_venv(module, python, ['-c', PIP_VERSION_SCRIPT])
    match = re.match(r'(\d+(?:\.\d+)*)', out.strip()) if rc == 0 else None
    return tuple(int(part) for part in match.group(1).split('.')) if match else None


def tail(text, lines=20):
    """The last lines of a command's output, enough to show why it failed."""
    return '\n'.join(text.strip().splitlines()[-lines:])


def run_project_probe(module, python, source, probe_params):
    """Run a probe script (source) in the project's Python with the project options of module.params.

    The probe reads probe_params as JSON on stdin and prints one JSON report; returns that report, or
    {'error': ...} when it printed none.
    """
    params = module.params
    rc, out, err = run_in_venv(module, python, ['-c', source], data=json.dumps(probe_params),
                               cwd=params['project_dir'], environ=project_environment(module))
    try:
        return json.loads(out)
    except ValueError:
        return {'error': 'the probe in %s printed no report (rc %d): %s' % (python, rc, tail(err or out))}
