# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The settings that break their rule, in one pass: the mall role's validation."""

from __future__ import annotations

DOCUMENTATION = r"""
name: invalid_settings
short_description: The rules of the mall role's settings that their values break
version_added: 1.1.0
description:
  - Checks each set variable against its kind, as the mall role's validation does before anything runs (its
    C(vars/main.yml) holds the kinds and the rules), and returns the rules broken. The validation's task
    loops over those only, to name each variable with what it accepts; a valid host's check is one pass.
  - A kind has a C(pattern) (every element must match it from its start, compared as a string), and a
    C(shape), C(scalar) unless it is C(list), C(mapping) or C(scalar_or_list). The elements of a mapping are
    its keys. A boolean is never valid.
  - A kind with C(regex) true also needs each element to compile as a Python regular expression.
  - A list kind with C(fields) also takes mappings as its elements. Each key of one must be a key of C(fields),
    whose pattern its value must match, and each of C(required_fields) must be there.
options:
  _input:
    description: The rules, each with C(var) (the variable's name) and C(kind) (a key of O(kinds)).
    type: list
    elements: dict
    required: true
  kinds:
    description: The kinds, by name, each with C(pattern) and maybe C(shape).
    type: dict
    required: true
  values:
    description: The values of the variables that are set, by name; a rule of a variable that is not set is not checked.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the settings
  ansible.builtin.assert:
    that: false
    fail_msg: "{{ item.var }} must be {{ __mall_input_kinds[item.kind].accepted }}"
  loop: "{{ __mall_input_rules | mall.cache_migration.invalid_settings(__mall_input_kinds, {'mall_db_port': mall_db_port}) }}"
"""

RETURN = r"""
_value:
  description: The rules whose variable is set and breaks its kind, in the order of the input.
  type: list
  elements: dict
"""

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

SHAPES = ("scalar", "list", "mapping", "scalar_or_list")


def _is_list(value):
    return isinstance(value, (list, tuple))


def _shape_ok(shape, value):
    if shape == "mapping":
        return isinstance(value, Mapping)
    if shape == "list":
        return _is_list(value)
    if isinstance(value, Mapping):
        return False
    return shape == "scalar_or_list" or not _is_list(value)


def _compiles(text):
    try:
        re.compile(text)
    except re.error:
        return False
    return True


def _fields_ok(kind, element):
    fields = kind["fields"]
    return set(kind.get("required_fields", [])) <= set(element) and all(
        key in fields and not isinstance(field, bool) and re.match(fields[key], str(field)) for key, field in element.items())


def _element_ok(kind, pattern, element):
    if isinstance(element, Mapping) and "fields" in kind:
        return _fields_ok(kind, element)
    if isinstance(element, (Mapping, bool)) or not pattern.match(str(element)):
        return False
    return not kind.get("regex") or _compiles(str(element))


def valid(kind, value):
    """Whether a value is of the kind: its shape, not a boolean, and every element matching the pattern."""
    if not _shape_ok(kind.get("shape", "scalar"), value) or isinstance(value, bool):
        return False
    elements = list(value) if isinstance(value, Mapping) else (value if _is_list(value) else [value])
    pattern = re.compile(kind["pattern"])
    return all(_element_ok(kind, pattern, element) for element in elements)


def invalid_settings(rules, kinds, values):
    for kind_name, kind in kinds.items():
        if kind.get("shape", "scalar") not in SHAPES:
            raise AnsibleFilterError("invalid_settings: kind %s has shape %r, not one of %s" % (kind_name, kind.get("shape"), ", ".join(SHAPES)))
    unknown = sorted({rule["kind"] for rule in rules} - set(kinds))
    if unknown:
        raise AnsibleFilterError("invalid_settings: rules name kinds that are not defined: %s" % ", ".join(unknown))
    return [rule for rule in rules if rule["var"] in values and not valid(kinds[rule["kind"]], values[rule["var"]])]


class FilterModule:
    def filters(self):
        return {"invalid_settings": invalid_settings}
