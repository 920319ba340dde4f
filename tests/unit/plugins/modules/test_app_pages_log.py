"""app_pages counts the error lines that the app logs while its pages are asked (plugins/modules/app_pages.py, log_file):
a real HTTP server that, like an app, appends to its log file as it answers."""
from __future__ import annotations

import http.server
import threading

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import app_pages

TRACEBACK = ['ERROR 2026-12-07 django.request Internal Server Error: /healthz', 'Traceback (most recent call last):',
             '  File "/srv/shop/views.py", line 3, in healthz', 'TypeError: unexpected keyword argument']


@pytest.fixture
def app(tmp_path):
    """(log lines each path appends when asked, the log file, the base URL)."""
    logged = {}
    log_file = tmp_path / 'app.log'

    def append_late():
        with open(log_file, 'a', encoding='utf-8') as log:
            log.write('ERROR "GET /late" logged after its answer\n')

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            lines = logged.get(self.path, [])
            # /rotate: the log is moved away (logrotate's copytruncate) before this request is logged.
            with open(log_file, 'w' if self.path == '/rotate' else 'a', encoding='utf-8') as log:
                log.writelines(line + '\n' for line in ['INFO "GET %s"' % self.path] + lines)
            self.send_response(500 if lines else 200)
            self.end_headers()
            if self.path == '/late':
                # As gunicorn's access log: the request's line comes after its answer.
                threading.Timer(0.1, append_late).start()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield logged, log_file, 'http://127.0.0.1:%d' % httpd.server_port
    httpd.shutdown()


def ask(run_module, base_url, **options):
    return run_module(app_pages.main, dict({'project_dir': '/nonexistent', 'settings': 'shop.settings', 'base_url': base_url,
                                            'pages': ['/healthz', '/shop/']}, **options), check_mode=True)


def test_only_the_error_lines_logged_while_the_pages_are_asked_count(run_module, app):
    logged, log_file, base_url = app
    log_file.write_text('ERROR an error of yesterday\n' * 3)
    logged['/healthz'] = TRACEBACK
    result = ask(run_module, base_url, log_file=str(log_file))
    assert [page['status'] for page in result['pages']] == [500, 200]
    assert result['log'] == {'file': str(log_file), 'exists': True, 'bytes': len(log_file.read_bytes()) - 3 * 28,
                             'bytes_skipped': 0, 'lines': 6, 'error_lines': 2}


def test_a_log_rotated_while_the_pages_are_asked_is_read_from_its_new_start(run_module, app):
    logged, log_file, base_url = app
    log_file.write_text('ERROR an error of yesterday\n' * 1000)
    logged['/healthz'] = TRACEBACK
    result = ask(run_module, base_url, log_file=str(log_file), pages=['/rotate', '/healthz'])
    assert (result['log']['lines'], result['log']['error_lines']) == (6, 2)


def test_only_the_last_log_max_bytes_are_read_without_the_line_they_cut(run_module, app):
    logged, log_file, base_url = app
    logged['/shop/'] = ['ERROR ' + 'x' * 200] * 10
    result = ask(run_module, base_url, log_file=str(log_file), log_max_bytes=500)
    assert result['log']['bytes'] == 500 and result['log']['bytes_skipped'] == len(log_file.read_bytes()) - 500
    assert result['log']['lines'] == result['log']['error_lines'] == 2


def test_odd_characters_in_a_line_do_not_cut_it(run_module, app):
    logged, log_file, base_url = app
    logged['/healthz'] = ['ERROR form\x0cfeed \u2028 and \x1c separators']
    result = ask(run_module, base_url, log_file=str(log_file))
    assert (result['log']['lines'], result['log']['error_lines']) == (3, 1)


def test_a_missing_log_counts_nothing_and_says_so(run_module, app):
    dummy, log_file, base_url = app
    result = ask(run_module, base_url, log_file=str(log_file.parent / 'none.log'))
    assert result['log'] == {'file': str(log_file.parent / 'none.log'), 'exists': False, 'bytes': 0, 'bytes_skipped': 0,
                             'lines': 0, 'error_lines': 0}
    assert ask(run_module, base_url)['log'] is None


def test_a_bad_error_pattern_fails_before_any_page_is_asked(run_module, app):
    dummy, log_file, base_url = app
    result = ask(run_module, base_url, log_file=str(log_file), log_error_pattern='(')
    assert result['failed'] is True and 'log_error_pattern' in result['msg']
    assert not log_file.exists()


def test_a_line_logged_after_the_last_answer_still_counts(run_module, app):
    dummy, log_file, base_url = app
    result = ask(run_module, base_url, log_file=str(log_file), pages=['/late'])
    assert (result['log']['lines'], result['log']['error_lines']) == (2, 1)
