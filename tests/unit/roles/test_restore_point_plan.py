"""The plan a restore point keeps (roles/restore_point/vars/main.yml, part `plan`, written as plan.json): the plan the
run applies. With a saved plan (mall_plan: a file, or the AWX artifact of the plan job) that is the saved plan, which
the plan role sets as plan_applied once it matched the host; without one, the plan the run just computed."""
from __future__ import annotations

import json
import pathlib

import yaml

from ansible.template import Templar, trust_as_template

VARS = pathlib.Path(__file__).resolve().parents[3] / 'roles' / 'restore_point' / 'vars' / 'main.yml'
EXPRESSION = yaml.safe_load(VARS.read_text())['__restore_point_parts']['plan']
COMPUTED = {'schema_version': 1, 'host': 'mall-app', 'created': '2026-12-08T01:00:00Z', 'steps': {}, 'cost': {'keys': 7}}
# Planned earlier (check mode), approved, then applied: its time and observed figures differ from the run's own.
SAVED = dict(COMPUTED, created='2026-12-08T00:30:00Z', cost={'keys': 5})


def kept(**variables):
    return json.loads(Templar(loader=None, variables=variables).template(trust_as_template(EXPRESSION)))


def test_a_run_that_applies_a_saved_plan_keeps_the_saved_plan():
    assert kept(mall_migration_plan=COMPUTED, plan_applied=SAVED) == SAVED


def test_a_run_without_a_saved_plan_keeps_the_plan_it_computed():
    assert kept(mall_migration_plan=COMPUTED) == COMPUTED
