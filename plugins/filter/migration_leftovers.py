# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What is still to migrate on a host, from what preflight found: the one decision behind preflight_migration_pending."""

from __future__ import annotations

DOCUMENTATION = r"""
name: migration_leftovers
short_description: What the migration still has to change on a host, from the results preflight gathered
version_added: 1.3.0
description:
  - Preflight's decision whether a host is migrated. Each entry is something a step after the restore point would
    change or remove. When there is none, migrate.yml skips those steps, and a migrated host's rerun costs its checks.
  - A Redis container that other hosts of the fleet still use is theirs, not a leftover; its volume neither. A volume
    the teardown keeps (C(redis_teardown_remove_volume=false)) is not a leftover either, or a host that kept it would
    never be done.
options:
  _input:
    description:
      - What preflight found, as a dict. C(settings_plan) (C(cache_settings_plan)), C(env_keys) (the results of
        M(mall.cache_migration.env_file_keys) in check mode, each with C(item) and C(removed)), C(pip_plan)
        (C(pip_sync_plan)), C(compose) (M(mall.cache_migration.compose_service_absent) in check mode, or C({})) and
        C(compose_file),
        C(container) (C(name), C(exists)), C(volume) (C(name), C(exists), C(removed_by_teardown)), C(other_users)
        (the hosts of the fleet still on this Redis), C(unfinished_restore_point) (a name or empty), C(fleet_state)
        (this host's state in the fleet's registry, C(unknown) when it has no row, null when the registry was not read)
        and C(host).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Record what is still on Redis
  ansible.builtin.set_fact:
    preflight_redis_leftovers: "{{ found | mall.cache_migration.migration_leftovers }}"
"""

RETURN = r"""
_value:
  description: One dict per leftover, in the order of the steps, with C(kind) and C(text), what it is, for the report.
  type: list
  elements: dict
"""


def names(entries):
    return [entry.get('name', '?') if isinstance(entry, dict) else str(entry) for entry in entries or []]


def compose_removals(compose):
    return (list(compose.get('removed_services') or []) + list(compose.get('removed_volumes') or [])
            + [key for keys in (compose.get('removed_environment') or {}).values() for key in keys]
            + ['depends_on of %s' % service for service in compose.get('removed_depends_on') or {}]
            + ['links of %s' % service for service in compose.get('removed_links') or {}])


def migration_leftovers(found):
    plan = found.get('settings_plan') or {}
    redis_aliases = [alias for alias, cache in (plan.get('caches') or {}).items() if 'redis' in str(cache.get('backend', ''))]
    env_files = [result['item'] for result in found.get('env_keys') or [] if result.get('removed')]
    pip_plan = found.get('pip_plan') or {}
    packages = list(pip_plan.get('requirements_removed') or []) + names(pip_plan.get('removed')) + names(pip_plan.get('installed'))
    compose = found.get('compose') or {}
    container, volume = found.get('container') or {}, found.get('volume') or {}
    shared = bool(found.get('other_users'))
    fleet_state = found.get('fleet_state')
    leftovers = [
        ('settings', plan.get('files'), 'settings on Redis in %s' % ', '.join(plan.get('files') or [])),
        ('cache_aliases', redis_aliases, 'CACHES aliases on Redis: %s' % ', '.join(redis_aliases)),
        ('env_keys', env_files, 'Redis keys in %s' % ', '.join(env_files)),
        # The Redis packages too: pip_sync removes whatever the requirements without them do not list.
        ('packages', packages, 'packages to sync: %s' % ', '.join(packages)),
        ('compose', compose_removals(compose), 'in %s: %s' % (found.get('compose_file'), ', '.join(compose_removals(compose)))),
        ('container', container.get('exists') and not shared, 'container %s' % container.get('name')),
        # As redis_teardown decides: with its container gone, a volume is no other host's.
        ('volume', volume.get('exists') and volume.get('removed_by_teardown', True) and (not container.get('exists') or not shared),
         'volume %s' % volume.get('name')),
        ('unfinished_migration', found.get('unfinished_restore_point'),
         'the unfinished migration of restore point %s' % found.get('unfinished_restore_point')),
        ('fleet_registry', fleet_state is not None and fleet_state != 'migrated',
         'the fleet registry records %s as %s' % (found.get('host'), fleet_state)),
    ]
    return [{'kind': kind, 'text': text} for kind, present, text in leftovers if present]


class FilterModule:
    def filters(self):
        return {'migration_leftovers': migration_leftovers}
