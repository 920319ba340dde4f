# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The cache judged against its recorded before: a rollback restores a broken cache as broken, and says so."""

from __future__ import annotations

DOCUMENTATION = r"""
name: cache_verdict
short_description: Judge the cache checks of M(mall.cache_migration.cache_verify) by those recorded before the change
version_added: 1.3.0
description:
  - The rollback's verdict on the cache. A rollback puts the host back as it was, so a cache that failed before the
    migration may fail the same way after it; only a check that passed before and fails now is C(worse).
  - The checks P(mall.cache_migration.failed_checks#filter) leaves out are not judged.
  - Without a record of before (a restore point older than the record), every failed check is C(worse).
options:
  _input:
    description: The RV(mall.cache_migration.cache_verify#module:checks) now.
    type: dict
    required: true
  before:
    description: The failed checks before the change, as P(mall.cache_migration.failed_checks#filter) recorded them;
      null when nothing was recorded.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Record the checks that fail before the change
  ansible.builtin.set_fact:
    failed_before: "{{ cache_before.checks | mall.cache_migration.failed_checks }}"

- name: Fail when a check got worse
  ansible.builtin.assert:
    that: not (cache_after.checks | mall.cache_migration.cache_verdict(failed_before)).worse
"""

RETURN = r"""
_value:
  description:
    - C(worse) (bool), C(new_failures) (the checks that passed before and fail now) and C(failing_as_before) (the
      checks that failed before and still fail), each C({check, reason}).
  type: dict
"""

from ansible_collections.mall.cache_migration.plugins.filter.failed_checks import failed_checks


def cache_verdict(checks, before=None):
    failed_before = {entry['check'] for entry in before or []}
    now = failed_checks(checks)
    new_failures = [entry for entry in now if before is None or entry['check'] not in failed_before]
    return {'worse': bool(new_failures), 'new_failures': new_failures,
            'failing_as_before': [entry for entry in now if entry not in new_failures]}


class FilterModule:
    def filters(self):
        return {'cache_verdict': cache_verdict}
