#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: app_pages
short_description: Ask a Django app's pages for their status, the pages listed by the project's own URLconf
version_added: 1.3.0
description:
  - Asks each page under O(base_url) with one C(GET), redirects not followed, and returns the status it answered
    (or why it did not answer). A page that needs a login answers C(401), C(403) or a redirect, and that is its status.
  - Without O(pages), the pages are the project's own. A probe run with the project's Python and settings walks
    Django's URL resolver and keeps the patterns that take no parameter, the admin's login first, at most
    O(max_pages) of them, the project's own before the admin's other pages. No route of the guide is assumed.
  - The post_checks role records the pages before any change and judges them after by that record
    (P(mall.cache_migration.page_verdicts#filter)).
  - With O(log_file), it also counts the error lines that the app logged while its pages were asked, the lines
    appended to the log from before the first C(GET) until the log stops growing after the last answer (a server
    writes a request's access line after its answer; at most 3 seconds). The post_checks role compares them with the
    count before the change. Only counts leave the host; the log may hold anything the app logs.
  - Only reads; a C(GET) of the app's pages is what any visitor does.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.attributes.read_only
  - mall.cache_migration.django_project
options:
  base_url:
    description: The app's base URL as this host reaches it; each page's path is appended to it.
    type: str
    required: true
  pages:
    description:
      - The pages to ask instead of the project's own. Each is a path, or a dict with C(path) and, optionally, the
        C(expected_status) it must answer.
      - An entry may also be a page of RV(pages) as an earlier call returned it, to ask the same pages again. Its
        C(status) and C(error), what it answered then, are not read.
      - Empty, the default, lists the project's pages with the probe.
    type: list
    elements: raw
    default: []
  max_pages:
    description: The most pages the probe lists.
    type: int
    default: 8
  timeout:
    description: Seconds to wait for each page.
    type: int
    default: 30
  log_file:
    description:
      - The app's log file, whose error lines logged while the pages are asked are counted (RV(log)).
      - A log that rotates while the pages are asked is read from its new start.
    type: path
  log_error_pattern:
    description: A line of O(log_file) that matches this Python regular expression is an error line.
    type: str
    default: '^Traceback \(most recent call last\)|\b(ERROR|CRITICAL)\b'
  log_max_bytes:
    description: The most of O(log_file) read, its last bytes; a longer part is counted in RV(log.bytes_skipped).
    type: int
    default: 10485760
'''

EXAMPLES = r'''
- name: Ask the project's own pages
  mall.cache_migration.app_pages:
    project_dir: /srv/mall-server
    settings: mall_server.settings.production
    base_url: http://127.0.0.1:8000
  register: __pages

- name: Ask two pages, one of which must answer 401
  mall.cache_migration.app_pages:
    project_dir: /srv/mall-server
    settings: mall_server.settings.production
    base_url: http://127.0.0.1:8000
    pages:
      - /admin/login/
      - {path: /api/users/, expected_status: 401}
'''

RETURN = r'''
pages:
  description: Each page asked, in order.
  returned: success
  type: list
  elements: dict
  sample: [{path: /admin/login/, status: 200, error: null, expected_status: null}]
  contains:
    path:
      description: The path under O(base_url).
      type: str
    status:
      description: The HTTP status it answered, or null when it did not answer.
      type: int
    error:
      description: Why it did not answer (refused, timed out), else null.
      type: str
    expected_status:
      description: The status O(pages) says it must answer, else null.
      type: int
listed:
  description: True when the pages are the project's own, listed by the probe; false when O(pages) named them.
  returned: success
  type: bool
found:
  description: How many pages without parameters the project has (before O(max_pages)); null when O(pages) named them.
  returned: success
  type: int
log:
  description: What the app logged while its pages were asked; null without O(log_file).
  returned: success
  type: dict
  sample: {file: /srv/mall-server/logs/app.log, exists: true, bytes: 2310, bytes_skipped: 0, lines: 12, error_lines: 1}
  contains:
    file:
      description: O(log_file).
      type: str
    exists:
      description: Whether O(log_file) exists; when not, every count is 0.
      type: bool
    bytes:
      description: The bytes read.
      type: int
    bytes_skipped:
      description: The bytes logged but not read, over O(log_max_bytes).
      type: int
    lines:
      description: The lines read; a line cut by O(log_max_bytes) is not counted.
      type: int
    error_lines:
      description: The lines read that match O(log_error_pattern).
      type: int
'''

import inspect
import os
import re
import time

from ansible.module_utils.basic import AnsibleModule
from urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.mall.cache_migration.plugins.module_utils import _url_probe
from ansible_collections.mall.cache_migration.plugins.module_utils._app_environment import mask_secret_environment
from ansible_collections.mall.cache_migration.plugins.module_utils._venv import (
    django_project_argument_spec,
    project_venv,
    run_project_probe,
    venv_python,
)

# How long the log may keep growing after the last answer, and how often its size is looked at (seconds).
LOG_SETTLE_MAX = 3.0
LOG_SETTLE_STEP = 0.3

# The keys of a page as this module returns it, and so as the pages option takes it back.
PAGE_KEYS = ('path', 'status', 'error', 'expected_status')


def named_pages(module, entries):
    """The pages of the pages option, each as {path, expected_status}."""
    pages = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {'path': entry}
        if not isinstance(entry, dict) or not isinstance(entry.get('path'), str) \
                or not isinstance(entry.get('expected_status') or 0, int) or set(entry) - set(PAGE_KEYS):
            module.fail_json(msg='Each page is a path, or a dict with path (text) and expected_status (a number): %r' % (entry,))
        pages.append({'path': entry['path'], 'expected_status': entry.get('expected_status')})
    return pages


def listed_pages(module):
    """The project's own pages without parameters, by the probe."""
    params = module.params
    python = venv_python(module, project_venv(params))
    report = run_project_probe(module, python, inspect.getsource(_url_probe), {'max_pages': params['max_pages']})
    if 'error' in report:
        module.fail_json(msg="Cannot list the pages of %s with %s: %s. Set the pages to ask instead (post_checks_urls)."
                             % (params['settings'], python, report['error']))
    return [{'path': path, 'expected_status': None} for path in report['paths']], report['found']


def ask(module, page):
    url = module.params['base_url'].rstrip('/') + page['path']
    try:
        # Redirects not followed: a page that sends visitors to a login answers that redirect.
        with open_url(url, method='GET', follow_redirects='none', timeout=module.params['timeout']) as response:
            status = response.status
    except HTTPError as exc:
        status = exc.code
    except (URLError, OSError) as exc:
        return dict(page, status=None, error=str(getattr(exc, 'reason', exc)))
    return dict(page, status=status, error=None)


def log_size(path):
    """The size of the log, or None when there is none."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return None


def settled_size(path):
    """The log's size once it stops growing: a server writes a request's access line after its answer."""
    size, deadline = log_size(path), time.monotonic() + LOG_SETTLE_MAX
    while time.monotonic() < deadline:
        time.sleep(LOG_SETTLE_STEP)
        now = log_size(path)
        if now == size:
            break
        size = now
    return size


def logged_since(module, path, start, pattern):
    """The counts of what the log gained since its size was start (None: it did not exist then)."""
    params = module.params
    end = settled_size(path)
    if end is None:
        return dict(file=path, exists=False, bytes=0, bytes_skipped=0, lines=0, error_lines=0)
    # A log shorter than it was has rotated: what was logged since is all of it.
    since = start if start is not None and start <= end else 0
    first = max(since, end - params['log_max_bytes'])
    with open(path, 'rb') as log:
        log.seek(first)
        # Cut at newlines only, as the app wrote them (str.splitlines also cuts at \f, \x1c, U+2028 ...).
        lines = log.read(end - first).decode('utf-8', errors='replace').split('\n')
    if lines[-1] == '':
        lines.pop()
    if first > since:
        lines = lines[1:]
    return dict(file=path, exists=True, bytes=end - first, bytes_skipped=first - since, lines=len(lines),
                error_lines=sum(1 for line in lines if pattern.search(line)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            django_project_argument_spec(),
            base_url=dict(type='str', required=True),
            pages=dict(type='list', elements='raw', default=[]),
            max_pages=dict(type='int', default=8),
            timeout=dict(type='int', default=30),
            log_file=dict(type='path'),
            log_error_pattern=dict(type='str', default=r'^Traceback \(most recent call last\)|\b(ERROR|CRITICAL)\b'),
            log_max_bytes=dict(type='int', default=10485760),
        ),
        supports_check_mode=True,
    )
    mask_secret_environment(module)
    try:
        error_pattern = re.compile(module.params['log_error_pattern'])
    except re.error as exc:
        module.fail_json(msg='log_error_pattern is not a regular expression: %s' % exc)
    if module.params['pages']:
        pages, found = named_pages(module, module.params['pages']), None
    else:
        pages, found = listed_pages(module)
    log_file = module.params['log_file']
    log_start = log_size(log_file) if log_file else None
    asked = [ask(module, page) for page in pages]
    module.exit_json(changed=False, pages=asked, listed=found is not None, found=found,
                     log=logged_since(module, log_file, log_start, error_pattern) if log_file else None)


if __name__ == '__main__':
    main()
