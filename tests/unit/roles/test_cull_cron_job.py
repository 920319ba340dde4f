"""Unit tests of the cron job of the MySQLCache cull (roles/maintain/vars/main.yml): what cron runs.

cron cuts a command at its first unescaped % (the rest becomes the job's stdin) and turns \\% into %.
The job is run here as cron would hand it to /bin/sh, with a stand-in for the venv's Python that
records its arguments and environment; the app's environment comes from the env file the role writes.
"""
from __future__ import annotations

import json
import os
import pathlib
import stat
import subprocess

import yaml

from ansible.template import Templar, trust_as_template

VARS = yaml.safe_load((pathlib.Path(__file__).resolve().parents[3] / 'roles' / 'maintain' / 'vars' / 'main.yml').read_text())
ENVIRONMENT = {'SECRET_KEY': 'c4n%Secret\'"$HOME!', 'DJANGO_SECRET': '50%', 'MULTI': 'a\nb', 'WORKERS': 1, 'DEBUG': True}
RECORDER = '#!/bin/sh\nexec python3 -c "import json, os, sys; print(json.dumps(dict(argv=sys.argv[1:], env=dict(os.environ))))" "$@"\n'


def render(name, variables):
    return Templar(loader=None, variables=variables).template(trust_as_template(VARS[name]))


def as_cron_runs_it(job):
    """The shell command cron runs for a job line: up to the first % not escaped, each \\% as %."""
    command, index = [], 0
    while index < len(job):
        if job.startswith('\\%', index):
            command.append('%')
            index += 2
        elif job[index] == '%':
            break
        else:
            command.append(job[index])
            index += 1
    return ''.join(command)


def test_the_cull_runs_with_the_apps_environment_from_its_file_whatever_the_values_hold(tmp_path):
    app = tmp_path / 'app 50%'
    (app / 'venv' / 'bin').mkdir(parents=True)
    python = app / 'venv' / 'bin' / 'python'
    python.write_text(RECORDER)
    python.chmod(stat.S_IRWXU)
    variables = dict(mall_app_dir=str(app), mall_venv=str(app / 'venv'), mall_settings_module='mall_server.settings.production',
                     mall_app_environment=ENVIRONMENT, maintain_cull_cron_file='mall-cache-migration-cull')
    variables['__maintain_cull_env_file'] = str(tmp_path / 'cull.env')
    job = render('__maintain_cull_command', variables)
    assert as_cron_runs_it(job).endswith(' --verbosity 0'), 'cron cuts the job short: %r' % as_cron_runs_it(job)
    # Neither a name nor the secret in the cron line (a value such as 1 may be in the test's path).
    for name in ENVIRONMENT:
        assert name not in job
    assert ENVIRONMENT['SECRET_KEY'] not in job.replace('\\%', '%')
    (tmp_path / 'cull.env').write_text(render('__maintain_cull_env_content', variables))
    run = subprocess.run(['/bin/sh', '-c', as_cron_runs_it(job)], capture_output=True, text=True, check=False,
                         env={'PATH': os.environ['PATH']})
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen['argv'] == ['manage.py', 'cull_mysql_caches', '--settings', 'mall_server.settings.production', '--verbosity', '0']
    assert {name: seen['env'].get(name) for name in ENVIRONMENT} == {name: str(value) for name, value in ENVIRONMENT.items()}
