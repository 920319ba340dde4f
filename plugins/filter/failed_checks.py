# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The cache checks that failed: what the restore point records of the cache before the change."""

from __future__ import annotations

DOCUMENTATION = r"""
name: failed_checks
short_description: The checks of M(mall.cache_migration.cache_verify) that failed, with their reasons
version_added: 1.3.0
description:
  - The restore point records them before the change, for the rollback to judge the cache by
    (P(mall.cache_migration.cache_verdict#filter)).
  - The checks of what is left of Redis (C(leftovers)) and of the latency are left out; they have items of their
    own after a migration, and a rollback puts Redis back.
options:
  _input:
    description: The RV(mall.cache_migration.cache_verify#module:checks).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Record the checks that fail before the change
  ansible.builtin.set_fact:
    failed_before: "{{ cache_before.checks | mall.cache_migration.failed_checks }}"
"""

RETURN = r"""
_value:
  description: The failed checks, each C({check, reason}), in the order of the checks.
  type: list
  elements: dict
"""

NOT_JUDGED = ('leftovers', 'latency')


def failed_checks(checks):
    """The checks that failed, each {check, reason}, those not judged left out."""
    return [{'check': name, 'reason': verdict.get('reason', '')} for name, verdict in checks.items()
            if not verdict.get('ok') and name not in NOT_JUDGED]


class FilterModule:
    def filters(self):
        return {'failed_checks': failed_checks}
