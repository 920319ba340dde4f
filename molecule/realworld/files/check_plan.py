"""Checks each file of a settings plan against its original in the restore point.

    check_plan.py <restore point>

The plan (<restore point>/settings-plan.json) names line ranges of the original
files. Every top-level statement outside those ranges must still be in the file,
unchanged (same ast.dump, in the same order), and every byte outside those
ranges must be identical. Prints one JSON report; exits 1 on any difference.
"""
import ast
import json
import sys


def outside_runs(lines, ranges):
    """The runs of original lines outside the planned ranges (1-based, inclusive), as bytes."""
    planned = {number for start, end in ranges for number in range(start, end + 1)}
    runs, run = [], []
    for number, line in enumerate(lines, 1):
        if number in planned:
            if run or not runs:
                runs.append(b''.join(run))
            run = []
        else:
            run.append(line)
    runs.append(b''.join(run))
    return runs


def bytes_outside_identical(original, current, ranges):
    runs = outside_runs(original.splitlines(keepends=True), ranges)
    if len(runs) == 1:
        return original == current
    if not current.startswith(runs[0]):
        return False
    position = len(runs[0])
    for run in runs[1:-1]:
        found = current.find(run, position)
        if found < 0:
            return False
        position = found + len(run)
    return current.endswith(runs[-1]) and len(current) - len(runs[-1]) >= position


def unplanned_statements(tree, ranges):
    return [node for node in tree.body
            if not any(node.lineno <= end and node.end_lineno >= start for start, end in ranges)]


def is_subsequence(wanted, available):
    remaining = iter(available)
    return all(any(item == candidate for candidate in remaining) for item in wanted)


def check_file(restore_point, path, ranges):
    with open(restore_point + '/files' + path, 'rb') as handle:
        original = handle.read()
    with open(path, 'rb') as handle:
        current = handle.read()
    report = {'file': path, 'planned_ranges': sorted(ranges), 'problems': []}
    try:
        current_dumps = [ast.dump(node) for node in ast.parse(current, path).body]
    except SyntaxError as exc:
        report['problems'].append('does not parse any more: %s' % exc)
        return report
    kept = unplanned_statements(ast.parse(original, path), ranges)
    report['unplanned_statements'] = len(kept)
    if not is_subsequence([ast.dump(node) for node in kept], current_dumps):
        missing = [node.lineno for node in kept if ast.dump(node) not in current_dumps]
        report['problems'].append('top-level statements outside the plan changed or gone (original lines %s)' % missing)
    if not bytes_outside_identical(original, current, ranges):
        report['problems'].append('bytes outside the planned line ranges differ')
    report['changed'] = original != current
    return report


def main():
    restore_point = sys.argv[1]
    with open(restore_point + '/settings-plan.json') as handle:
        plan = json.load(handle)
    ranges = {path: [] for path in plan['files']}
    for entry in plan['plan']:
        ranges.setdefault(entry['file'], []).append((entry['start'], entry['end']))
    reports = [check_file(restore_point, path, file_ranges) for path, file_ranges in sorted(ranges.items())]
    print(json.dumps({'files': reports, 'entries': len(plan['plan'])}))
    sys.exit(1 if any(report['problems'] for report in reports) else 0)


if __name__ == '__main__':
    main()
