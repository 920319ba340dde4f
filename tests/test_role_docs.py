"""Role argument specs are well-formed, match defaults/main.yml, and the docs follow them.

A spec key that Ansible does not know validates nothing (dev-sec's hardening
collection shipped such specs), so the keys are checked against the ones
Ansible reads, and every default is validated against its spec the way
ansible-core validates role arguments.
"""
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = pathlib.Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location("role_docs", ROOT / "scripts" / "role_docs.py")
role_docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(role_docs)
ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))
ALL_ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())

ENTRY_KEYS = {"short_description", "description", "author", "version_added", "options",
              "mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by"}
OPTION_KEYS = {"type", "description", "elements", "default", "required", "choices", "options", "aliases",
               "no_log", "apply_defaults", "version_added", "mutually_exclusive", "required_together",
               "required_one_of", "required_if", "required_by"}
TYPES = {"str", "list", "dict", "bool", "int", "float", "path", "raw", "jsonarg", "json", "bytes", "bits"}


def load(path):
    return yaml.safe_load(path.read_text()) or {}


def spec_of(role):
    return role_docs.load_yaml(ROOT / "roles" / role / "meta" / "argument_specs.yml")


def defaults_of(role):
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return load(path) if path.is_file() else {}


def walk_options(options, where):
    """Yield (dotted name, option) for every option, suboptions included."""
    for name, option in (options or {}).items():
        yield f"{where}{name}", option
        if isinstance(option, dict) and option.get("options"):
            yield from walk_options(option["options"], f"{where}{name}.")


def test_every_role_has_a_spec():
    assert ROLES == ALL_ROLES


def test_readmes_are_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "role_docs.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("role", ROLES)
def test_spec_is_well_formed(role):
    spec = spec_of(role)
    assert set(spec) == {"argument_specs"}, f"{role}: top level must be argument_specs only"
    entries = spec["argument_specs"]
    assert "main" in entries, f"{role}: no main entry point"
    problems = []
    for entry, entry_spec in entries.items():
        problems += [f"{entry}: unknown key {k}" for k in set(entry_spec) - ENTRY_KEYS]
        if not entry_spec.get("short_description"):
            problems.append(f"{entry}: no short_description")
        for name, option in walk_options(entry_spec.get("options"), f"{entry}."):
            if not isinstance(option, dict):
                problems.append(f"{name}: not a mapping")
                continue
            problems += [f"{name}: unknown key {k}" for k in set(option) - OPTION_KEYS]
            if option.get("type") not in TYPES:
                problems.append(f"{name}: type missing or unknown ({option.get('type')!r})")
            if not option.get("description"):
                problems.append(f"{name}: no description")
            if option.get("type") == "list" and option.get("elements") not in TYPES:
                problems.append(f"{name}: list without (known) elements")
            if "elements" in option and option.get("type") != "list":
                problems.append(f"{name}: elements on a {option.get('type')}")
    assert not problems, f"{role}: " + "; ".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_spec_and_defaults_name_the_same_variables(role):
    options = set(spec_of(role)["argument_specs"]["main"].get("options") or {})
    public = {name for name in defaults_of(role) if not name.startswith("__")}
    assert not public - options, f"{role}: in defaults/main.yml but not in the spec: {sorted(public - options)}"
    assert not options - public, f"{role}: in the spec but not in defaults/main.yml: {sorted(options - public)}"


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_are_the_defaults_of_defaults_main_yml(role):
    """ansible-doc -t role shows the spec's default; defaults/main.yml is what the role uses. They agree."""
    defaults = defaults_of(role)
    problems = []
    for entry, entry_spec in spec_of(role)["argument_specs"].items():
        for name, option in (entry_spec.get("options") or {}).items():
            if "default" not in option:
                problems.append(f"{entry}.{name}: no default (defaults/main.yml has {defaults.get(name)!r})")
            elif name not in defaults:
                problems.append(f"{entry}.{name}: a default, but none in defaults/main.yml")
            elif option["default"] != defaults[name] or type(option["default"]) is not type(defaults[name]):
                problems.append(f"{entry}.{name}: spec default {option['default']!r} != {defaults[name]!r}")
    assert not problems, f"{role}: " + "; ".join(problems)


def test_ansible_doc_shows_the_defaults():
    """What a user reads: ansible-doc's default of each option is the one the role uses."""
    fqcns = [f"mall.cache_migration.{role}" for role in ROLES]
    out = subprocess.run(["ansible-doc", "-t", "role", "--json", *fqcns], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    docs = json.loads(out.stdout)
    wrong = []
    for role in ROLES:
        defaults = defaults_of(role)
        options = docs[f"mall.cache_migration.{role}"]["entry_points"]["main"]["options"]
        wrong += [f"{role}.{name}: {option.get('default')!r}" for name, option in options.items()
                  if option.get("default") != defaults[name]]
    assert not wrong, f"ansible-doc shows other defaults: {wrong}"


@pytest.mark.parametrize("role", ROLES)
def test_variables_carry_the_role_prefix(role):
    options = spec_of(role)["argument_specs"]["main"].get("options") or {}
    prefix = f"{role}_"
    wrong = [name for name in options if not name.startswith(prefix)]
    assert not wrong, f"{role}: public variables must start with {prefix}: {wrong}"


def untemplated(value):
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    if isinstance(value, dict):
        return all(untemplated(v) for v in value.values())
    if isinstance(value, list):
        return all(untemplated(v) for v in value)
    return True


@pytest.mark.parametrize("role", ROLES)
def test_defaults_satisfy_the_spec(role):
    options = spec_of(role)["argument_specs"]["main"].get("options") or {}
    values = {k: v for k, v in defaults_of(role).items() if k in options and v is not None and untemplated(v)}
    result = ArgumentSpecValidator(options).validate(values)
    assert not result.error_messages, f"{role}: {result.error_messages}"
    changed = {k: (values[k], result.validated_parameters[k]) for k in values
               if options[k].get("type") in ("int", "float", "bool", "list", "dict") and values[k] != result.validated_parameters[k]}
    assert not changed, f"{role}: defaults only valid after conversion: {changed}"


def test_collection_readme_links_each_role_s_variables_instead_of_documenting_them():
    """Variables are documented once, in the generated role READMEs; the collection README links there."""
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## Inventory settings\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no '## Inventory settings' section"
    rows = re.findall(r"^\| `(\w+)_\*`.*\[roles/(\w+)\]\(roles/(\w+)/README\.md\) \|$", section.group(1), re.M)
    wrong = [row for row in rows if len(set(row)) != 1]
    assert not wrong, f"rows whose prefix, link text and link name different roles: {wrong}"
    assert sorted(row[0] for row in rows) == ROLES
    documented = sorted(set(re.findall(r"^#+ `(\w+)`", text, re.M)))
    assert not documented, f"README.md documents role variables again: {documented}"


def templates_outside_unsafe(node, unsafe=False):
    """Scalars holding Jinja that no enclosing node tags !unsafe."""
    unsafe = unsafe or node.tag == "!unsafe"
    if isinstance(node, yaml.ScalarNode):
        return [] if unsafe or not re.search(r"\{\{|\{%", node.value) else [node.value]
    children = node.value if isinstance(node, yaml.SequenceNode) else [v for pair in node.value for v in pair]
    return [found for child in children for found in templates_outside_unsafe(child, unsafe)]


@pytest.mark.parametrize("role", ROLES)
def test_spec_holds_no_template_that_validation_would_render(role):
    """validate_argument_spec templates the whole spec: a description with {{ }} renders, or fails as undefined,
    and a templated default renders there (mall_db_login's would print the database password when validation
    fails). Descriptions hold no Jinja; a default that is a template is tagged !unsafe."""
    text = (ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text()
    found = templates_outside_unsafe(yaml.compose(text, Loader=role_docs.SpecLoader))
    assert not found, f"{role}: Jinja in meta/argument_specs.yml outside an !unsafe default: {found}"
    for entry_spec in spec_of(role)["argument_specs"].values():
        for name, option in (entry_spec.get("options") or {}).items():
            description = " ".join(map(str, option["description"])) if isinstance(option["description"], list) \
                else str(option["description"])
            assert "{{" not in description and "{%" not in description, f"{role}.{name}: Jinja in the description"


@pytest.mark.parametrize("role", ROLES)
def test_readme_default_blocks_read_back_as_the_defaults(role):
    """The generator copies each default's text; read back, it must be the same value."""
    blocks = role_docs.raw_defaults(ROOT / "roles" / role / "defaults" / "main.yml")
    defaults = defaults_of(role)
    assert sorted(blocks) == sorted(defaults)
    wrong = [name for name, text in blocks.items() if yaml.safe_load(text) != {name: defaults[name]}]
    assert not wrong, f"{role}: blocks that do not read back as the default: {wrong}"
