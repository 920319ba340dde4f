# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A saved migration plan held against the plan computed now, before the saved one is applied (docs/plan.md).

plan_for_host takes a host's plan out of what the operator passed (one plan, or the AWX artifact host -> plan);
plan_drift lists each input and each step's changes that differ. Their documentation is in plan_for_host.yml and
plan_drift.yml beside this file, one per filter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

SCHEMA_VERSION = 1
# How much of a sha256 or a container id a message shows.
SHORT = 12


def _short(value):
    return 'none' if value is None else '%s\u2026' % value[:SHORT]


def plan_for_host(saved, host):
    """The plan of host in saved: one plan (it has a schema_version) or a mapping host -> plan."""
    if not isinstance(saved, Mapping):
        raise AnsibleFilterError('the saved plan must be a plan or a mapping of hosts to plans, not %s' % type(saved).__name__)
    if 'schema_version' not in saved:
        if host not in saved:
            raise AnsibleFilterError('the saved plans are for %s; none is for host %s'
                                     % (', '.join(sorted(map(str, saved))) or 'no host', host))
        saved = saved[host]
        if not isinstance(saved, Mapping):
            raise AnsibleFilterError('the saved plan of host %s is a %s, not a plan' % (host, type(saved).__name__))
    if saved.get('host') != host:
        raise AnsibleFilterError('the saved plan is for host %s, not for host %s' % (saved.get('host'), host))
    if saved.get('schema_version') != SCHEMA_VERSION:
        raise AnsibleFilterError('the saved plan of host %s has schema_version %s; this release reads schema_version %d'
                                 % (host, json.dumps(saved.get('schema_version'), default=str), SCHEMA_VERSION))
    return saved


def _difference(kind, name, planned, now, text):
    return {'input': kind, 'name': name, 'planned': planned, 'now': now, 'text': text}


def _file_drift(path, files_then, files_now):
    planned, now = files_then.get(path), files_now.get(path)
    if path not in files_then:
        text = '%s is read now but was not by the plan (sha256 %s now)' % (path, _short(now))
    elif path not in files_now:
        text = '%s was read by the plan but is not now (sha256 %s then)' % (path, _short(planned))
    elif planned == now:
        return None
    elif now is None:
        text = '%s is missing now (sha256 %s then)' % (path, _short(planned))
    elif planned is None:
        text = '%s was missing at the plan and exists now (sha256 %s now)' % (path, _short(now))
    else:
        text = '%s changed since the plan (sha256 %s then, %s now)' % (path, _short(planned), _short(now))
    return _difference('file', path, planned, now, text)


def _grants_drift(planned, now):
    planned, now = sorted(planned or []), sorted(now or [])
    if planned == now:
        return None
    parts = ['granted now: %s' % ', '.join(sorted(set(now) - set(planned))),
             'no longer granted: %s' % ', '.join(sorted(set(planned) - set(now)))]
    return _difference('db_grants', 'db grants', planned, now, "the app user's grants on its database changed since the plan (%s)"
                       % '; '.join(part for part in parts if not part.endswith(': ')))


def _step_changes(steps, name):
    """The step's list of changes, None when the plan has no such step."""
    return (steps[name] or {}).get('changes', []) if name in steps else None


def _step_drift(name, steps_then, steps_now):
    planned, now = _step_changes(steps_then, name), _step_changes(steps_now, name)
    if planned == now:
        return None

    def count(changes, when):
        return 'step absent %s' % when if changes is None else '%d %s' % (len(changes), when)

    return _difference('step', name, planned, now, 'step %s: its changes differ from the plan (%s, %s)'
                       % (name, count(planned, 'then'), count(now, 'now')))


def plan_drift(saved, current):
    """What differs between the saved plan and the plan computed now: its inputs, its app dir and each step's changes.

    One dict per difference (input, name, planned, now, text); the app dir first, then the files by path, the pip
    freeze, the Redis container, the grants, and the steps by name. `observed`, `cost` and `created` may move between
    plan and apply without changing what is done, so they are not compared.
    """
    inputs_then, inputs_now = saved.get('inputs') or {}, current.get('inputs') or {}
    files_then, files_now = inputs_then.get('files') or {}, inputs_now.get('files') or {}
    steps_then, steps_now = saved.get('steps') or {}, current.get('steps') or {}
    found = []
    if saved.get('app_dir') != current.get('app_dir'):
        found.append(_difference('app_dir', 'app dir', saved.get('app_dir'), current.get('app_dir'),
                                 'the app dir changed since the plan (%s then, %s now)' % (saved.get('app_dir'), current.get('app_dir'))))
    found += [_file_drift(path, files_then, files_now) for path in sorted(set(files_then) | set(files_now))]
    for kind, key, name, what, figure in (('pip_freeze', 'pip_freeze_sha256', 'pip freeze', "the virtualenv's packages", 'pip freeze sha256'),
                                          ('redis_container', 'redis_container_id', 'redis container', 'the Redis container', 'id')):
        planned, now = inputs_then.get(key), inputs_now.get(key)
        if planned != now:
            found.append(_difference(kind, name, planned, now, '%s changed since the plan (%s %s then, %s now)'
                                     % (what, figure, _short(planned), _short(now))))
    found.append(_grants_drift(inputs_then.get('db_grants'), inputs_now.get('db_grants')))
    found += [_step_drift(name, steps_then, steps_now) for name in sorted(set(steps_then) | set(steps_now))]
    return [difference for difference in found if difference is not None]


class FilterModule:
    def filters(self):
        return {'plan_for_host': plan_for_host, 'plan_drift': plan_drift}
