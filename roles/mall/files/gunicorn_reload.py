# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reload a gunicorn master gracefully: SIGHUP, then wait until every old worker is gone and new ones run.

    gunicorn_reload.py PIDFILE TIMEOUT

On HUP gunicorn starts new workers (which import the app, so the new settings)
and stops the old ones gracefully; the listening socket stays open in the
master, so a request that arrives meanwhile waits instead of failing.
Prints one JSON line. Exit 0: reloaded; 3: no live gunicorn master at PIDFILE
(the caller restarts instead); 1: the workers did not come back in time.
"""

import json
import os
import signal
import sys
import time


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return ''


def workers(master):
    """Pids of the live processes whose parent is master (zombies have an empty command line)."""
    found = set()
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master and fields[0] != 'Z' and cmdline(int(entry)):
            found.add(int(entry))
    return found


def main(pidfile, timeout):
    report = {'pidfile': pidfile}
    try:
        with open(pidfile) as handle:
            master = int(handle.read().strip())
    except (OSError, ValueError) as exc:
        report['reason'] = 'no pid in %s (%s)' % (pidfile, exc)
        return 3, report
    if 'gunicorn' not in cmdline(master):
        report['reason'] = 'pid %d of %s is not a running gunicorn' % (master, pidfile)
        return 3, report
    old = workers(master)
    report.update(master=master, old_workers=sorted(old))
    os.kill(master, signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = workers(master)
        if now and not now & old:
            report.update(new_workers=sorted(now), reason='gunicorn HUP: %d old workers replaced by %d new' % (
                len(old), len(now)))
            return 0, report
        if 'gunicorn' not in cmdline(master):
            report['reason'] = 'the gunicorn master %d exited after HUP (a worker failed to boot?)' % master
            return 1, report
        time.sleep(0.2)
    report['reason'] = 'old workers still running %ds after HUP' % timeout
    return 1, report


if __name__ == '__main__':
    code, result = main(sys.argv[1], int(sys.argv[2]))
    print(json.dumps(result))
    sys.exit(code)
