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
  - It plans before it changes anything. A short script run by the venv's own
    interpreter reads the installed packages' metadata with C(importlib.metadata),
    evaluates the environment markers and extras of every requirement with the
    C(packaging) library vendored in pip, and so finds the dependency closure of the
    requirements. When the installed versions meet all of it and no constraints file is
    included, pip would install nothing and is not asked. Otherwise
    C(pip install --dry-run --report) tells what pip would install, and the closure is
    taken again with those packages in place. Whatever is installed in the venv outside
    the closure is extraneous (names compared in their PEP 503 normalized form).
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
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
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
      - It is read as pip reads it, in the encoding its byte order mark or a coding comment
        names (UTF-8 otherwise), with any line endings. Requirement lines may carry version
        specifiers, extras, environment markers, C(name @ url) references, inline comments
        and per-requirement options such as C(--hash), also on C(\\) continuation lines.
      - C(-r) and C(-c) includes are resolved against the directory of the file that names
        them, as pip does, and followed. pip is then given private copies of exactly the
        files read, so it installs what was checked. Includes given as URLs are refused.
      - Editable (C(-e)) lines and bare paths or URLs are refused before anything changes,
        since their package name is unknown before they are built; write them as C(name @ url).
    type: path
    required: true
  remove:
    description:
      - Names of packages whose requirement lines are removed from O(requirements) before
        the sync, compared as pip compares names (PEP 503, case, C(-), C(_) and C(.) alike),
        whatever version, extras or markers the line has. Every such line goes, duplicates
        too, with its continuation lines (C(--hash) options); every other byte of the file
        stays, in its encoding, byte order mark and line endings.
      - The venv is synced to the requirements without those lines; in check mode the file
        is not written. When the sync fails, the file is written back as it was.
      - A package to remove that is named in an included requirements file is refused,
        since only O(requirements) itself is edited.
    type: list
    elements: str
    default: []
    version_added: 1.0.0
  revision:
    description:
      - Sync to O(requirements) as it is at this git revision (a tag, branch or commit) of the
        repository that holds it, read with C(git show), and its includes at the same revision.
        The working tree is not read nor changed.
      - Cannot be combined with O(remove).
    type: str
    version_added: 1.0.0
  index_url:
    description:
      - Base URL of the package index, given to pip as E(PIP_INDEX_URL) in its environment (never on its
        command line). pip's own configuration applies when omitted.
      - The value is C(no_log), as it may hold credentials, so it is masked wherever it occurs in the result.
    type: str
  extra_index_urls:
    description:
      - Further package indexes, given to pip as E(PIP_EXTRA_INDEX_URL) in its environment; C(no_log) like
        O(index_url).
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
    support: full
    details:
      - Plans as a real run does (the closure, and the dry run unless all is met), then
        returns as RV(installed) and RV(removed) exactly what a real run would install and uninstall, and as
        RV(requirements_removed) the lines O(remove) would remove. Nothing in the venv or
        the requirements file changes, so a check-mode run refuses what a real run cannot sync.
      - The dry run asks the package index as a real run would, so an unreachable index
        or a conflict fails in check mode too.
      - When what is installed already meets every requirement, pip would install nothing,
        so neither run asks pip or the index; the plan then only names what to uninstall.
  diff_mode:
    support: full
    details:
      - The venv's packages before and after, one C(name==version) per line, sorted.
        In check mode the after side is the prediction, otherwise what pip did.
      - When O(remove) edits the file, a second diff shows the file before and after, with
        credentials in URLs masked.
  idempotent:
    support: full
    details:
      - A second run with the same requirements finds nothing to install, nothing
        extraneous and no line to remove, and reports no change.
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

- name: Remove the Redis and Celery lines from requirements.txt and sync to the rest
  mall.cache_migration.pip_sync:
    venv: /srv/mall-server/venv
    requirements: /srv/mall-server/requirements.txt
    remove: [django-redis, redis, celery]

- name: Sync to the requirements of release 2.0.0 before it is checked out
  mall.cache_migration.pip_sync:
    venv: /srv/mall-server/venv
    requirements: /srv/mall-server/requirements.txt
    revision: 2.0.0

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
requirements_removed:
  description:
    - The names, as written in O(requirements), of the requirement lines that O(remove)
      removed (or would remove, in check mode), one per line removed.
    - Empty when the sync failed and the file was written back.
  returned: always
  type: list
  elements: str
  sample: [Django_Redis, celery, redis]
  version_added: 1.0.0
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
    - Empty in check mode and when there is nothing to change, since the module then runs no C(pip freeze).
  returned: always
  type: list
  elements: str
  sample: [Django==4.2.30, kombu==5.3.4, pip==23.0.1]
after_freeze:
  description:
    - Output of C(pip freeze --all --local) when the module finished.
    - Empty in check mode and when there is nothing to change, as RV(before_freeze).
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

import codecs
import inspect
import itertools
import json
import os
import re
import shlex

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils import _pip_probe
from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import write_atomic
from ansible_collections.mall.cache_migration.plugins.module_utils._venv import (
    pip_index_environment,
    pip_version,
    run_in_venv,
    tail,
    venv_python,
)

# The first pip with `install --dry-run --report`.
MIN_PIP = (22, 2)
# Never uninstalled, as pip-sync does: the module itself needs pip.
ALWAYS_KEEP = ('pip', 'setuptools', 'wheel')

# The byte order marks pip's requirements reader knows, in the order it tries
# them (so FF FE 00 00 is UTF-16 to pip, and here too), each with the codec of
# the text after the mark, which writes it back unchanged.
BOMS = (
    (codecs.BOM_UTF8, 'utf-8'),
    (codecs.BOM_UTF16_LE, 'utf-16-le'),
    (codecs.BOM_UTF16_BE, 'utf-16-be'),
    (codecs.BOM_UTF32_BE, 'utf-32-be'),
)
# pip's own patterns: a PEP 263 coding comment on one of the first two lines,
# a comment, a ${VAR} reference, and an include that is a URL.
CODING = re.compile(rb'coding[:=]\s*([-\w.]+)')
COMMENT = re.compile(r'(^|\s+)#.*$')
ENV_VAR = re.compile(r'\$\{([A-Z0-9_]+)\}')
URL_SCHEME = re.compile(r'^(http|https|file):', re.I)
# The project name a requirement line starts with (PEP 508).
NAME = re.compile(r'[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?')
# The options of an option line whose value is a path relative to the file.
PATH_OPTIONS = {'-r': 'requirement', '--requirement': 'requirement',
                '-c': 'constraint', '--constraint': 'constraint',
                '-f': 'find-links', '--find-links': 'find-links'}
EDITABLE_OPTIONS = ('-e', '--editable')
# What str.splitlines() ends a line with, as pip splits the file.
LINE_ENDS = '\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'
URL_CREDENTIALS = re.compile(r'(://)[^/@\s]+@')


class SyncError(Exception):
    """A failure to report with fail_json; its message says what state the venv is left in."""


def canonicalize(name):
    """PEP 503 normalized project name."""
    return re.sub(r'[-_.]+', '-', name).lower()


def decode(data, path):
    """(text, codec, byte order mark) of a requirements file, decoded as pip decodes it."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            break
    else:
        bom, codec = b'', 'utf-8'
        for line in data.split(b'\n')[:2]:
            coding = CODING.search(line) if line.startswith(b'#') else None
            if coding:
                codec = coding.group(1).decode('ascii')
                break
    try:
        return data[len(bom):].decode(codec), codec, bom
    except (LookupError, UnicodeError) as exc:
        raise SyncError('%s cannot be read as pip reads it: %s' % (path, exc)) from None


def logical_lines(lines):
    """(first, end, text) of each line as pip parses it, from physical lines first to end - 1.

    As pip's join_lines(): a line ending in a backslash goes on on the next
    one, and a comment line ends a continuation.
    """
    first, joined = None, []
    for index, line in enumerate(lines):
        body = line.rstrip(LINE_ENDS)
        if body.endswith('\\') and not COMMENT.match(body):
            first = index if first is None else first
            joined.append(body.strip('\\'))
            continue
        body = ' ' + body if COMMENT.match(body) else body
        if first is None:
            yield index, index + 1, body
        else:
            yield first, index + 1, ''.join(joined) + body
            first, joined = None, []
    if first is not None:
        yield first, len(lines), ''.join(joined)


def expand(line):
    """A logical line as pip reads it: comment removed, each ${VAR} that is set expanded."""
    line = COMMENT.sub('', line).strip()
    return ENV_VAR.sub(lambda match: os.environ.get(match.group(1)) or match.group(0), line)


def path_options(tokens, where):
    """[(index, kind, value)] of the -r, -c and -f options of an option line's tokens.

    Each becomes the two tokens option and value, so that index is the value's.
    Editable requirements are refused here: their name is known only once built.
    """
    found = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith('--'):
            option, equals, value = token.partition('=')
        else:
            option, equals, value = token[:2], token[2:], token[2:]
        if option in EDITABLE_OPTIONS:
            raise SyncError('%s: editable requirements cannot be synced (%s); write them as '
                            '"name @ url"' % (where, ' '.join(tokens)))
        if option in PATH_OPTIONS:
            if not equals:
                if index + 1 == len(tokens):
                    raise SyncError('%s: %s needs a value' % (where, option))
                value = tokens.pop(index + 1)
            tokens[index:index + 1] = [option, value]
            index += 1
            found.append((index, PATH_OPTIONS[option], value))
        index += 1
    return found


class RequirementsFile:
    """One requirements file: its bytes, text and lines, each line parsed as pip parses it."""

    def __init__(self, path, data):
        self.path = path
        self.text, self.codec, self.bom = decode(data, path)
        self.lines = self.text.splitlines(True)
        self.entries = []
        for first, end, text in logical_lines(self.lines):
            line = expand(text)
            where = '%s line %d' % (path, first + 1)
            entry = {'first': first, 'end': end, 'name': None, 'paths': []}
            if line.startswith('-'):
                try:
                    entry['tokens'] = shlex.split(line)
                except ValueError as exc:
                    raise SyncError('%s: %s' % (where, exc)) from None
                entry['paths'] = path_options(entry['tokens'], where)
            elif line:
                # Per-requirement options (--hash=...) follow the requirement, as pip splits them.
                args = list(itertools.takewhile(lambda token: not token.startswith('-'), line.split(' ')))
                entry['requirement'] = ' '.join(args).strip()
                name = NAME.match(entry['requirement'])
                entry['name'] = name.group(0) if name else None
            self.entries.append(entry)

    def encode(self, dropped):
        """The file's bytes without the lines of the entries in dropped, every other byte kept."""
        kept = [line for index, entry in enumerate(self.entries) if index not in dropped
                for line in self.lines[entry['first']:entry['end']]]
        return self.bom + ''.join(kept).encode(self.codec)

    def shown(self, dropped=()):
        """The text without the dropped entries, credentials in URLs masked, for a diff."""
        return URL_CREDENTIALS.sub(r'\1********@', decode(self.encode(dropped), self.path)[0])


def read_file(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except OSError as exc:
        raise SyncError('cannot read requirements file %s: %s' % (path, exc.strerror)) from None


class Requirements:
    """A requirements file and every file it includes with -r and -c, read as pip reads them.

    read(path) returns a file's bytes. Includes are resolved against the
    directory of the file that names them, as pip does; pip itself is then
    given copies (materialize()) whose includes name the other copies, so it
    reads exactly what was checked here.
    """

    def __init__(self, path, read=read_file):
        self.read = read
        self.files = {}
        # (file, entry index) of each requirement line that the sync installs.
        self.roots = []
        visited = set()
        self.top = self._load(os.path.abspath(path), 'requirement', visited)
        # A constraint can ask for another version than the installed one, which only pip knows.
        self.constrained = any(kind == 'constraint' for dummy, kind in visited)

    def _load(self, path, kind, visited):
        if path not in self.files:
            self.files[path] = RequirementsFile(path, self.read(path))
        req_file = self.files[path]
        if (path, kind) in visited:
            return req_file
        visited.add((path, kind))
        for index, entry in enumerate(req_file.entries):
            if 'requirement' in entry and kind == 'requirement':
                self.roots.append((req_file, index))
            for dummy, included, value in entry['paths']:
                if included == 'find-links':
                    continue
                if URL_SCHEME.match(value):
                    raise SyncError('%s includes %s: remote requirements files cannot be synced; '
                                    'copy it next to the file' % (path, value))
                # pip's rule: -r inside a constraints file names requirements again.
                self._load(os.path.normpath(os.path.join(os.path.dirname(path), value)), included, visited)
        return req_file

    def dropped(self, names):
        """Indexes of the top file's entries naming one of names (PEP 503), and the names as written.

        Only the top file is edited: a removed package named in an included
        requirements file is refused, since the edit would not remove it.
        """
        wanted = {canonicalize(name) for name in names}
        hits = [(req_file, index, req_file.entries[index]['name']) for req_file, index in self.roots
                if req_file.entries[index]['name'] and canonicalize(req_file.entries[index]['name']) in wanted]
        elsewhere = sorted({'%s in %s' % (name, req_file.path) for req_file, index, name in hits
                            if req_file is not self.top})
        if elsewhere:
            raise SyncError('an included requirements file names a package to remove: %s. Only %s is '
                            'edited; remove the line there first' % ('; '.join(elsewhere), self.top.path))
        return {index for dummy, index, name in hits}, [name for dummy, index, name in hits]

    def lines(self, dropped=()):
        """The requirement strings the sync installs, without the top file's dropped entries."""
        return [req_file.entries[index]['requirement'] for req_file, index in self.roots
                if not (req_file is self.top and index in dropped)]

    def materialize(self, folder, dropped=()):
        """Write UTF-8 copies of the files into folder, includes naming the copies; returns the top copy."""
        copies = {path: os.path.join(folder, 'requirements-%d-%s' % (number, os.path.basename(path)))
                  for number, path in enumerate(self.files)}
        for path, req_file in self.files.items():
            text = []
            for index, entry in enumerate(req_file.entries):
                if req_file is self.top and index in dropped:
                    continue
                lines = req_file.lines[entry['first']:entry['end']]
                if entry['paths']:
                    tokens = list(entry['tokens'])
                    for token, kind, value in entry['paths']:
                        target = os.path.normpath(os.path.join(os.path.dirname(path), value))
                        if kind != 'find-links':
                            tokens[token] = copies[target]
                        elif os.path.exists(target):
                            # pip's rule for --find-links: relative to the file when it exists there.
                            tokens[token] = target
                    lines = [' '.join(shlex.quote(token) for token in tokens) + '\n']
                text += lines
            # The BOM makes pip read the copy as UTF-8 whatever coding comment it holds.
            with open(copies[path], 'w', encoding='utf-8-sig') as handle:
                handle.write(''.join(text))
        return copies[self.top.path]


def closure(roots, dists):
    """Canonical names the roots need, each with the extras followed ('' for none), and the
    names needed but found nowhere.

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
    return followed, sorted(missing)


def all_met(probe):
    """Whether what is installed meets every requirement the roots need, so that pip, which
    leaves a package that meets its requirement alone, would install nothing."""
    dists = probe['dists']
    followed, missing = closure(probe['roots'], dists)
    return not missing and all(root['satisfied'] for root in probe['roots']) and all(
        req['satisfied'] for key, extras in followed.items() for req in dists[key]['requires']
        if extras & set(req['when']))


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


def venv_problems(pip_check, ours):
    """The lines of `pip check` output about packages installed in the venv itself (ours:
    their canonical names).

    Each line starts with the package whose requirement is broken; a broken
    system package seen through --system-site-packages is not the sync's doing.
    """
    return [line for line in pip_check.splitlines()
            if line.split() and canonicalize(line.split()[0]) in ours]


def index_args(params):
    """pip's options for finding packages that may be on its command line (the index URLs are not)."""
    args = ['--timeout', str(params['timeout'])]
    for link in params['find_links']:
        args += ['--find-links', link]
    if params['no_index']:
        args.append('--no-index')
    return args


def index_environment(params):
    """The index URLs, for pip's environment: they may hold credentials."""
    return pip_index_environment(params['index_url'], params['extra_index_urls'])


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

    def __init__(self, module, python):
        self.module = module
        self.python = python
        # The copy of the requirements that pip reads (Requirements.materialize()).
        self.requirements = None
        self.index = index_args(module.params)
        self.index_environment = index_environment(module.params)

    def run(self, args, data=None):
        return run_in_venv(self.module, self.python, args, data=data, environ=self.index_environment)

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


def git_reader(module, requirements, revision):
    """A read(path) that gives a file as it is at revision of the git repository holding requirements."""
    rc, out, err = module.run_command(['git', '-C', os.path.dirname(requirements), 'rev-parse', '--show-toplevel'])
    if rc != 0:
        raise SyncError('%s is not in a git repository: %s' % (requirements, tail(err or out)))
    # git names the top level by its real path; the requirements path may run through a link.
    top = os.path.realpath(out.strip())

    def read(path):
        inside = os.path.relpath(os.path.realpath(path), top)
        if inside.startswith(os.pardir + os.sep):
            raise SyncError('%s is outside the repository %s, so it has no version %s' % (path, top, revision))
        rc, out, err = module.run_command(['git', '-C', top, 'show', '%s:%s' % (revision, inside)], encoding=None)
        if rc != 0:
            raise SyncError('cannot read %s at %s: %s' % (inside, revision, tail(err.decode('utf-8', 'replace'))))
        return out
    return read


def file_diff(requirements, dropped):
    path = requirements.top.path
    return {'before_header': path, 'after_header': path,
            'before': requirements.top.shown(), 'after': requirements.top.shown(dropped)}


def sync(module, venv, result):
    """Plan the sync and apply it unless in check mode; returns the canonical names of the
    packages in the venv at the end."""
    params = module.params
    keep = {canonicalize(name) for name in ALWAYS_KEEP + tuple(params['keep'])}
    report = os.path.join(module.tmpdir, 'report.json')
    path = os.path.abspath(params['requirements'])
    try:
        if params['revision'] and params['remove']:
            raise SyncError('remove edits the requirements file, a revision is read from git: give one of them')
        requirements = Requirements(path, git_reader(module, path, params['revision']) if params['revision']
                                    else read_file)
        dropped, result['requirements_removed'] = requirements.dropped(params['remove'])
        lines = requirements.lines(dropped)
        venv.requirements = requirements.materialize(module.tmpdir, dropped)
        probe = venv.probe(lines)
        planned = []
        if requirements.constrained or not all_met(probe):
            planned = venv.install(report, dry_run=True)
            probe = venv.probe(lines, planned)
        plan = make_plan(probe, planned, keep)
    except SyncError as exc:
        raise SyncError('planning the sync failed, nothing was changed: %s' % exc) from None
    result.update(changed=bool(plan['to_install'] or plan['to_remove'] or dropped),
                  installed=plan['to_install'], removed=plan['to_remove'])
    if module._diff:
        result['diff'] = [{'before_header': 'packages of %s' % params['venv'], 'before': diff_text(plan['before']),
                           'after_header': 'packages of %s' % params['venv'], 'after': diff_text(plan['after'])}]
        result['diff'] += [file_diff(requirements, dropped)] if dropped else []
    if module.check_mode or not result['changed']:
        return set(probe['installed'])

    result['before_freeze'] = result['after_freeze'] = venv.freeze()
    if dropped:
        write_atomic(module, path, requirements.top.encode(dropped))
    try:
        if plan['to_install']:
            result['installed'] = by_name(package(meta) for meta in venv.install(report))
            # What pip actually installed decides; the dry run only predicted it.
            actual = make_plan(venv.probe(lines), [], keep)
            result['removed'] = actual['to_remove']
            if module._diff:
                result['diff'][0]['after'] = diff_text(actual['after'])
        venv.uninstall([dist['name'] for dist in result['removed']])
    except SyncError as exc:
        result.update(installed=[], removed=[], requirements_removed=[])
        if dropped:
            write_atomic(module, path, requirements.top.encode(()))
        try:
            result['after_freeze'] = venv.restore(result['before_freeze'], set(probe['installed']))
            differences = freeze_difference(result['before_freeze'], result['after_freeze'])
        except SyncError as again:
            differences = ['unknown, pip freeze failed: %s' % again]
        result['changed'] = bool(differences)
        restored = ('The requirements file and the venv were restored' if dropped else 'The venv was restored')
        if differences:
            raise SyncError('%s. Restoring the venv failed too; it differs from before the task: %s'
                            % (exc, '; '.join(differences))) from None
        raise SyncError('%s. %s to their state before the task.' % (exc, restored)) from None
    result['after_freeze'] = venv.freeze()
    return {freeze_key(line) for line in result['after_freeze']}


def argument_spec():
    return dict(
        venv=dict(type='path', required=True),
        requirements=dict(type='path', required=True),
        remove=dict(type='list', elements='str', default=[]),
        revision=dict(type='str'),
        index_url=dict(type='str', no_log=True),
        extra_index_urls=dict(type='list', elements='str', default=[], no_log=True),
        find_links=dict(type='list', elements='str', default=[]),
        no_index=dict(type='bool', default=False),
        keep=dict(type='list', elements='str', default=list(ALWAYS_KEEP)),
        timeout=dict(type='int', default=15),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    python = venv_python(module, module.params['venv'])
    venv = Venv(module, python)
    result = dict(changed=False, installed=[], removed=[], requirements_removed=[], before_freeze=[],
                  after_freeze=[], pip_check='')
    try:
        check_pip(pip_version(module, python), python)
        ours = sync(module, venv, result)
    except SyncError as exc:
        module.fail_json(msg=str(exc), **result)
    healthy, result['pip_check'] = venv.check()
    problems = [] if healthy else venv_problems(result['pip_check'], ours)
    if problems and not module.check_mode:
        module.fail_json(msg='pip check found broken requirements in the venv: %s'
                             % '; '.join(problems), **result)
    if not healthy:
        module.warn('pip check: %s' % result['pip_check'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
