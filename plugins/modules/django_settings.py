#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: django_settings
short_description: Find where a Django project really sets CACHES, sessions and Celery, and move them off Redis
version_added: 1.0.0
description:
  - Asks the project's own Django, in its virtualenv, which of the project's modules the settings module
    O(settings) loads, and reads each with Python's C(ast). It follows C(from .base import *) in the
    order Django executes it, so it knows which top-level statement sets the effective C(CACHES),
    C(SESSION_ENGINE) and C(CELERY_*) values, and which statements read the env keys O(redis_env_keys).
  - With O(state=database) it changes exactly the statements it must (O(backend) picks the database cache), and leaves every other byte of every
    file as it was (comments, blank lines, quotes, CRLF, a missing final newline, the encoding line, a BOM).
    Each C(CACHES) alias on Redis, wherever it is defined, effective or shadowed, becomes
    C(django.core.cache.backends.db.DatabaseCache) (or C(django_mysql.cache.MySQLCache)) on O(table), with its C(TIMEOUT), C(KEY_PREFIX),
    C(VERSION) and C(KEY_FUNCTION) kept as their source text. Aliases on other backends stay untouched.
    C(CELERY_*) settings, the import of the Celery app in the project's package and assignments that read a
    removed env key and that nothing uses any more are removed. C(SESSION_ENGINE) on a Redis cache becomes
    C(cached_db), so sessions live in the database (see the session_carryover module for the sessions already
    in Redis).
  - It refuses, before any change and naming the file and line, what it cannot rewrite safely, for example
    C(CACHES) built by a function call, a loop or a conditional, a BACKEND that is not a literal, a statement
    sharing its line with another one, a removed env key read without a default by a setting that stays,
    a settings file that does not parse, and two Redis aliases that would share the table with the same
    C(KEY_PREFIX), C(VERSION) and C(KEY_FUNCTION) (their keys would collide). The result's RV(refusal) gives the
    file, line and reason.
  - Positions are Python's own (ast's, on lines cut where Python's tokenizer cuts them), so a form feed, a vertical tab,
    U+2028 or another character that is no line break for Python moves no edit. An edited file must parse to the same
    statements as before but the planned ones, or the plan is refused.
  - With O(prove=true) it first applies the plan to a copy of the project, loads the copy with the project's
    own Django and environment, and fails unless C(CACHES['default']) resolves to the database backend, every
    setting reads and the system checks pass.
  - After writing, it loads the real settings again and puts every file back as it was if the project's Django
    does not report the database backend.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.django_project
options:
  state:
    description:
      - V(inspected) only reports. V(database) moves the settings onto the database cache.
    type: str
    choices: [inspected, database]
    default: inspected
  table:
    description: The cache table that C(LOCATION) names. Required with O(state=database).
    type: str
  backend:
    description:
      - The database cache the Redis aliases move to. V(database) is Django's C(DatabaseCache).
      - V(mysql) is django-mysql's C(django_mysql.cache.MySQLCache), with C(CULL_PROBABILITY) 0 (a set never culls;
        C(manage.py cull_mysql_caches) culls on a schedule), and C(django_mysql) is appended to the effective
        C(INSTALLED_APPS) literal when it is not there. django-mysql must be installed in the venv before the change;
        the proof installs O(proof_requirement) into its copy when the venv lacks it.
    type: str
    choices: [database, mysql]
    default: database
  proof_requirement:
    description:
      - With O(backend=mysql) and O(prove=true), the requirement (for example V(django-mysql==4.19.0)) that the
        proof installs into its copy of the project, with the venv's pip and O(pip_find_links), O(pip_no_index)
        and O(pip_index_url), when the venv cannot import C(django_mysql) yet. The venv is not changed.
    type: str
  pip_find_links:
    description: C(--find-links) of the proof's pip install.
    type: list
    elements: str
    default: []
  pip_no_index:
    description: C(--no-index) for the proof's pip install.
    type: bool
    default: false
  pip_index_url:
    description:
      - The index URL of the proof's pip install, given to pip as E(PIP_INDEX_URL) in its environment (never on
        its command line). C(no_log), as it may hold credentials.
    type: str
  max_entries:
    description: C(OPTIONS.MAX_ENTRIES) of the new aliases. Django's own default, 300, evicts most of a shop's cache.
    type: int
    default: 20000
  cull_frequency:
    description: C(OPTIONS.CULL_FREQUENCY) of the new aliases.
    type: int
    default: 3
  default_options:
    description:
      - Source text of alias options (C(KEY_PREFIX), C(TIMEOUT), C(VERSION), C(KEY_FUNCTION)) that a Redis alias
        does not set itself, for example V(KEY_PREFIX) set to V('mall_server'). Each must be a Python expression.
    type: dict
    default: {}
  redis_env_keys:
    description: Env keys that the migration removes from the env files; reads of them must go too.
    type: list
    elements: str
    default: []
  env_files:
    description:
      - The env files the migration cleans. In the copy that O(prove=true) loads, those inside O(project_dir) lose the
        assignments of O(redis_env_keys), as env_cleanup will remove them, so the proof sees the env files as they
        will be. Files outside O(project_dir) are read as they are.
    type: list
    elements: path
    default: []
  prove:
    description: Before any change, load a copy of the project with the planned settings and fail unless it works.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details:
      - Reports the plan and the diff, and writes nothing. O(prove=true) still loads the copy, in a temporary directory.
  diff_mode:
    support: full
    details:
      - The diff holds the changed statements only. Every string literal under C(CACHES) or C(DATABASES), under a
        name, dict key or keyword like C(PASSWORD), C(SECRET), C(TOKEN) or C(KEY), and any URL with credentials is
        masked, found by its place in the parsed source.
  idempotent:
    support: full
    details:
      - Once the settings are on the database, the plan is empty and nothing changes.
notes:
  - Python source is parsed by the module's own Python; syntax newer than it is refused.
  - Another settings module that star-imports the same base module but is not O(settings) is not loaded, so a name
    it reads from base that this plan removes is not seen. Run the module once per settings module in use.
seealso:
  - module: mall.cache_migration.cache_verify
    description: Verify the cache the settings now name.
'''

EXAMPLES = r'''
- name: Show where the settings define CACHES and what the move would change
  mall.cache_migration.django_settings:
    project_dir: /srv/mall-server
    venv: /srv/mall-server/venv
    settings: mall_server.settings.development
    state: database
    table: mall_server_cache
    redis_env_keys: [REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD]
    prove: true
  check_mode: true
  diff: true
  register: __plan

- name: Move the settings onto the database cache
  mall.cache_migration.django_settings:
    project_dir: /srv/mall-server
    venv: /srv/mall-server/venv
    settings: mall_server.settings.development
    state: database
    table: mall_server_cache
    redis_env_keys: [REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD]
'''

RETURN = r'''
modules:
  description: The project's modules that loading O(settings) imported, in import order.
  returned: always
  type: list
  elements: dict
  sample: [{name: mall_server.settings.development, file: /srv/mall-server/mall_server/settings/development.py}]
statements:
  description:
    - Every top-level statement that sets a setting that matters (C(CACHES), C(SESSION_ENGINE),
      C(SESSION_CACHE_ALIAS), C(CELERY_*)) or reads one of O(redis_env_keys), in execution order.
    - C(effective) is true for the last binding of each setting, the one Django uses.
  returned: always
  type: list
  elements: dict
  sample: [{setting: CACHES, file: /srv/mall-server/mall_server/settings/base.py, start: 60, end: 70, effective: false}]
caches:
  description:
    - What Django made of C(CACHES) before the change, per alias (C(backend), C(is_database), C(key_prefix),
      C(version)), for a database alias its C(max_entries), and for a Redis alias the database number of its C(LOCATION) (C(redis_db)) and its C(host) and
      C(port) (C(redis_server)); never the LOCATION, which may hold a password.
  returned: always
  type: dict
database:
  description:
    - What Django made of C(DATABASES['default']) (C(engine), C(name), C(host), C(port), C(user), as strings, empty
      when not set); never its password.
  returned: always
  type: dict
  sample: {engine: django.db.backends.mysql, name: mall_server, host: db-01, port: "3306", user: mall_user}
sessions:
  description: C(engine) and C(cache_alias) of the sessions, and C(on_redis) when they live on a Redis cache.
  returned: always
  type: dict
plan:
  description: The edits, each with C(file), C(start) and C(end) (lines of the statement, 1-based, inclusive),
    C(action) (C(replace) or C(remove)), C(setting) and C(reason). Empty when nothing is left to change.
  returned: always
  type: list
  elements: dict
files:
  description: The files the plan changes (to keep in a restore point before the change).
  returned: always
  type: list
  elements: str
backend:
  description: The C(default) alias' backend as the project's Django reports it after the run (in check mode, before).
  returned: always
  type: str
proof:
  description:
    - With O(prove=true), the result of loading the planned settings in a copy (C(ok), C(backend), C(problems)).
    - C(max_entries) is the C(default) alias' MAX_ENTRIES as the copy's Django reads it, the one the plan writes.
  returned: when O(prove=true) and the plan is not empty
  type: dict
refusal:
  description:
    - Why the plan was refused. C(file) and C(line) (1-based, as Python counts lines) say where; either is null when
      no file or line applies. C(reason) is the message.
  returned: when the settings cannot be rewritten safely
  type: dict
  sample: {file: /srv/mall-server/mall_server/settings/base.py, line: 12,
           reason: "/srv/mall-server/mall_server/settings/base.py:12: CACHES is built by Call, ..."}
'''

import ast
import inspect
import json
import os
import shutil
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils import _settings_probe
from ansible_collections.mall.cache_migration.plugins.module_utils._env_file import (
    EnvFileError,
    removal_edits,
)
from ansible_collections.mall.cache_migration.plugins.module_utils._env_file import read as read_env_file
from ansible_collections.mall.cache_migration.plugins.module_utils._settings_source import (
    Planner,
    Refusal,
    SettingsFile,
    is_redis_backend,
    new_contents,
    settings_events,
    statement_diff,
)
from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import write_atomic
from ansible_collections.mall.cache_migration.plugins.module_utils._app_environment import mask_secret_environment
from ansible_collections.mall.cache_migration.plugins.module_utils._venv import (
    django_project_argument_spec,
    pip_index_environment,
    project_environment,
    project_venv,
    tail,
    venv_python,
)

# Folders a copy of the project for the proof leaves out: they hold no settings.
PROOF_SKIPPED_DIRS = ('.git', 'node_modules', '__pycache__', 'media', 'static', 'staticfiles', '.tox', '.venv')
# Larger files (logs, dumps, uploads) are no settings either.
PROOF_MAX_FILE_BYTES = 10 * 1024 * 1024
SETTINGS_THAT_MATTER = ('CACHES', 'SESSION_ENGINE', 'SESSION_CACHE_ALIAS')


def run_probe(module, python, project_dir, full=False):
    params = module.params
    rc, out, err = module.run_command(
        [python, '-c', inspect.getsource(_settings_probe)], cwd=project_dir, environ_update=project_environment(module),
        data=json.dumps(dict(project_dir=project_dir, full=full)),
    )
    try:
        report = json.loads(out)
    except ValueError:
        report = {'error': 'the settings probe in %s printed no report (rc %d): %s' % (python, rc, tail(err or out))}
    return report


def read_files(runtime):
    """{module name: SettingsFile} of the project's modules the settings loaded."""
    return {entry['name']: SettingsFile(entry['file'], read_bytes(entry['file']), module=package_module(entry))
            for entry in runtime['modules']}


def package_module(entry):
    """The name relative imports resolve against: a package's __init__ stands for the package itself."""
    name = entry['name']
    return name + '.__init__' if entry['file'].endswith('__init__.py') else name


def report_statements(files, settings, loaded, keys):
    rows = []
    names = set(SETTINGS_THAT_MATTER)
    for source in files.values():
        for statement in source.statements:
            names.update(n for n in statement.binds if n.startswith('CELERY_'))
    for name in sorted(names):
        events = settings_events(files, settings, name, loaded)
        bindings = [s for s in events if name in s.binds]
        for statement in events:
            rows.append(dict(statement.describe(), setting=name,
                             effective=bool(bindings) and statement is bindings[-1]))
    for source in files.values():
        for statement in source.statements:
            read = sorted({key for key, dummy in statement.env_reads if key in keys})
            if read:
                rows.append(dict(statement.describe(), setting=None, reads=read, effective=False))
    return rows


def sessions_report(runtime):
    alias = runtime.get('session_cache_alias', 'default')
    engine = runtime.get('session_engine')
    backend = runtime.get('caches', {}).get(alias, {}).get('backend')
    on_cache = engine in ('django.contrib.sessions.backends.cache', 'django.contrib.sessions.backends.cached_db')
    return dict(engine=engine, cache_alias=alias, on_redis=bool(on_cache and is_redis_backend(backend)))


def worth_copying(path):
    """Directories, links and regular files of a sensible size; never sockets or pipes."""
    mode = os.lstat(path)
    if stat.S_ISDIR(mode.st_mode) or stat.S_ISLNK(mode.st_mode):
        return True
    return stat.S_ISREG(mode.st_mode) and mode.st_size <= PROOF_MAX_FILE_BYTES


def copy_project(module, project_dir, venv):
    """A copy of the project in the module's temporary directory, for the proof."""
    dest = os.path.join(module.tmpdir, 'proof', os.path.basename(project_dir.rstrip('/')) or 'project')
    skipped_venv = os.path.realpath(venv)

    def ignore(directory, names):
        return [n for n in names if n in PROOF_SKIPPED_DIRS or not worth_copying(os.path.join(directory, n))
                or os.path.realpath(os.path.join(directory, n)) == skipped_venv]

    shutil.copytree(project_dir, dest, symlinks=True, ignore=ignore)
    return dest


def env_files_as_they_will_be(params, project_dir):
    """{path: bytes} of the env files inside the project without the keys env_cleanup removes."""
    contents = {}
    for path in params['env_files']:
        path = os.path.realpath(path)
        if not path.startswith(project_dir + os.sep) or not os.path.isfile(path):
            continue
        try:
            text, codec = read_env_file(path)
        except (OSError, EnvFileError):
            continue
        edits, removed = removal_edits(text, set(params['redis_env_keys']))
        if removed:
            contents[path] = edits.text().encode(codec)
    return contents


def prove(module, python, contents):
    params = module.params
    project_dir = os.path.realpath(params['project_dir'])
    copy = copy_project(module, project_dir, project_venv(params))
    contents = dict(env_files_as_they_will_be(params, project_dir), **contents)
    for path, data in contents.items():
        relative = os.path.relpath(path, project_dir)
        if relative.startswith('..'):
            return dict(ok=False, problems=['%s lies outside the project; the proof cannot copy it' % path])
        with open(os.path.join(copy, relative), 'wb') as f:
            f.write(data)
    if params['backend'] == 'mysql':
        problem = install_for_proof(module, python, copy)
        if problem:
            return dict(ok=False, backend=None, problems=[problem])
    report = run_probe(module, python, copy, full=True)
    if 'error' in report:
        return dict(ok=False, backend=None, problems=[report['error']])
    default = report['caches'].get('default', {})
    problems = list(report.get('proof_problems', []))
    if not default.get('is_database'):
        problems.insert(0, "CACHES['default'] would use %s, not the database" % default.get('backend'))
    return dict(ok=not problems, backend=default.get('backend'), max_entries=default.get('max_entries'), problems=problems)


def install_for_proof(module, python, copy):
    """Put django-mysql into the proof's copy (on its sys.path) when the venv cannot import it; None or a problem."""
    params = module.params
    rc, dummy, dummy = module.run_command([python, '-c', 'import django_mysql'])
    if rc == 0:
        return None
    if not params['proof_requirement']:
        return 'the venv cannot import django_mysql and no proof_requirement was given to install for the proof'
    argv = [python, '-m', 'pip', 'install', '--quiet', '--no-deps', '--disable-pip-version-check', '--target', copy]
    argv += ['--find-links=%s' % link for link in params['pip_find_links']]
    argv += ['--no-index'] if params['pip_no_index'] else []
    rc, out, err = module.run_command(argv + [params['proof_requirement']],
                                      environ_update=pip_index_environment(params['pip_index_url']))
    if rc != 0:
        return 'pip cannot install %s for the proof: %s' % (params['proof_requirement'], tail(err or out))
    return None


def write_and_check(module, python, contents, originals):
    """Write the new files; put them all back if the project's Django does not then use the database."""
    for path, data in contents.items():
        write_atomic(module, path, data)
    report = run_probe(module, python, os.path.realpath(module.params['project_dir']))
    default = report.get('caches', {}).get('default', {})
    if 'error' in report or not default.get('is_database'):
        for path, data in originals.items():
            write_atomic(module, path, data)
        module.fail_json(msg='After the change the settings %s %s, so every file was put back as it was. Nothing was '
                             'changed.' % (module.params['settings'], report.get('error') or 'use %s, not the database'
                                           % default.get('backend')), files=sorted(contents))
    return default.get('backend')


def argument_spec():
    return dict(
        django_project_argument_spec(),
        state=dict(type='str', choices=['inspected', 'database'], default='inspected'),
        table=dict(type='str'),
        backend=dict(type='str', choices=['database', 'mysql'], default='database'),
        proof_requirement=dict(type='str'),
        pip_find_links=dict(type='list', elements='str', default=[]),
        pip_no_index=dict(type='bool', default=False),
        pip_index_url=dict(type='str', no_log=True),
        max_entries=dict(type='int', default=20000),
        cull_frequency=dict(type='int', default=3),
        default_options=dict(type='dict', default={}),
        redis_env_keys=dict(type='list', elements='str', default=[], no_log=False),
        env_files=dict(type='list', elements='path', default=[]),
        prove=dict(type='bool', default=False),
    )


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[('state', 'database', ['table'])],
        supports_check_mode=True,
    )
    mask_secret_environment(module)
    params = module.params
    for name in ('max_entries', 'cull_frequency'):
        if params[name] < 1:
            module.fail_json(msg='%s must be a positive integer, got %d' % (name, params[name]))
    python = venv_python(module, project_venv(params))
    project_dir = os.path.realpath(params['project_dir'])
    if not os.path.isfile(os.path.join(project_dir, 'manage.py')):
        module.fail_json(msg='%s holds no manage.py: set mall_app_dir to the Django project. Nothing was changed.'
                             % project_dir)

    runtime = run_probe(module, python, project_dir)
    if 'error' in runtime:
        module.fail_json(msg='Cannot load the settings %s with %s: %s. Nothing was changed.'
                             % (params['settings'], python, runtime['error']))
    loaded = {entry['name'] for entry in runtime['modules']}
    result = dict(changed=False, modules=runtime['modules'], caches=runtime['caches'], database=runtime['database'],
                  sessions=sessions_report(runtime), plan=[], files=[],
                  backend=runtime['caches'].get('default', {}).get('backend'))
    try:
        files = read_files(runtime)
        if params['settings'] not in files:
            module.fail_json(msg='The settings module %s was not found among the project files the settings loaded.'
                                 % params['settings'], **result)
        result['statements'] = report_statements(files, params['settings'], loaded, set(params['redis_env_keys']))
        if params['state'] == 'inspected':
            module.exit_json(**result)
        edits = plan(params, files, runtime, loaded)
        contents = new_contents(edits)
    except Refusal as refusal:
        module.fail_json(msg=str(refusal), refusal=refusal.describe(), **result)

    result['plan'] = [edit.describe() for edit in edits]
    result['files'] = sorted(contents)
    result['changed'] = bool(edits)
    if module._diff and edits:
        result['diff'] = statement_diff(edits)
    if not edits:
        if not runtime['caches'].get('default', {}).get('is_database'):
            module.fail_json(msg="Nothing in the settings' source puts CACHES['default'] on Redis, yet Django reports "
                                 "%s. Edit the settings by hand or deliver the change as a release "
                                 "(mall_release_version)." % result['backend'], **result)
        module.exit_json(**result)
    if params['prove']:
        result['proof'] = prove(module, python, contents)
        if not result['proof']['ok']:
            module.fail_json(msg='The planned settings change does not work, so nothing was changed: %s'
                                 % '; '.join(result['proof']['problems']), **result)
    if not module.check_mode:
        originals = {path: read_bytes(path) for path in contents}
        result['backend'] = write_and_check(module, python, contents, originals)
    module.exit_json(**result)


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def plan(params, files, runtime, loaded):
    options = dict(table=params['table'], backend=params['backend'], max_entries=params['max_entries'], cull_frequency=params['cull_frequency'],
                   defaults=checked_default_options(params['default_options']))
    init_files = [source for name, source in files.items()
                  if source.module.endswith('.__init__') and params['settings'].startswith(name + '.')]
    return Planner(files, params['settings'], loaded, runtime, options).plan(params['redis_env_keys'], init_files)


def checked_default_options(options):
    checked = {}
    for name, text in options.items():
        if name not in ('TIMEOUT', 'KEY_PREFIX', 'VERSION', 'KEY_FUNCTION'):
            raise Refusal('default_options may set TIMEOUT, KEY_PREFIX, VERSION and KEY_FUNCTION, not %s' % name)
        try:
            ast.parse(str(text), mode='eval')
        except SyntaxError:
            raise Refusal('default_options.%s is not a Python expression: %s' % (name, text))
        checked[name] = str(text)
    return checked


if __name__ == '__main__':
    main()
