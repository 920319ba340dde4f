# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A migration plan as one page to read, like `terraform plan`."""

from __future__ import annotations

DOCUMENTATION = r"""
name: plan_page
short_description: A migration plan as one page to read
version_added: 1.4.0
description:
  - Renders the plan document of docs/plan.md (the filter P(mall.cache_migration.migration_plan#filter)) as text,
    one line per change, the steps in the order migrate.yml runs them, each change as C(+) (add), C(~) (change) or C(-) (remove), then
    the cost of the chosen backend at this cache's size, who else uses the Redis, the pages, and the counts.
options:
  _input:
    description: The plan document.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ (mall_migration_plan | mall.cache_migration.plan_page).splitlines() }}"
"""

RETURN = r"""
_value:
  description: The page, lines ending with a newline.
  type: str
"""

from ansible_collections.mall.cache_migration.plugins.filter.migration_plan import OPS, STEPS

COUNT_WORDS = {'+': 'to add', '~': 'to change', '-': 'to remove'}


def plan_page(plan):
    """The plan as one page, like `terraform plan`: the steps in order, + - ~, the cost, the counts."""
    lines = ['Plan for %s (%s), %s' % (plan['host'], plan['app_dir'], plan['created']), '']
    if not plan['pending']:
        lines += ['Nothing left on Redis: the host is migrated. The cache table, the settings and the pages are checked.', '']
    for name in STEPS:
        changes = plan['steps'][name]['changes']
        if not changes:
            continue
        lines.append('%s:' % name)
        lines += ['  %s %s%s' % (change['op'], change['target'], '  (%s)' % change['detail'] if change['detail'] else '')
                  for change in changes]
        lines.append('')
    cost = plan['cost']
    if cost.get('live_keys') is not None:
        lines.append('Cost: %s live keys in Redis; %s backend with MAX_ENTRIES %s: set p50 %s ms, get p50 %s ms when full '
                     '(Redis now: set %s ms, get %s ms).' % (
                         cost['live_keys'], cost['backend'], cost['max_entries'], cost['predicted_set_ms'],
                         cost.get('predicted_get_ms') or '?', cost.get('redis_set_ms') or '?', cost.get('redis_get_ms') or '?'))
        lines += ['WARNING: %s' % warning for warning in cost.get('sizing_warnings') or []]
    users = plan['fleet']['redis_users']
    if users:
        lines.append('Redis is kept: %s still use it; the last of them to be migrated removes it.' % ', '.join(users))
    pages = plan['steps']['post_checks']['observed']
    if pages['pages']:
        lines.append('Pages, as they answer now: %s' % ', '.join('%s %s' % (page['path'], page['status']) for page in pages['pages']))
    else:
        configured = ', '.join(page if isinstance(page, str) else page.get('path', '') for page in pages['pages_configured'])
        lines.append('Pages: %s' % (configured or "the project's own, listed and asked before the change (check mode asks none)"))
    counts = plan['counts']
    lines += ['', 'Plan: %s.' % ', '.join('%d %s' % (counts[op], COUNT_WORDS[op]) for op in OPS)]
    return '\n'.join(lines) + '\n'


class FilterModule:
    def filters(self):
        return {'plan_page': plan_page}
