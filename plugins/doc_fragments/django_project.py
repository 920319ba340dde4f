# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the modules that run a probe in a Django project's own Python (module_utils._venv)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  project_dir:
    description:
      - Directory of the Django project, the one that holds C(manage.py). The probe runs with it as working
        directory, so the project's packages import.
    type: path
    required: true
  venv:
    description:
      - Virtualenv of the project. The probe runs with its C(bin/python), never C(./manage.py), so the mode and
        shebang of C(manage.py) do not matter.
      - Defaults to C(<project_dir>/venv).
    type: path
  settings:
    description:
      - The Django settings module, set as E(DJANGO_SETTINGS_MODULE) for the probe.
    type: str
    required: true
  environment:
    description:
      - More environment variables for the probe, on top of the module's own environment, for example
        E(MALL_ENV_FILE) to choose the env file the settings read. Values are passed as strings.
      - These values are shown in the module's invocation, except those whose names look secret (a word
        C(PASSWORD), C(SECRET), C(TOKEN), ..., or C(KEY) last) or that are URLs with a password, which are masked
        in the result. Put secrets in O(secret_environment), which is never logged, not even in the managed
        host's syslog.
    type: dict
    default: {}
  secret_environment:
    description:
      - More environment variables for the probe whose values are never logged nor returned (E(SECRET_KEY),
        passwords). Ansible masks each value wherever it occurs in the result, so keep common words and numbers
        in O(environment), or the results the roles decide on would read C(********).
      - The filter P(mall.cache_migration.app_environment#filter) splits an environment into the two options.
    type: dict
    default: {}
    version_added: 1.1.0
'''
