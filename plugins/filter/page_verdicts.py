# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Each page judged against what it answered before the change: the post_checks and rollback verdicts."""

from __future__ import annotations

DOCUMENTATION = r"""
name: page_verdicts
short_description: Judge each page by what it answered before the change
version_added: 1.3.0
description:
  - Compares the pages that M(mall.cache_migration.app_pages) returns now with those it returned before the change,
    by path, and gives each a verdict.
  - C(worse) when a page that answered stops answering, a 2xx, 3xx or 4xx becomes a 5xx, or a 2xx becomes a 4xx;
    also when a page with an C(expected_status) answers another one, and, with no record of the page before, when it
    answers a 5xx or nothing.
  - C(fixed) when a page that answered a 5xx or nothing before answers below 500 now.
  - C(same) otherwise. A page is judged by what it was, so a page that failed before and fails the same way is not
    the change's doing.
options:
  _input:
    description: The pages now, as M(mall.cache_migration.app_pages) returns them.
    type: list
    elements: dict
    required: true
  before:
    description: The pages before the change, the same way; a page not in it has no record.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Fail on a page that got worse
  ansible.builtin.assert:
    that: __pages.pages | mall.cache_migration.page_verdicts(post_checks_before.pages) | selectattr('verdict', 'eq', 'worse') | length == 0
"""

RETURN = r"""
_value:
  description: One dict per page now, in order, with C(path), C(before) and C(after) (the statuses, null for no answer
    or no record), C(verdict) (C(same), C(fixed) or C(worse)), C(reason), and C(summary), the three in one text for a
    report (C(/shop/ fixed (500 before, 200 now))).
  type: list
  elements: dict
"""


def status_class(status):
    """2 to 5 for an HTTP status, 0 for no answer."""
    return status // 100 if status else 0


def is_worse(before, after):
    if after is None:
        return before is not None
    if status_class(after) == 5:
        return status_class(before) in (2, 3, 4)
    return status_class(before) == 2 and status_class(after) == 4


def verdict(before_page, page):
    after = page.get('status')
    expected = page.get('expected_status')
    shown_after = after if after is not None else 'no answer (%s)' % page.get('error')
    if expected is not None:
        if after == expected:
            return 'same', 'answered %s as expected' % after
        return 'worse', 'answered %s, expected %s' % (shown_after, expected)
    if before_page is None:
        if after is None or status_class(after) == 5:
            return 'worse', 'answered %s, with no record of before' % shown_after
        return 'same', 'answered %s, with no record of before' % after
    before = before_page.get('status')
    shown_before = before if before is not None else 'no answer'
    if is_worse(before, after):
        return 'worse', '%s before, %s now' % (shown_before, shown_after)
    if status_class(before) in (0, 5) and status_class(after) in (2, 3, 4):
        return 'fixed', '%s before, %s now' % (shown_before, after)
    return 'same', '%s before, %s now' % (shown_before, shown_after)


def page_verdicts(pages, before):
    recorded = {page['path']: page for page in before}
    verdicts = []
    for page in pages:
        before_page = recorded.get(page['path'])
        judged, reason = verdict(before_page, page)
        verdicts.append({'path': page['path'], 'before': before_page.get('status') if before_page else None,
                         'after': page.get('status'), 'verdict': judged, 'reason': reason,
                         'summary': '%s %s (%s)' % (page['path'], judged, reason)})
    return verdicts


class FilterModule:
    def filters(self):
        return {'page_verdicts': page_verdicts}
