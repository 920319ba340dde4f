"""Unit tests of the query_column filter: an answer of a mysql_query result is read by its column's name."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mall.cache_migration.plugins.filter import query_column

# The shape of community.mysql.mysql_query's result: one list of rows per statement.
CLAIM = {'query_result': [[{'got': 1}], [], [{'still_used_by': 'app2'}, {'still_used_by': 'app3'}], [], [],
                          [{'claimed': 0}], [{'released': 1}]]}


@pytest.mark.parametrize('column, values', [('still_used_by', ['app2', 'app3']), ('claimed', [0]), ('got', [1])])
def test_a_column_is_read_by_its_name_whichever_statement_answered_it(column, values):
    assert query_column.query_column(CLAIM, column) == values
    assert query_column.FilterModule().filters()['query_column'](CLAIM, column) == values


def test_a_statement_that_found_no_rows_gives_no_values():
    assert query_column.query_column({'query_result': [[{'got': 1}], []]}, 'still_used_by') == []


def test_a_column_that_two_statements_answer_is_refused():
    with pytest.raises(AnsibleFilterError, match="column 'n' is answered by statements 1 and 2"):
        query_column.query_column({'query_result': [[{'n': 1}], [{'n': 0}]]}, 'n')


@pytest.mark.parametrize('result', [{}, {'skipped': True}, None])
def test_a_result_without_query_result_is_refused(result):
    with pytest.raises(AnsibleFilterError, match='takes the result of community.mysql.mysql_query'):
        query_column.query_column(result, 'claimed')
