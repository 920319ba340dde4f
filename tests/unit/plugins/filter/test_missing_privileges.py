"""Unit tests of the missing_privileges filter: which privileges SHOW GRANTS does not give on a database."""
from __future__ import annotations

import pytest

from ansible_collections.mall.cache_migration.plugins.filter.missing_privileges import missing_privileges

DUMP = ['SELECT', 'SHOW VIEW', 'TRIGGER']
USAGE = "GRANT USAGE ON *.* TO `mall`@`%` IDENTIFIED BY PASSWORD '*0123'"


@pytest.mark.parametrize('grants, missing', [
    ([USAGE, 'GRANT ALL PRIVILEGES ON `shop`.* TO `mall`@`%`'], []),
    (['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION'], []),
    ([USAGE, 'GRANT SELECT, INSERT, CREATE, INDEX, TRIGGER, LOCK TABLES ON `shop`.* TO `mall`@`%`'], ['SHOW VIEW']),
    ([USAGE, 'GRANT SELECT ON *.* TO `mall`@`%`', 'GRANT SHOW VIEW, TRIGGER ON `shop`.* TO `mall`@`%`'], []),
    # Another database, a table or a column do not give the privilege on the whole database.
    ([USAGE, 'GRANT SELECT, SHOW VIEW, TRIGGER ON `other`.* TO `mall`@`%`'], DUMP),
    ([USAGE, 'GRANT SELECT, SHOW VIEW, TRIGGER ON `shop`.`t` TO `mall`@`%`'], DUMP),
    ([USAGE, 'GRANT SELECT (`id`), SHOW VIEW, TRIGGER ON `shop`.* TO `mall`@`%`'], ['SELECT']),
    # A prefix of a name is not the name: SELECT is not SELECTX, SHOW VIEW not SHOW VIEWS.
    ([USAGE, 'GRANT SHOW DATABASES, CREATE VIEW, DELETE HISTORY ON *.* TO `mall`@`%`'], DUMP),
    (['GRANT SELECT, SHOW VIEW, TRIGGER ON shop.* TO mall@localhost'], []),
    ([USAGE, 'GRANT `app_role` TO `mall`@`%`'], DUMP),
])
def test_missing_privileges(grants, missing):
    assert missing_privileges(grants, 'shop', DUMP) == missing


def test_a_database_name_with_a_backtick_is_matched_as_mariadb_quotes_it():
    assert missing_privileges(['GRANT SELECT ON `sh``op`.* TO `mall`@`%`'], 'sh`op', ['SELECT']) == []


def test_the_rows_of_mysql_query_are_read_too():
    rows = [{'Grants for mall@%': 'GRANT SELECT, SHOW VIEW, TRIGGER ON `shop`.* TO `mall`@`%`'}]
    assert missing_privileges(rows, 'shop', DUMP) == []
