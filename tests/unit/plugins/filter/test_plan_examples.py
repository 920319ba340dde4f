"""docs/plan.md shows the pages of the scenarios' plans (tests/fixtures/plans/<scenario>.json, which each scenario
checks its own plan against) as plan_page renders them now. MALL_WRITE_DOCS=1 rewrites them."""
from __future__ import annotations

import json
import os
import pathlib

from ansible_collections.mall.cache_migration.plugins.filter.plan_page import plan_page

ROOT = pathlib.Path(__file__).resolve().parents[4]
DOC = ROOT / 'docs' / 'plan.md'
FIXTURES = ROOT / 'tests' / 'fixtures' / 'plans'
START, END = '<!-- plan-example: %s -->\n', '<!-- end plan-example -->\n'


def with_examples(text):
    for fixture in sorted(FIXTURES.glob('*.json')):
        start = START % fixture.stem
        head, found, rest = text.partition(start)
        assert found, 'docs/plan.md has no %r' % start
        dummy, found, tail = rest.partition(END)
        assert found, 'docs/plan.md does not close %r' % start
        page = plan_page(json.loads(fixture.read_text()))
        text = head + start + '```text\n' + page + '```\n' + END + tail
    return text


def test_the_example_pages_are_current():
    text = DOC.read_text()
    if os.environ.get('MALL_WRITE_DOCS'):
        DOC.write_text(with_examples(text))
    assert DOC.read_text() == with_examples(text), 'docs/plan.md is stale: MALL_WRITE_DOCS=1 pytest ' + __file__
