"""Nothing reads a mysql_query result by position (issue 22): a task whose mysql_query runs several statements reads
each answer by its column's name (the query_column filter), never `query_result[N]`, which breaks silently when a
statement is added or moved. `query_result[0]`, the rows of a task's only statement, is no position."""
from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[3]
# Still read by position, in files other work of issue 22 rewrites (the fleet registry module): none may be added.
NOT_YET = {
    'roles/mall/tasks/fleet_lock_failed.yml',
    'roles/restore_point/tasks/database.yml',
    'roles/restore_point/tasks/redis.yml',
    'roles/rollback/tasks/fleet.yml',
    'roles/rollback/tasks/main.yml',
}
BY_POSITION = re.compile(r'query_result\s*\[\s*[1-9]')


def files_reading_by_position():
    return {str(path.relative_to(ROOT)) for top in ('roles', 'playbooks') for path in (ROOT / top).rglob('*.yml')
            if BY_POSITION.search(path.read_text())}


def test_no_task_file_reads_a_query_result_by_position():
    assert files_reading_by_position() - NOT_YET == set()
