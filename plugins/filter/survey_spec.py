# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWX survey specs generated from the roles' argument specs."""

from __future__ import annotations

DOCUMENTATION = r"""
name: survey_spec
short_description: An AWX survey spec whose questions are role options
version_added: 1.0.0
description:
  - Makes the survey spec of an AWX job template (the C(survey_spec) of M(awx.awx.job_template)) from
    the names of role options. Each question takes its type, choices, default and description from
    the option in the C(meta/argument_specs.yml) of this collection's roles (entry point C(main)), so
    a survey cannot drift from what the roles accept.
  - "Types: C(str) with C(choices) becomes C(multiplechoice), C(str) and C(path) C(text), C(int)
    C(integer), C(float) C(float). A survey answer is a string, a number or a choice, so an option of
    another type (bool, list, dict) cannot be a question: put it in the job template's extra
    variables instead."
  - A secret is never a question (survey answers are stored in the job's extra variables and shown
    in its details); an option with C(no_log), or whose name names a password, secret or token, is
    refused. Give secrets to the job through a credential.
  - The default of a question is the option's C(default) in the spec, else the role's
    C(defaults/main.yml) value when it is a plain value (not a template); an empty or null default
    gives a question without a default.
options:
  _input:
    description: The role options to ask, in the order of the questions.
    type: list
    elements: str
    required: true
  name:
    description: The survey's name.
    type: str
    default: ""
  description:
    description: The survey's description.
    type: str
    default: ""
  required:
    description: The options whose question must be answered.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Create the Rollback job template with its survey
  awx.awx.job_template:
    name: Rollback
    playbook: playbooks/rollback.yml
    survey_enabled: true
    survey_spec: "{{ ['rollback_restore_point'] | mall.cache_migration.survey_spec(name='Rollback') }}"
"""

RETURN = r"""
_value:
  description: The survey spec, with one question per option in C(spec).
  type: dict
  contains:
    name:
      description: The survey's name.
      type: str
    description:
      description: The survey's description.
      type: str
    spec:
      description: "The questions: C(variable), C(question_name), C(question_description), C(type),
        C(required), and C(choices), C(default) where the option has them."
      type: list
      elements: dict
"""

import pathlib
import re

from ansible.errors import AnsibleFilterError
from ansible.parsing.utils.yaml import from_yaml

# Where the roles are, from plugins/filter/ of this collection.
ROLES_DIR = pathlib.Path(__file__).resolve().parents[2] / "roles"

QUESTION_TYPES = {"str": "text", "path": "text", "int": "integer", "float": "float"}
SECRET_NAME = re.compile(r"password|passwd|secret|token", re.IGNORECASE)


def load_yaml(path):
    """A YAML file as Ansible reads it: the argument specs tag their templated defaults !unsafe."""
    return from_yaml(path.read_text(), file_name=str(path), json_only=False) or {}


def is_template(value):
    return isinstance(value, str) and "{{" in value


def role_options(roles_dir=ROLES_DIR):
    """Every option of the roles' main entry points, as {name: (role, spec)}."""
    options = {}
    for spec_file in sorted(roles_dir.glob("*/meta/argument_specs.yml")):
        role = spec_file.parent.parent.name
        entry = load_yaml(spec_file)["argument_specs"]["main"]
        for name, spec in (entry.get("options") or {}).items():
            options[name] = (role, spec)
    return options


def role_default(roles_dir, role, name):
    """The role's defaults/main.yml value of name, when it is a plain value."""
    defaults_file = roles_dir / role / "defaults" / "main.yml"
    if not defaults_file.is_file():
        return None
    value = load_yaml(defaults_file).get(name)
    return None if is_template(value) else value


def is_secret(name, spec):
    return bool(spec.get("no_log")) or bool(SECRET_NAME.search(name))


def question(name, role, spec, required, roles_dir):
    """One survey question for the option name of role."""
    if is_secret(name, spec):
        raise AnsibleFilterError(f"{name} is a secret: give it through a credential, never a survey")
    kind = spec.get("type", "str")
    if kind not in QUESTION_TYPES:
        raise AnsibleFilterError(
            f"{name} is of type {kind}: a survey answers strings, numbers or choices; set it in the extra variables")
    description = spec.get("description") or ""
    if isinstance(description, list):
        description = " ".join(description)
    item = {
        "variable": name,
        "question_name": name,
        "question_description": f"{description} (role {role})",
        "type": "multiplechoice" if spec.get("choices") else QUESTION_TYPES[kind],
        "required": name in required,
    }
    if spec.get("choices"):
        item["choices"] = [str(choice) for choice in spec["choices"]]
    default = spec["default"] if "default" in spec else role_default(roles_dir, role, name)
    if default not in (None, "") and not is_template(default):
        item["default"] = str(default) if item["type"] in ("text", "multiplechoice") else default
    return item


def survey_spec(names, name="", description="", required=(), roles_dir=ROLES_DIR):
    """The AWX survey spec asking the role options names."""
    options = role_options(roles_dir)
    unknown = [n for n in names if n not in options]
    if unknown:
        raise AnsibleFilterError(f"no role of mall.cache_migration has the option(s) {', '.join(unknown)}")
    return {
        "name": name,
        "description": description,
        "spec": [question(n, *options[n], required, roles_dir) for n in names],
    }


class FilterModule:
    def filters(self):
        return {"survey_spec": survey_spec}
