"""Unit tests of the compose scanner: the text plan and the data oracle agree, aliases are found."""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.mall.cache_migration.plugins.module_utils._compose_source import (
    ComposeDocument,
    ComposeError,
    expected,
    plan_removals,
    unverifiable_line,
)
from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import LineEdits

PARAMS = dict(services=['redis'], volumes=['redis-data'], environment_keys=['REDIS_URL'],
              environment_services=None, remove_depends_on=True)

COMPOSE = """\
services:
  web:
    image: mall  # the app
    environment:
      - REDIS_URL=redis://redis:6379/0
      - DB_HOST=db
    depends_on: [redis, db]
  redis:
    image: redis:7
    command: redis-server --requirepass s3cret
  db:
    image: mariadb
volumes:
  redis-data:
  db-data:
"""


def _plan(text, params=None):
    edits = LineEdits(text)
    return plan_removals(ComposeDocument(edits), params or PARAMS), edits


def test_the_text_edit_equals_the_removals_made_on_the_data():
    result, edits = _plan(COMPOSE)
    assert result['removed_services'] == ['redis']
    assert result['removed_volumes'] == ['redis-data']
    assert result['removed_environment'] == {'web': ['REDIS_URL']}
    assert result['removed_depends_on'] == {'web': ['redis']}
    assert yaml.safe_load(edits.text()) == expected(yaml.safe_load(COMPOSE), PARAMS)
    assert '    image: mall  # the app\n' in edits.text()


def test_nothing_to_remove_leaves_every_byte():
    text = COMPOSE.replace('\n', '\r\n')
    result, edits = _plan(text, dict(PARAMS, services=['absent'], volumes=[], environment_keys=[]))
    assert not edits.changed and edits.text() == text
    assert result['removed_services'] == []


@pytest.mark.parametrize('text, line', [
    (COMPOSE, None),
    ('x-env: &env\n  A: 1\nservices:\n  web:\n    environment: *env\n', 4),
    ('services:\n  web:\n    <<: *base\n', 2),
])
def test_aliases_and_merge_keys_are_found(text, line):
    assert unverifiable_line(ComposeDocument(LineEdits(text))) == line


def test_a_line_the_scanner_cannot_edit_is_refused_with_its_number():
    with pytest.raises(ComposeError, match=r'^line \d+: '):
        _plan('services:\n  redis: {image: "redis\n')
