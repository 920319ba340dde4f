# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which app hosts may still use a Redis container: the one decision behind keeping a shared Redis."""

from __future__ import annotations

DOCUMENTATION = r"""
name: redis_users
short_description: The app hosts of the fleet that may still use a Redis container
version_added: 1.4.0
description:
  - Preflight and redis_teardown keep a Redis container while another app host may still use it. Such a host is
    either recorded in the fleet's registry on the same container (its Docker id) and not migrated, or not recorded
    at all. A host not recorded is one of O(fleet_hosts) (AWX job slicing), or, when O(fleet_hosts) is empty, one
    of the inventory group the playbooks target that the inventory gives this host's database and Redis container
    (a host on another database never records itself in this one's registry).
  - A host records itself once its own preflight passed (C(migrate.yml)), so the hosts of this run's later batches,
    and one that was refused, are not recorded yet. Such a host that looked at its Redis container in this run
    (C(mall_redis_container_info) in O(inventory_vars), which C(migrate.yml)'s first play reads on every host)
    counts only when it found this container; one that did not look (cut by C(--limit), another slice) counts.
    Check mode records nothing, and goes by the same rule. A host recorded on another Redis, or as migrated, uses
    this one no more.
options:
  _input:
    description: The registry's rows (C(mall_fleet_rows)), each with C(host), C(state) and C(redis_id).
    type: list
    elements: dict
    required: true
  host:
    description: This host, never its own user.
    type: str
    required: true
  redis_id:
    description: The Docker id of the Redis container; empty when it is gone (then no recorded host is on it).
    type: str
    required: true
  fleet_hosts:
    description: C(mall_fleet_hosts), every app host of the fleet; when not empty, it replaces O(inventory_hosts).
    type: list
    elements: str
    default: []
  inventory_hosts:
    description: The hosts of the inventory group the playbooks target (C(groups['mall_servers'])), not cut by C(--limit).
    type: list
    elements: str
    default: []
  inventory_vars:
    description:
      - The inventory's variables of each host (C(hostvars)). A host of O(inventory_hosts) counts only when its
        C(mall_db_host), C(mall_db_port), C(mall_db_name) and C(mall_redis_container) are this host's; one that the
        inventory sets for only one of them may be the role default's value, and is not told apart.
      - A host not recorded whose C(mall_redis_container_info) is set (it looked at its Redis container in this run)
        counts only when that is the container of O(redis_id).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Find the hosts that still use the Redis
  ansible.builtin.set_fact:
    users: >-
      {{ mall_fleet_rows | mall.cache_migration.redis_users(host=inventory_hostname, redis_id=container_id,
         fleet_hosts=mall_fleet_hosts, inventory_hosts=groups['mall_servers'], inventory_vars=hostvars) }}
"""

RETURN = r"""
_value:
  description: The hosts that may still use the Redis.
  type: dict
  contains:
    recorded:
      description: Hosts the registry records on this container and not migrated, by name.
      type: list
      elements: str
    unrecorded:
      description: Hosts the registry does not know yet, in the order of O(fleet_hosts) or O(inventory_hosts).
      type: list
      elements: str
    users:
      description: Both, recorded first.
      type: list
      elements: str
"""


# What makes two hosts of the inventory use the same registry and the same Redis.
FLEET_VARIABLES = ('mall_db_host', 'mall_db_port', 'mall_db_name', 'mall_redis_container')


def same_fleet(ours, theirs):
    # A variable one of them leaves to the role default may be the other's value: such a host counts.
    return all(str(ours[name]) == str(theirs[name]) for name in FLEET_VARIABLES if name in ours and name in theirs)


def may_use(theirs, redis_id):
    """Whether a host not recorded may use the container: unless it looked at its own in this run and found another, or none."""
    if 'mall_redis_container_info' not in theirs:
        return True
    found = theirs['mall_redis_container_info']
    return bool(redis_id) and found.get('exists', False) and found['container']['Id'] == redis_id


def redis_users(rows, host, redis_id, fleet_hosts=(), inventory_hosts=(), inventory_vars=None):
    inventory_vars = inventory_vars or {}
    recorded_hosts = {row['host'] for row in rows}
    recorded = sorted({row['host'] for row in rows
                       if redis_id and row['host'] != host and row['state'] != 'migrated' and row['redis_id'] == redis_id})
    ours = inventory_vars.get(host, {})
    candidates = list(fleet_hosts) if fleet_hosts else [
        name for name in inventory_hosts if same_fleet(ours, inventory_vars.get(name, {}))]
    unrecorded = [name for index, name in enumerate(candidates)
                  if name != host and name not in recorded_hosts and name not in candidates[:index]
                  and may_use(inventory_vars.get(name, {}), redis_id)]
    return {'recorded': recorded, 'unrecorded': unrecorded, 'users': recorded + unrecorded}


class FilterModule:
    def filters(self):
        return {'redis_users': redis_users}
