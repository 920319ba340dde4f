"""Job templates as code (playbooks/awx_job_templates.yml), checked offline: no AWX runs here.

The surveys are generated from the roles' argument specs by the filter
mall.cache_migration.survey_spec; these tests check what it generates against the specs read
independently, that no secret is ever a question, and that every awx.awx task uses only
options its module documents (ansible-doc), with values among the documented choices.
"""
import json
import pathlib
import re
import subprocess

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.mall.cache_migration.plugins.filter import survey_spec as survey

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLAYBOOK = ROOT / "playbooks" / "awx_job_templates.yml"
# AWX question types a role option of each argument spec type may become.
TYPES = {"str": {"text"}, "path": {"text"}, "int": {"integer"}, "float": {"float"}}


def load_play():
    # As ansible-playbook loads a playbook: its strings are templates, except those tagged !unsafe.
    return DataLoader().load_from_file(str(PLAYBOOK), trusted_as_template=True)[0]


def spec_options():
    options = {}
    for spec_file in ROOT.glob("roles/*/meta/argument_specs.yml"):
        main = survey.load_yaml(spec_file)["argument_specs"]["main"]
        options.update(main.get("options") or {})
    return options


PLAY = load_play()
TEMPLATES = PLAY["vars"]["awx_job_templates"]
OPTIONS = spec_options()


def generated(template):
    return survey.survey_spec(template["survey"], name=template["name"], required=template["required"])


def test_the_four_job_templates_are_defined():
    assert [t["name"] for t in TEMPLATES] == ["migrate", "verify", "rollback", "maintain"]
    for template in TEMPLATES:
        assert (ROOT / template["playbook"]).is_file(), template["playbook"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t["name"])
def test_each_question_is_a_role_option_with_its_type_and_choices(template):
    spec = generated(template)
    assert [q["variable"] for q in spec["spec"]] == template["survey"]
    for question in spec["spec"]:
        option = OPTIONS.get(question["variable"])
        assert option is not None, f"{question['variable']} is in no argument spec"
        kind = option.get("type", "str")
        if option.get("choices"):
            assert question["type"] == "multiplechoice"
            assert question["choices"] == [str(c) for c in option["choices"]]
            assert question.get("default", option["choices"][0]) in question["choices"]
        else:
            assert question["type"] in TYPES[kind], f"{question['variable']}: {kind} asked as {question['type']}"
            assert "choices" not in question
        if "default" in question and question["type"] in ("integer", "float"):
            assert isinstance(question["default"], (int, float))
        assert question["required"] == (question["variable"] in template["required"])


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t["name"])
def test_no_secret_is_a_survey_question(template):
    for question in generated(template)["spec"]:
        option = OPTIONS[question["variable"]]
        assert not option.get("no_log")
        assert not re.search(r"password|secret|token", question["variable"], re.I)
        assert question["type"] != "password"


@pytest.mark.parametrize("name", ["mall_db_password", "mall_redis_password"])
def test_the_generator_refuses_a_secret(name):
    with pytest.raises(AnsibleFilterError, match="secret"):
        survey.survey_spec([name])


def test_the_generator_refuses_a_no_log_option(tmp_path):
    meta = tmp_path / "demo" / "meta"
    meta.mkdir(parents=True)
    (meta / "argument_specs.yml").write_text(
        "argument_specs: {main: {options: {demo_api_key: {type: str, no_log: true}}}}\n")
    with pytest.raises(AnsibleFilterError, match="secret"):
        survey.survey_spec(["demo_api_key"], roles_dir=tmp_path)


@pytest.mark.parametrize("name", ["rollback_restore_database", "env_cleanup_keys", "preflight_redis_use_extra_modules"])
def test_the_generator_refuses_what_a_survey_cannot_answer(name):
    with pytest.raises(AnsibleFilterError, match="extra variables"):
        survey.survey_spec([name])


def test_the_generator_refuses_an_unknown_variable():
    with pytest.raises(AnsibleFilterError, match="verify_no_such_option"):
        survey.survey_spec(["verify_expected_backend", "verify_no_such_option"])


def test_defaults_come_from_the_roles():
    questions = {q["variable"]: q for q in survey.survey_spec(
        ["verify_expected_backend", "verify_operations", "verify_max_set_p50_ms", "rollback_restore_point"])["spec"]}
    assert questions["verify_expected_backend"]["default"] == "any"
    assert questions["verify_operations"]["default"] == 100
    # null and empty defaults give no default: an unanswered question leaves the role's.
    assert "default" not in questions["verify_max_set_p50_ms"]
    assert "default" not in questions["rollback_restore_point"]


def test_the_secrets_reach_the_job_as_extra_vars_of_a_credential():
    tasks = {t["name"]: t for t in PLAY["tasks"]}
    credential_type = next(t["awx.awx.credential_type"] for t in tasks.values() if "awx.awx.credential_type" in t)
    fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
    assert set(fields) == {"mall_db_password", "mall_redis_password"}
    assert all(f["secret"] for f in fields.values())
    injected = credential_type["injectors"]["extra_vars"]
    assert set(injected) == set(fields)
    # AWX renders the injectors, so Ansible must pass them on as they are written,
    # while it does render the play's own templates.
    templar = Templar(loader=DataLoader(), variables={**PLAY["vars"], "mall_db_password": "rendered"})
    assert templar.template(injected["mall_db_password"]) == "{{ mall_db_password }}"
    assert all("{{" in templar.template(v) for v in injected.values())
    assert templar.template(credential_type["name"]) == "mall.cache_migration secrets"
    credential = next(t for t in tasks.values() if "awx.awx.credential" in t)
    assert credential["no_log"] is True
    asked = {q for t in TEMPLATES for q in t["survey"]}
    assert not asked & set(fields)


def awx_tasks():
    """(module, arguments) of each task; every task of the play is an awx.awx module."""
    tasks = []
    for task in PLAY["tasks"]:
        modules = [k for k in task if k.startswith("awx.awx.")]
        assert len(modules) == 1, task["name"]
        tasks.append((modules[0], task[modules[0]]))
    return tasks


@pytest.fixture(scope="module")
def awx_docs():
    modules = sorted({module for module, _args in awx_tasks()})
    out = subprocess.run(["ansible-doc", "-t", "module", "--json", *modules],
                         capture_output=True, text=True, check=True).stdout
    return {m: d["doc"]["options"] for m, d in json.loads(out).items()}


def test_awx_tasks_use_documented_options_and_choices(awx_docs):
    module_defaults = PLAY["module_defaults"]["group/awx.awx.controller"]
    for module, args in awx_tasks():
        options = awx_docs[module]
        for key, value in {**args, **module_defaults}.items():
            assert key in options, f"{module} has no option {key}"
            choices = options[key].get("choices")
            if choices and isinstance(value, str) and "{{" not in value:
                assert value in choices, f"{module} {key}={value}: not in {choices}"


def test_playbook_syntax_check():
    subprocess.run(["ansible-playbook", "--syntax-check", str(PLAYBOOK)], cwd=ROOT, check=True,
                   capture_output=True)
