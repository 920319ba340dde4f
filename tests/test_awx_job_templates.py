"""Job templates as code (playbooks/awx_job_templates.yml), checked offline: no AWX runs here.

The surveys are generated from the roles' argument specs by the filter
mall.cache_migration.survey_spec; these tests check what it generates against the specs read
independently, that no secret is ever a question, that every awx.awx task uses only
options its module documents (ansible-doc), with values among the documented choices, and that
the workflow "migrate with approval" runs the plan job (migrate.yml in check mode), an approval,
then the migrate job, in that order.
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


def render(value, **variables):
    """A value of the play as ansible-playbook renders it, with the play's vars and these."""
    return Templar(loader=DataLoader(), variables={**PLAY["vars"], **variables}).template(value)


def test_the_job_templates_are_defined():
    assert [t["name"] for t in TEMPLATES] == ["plan", "migrate", "verify", "rollback", "maintain"]
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


def awx_tasks(tasks=None, defaults=None):
    """(name, module, arguments with the module defaults that apply) of each task, blocks included, in
    the play's order; every task of the play is an awx.awx module."""
    tasks = PLAY["tasks"] if tasks is None else tasks
    defaults = PLAY["module_defaults"] if defaults is None else defaults
    found = []
    for task in tasks:
        scope = {**defaults, **task.get("module_defaults", {})}
        if "block" in task:
            found += awx_tasks(task["block"], scope)
            continue
        modules = [k for k in task if k.startswith("awx.awx.")]
        assert len(modules) == 1, task["name"]
        module = modules[0]
        args = {**scope["group/awx.awx.controller"], **scope.get(module, {}), **task[module]}
        found.append((task["name"], module, args, task.get("vars", {})))
    return found


@pytest.fixture(scope="module")
def awx_docs():
    modules = sorted({module for _name, module, _args, _vars in awx_tasks()})
    out = subprocess.run(["ansible-doc", "-t", "module", "--json", *modules],
                         capture_output=True, text=True, check=True).stdout
    return {m: d["doc"]["options"] for m, d in json.loads(out).items()}


def undocumented(options, args, where):
    """What of args the documented options do not allow: an unknown option, a value out of its
    choices, a required option missing; dict options are checked against their suboptions."""
    errors = [f"{where}: no option {key}" for key in args if key not in options]
    errors += [f"{where}: {key} is required" for key, option in options.items()
               if option.get("required") and key not in args]
    for key, value in args.items():
        option = options.get(key, {})
        choices = option.get("choices")
        if choices and isinstance(value, str) and "{{" not in value and value not in choices:
            errors.append(f"{where}: {key}={value} not in {choices}")
        if option.get("suboptions") and isinstance(value, dict):
            errors += undocumented(option["suboptions"], value, f"{where} {key}")
    return errors


def test_awx_tasks_use_documented_options_and_choices(awx_docs):
    for name, module, args, _vars in awx_tasks():
        assert not undocumented(awx_docs[module], args, f"{name} ({module})")


def test_the_option_check_finds_what_a_module_does_not_document(awx_docs):
    node = awx_docs["awx.awx.workflow_job_template_node"]
    assert undocumented(node, {"identifier": "a", "workflow_job_template": "w", "job_type": "dry"}, "n") == [
        "n: job_type=dry not in ['run', 'check']"]
    assert undocumented(node, {"identifier": "a", "workflow_job_template": "w",
                               "approval_node": {"timeout": 5, "expires": 1}}, "n") == [
        "n approval_node: no option expires", "n approval_node: name is required"]


def workflow():
    """The workflow task and its node tasks, rendered as ansible-playbook renders them."""
    tasks = [(module, args, task_vars) for _name, module, args, task_vars in awx_tasks()
             if module.startswith("awx.awx.workflow_job_template")]
    (module, wfjt, task_vars), *nodes = tasks
    assert module == "awx.awx.workflow_job_template"
    keep = ("name", "organization", "ask_limit_on_launch", "survey_enabled")
    rendered = {key: render(wfjt[key]) for key in keep}
    rendered["survey_questions"] = render(task_vars["migrate"])["survey"]
    return rendered, [{key: render(value) for key, value in args.items() if not key.startswith("controller_")}
                      for module, args, _vars in nodes]


def job_templates():
    """Each job template as the job_template task creates it, by its name in AWX."""
    task = next(args for _name, module, args, _vars in awx_tasks() if module == "awx.awx.job_template")
    keep = ("name", "playbook", "job_type", "diff_mode", "ask_limit_on_launch", "job_slice_count")
    return {created["name"]: created for created in
            ({key: render(task[key], item=template) for key in keep} for template in TEMPLATES)}


def test_the_workflow_runs_plan_then_approval_then_apply():
    wfjt, nodes = workflow()
    assert wfjt["name"] == "mall.cache_migration migrate with approval"
    by_id = {node["identifier"]: node for node in nodes}
    assert len(by_id) == len(nodes) == 3
    for node in nodes:
        assert node["workflow_job_template"] == wfjt["name"]
        assert node["organization"] == wfjt["organization"]
        assert not node.get("failure_nodes") and not node.get("always_nodes"), node["identifier"]
    links = {node["identifier"]: node.get("success_nodes", []) for node in nodes}
    assert links == {"plan": ["approve"], "approve": ["apply"], "apply": []}
    # The module links to nodes that exist: each node is created after the nodes it leads to.
    order = [node["identifier"] for node in nodes]
    for source, targets in links.items():
        assert all(order.index(target) < order.index(source) for target in targets)
    assert "unified_job_template" not in by_id["approve"]
    assert by_id["approve"]["approval_node"]["name"] == "mall.cache_migration approve the plan"


def test_the_plan_node_is_migrate_in_check_mode_and_the_apply_node_migrate_in_run_mode():
    _wfjt, nodes = workflow()
    by_id = {node["identifier"]: node for node in nodes}
    created = job_templates()
    plan = created[by_id["plan"]["unified_job_template"]]
    apply = created[by_id["apply"]["unified_job_template"]]
    assert plan["playbook"] == apply["playbook"] == "playbooks/migrate.yml"
    assert (plan["job_type"], plan["diff_mode"]) == ("check", True)
    assert apply["job_type"] == "run"
    # Set by the templates, not prompted: a workflow node's job type applies only when prompted.
    assert not any("job_type" in node for node in nodes)
    assert plan["job_slice_count"] == apply["job_slice_count"] == 1
    assert {t["name"]: t["job_type"] for t in created.values()} == {
        f"mall.cache_migration {name}": "check" if name == "plan" else "run"
        for name in ("plan", "migrate", "verify", "rollback", "maintain")}


def test_the_plan_and_the_apply_are_asked_the_same_questions_once():
    wfjt, _nodes = workflow()
    templates = {t["name"]: t for t in TEMPLATES}
    assert wfjt["survey_enabled"] is True
    assert wfjt["survey_questions"] == templates["migrate"]["survey"] == templates["plan"]["survey"]
    assert templates["plan"]["extra_vars"] == templates["migrate"]["extra_vars"]
    # The limit given to the workflow reaches both jobs: both templates prompt for it.
    created = job_templates()
    assert wfjt["ask_limit_on_launch"] is True
    assert all(created[f"mall.cache_migration {name}"]["ask_limit_on_launch"] for name in ("plan", "migrate"))


def test_the_approval_timeout_is_a_variable_with_a_default():
    approval = next(args["approval_node"] for _name, module, args, _vars in awx_tasks()
                    if module == "awx.awx.workflow_job_template_node" and "approval_node" in args)
    assert render(approval["timeout"]) == PLAY["vars"]["awx_approval_timeout"] == 86400
    assert render(approval["timeout"], awx_approval_timeout=900) == 900


def test_playbook_syntax_check():
    subprocess.run(["ansible-playbook", "--syntax-check", str(PLAYBOOK)], cwd=ROOT, check=True,
                   capture_output=True)
