# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One host's migration plan as data (docs/plan.md): what each step will change, from what preflight found."""

from __future__ import annotations

DOCUMENTATION = r"""
name: migration_plan
short_description: One host's migration plan, from what preflight found
version_added: 1.4.0
description:
  - Builds the document C(mall_migration_plan) of docs/plan.md (schema version 1) from the results preflight
    registered. For each step it lists the C(changes) (C(op) C(+), C(-) or C(~), C(target), C(detail)) and what it
    C(observed); C(inputs) holds what the plan was computed from, C(cost) the cache's size and its expected latency,
    C(counts) the changes by C(op).
  - Only names, paths, counts and checksums go into it, never a value of a setting, an env key or a container's
    arguments, so it holds no secret.
options:
  _input:
    description:
      - What preflight found, by name; see the role C(plan) (C(roles/plan/vars/main.yml)) for the keys.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Build the plan
  ansible.builtin.set_fact:
    mall_migration_plan: "{{ __plan_found | mall.cache_migration.migration_plan }}"
"""

RETURN = r"""
_value:
  description: The plan document (docs/plan.md).
  type: dict
"""

import os

from ansible_collections.mall.cache_migration.plugins.filter.missing_privileges import granted_privileges

SCHEMA_VERSION = 1
# The steps in the order migrate.yml runs them: the page shows them in this order.
STEPS = ('restore_point', 'sessions', 'cache_settings', 'cache_table', 'env_cleanup', 'cache_warm_up', 'pip_sync',
         'app_restart', 'redis_teardown', 'post_checks')
OPS = ('+', '~', '-')


def _change(op, target, detail=''):
    return {'op': op, 'target': target, 'detail': detail}


def _relative(path, app_dir):
    return os.path.relpath(path, app_dir) if path.startswith(app_dir.rstrip('/') + '/') else path


def _backend_options(found):
    backend = found['backend']
    return '%s on table %s, MAX_ENTRIES %s, CULL_FREQUENCY %s' % (
        backend['class'], found['table']['name'], backend['max_entries'], backend['cull_frequency'])


def _settings(found):
    changes = []
    for edit in found['settings'].get('plan') or []:
        detail = '%s: %s' % (edit['setting'], edit['reason'])
        if edit['setting'] == 'CACHES' and edit['action'] == 'replace':
            detail += '; ' + _backend_options(found)
        changes.append(_change('~' if edit['action'] == 'replace' else '-',
                               '%s:%d' % (_relative(edit['file'], found['app_dir']), edit['start']), detail))
    proof = found['settings'].get('proof') or {}
    return {'changes': changes, 'observed': {'proof': {key: proof.get(key) for key in ('ok', 'backend', 'max_entries', 'problems')}}}


def _cache_table(found):
    table = found['table']
    changes = []
    if not table['columns']:
        changes.append(_change('+', 'table %s.%s' % (table['database'], table['name']),
                               'columns %s; index on expires' % ', '.join(table['expected_columns'])))
    elif not table['expires_index']:
        changes.append(_change('+', 'index on %s.%s (expires)' % (table['database'], table['name'])))
    return {'changes': changes, 'observed': {'exists': bool(table['columns']), 'backend': found['backend']}}


def _env_cleanup(found):
    return {'changes': [_change('-', '%s: %s' % (_relative(result['item'], found['app_dir']), key))
                        for result in found['env_files'] for key in result['removed']],
            'observed': {}}


def _pip_sync(found):
    pip = found['pip']
    requirements = _relative(found['requirements_file'], found['app_dir'])
    changes = [_change('-', '%s: %s' % (requirements, name)) for name in pip.get('requirements_removed') or []]
    changes += [_change('-', '%s==%s' % (package['name'], package['version'])) for package in pip.get('removed') or []]
    changes += [_change('+', '%s==%s' % (package['name'], package['version'])) for package in pip.get('installed') or []]
    return {'changes': changes, 'observed': {}}


def _redis_teardown(found):
    redis = found['redis']
    compose = found['compose'] or {}
    compose_file = _relative(found['compose_file'], found['app_dir']) if found['compose_file'] else ''
    changes = [_change('-', '%s: service %s' % (compose_file, name)) for name in compose.get('removed_services') or []]
    changes += [_change('-', '%s: volume %s' % (compose_file, name)) for name in compose.get('removed_volumes') or []]
    for field, what in (('removed_environment', 'environment'), ('removed_depends_on', 'depends_on'), ('removed_links', 'links')):
        changes += [_change('-', '%s: %s of %s: %s' % (compose_file, what, service, name))
                    for service, names in sorted((compose.get(field) or {}).items()) for name in names]
    # A Redis other hosts still use stays: the last of them to be migrated removes it (docs/fleets.md).
    kept = bool(redis['users'])
    if redis['container_exists'] and not kept:
        changes.append(_change('-', 'container %s' % redis['container'], 'after the checks pass'))
    if redis['volume_exists'] and redis['remove_volume'] and not kept:
        changes.append(_change('-', 'volume %s' % redis['volume'], 'after the checks pass'))
    return {'changes': changes, 'observed': {'users': redis['users'], 'kept': kept and redis['container_exists']}}


def _fleet_dump(found):
    """The dump a host of the fleet recorded for this migration, if any: the restore point uses it (docs/fleets.md)."""
    return next((row['dump'] for row in found['fleet_rows'] if row.get('dump')), None)


def _restore_point(found):
    redis = found['redis']
    parts = ['%d files' % len(found['restore_point_files']), 'the pip freeze',
             'the database dump (%s)' % (_fleet_dump(found) or 'taken by this host or the first of its batch')]
    if redis['container_exists']:
        parts.append('a Redis snapshot of %s' % redis['container'])
    return {'changes': [_change('+', 'restore point under %s' % found['restore_point_root'], ', '.join(parts))],
            'observed': {'files': found['restore_point_files'], 'unfinished': found['unfinished_restore_point']}}


def _sessions(found):
    sessions = found['sessions'] or {}
    changes = []
    if sessions.get('kind') == 'cache' and sessions.get('on_redis', True) and sessions.get('found'):
        changes.append(_change('+', 'django_session', 'the sessions on Redis, copied'))
    return {'changes': changes, 'observed': {key: sessions.get(key) for key in ('engine', 'found')}}


def _cache_warm_up(found):
    size = found['cache_size'] or {}
    changes = []
    if size.get('live_keys'):
        changes.append(_change('+', 'table %s' % found['table']['name'], "the live keys of Redis' default alias, copied"))
    return {'changes': changes, 'observed': {'live_keys': size.get('live_keys')}}


def _app_restart(found):
    return {'changes': [_change('~', 'the app', 'restarted onto the database cache')], 'observed': {}}


def _post_checks(found):
    return {'changes': [], 'observed': {'pages': found['pages'], 'pages_configured': found['pages_configured'],
                                        'log_errors_before': (found['log'] or {}).get('error_lines')}}


BUILDERS = {'restore_point': _restore_point, 'sessions': _sessions, 'cache_settings': _settings, 'cache_table': _cache_table,
            'env_cleanup': _env_cleanup, 'cache_warm_up': _cache_warm_up, 'pip_sync': _pip_sync,
            'app_restart': _app_restart, 'redis_teardown': _redis_teardown, 'post_checks': _post_checks}
# Steps that run on a migrated host too; the others only while something is left on Redis (migrate.yml).
ALWAYS_RUN = ('cache_settings', 'cache_table', 'pip_sync', 'post_checks')


def migration_plan(found):
    pending = bool(found['pending'])
    steps = {}
    for name in STEPS:
        step = BUILDERS[name](found)
        if not pending and name not in ALWAYS_RUN:
            step['changes'] = []
        if name == 'app_restart' and not any(steps[before]['changes'] for before in steps):
            step['changes'] = []
        steps[name] = step
    size = found['cache_size'] or {}
    cost = {key: size.get(key) for key in ('live_keys', 'complete', 'memory_bytes', 'max_entries', 'predicted_set_ms',
                                           'predicted_get_ms', 'redis_set_ms', 'redis_get_ms', 'sizing_warnings')}
    cost['backend'] = found['backend']['name']
    redis = found['redis']
    return {
        'schema_version': SCHEMA_VERSION,
        'host': found['host'],
        'app_dir': found['app_dir'],
        'created': found['created'],
        'pending': pending,
        'inputs': {
            'files': found['file_checksums'],
            'pip_freeze_sha256': found['pip_freeze_sha256'],
            'redis_container_id': redis['container_id'],
            'db_grants': granted_privileges(found['grants'], found['table']['database']),
        },
        'steps': steps,
        'fleet': {'redis_users': redis['users'], 'removes_redis': redis['container_exists'] and not redis['users'],
                  'dump': _fleet_dump(found)},
        'cost': cost,
        'counts': {op: sum(1 for step in steps.values() for change in step['changes'] if change['op'] == op) for op in OPS},
    }


class FilterModule:
    def filters(self):
        return {'migration_plan': migration_plan}
