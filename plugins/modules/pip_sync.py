#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: pip_sync
short_description: Make a virtualenv hold exactly what a requirements file needs
version_added: 1.0.0
description:
  - Gives a virtualenv the semantics of pip-tools' C(pip-sync) without installing
    anything into it besides the requirements. Afterwards the venv holds the packages
    of O(requirements), their dependencies, and the packages named in O(keep); every
    other package is uninstalled.
  - For example, once C(django-redis), C(redis) and C(celery) are gone from
    C(requirements.txt), it also removes C(kombu), C(amqp), C(billiard), C(vine),
    C(click) and the rest that only they needed, and leaves everything the
    requirements still need in place. A package already at a version that satisfies
    the requirements is not reinstalled.
  - It plans before it changes anything. C(pip install --dry-run --report) tells what
    pip would install. A short script run by the venv's own interpreter then reads the
    installed packages' metadata with C(importlib.metadata), evaluates the environment
    markers and extras of every requirement with the C(packaging) library vendored in
    pip, and so finds the dependency closure of the requirements. Whatever is installed
    in the venv outside that closure is extraneous (names compared in their PEP 503
    normalized form).
  - When the plan is applied, C(pip freeze --all --local) is taken first. If the install
    or the removal fails, the module installs the frozen versions again with the same
    index options, uninstalls any package that was not there before, and fails with a
    message that says whether the venv is back as it was or which packages differ.
  - Finally C(pip check) must report no broken requirements of packages in the venv.
    Problems of packages outside it (seen through C(--system-site-packages)) only
    give a warning.
author:
  - mall.cache_migration contributors (!UNKNOWN)
requirements:
  - pip 22.2 or later in the virtualenv (for C(--dry-run) and C(--report)).
options:
  venv:
    description:
      - Path of the virtualenv. Its C(bin/python) runs C(python -m pip); the venv
        does not need to be activated.
    type: path
    required: true
  requirements:
    description:
      - Path of the requirements file on the managed host.
      - Requirement lines may carry version specifiers, extras, environment markers and
        C(name @ url) references. C(-r) includes are followed, C(-c) constraints and
        other option lines are passed on to pip as written.
      - Editable (C(-e)) lines and bare paths or URLs are not supported, since their
        package name is unknown before they are built; write them as C(name @ url).
    type: path
    required: true
  index_url:
    description:
      - Base URL of the package index, passed as C(--index-url). pip's own
        configuration applies when omitted.
      - Credentials written into the URL show up in the task's recorded arguments;
        prefer a C(.netrc) file or pip's keyring support for them.
    type: str
  extra_index_urls:
    description:
      - Further package indexes, each passed as C(--extra-index-url).
    type: list
    elements: str
    default: []
  find_links:
    description:
      - Directories or URLs to look for archives in, each passed as C(--find-links),
        for example a local wheelhouse.
    type: list
    elements: str
    default: []
  no_index:
    description:
      - Ignore every package index and use O(find_links) only (C(--no-index)).
    type: bool
    default: false
  keep:
    description:
      - Names of packages never to uninstall, together with their dependencies.
      - C(pip), C(setuptools) and C(wheel) are kept even when left out of this list,
        as C(pip-sync) does.
    type: list
    elements: str
    default: [pip, setuptools, wheel]
  timeout:
    description:
      - Seconds pip waits on a network connection (C(--timeout)).
    type: int
    default: 15
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the target.
    support: full
    details:
      - Runs the dry run and the closure computation, then returns as RV(installed) and
        RV(removed) exactly what a real run would install and uninstall. Nothing in the
        venv changes.
      - The dry run asks the package index as a real run would, so an unreachable index
        or a conflict fails in check mode too.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The venv's packages before and after, one C(name==version) per line, sorted.
        In check mode the after side is the prediction, otherwise what pip did.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details:
      - A second run with the same requirements finds nothing to install and nothing
        extraneous, and reports no change.
notes:
  - Packages installed outside the venv (a venv created with
    C(--system-site-packages)) may satisfy requirements but are never uninstalled.
  - Nothing is installed into the venv for the module's own use, neither pip-tools nor
    anything else.
  - pip's configuration files and C(PIP_*) environment variables apply, as for any pip run.
seealso:
  - module: ansible.builtin.pip
    description: Installs packages but never removes the ones a requirements file no longer needs.
  - name: pip-sync
    description: The pip-tools command whose behaviour this module follows.
    link: https://pip-tools.readthedocs.io/en/stable/cli/pip-sync/
  - name: pip installation report
    description: The C(--report) format the plan is read from.
    link: https://pip.pypa.io/en/stable/reference/installation-report/
'''

EXAMPLES = r'''
- name: Sync the app's venv with requirements.txt, dropping what Redis and Celery needed
  mall.cache_migration.pip_sync:
    venv: /srv/mall-server/venv
    requirements: /srv/mall-server/requirements.txt
  register: mall_pip_sync

- name: Sync offline from a local wheelhouse
  mall.cache_migration.pip_sync:
    venv: /srv/mall-server/venv
    requirements: /srv/mall-server/requirements.txt
    no_index: true
    find_links:
      - /srv/wheelhouse

- name: Show what a sync would install and uninstall, changing nothing
  mall.cache_migration.pip_sync:
    venv: /srv/mall-server/venv
    requirements: /srv/mall-server/requirements.txt
  check_mode: true
  diff: true
  register: mall_pip_plan

- name: Keep debugging tools that are not in the requirements
  mall.cache_migration.pip_sync:
    venv: /srv/mall-server/venv
    requirements: /srv/mall-server/requirements.txt
    keep: [ipython]
'''

RETURN = r'''
installed:
  description:
    - Packages pip installed, upgraded or downgraded, with the version now installed.
    - In check mode, the packages a real run would install.
  returned: always
  type: list
  elements: dict
  sample: [{name: redis, version: 5.0.1}]
  contains:
    name:
      description: Project name as the package's metadata spells it.
      type: str
    version:
      description: Version installed.
      type: str
removed:
  description:
    - Extraneous packages uninstalled, with the version they had.
    - In check mode, the packages a real run would uninstall.
  returned: always
  type: list
  elements: dict
  sample: [{name: kombu, version: 5.3.4}, {name: vine, version: 5.1.0}]
  contains:
    name:
      description: Project name as the package's metadata spells it.
      type: str
    version:
      description: Version that was installed.
      type: str
before_freeze:
  description:
    - Output of C(pip freeze --all --local) before anything changed, one line per item.
    - These are the versions the module restores when the sync fails.
  returned: always
  type: list
  elements: str
  sample: [Django==4.2.30, kombu==5.3.4, pip==23.0.1]
after_freeze:
  description:
    - Output of C(pip freeze --all --local) when the module finished.
    - Equal to RV(before_freeze) in check mode and when nothing changed.
    - After a failed sync, the state the venv was left in.
  returned: always
  type: list
  elements: str
  sample: [Django==4.2.30, pip==23.0.1]
pip_check:
  description:
    - Output of C(pip check) at the end.
    - In check mode it describes the venv as it is, and problems only give a warning.
    - Empty when the module failed before it got there.
  returned: always
  type: str
  sample: No broken requirements found.
'''

import inspect
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils import _pip_probe
from ansible_collections.mall.cache_migration.plugins.module_utils._venv import (
    pip_version,
    run_in_venv,
    tail,
    venv_python,
)

# The first pip with `install --dry-run --report`.
MIN_PIP = (22, 2)
# Never uninstalled, as pip-sync does: the module itself needs pip.
ALWAYS_KEEP = ('pip', 'setuptools', 'wheel')

class SyncError(Exception):
    """A failure to report with fail_json; its message says what state the venv is left in."""


def canonicalize(name):
    """PEP 503 normalized project name."""
    return re.sub(r'[-_.]+', '-', name).lower()


def read_requirements(path, seen=None):
    """Requirement strings of a requirements file and of the files it includes with -r.

    Option lines other than -r are pip's business and are skipped here, as are
    per-requirement options such as --hash.
    """
    path = os.path.abspath(path)
    seen = set() if seen is None else seen
    if path in seen:
        return []
    seen.add(path)
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except OSError as exc:
        raise SyncError('cannot read requirements file %s: %s' % (path, exc.strerror)) from None
    found = []
    for line in re.sub(r'\\\r?\n', '', text).splitlines():
        line = re.sub(r'(^|\s)#.*$', '', line).strip()
        # pip expands ${VAR} (upper case, digits, underscore) and leaves unset ones as they are.
        line = re.sub(r'\$\{([A-Z0-9_]+)\}', lambda m: os.environ.get(m.group(1), m.group(0)), line)
        include = re.match(r'(?:-r\s*|--requirement(?:\s*=\s*|\s+))(\S+)$', line)
        if include:
            found += read_requirements(os.path.join(os.path.dirname(path), include.group(1)), seen)
        elif re.match(r'(?:-e|--editable)\b', line):
            raise SyncError('%s: editable requirements are not supported (%s); '
                            'write them as "name @ url"' % (path, line))
        elif line and not line.startswith('-'):
            # Per-requirement options (--hash=...) follow the requirement itself.
            found.append(re.split(r'\s+-', line, maxsplit=1)[0])
    return found


def closure(roots, dists):
    """Canonical names the roots need, and the names needed but found nowhere.

    roots: [{name, extras}]; dists: canonical name -> {requires: [{name, extras, when}]}
    where `when` lists the extras ('' for none) under which a requirement applies.
    """
    followed = {}
    missing = set()
    todo = [(root['name'], root['extras']) for root in roots]
    while todo:
        name, extras = todo.pop()
        key = canonicalize(name)
        if key not in dists:
            missing.add(name)
            continue
        done = followed.setdefault(key, set())
        new = ({''} | {canonicalize(extra) for extra in extras}) - done
        done |= new
        todo += [(req['name'], req['extras']) for req in dists[key]['requires']
                 if new & set(req['when'])]
    return set(followed), sorted(missing)


def package(dist):
    return {'name': dist['name'], 'version': dist['version']}


def by_name(packages):
    return sorted(packages, key=lambda dist: canonicalize(dist['name']))


def pins(packages):
    return ['%s==%s' % (dist['name'], dist['version']) for dist in by_name(packages)]


def make_plan(probe, planned, keep):
    """What to install and uninstall, from a probe of the venv and pip's dry-run report.

    probe['dists'] already shows the planned packages in place of the installed
    ones, so the closure is the one the venv will have after the install.
    """
    if probe['invalid']:
        raise SyncError('cannot parse requirements: %s' % '; '.join(probe['invalid']))
    dists = probe['dists']
    kept = [{'name': key, 'extras': []} for key in sorted(keep) if key in dists]
    needed, missing = closure(probe['roots'] + kept, dists)
    if missing:
        raise SyncError('required but neither installed nor planned by pip: %s. Bare paths and '
                        'URLs in the requirements are not supported; write them as "name @ url".'
                        % ', '.join(missing))
    after = {key: dist for key, dist in dists.items() if dist['in_venv']}
    return {
        'to_install': by_name(package(meta) for meta in planned),
        'to_remove': by_name(package(dist) for key, dist in after.items() if key not in needed),
        'before': pins(probe['installed'].values()),
        'after': pins(dist for key, dist in after.items() if key in needed),
    }


def freeze_key(line):
    """The project a `pip freeze` line stands for; the line itself when it names none."""
    match = re.match(r'([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==|===|\s@\s)', line)
    return canonicalize(match.group(1)) if match else line


def freeze_difference(before, after):
    """Human-readable differences between two `pip freeze` outputs."""
    old = {freeze_key(line): line for line in before if not line.startswith('#')}
    new = {freeze_key(line): line for line in after if not line.startswith('#')}
    return ['%s -> %s' % (old.get(key, '(absent)'), new.get(key, '(absent)'))
            for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]


def venv_problems(pip_check, freeze):
    """The lines of `pip check` output about packages installed in the venv itself.

    Each line starts with the package whose requirement is broken; a broken
    system package seen through --system-site-packages is not the sync's doing.
    """
    ours = {freeze_key(line) for line in freeze}
    return [line for line in pip_check.splitlines()
            if line.split() and canonicalize(line.split()[0]) in ours]


def index_args(params):
    args = ['--timeout', str(params['timeout'])]
    if params['index_url']:
        args += ['--index-url', params['index_url']]
    for url in params['extra_index_urls']:
        args += ['--extra-index-url', url]
    for link in params['find_links']:
        args += ['--find-links', link]
    if params['no_index']:
        args.append('--no-index')
    return args


def check_pip(version, python):
    if version is None:
        raise SyncError('pip is not installed in the venv; add it with: %s -m ensurepip --upgrade'
                        % python)
    if version < MIN_PIP:
        raise SyncError("pip %s in the venv is older than %s, which added install --dry-run and "
                        "--report; upgrade it with: %s -m pip install --upgrade 'pip>=%s'"
                        % ('.'.join(map(str, version)), '.'.join(map(str, MIN_PIP)), python,
                           '.'.join(map(str, MIN_PIP))))


def diff_text(lines):
    return ''.join(line + '\n' for line in lines)


class Venv:
    """The pip commands of one sync, all in the venv's own interpreter."""

    def __init__(self, module, python, requirements):
        self.module = module
        self.python = python
        self.requirements = requirements
        self.index = index_args(module.params)

    def run(self, args, data=None):
        return run_in_venv(self.module, self.python, args, data=data)

    def pip(self, args, what):
        rc, out, err = self.run(['-m', 'pip'] + args)
        if rc != 0:
            raise SyncError('%s failed (rc=%d): %s' % (what, rc, tail(err or out)))
        return out

    def freeze(self):
        return self.pip(['freeze', '--all', '--local'], 'pip freeze').splitlines()

    def install(self, report, dry_run=False, requirements=None, no_deps=False):
        """Install from a requirements file; returns the metadata of what pip (would) install."""
        args = ['install', '--quiet', '--report', report,
                '--requirement', requirements or self.requirements] + self.index
        args += ['--dry-run'] if dry_run else []
        args += ['--no-deps'] if no_deps else []
        self.pip(args, 'pip install --dry-run' if dry_run else 'pip install')
        with open(report, encoding='utf-8') as handle:
            items = json.load(handle)['install']
        return [{field: item['metadata'].get(field) for field in
                 ('name', 'version', 'requires_dist', 'provides_extra')} for item in items]

    def uninstall(self, names):
        if names:
            self.pip(['uninstall', '--yes'] + names, 'pip uninstall')

    def probe(self, lines=(), planned=()):
        data = json.dumps({'requirements': list(lines),
                           'planned': [dict(meta, in_venv=True) for meta in planned]})
        rc, out, err = self.run(['-I', '-c', inspect.getsource(_pip_probe)], data=data)
        if rc != 0:
            raise SyncError('reading the venv\'s package metadata failed: %s' % tail(err or out))
        return json.loads(out)

    def check(self):
        rc, out, err = self.run(['-m', 'pip', 'check'])
        return rc == 0, (out + err).strip()

    def restore(self, snapshot, keys_before):
        """Put the venv back to `snapshot` (pip freeze lines); returns its freeze afterwards."""
        pinned = os.path.join(self.module.tmpdir, 'restore.txt')
        with open(pinned, 'w', encoding='utf-8') as handle:
            handle.write(diff_text(snapshot))
        try:
            # The snapshot is complete, so nothing needs resolving.
            self.install(os.path.join(self.module.tmpdir, 'restore.json'),
                         requirements=pinned, no_deps=True)
            self.uninstall([dist['name'] for key, dist in self.probe()['installed'].items()
                            if key not in keys_before])
        except SyncError as exc:
            self.module.warn('restoring the venv: %s' % exc)
        return self.freeze()


def sync(module, venv, result):
    keep = {canonicalize(name) for name in ALWAYS_KEEP + tuple(module.params['keep'])}
    report = os.path.join(module.tmpdir, 'report.json')
    try:
        lines = read_requirements(venv.requirements)
        result['before_freeze'] = result['after_freeze'] = venv.freeze()
        planned = venv.install(report, dry_run=True)
        probe = venv.probe(lines, planned)
        plan = make_plan(probe, planned, keep)
    except SyncError as exc:
        raise SyncError('planning the sync failed, nothing was changed: %s' % exc) from None
    result.update(changed=bool(plan['to_install'] or plan['to_remove']),
                  installed=plan['to_install'], removed=plan['to_remove'])
    if module._diff:
        result['diff'] = {'before': diff_text(plan['before']), 'after': diff_text(plan['after'])}
    if module.check_mode or not result['changed']:
        return

    try:
        if plan['to_install']:
            result['installed'] = by_name(package(meta) for meta in venv.install(report))
            # What pip actually installed decides; the dry run only predicted it.
            actual = make_plan(venv.probe(lines), [], keep)
            result['removed'] = actual['to_remove']
            if module._diff:
                result['diff']['after'] = diff_text(actual['after'])
        venv.uninstall([dist['name'] for dist in result['removed']])
    except SyncError as exc:
        result.update(installed=[], removed=[])
        try:
            result['after_freeze'] = venv.restore(result['before_freeze'], set(probe['installed']))
            differences = freeze_difference(result['before_freeze'], result['after_freeze'])
        except SyncError as again:
            differences = ['unknown, pip freeze failed: %s' % again]
        result['changed'] = bool(differences)
        if differences:
            raise SyncError('%s. Restoring the venv failed too; it differs from before the task: %s'
                            % (exc, '; '.join(differences))) from None
        raise SyncError('%s. The venv was restored to its state before the task.' % exc) from None
    result['after_freeze'] = venv.freeze()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            venv=dict(type='path', required=True),
            requirements=dict(type='path', required=True),
            index_url=dict(type='str'),
            extra_index_urls=dict(type='list', elements='str', default=[]),
            find_links=dict(type='list', elements='str', default=[]),
            no_index=dict(type='bool', default=False),
            keep=dict(type='list', elements='str', default=list(ALWAYS_KEEP)),
            timeout=dict(type='int', default=15),
        ),
        supports_check_mode=True,
    )
    python = venv_python(module, module.params['venv'])
    venv = Venv(module, python, os.path.abspath(module.params['requirements']))
    result = dict(changed=False, installed=[], removed=[], before_freeze=[], after_freeze=[],
                  pip_check='')
    try:
        check_pip(pip_version(module, python), python)
        sync(module, venv, result)
    except SyncError as exc:
        module.fail_json(msg=str(exc), **result)
    healthy, result['pip_check'] = venv.check()
    problems = [] if healthy else venv_problems(result['pip_check'], result['after_freeze'])
    if problems and not module.check_mode:
        module.fail_json(msg='pip check found broken requirements in the venv: %s'
                             % '; '.join(problems), **result)
    if not healthy:
        module.warn('pip check: %s' % result['pip_check'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
