"""playbook_run: what a run of ansible-playbook did, read from its JSON callback's document.

tasks/run_playbook.yml runs the collection's playbooks with ANSIBLE_STDOUT_CALLBACK=ansible.posix.json;
the scenarios assert on this summary (which task failed on which host, the recap's counts, a task's own
result) instead of searching the text of the output.
"""
import json
import pathlib


def where(path):
    """{role, file} of a task's path (`/.../roles/<role>/tasks/<file>:<line>`)."""
    parts = pathlib.PurePath(path.rpartition(':')[0] or path).parts
    if 'roles' in parts and parts.index('roles') + 2 < len(parts) and parts[parts.index('roles') + 2] == 'tasks':
        at = parts.index('roles')
        return {'role': parts[at + 1], 'file': '/'.join(parts[at + 3:])}
    return {'role': '', 'file': parts[-1] if parts else ''}


def playbook_run(run):
    """run: the registered result of the ansible-playbook command. Returns
    {rc, parsed, stats: {host: recap counts},
     hosts: {host: {failed: [{task, role, file, action, result}], results: {task name: last result},
                    roles: [roles whose tasks ran on the host, in order]}}}.
    `failed` lists the failures in order, rescued ones included (the collection ignores no errors):
    the first is the cause. `role` and `file` say where the failed task is: the role and its tasks file,
    or '' and the playbook's file. `parsed` is false when the output was not the JSON document (the
    playbook did not load); the rest is then empty."""
    try:
        document = json.loads(run.get('stdout') or '')
    except ValueError:
        document = None
    summary = {'rc': run.get('rc'), 'parsed': isinstance(document, dict), 'stats': {}, 'hosts': {}}
    if not summary['parsed']:
        return summary
    summary['stats'] = document.get('stats', {})
    for play in document.get('plays', []):
        for task in play.get('tasks', []):
            name, path = task['task']['name'], task['task'].get('path', '')
            for host, result in task.get('hosts', {}).items():
                record = summary['hosts'].setdefault(host, {'failed': [], 'results': {}, 'roles': []})
                record['results'][name] = result
                role = where(path)['role']
                if role and role not in record['roles'] and not result.get('skipped'):
                    record['roles'].append(role)
                if result.get('failed'):
                    record['failed'].append(dict(where(path), task=name, action=result.get('action'),
                                                 result=result))
    return summary


def task_result(host, summary, name):
    """The last result on host of the task named `name`, or whose name starts with it (for a name with a
    variable in it, up to the variable); {} when no such task ran there. `host` comes first, so that
    `hosts | map('task_result', outcome, name)` reads the task's result on each."""
    results = summary['hosts'].get(host, {}).get('results', {})
    return next((results[task] for task in reversed(list(results)) if task == name or task.startswith(name)), {})


class FilterModule:
    def filters(self):
        return {'playbook_run': playbook_run, 'task_result': task_result}
