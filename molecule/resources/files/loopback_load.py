"""A bounded loopback load on mall-server, for the cutover tests (standard library only).

    loopback_load.py --port 8000 --rate 10 --max-seconds 900 --fragments fragment:0-499 \
        --stop-file /tmp/load.stop --out /tmp/load.json

Sends --rate requests per second, one after another, to 127.0.0.1 only (never another address): in turn
/api/products/, /admin/ with a session logged in at the start (the authenticated page), and
/api/fragments/<key>/ over the keys of --fragments, whose answer says whether the key was a cache hit
and which cache backend served it. Stops by itself when --stop-file appears, after --max-seconds or after
rate * max-seconds requests, whichever comes first (a request that takes longer than
1/rate delays the next one: no two run at once), or at SIGTERM, and writes a summary (JSON) to --out:
requests sent, failed (non-2xx/3xx or no answer), logged_out (the authenticated page did not answer 200),
p99 latency overall and within 10 s of the cutover, the cutover (the first fragment answered by another
backend than the first one), the hit rate of the first 100 fragment requests after it, and why it stopped
(stopped_by). While it runs it rewrites the summary every 30 s with stopped_by null, so a load killed
from outside (SIGKILL: Ansible's async time limit) still leaves its figures up to then, and says so.
"""

import argparse
import http.client
import http.cookiejar
import json
import math
import os
import re
import signal
import time
import urllib.error
import urllib.parse
import urllib.request

HOST = '127.0.0.1'
AFTER_CUTOVER = 100
CUTOVER_WINDOW = 10.0
SUMMARY_EVERY = 30.0


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def opener_with_cookies():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect), jar


def fetch(opener, url, data=None, headers=None):
    """(status, body, seconds); status 0 when nothing answered."""
    started = time.monotonic()
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode('utf-8', 'replace'), time.monotonic() - started
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode('utf-8', 'replace'), time.monotonic() - started
    except (OSError, http.client.HTTPException):
        return 0, '', time.monotonic() - started


def log_in(opener, jar, base, username, password):
    status, body, dummy = fetch(opener, base + '/admin/login/')
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not token:
        raise SystemExit('cannot read the login form (status %d)' % status)
    form = urllib.parse.urlencode({'csrfmiddlewaretoken': token.group(1), 'username': username,
                                   'password': password, 'next': '/admin/'}).encode()
    status, dummy, dummy = fetch(opener, base + '/admin/login/', data=form,
                                 headers={'Referer': base + '/admin/login/'})
    if status != 302 or not any(cookie.name == 'sessionid' for cookie in jar):
        raise SystemExit('login failed (status %d)' % status)


def fragment_keys(spec):
    prefix, dummy, span = spec.rpartition(':')
    first, dummy, last = span.partition('-')
    return ['%s:%d' % (prefix, number) for number in range(int(first), int(last) + 1)]


def percentile(values, pct):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(math.ceil(pct / 100.0 * len(ordered))) - 1)] * 1000, 1)


def summarise(samples, started_at, stopped_by):
    fragments = [s for s in samples if s['kind'] == 'fragment' and s.get('backend')]
    cutover = next((s for s in fragments if s['backend'] != fragments[0]['backend']), None) if fragments else None
    summary = {
        'started_at': started_at,
        'stopped_by': stopped_by,
        'seconds': round(samples[-1]['t'], 1) if samples else 0,
        'sent': len(samples),
        'failed': sum(1 for s in samples if not s['ok']),
        'failures': [s for s in samples if not s['ok']][:20],
        'authenticated': sum(1 for s in samples if s['kind'] == 'admin'),
        'logged_out': sum(1 for s in samples if s['kind'] == 'admin' and s['status'] != 200),
        'p99_ms': percentile([s['latency'] for s in samples], 99),
        'max_ms': percentile([s['latency'] for s in samples], 100),
        'backends': sorted({s['backend'] for s in fragments}),
        'cutover': None,
    }
    if cutover is not None:
        after = [s for s in fragments if s['t'] >= cutover['t']][:AFTER_CUTOVER]
        window = [s['latency'] for s in samples if abs(s['t'] - cutover['t']) <= CUTOVER_WINDOW]
        summary['cutover'] = {
            'at_second': round(cutover['t'], 1),
            'from': fragments[0]['backend'],
            'to': cutover['backend'],
            'p99_ms_within_10s': percentile(window, 99),
            'requests_within_10s': len(window),
            'fragments_after': len(after),
            'hits_after': sum(1 for s in after if s['hit']),
            'hit_rate_after': round(sum(1 for s in after if s['hit']) / float(len(after)), 4) if after else None,
        }
    return summary


def write_summary(path, summary):
    """Replace the summary at path in one step: a reader sees the old one or the new one."""
    with open(path + '.tmp', 'w') as handle:
        json.dump(summary, handle, indent=1)
    os.rename(path + '.tmp', path)


def stop_reason(args, started, terminated):
    """Why the load stops now, or None while it goes on."""
    if os.path.exists(args.stop_file):
        return 'stop_file'
    # Wall time, not the schedule: a slow app must not stretch the run past its bound.
    if time.monotonic() - started > args.max_seconds:
        return 'max_seconds'
    return 'sigterm' if terminated else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--rate', type=float, default=10)
    parser.add_argument('--max-seconds', type=float, default=900)
    parser.add_argument('--fragments', required=True)
    parser.add_argument('--username', default='admin')
    parser.add_argument('--password', default='admin')
    parser.add_argument('--stop-file', required=True)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    base = 'http://%s:%d' % (HOST, args.port)
    opener, jar = opener_with_cookies()
    log_in(opener, jar, base, args.username, args.password)
    keys = fragment_keys(args.fragments)
    max_requests = int(args.rate * args.max_seconds)
    samples = []
    started_at = time.time()
    started = time.monotonic()
    written = started
    terminated = []
    signal.signal(signal.SIGTERM, lambda signum, frame: terminated.append(signum))
    stopped_by = 'max_requests'
    for number in range(max_requests):
        due = started + number / args.rate
        reason = stop_reason(args, started, terminated)
        if reason:
            stopped_by = reason
            break
        if time.monotonic() - written >= SUMMARY_EVERY:
            write_summary(args.out, summarise(samples, started_at, None))
            written = time.monotonic()
        time.sleep(max(0.0, due - time.monotonic()))
        kind = ('products', 'admin', 'fragment')[number % 3]
        path = {'products': '/api/products/', 'admin': '/admin/',
                'fragment': '/api/fragments/%s/' % (keys[(number // 3) % len(keys)] if keys else '')}[kind]
        status, body, latency = fetch(opener, base + path)
        sample = {'t': round(time.monotonic() - started, 3), 'kind': kind, 'status': status,
                  'ok': 200 <= status < 400, 'latency': latency}
        if kind == 'fragment' and status == 200:
            answer = json.loads(body)
            sample.update(hit=answer['hit'], backend=answer['backend'])
        samples.append(sample)
    write_summary(args.out, summarise(samples, started_at, stopped_by))


if __name__ == '__main__':
    main()
