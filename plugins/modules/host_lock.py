#!/usr/bin/python
# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: host_lock
short_description: Take or release the lock that lets one run at a time change a host
version_added: 1.1.0
description:
  - The lock is a directory, O(path). Creating a directory is atomic, so of two runs one takes
    the lock and the other finds it held, and is told who holds it.
  - The lock's parent directory must belong to root and be writable by no group or other user,
    since anyone who can write there could take or fake the lock. A missing parent is created
    with mode C(0700); any other parent makes the module fail before it changes anything.
  - Taking the lock writes O(owner) into C(owner.json) inside it, mode C(0600), in the same call,
    so a lock this module takes never lacks its owner. When that write fails, the lock is let go.
  - Releasing removes the lock only when its C(owner.json) is O(owner), the record of the run that took it. A lock
    that another run holds (one that took it over, say) or that records no owner is left in place and reported.
  - A lock whose holder is gone is only taken over when asked with O(break_stale_pid). The caller
    decides that the holder is gone (the controller knows its own processes); the module moves the
    old lock away atomically, removes it, and takes the lock.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
attributes:
  check_mode:
    support: full
    details:
      - Checks the parent directory and reads a lock that is held, as a real run does, but creates,
        writes, moves and removes nothing. RV(taken) is then V(false) and RV(held) tells whether a
        real run would find the lock held (a stale lock with O(break_stale_pid) counts as free).
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Releasing a lock that is not there, or that another run holds, changes nothing. Taking the lock reports a change only
        when it creates the parent directory, since a run releases the lock before it ends.
options:
  path:
    description:
      - The lock directory.
    type: path
    required: true
  state:
    description:
      - V(present) takes the lock, V(absent) releases it (removes the directory and its C(owner.json)) when O(owner)
        holds it.
    type: str
    choices: [present, absent]
    default: present
  owner:
    description:
      - The record of the run taking the lock, written as JSON into C(owner.json).
      - With O(state=absent), the record that run wrote, exactly; the lock is released only when its C(owner.json)
        holds the same.
      - Required.
    type: dict
  break_stale_pid:
    description:
      - Take over a held lock whose C(owner.json) records this C(pid), a process the caller knows is gone.
      - A lock recording another pid (a run that took it meanwhile) is left alone and reported as held.
    type: int
seealso:
  - module: ansible.builtin.file
    description: Releasing is what C(file) with C(state=absent) does; taking has no module of its own.
'''

EXAMPLES = r'''
- name: Take the lock
  mall.cache_migration.host_lock:
    path: /run/mall-cache-migration/lock
    owner:
      controller: "{{ lookup('ansible.builtin.pipe', 'uname -n') }}"
      play: "{{ ansible_play_name }}"
  register: __lock

- name: Refuse to run beside another run
  ansible.builtin.assert:
    that: __lock.taken or ansible_check_mode and not __lock.held
    fail_msg: "{{ __lock.owner.play | default('another run') }} holds the lock"

- name: Release the lock
  mall.cache_migration.host_lock:
    path: /run/mall-cache-migration/lock
    state: absent
'''

RETURN = r'''
taken:
  description: Whether this call took the lock (never in check mode).
  returned: always
  type: bool
  sample: true
held:
  description:
    - Whether another run holds the lock, so that this one may not run.
    - With O(state=absent), whether the lock was left in place because its C(owner.json) is not O(owner).
  returned: always
  type: bool
  sample: false
owner:
  description:
    - The C(owner.json) of the run holding the lock when RV(held) (also with O(state=absent)), else of the lock
      taken over.
    - V(null) when the lock records no owner (a run taking it right now, or another tool).
  returned: always
  type: dict
  sample: {controller: ctl-1, pid: 4242, play: Migrate, started: '2026-12-02T03:00:00Z'}
broken:
  description: Whether a stale lock was taken over (O(break_stale_pid)); in check mode, whether it would be.
  returned: always
  type: bool
  sample: false
'''

import errno
import json
import os
import shutil
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

OWNER_FILE = 'owner.json'


class LockError(Exception):
    """A reason the lock cannot be used; the message ends in what to do."""


def check_parent(path, create):
    """Fail unless path's parent is a directory only root can write to; create it (0700) when
    missing. Returns whether it was (or, without create, would be) created."""
    parent = os.path.dirname(path.rstrip(os.sep)) or os.sep
    try:
        info = os.lstat(parent)
    except FileNotFoundError:
        if create:
            os.makedirs(parent, mode=0o700)
        return True
    if not stat.S_ISDIR(info.st_mode):
        problem = 'is not a directory'
    elif info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = 'belongs to uid %d with mode %04o' % (info.st_uid, stat.S_IMODE(info.st_mode))
    else:
        return False
    raise LockError('mall_lock_dir is %s, in %s, which %s: any user who can write there could take or fake '
                    'the lock. Put the lock in a directory that only root can write to (the default is '
                    '/run/mall-cache-migration/lock). Nothing was changed.' % (path, parent, problem))


def read_owner(path):
    """The record in the lock's owner.json, or None when there is none or it is no JSON object."""
    try:
        with open(os.path.join(path, OWNER_FILE), encoding='utf-8') as handle:
            owner = json.load(handle)
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def take(path, owner):
    """Create the lock and write its owner; False when another run holds it."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return False
    record = os.path.join(path, OWNER_FILE)
    try:
        descriptor = os.open(record, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, 'w', encoding='utf-8') as handle:
            json.dump(owner, handle, indent=4, sort_keys=True)
            handle.write('\n')
    except OSError as exc:
        shutil.rmtree(path, ignore_errors=True)
        raise LockError('Cannot take the lock %s: writing %s failed: %s. Nothing was changed.'
                        % (path, record, to_native(exc.strerror))) from None
    return True


def take_over(path, stale_pid):
    """Move a stale lock away (rename is atomic: of two runs doing this, one wins) and remove it.
    A lock another run took meanwhile is put back."""
    aside = '%s.stale.%d' % (path, os.getpid())
    try:
        os.rename(path, aside)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise
    if (read_owner(aside) or {}).get('pid') != stale_pid:
        os.rename(aside, path)
        return False
    shutil.rmtree(aside, ignore_errors=True)
    return True


def release(module, result):
    """Remove the lock when its owner.json is this run's record; report another holder's and keep it."""
    path = module.params['path']
    if not os.path.lexists(path):
        return
    recorded = read_owner(path)
    if recorded != module.params['owner']:
        result.update(held=True, owner=recorded)
        return
    result['changed'] = True
    if not module.check_mode:
        shutil.rmtree(path)


def lock(module, result):
    params = module.params
    path = params['path']
    if params['owner'] is None:
        raise LockError('owner is required to %s the lock %s.' % ('release' if params['state'] == 'absent' else 'take', path))
    if params['state'] == 'absent':
        release(module, result)
        return
    result['changed'] = check_parent(path, create=not module.check_mode)
    if not module.check_mode and take(path, params['owner']):
        result['taken'] = True
        return
    if not os.path.lexists(path):
        return
    result['owner'] = read_owner(path)
    stale = params['break_stale_pid'] is not None and (result['owner'] or {}).get('pid') == params['break_stale_pid']
    if stale and (module.check_mode or take_over(path, params['break_stale_pid'])):
        result['broken'] = True
        if not module.check_mode:
            result['taken'] = take(path, params['owner'])
            result['held'] = not result['taken']
            if result['held']:
                result['owner'] = read_owner(path)
        return
    result['held'] = True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            owner=dict(type='dict'),
            break_stale_pid=dict(type='int'),
        ),
        supports_check_mode=True,
    )
    result = dict(changed=False, taken=False, held=False, owner=None, broken=False)
    try:
        lock(module, result)
    except LockError as exc:
        module.fail_json(msg=str(exc), **result)
    except OSError as exc:
        module.fail_json(msg='Cannot use the lock %s: %s. Nothing was changed.'
                             % (module.params['path'], to_native(exc)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
