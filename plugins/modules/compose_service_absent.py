#!/usr/bin/python
# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: compose_service_absent
short_description: Remove a service and what refers to it from a Docker Compose file, keeping its comments
version_added: 1.0.0
description:
  - Removes services, top-level named volumes and environment variables from a Docker Compose
    file, for example the C(redis-mall) service, the C(redis_mall_data) volume and the
    C(REDIS_*) variables of the app when a Django project replaces Redis by its database cache.
  - References to the removed services in C(depends_on) and C(links) of the remaining services
    go too, see O(remove_depends_on).
  - The file is edited as text, not loaded and dumped again, so comments, quoting, key order,
    blank lines, indentation (2 or 4 spaces), CRLF line endings, a byte order mark, a C(version)
    header and everything else that is not removed stay byte for byte.
  - A removed entry takes along the comment lines directly above it that are indented like
    its key, the comment lines below it that are indented deeper than its key, and one blank
    line that separated it from its neighbours. Other comments stay.
  - 'C(environment), C(depends_on), C(links) and the top-level C(volumes) are edited in block
    style (C(KEY: value), C(- KEY=value), C(- "KEY=value"), C(- name), C(name:) with
    C(condition)) and in flow style on one line (C([a, b]), C({KEY: value})). When one of them,
    or C(services), has no entry left, its key is removed as well.'
  - When L(PyYAML,https://pypi.org/project/PyYAML/) can be imported on the managed host, the
    file is parsed before and after the edit, and the module fails without writing unless the
    result equals the original with exactly the requested removals. That catches what a text
    edit cannot do, such as a variable defined through a YAML anchor or merge key. Without
    PyYAML the edit is not checked, see RV(verified), and a file that uses an alias or a merge
    key is refused, as the text edit cannot follow them.
author:
  - mall.cache_migration contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mall.cache_migration.attributes
  - mall.cache_migration.text_file
options:
  path:
    description:
      - Path of the Docker Compose file.
    type: path
    required: true
  services:
    description:
      - Names of the services to remove. Names that the file does not define are ignored.
    type: list
    elements: str
    default: []
  volumes:
    description:
      - Names of the top-level named volumes to remove. Names that the file does not define are ignored.
      - Mounts of these volumes in the remaining services are not touched.
    type: list
    elements: str
    default: []
  environment_keys:
    description:
      - 'Names of the variables to remove from C(environment) of the remaining services, in both
        the mapping form C(KEY: value) and the list form C(- KEY=value).'
    type: list
    elements: str
    default: []
  environment_services:
    description:
      - Services from whose C(environment) the O(environment_keys) are removed.
      - By default, every service that is not removed.
    type: list
    elements: str
  remove_depends_on:
    description:
      - Remove the services of O(services) from C(depends_on) (list and mapping form) and
        C(links) (C(name) and C(name:alias)) of the remaining services.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be removed and the diff, runs the PyYAML check, and writes nothing.
  diff_mode:
    support: full
    details:
      - Every C(environment) value, removed or kept, every value of a removed service (its
        command, healthcheck and so on may carry passwords), the C(command), C(entrypoint) and
        C(healthcheck) of the kept services and the top-level extension fields (C(x-...), often
        the anchors of shared environment blocks) show as C(********), and so do the values of
        commented-out settings (C(# REDIS_PASSWORD) followed by a colon and a value, C(#  - REDIS_URL=...)).
      - Each line of the file shows as one line of the diff.
      - An error names the line and column, never its text.
  idempotent:
    support: full
    details:
      - Names that the file does not define are no error, so a second run finds nothing to remove.
notes:
  - The file must be UTF-8 (ASCII is) and hold a single YAML document.
  - 'A flow collection nested in another one (C(app: {image: x, depends_on: [redis]})) or
    spanning several lines is not edited. When something would have to be removed from
    one, the module fails with its line number.'
seealso:
  - module: mall.cache_migration.env_file_keys
    description: Remove the same variables from the dotenv files.
  - module: community.docker.docker_compose_v2
    description: Apply the edited file to the running project.
  - name: Compose file reference
    description: The services, volumes, environment and depends_on elements.
    link: https://docs.docker.com/reference/compose-file/
'''

EXAMPLES = r'''
- name: Remove Redis from the development stack
  mall.cache_migration.compose_service_absent:
    path: /srv/mall-server/docker-compose.dev.yml
    services:
      - redis-mall
    volumes:
      - redis_mall_data
    environment_keys:
      - REDIS_URL
      - REDIS_HOST
      - REDIS_PORT
      - REDIS_PASSWORD
    backup: true
  register: __compose_edit

- name: Remove the variables from the app service only, keep depends_on as it is
  mall.cache_migration.compose_service_absent:
    path: /srv/mall-server/docker-compose.yml
    environment_keys: [CELERY_BROKER_URL, CELERY_RESULT_BACKEND]
    environment_services: [mall-server]
    remove_depends_on: false
'''

RETURN = r'''
removed_services:
  description: Names of the removed services, in the order of the file.
  returned: always
  type: list
  elements: str
  sample: [redis-mall]
removed_volumes:
  description: Names of the removed top-level volumes, in the order of the file.
  returned: always
  type: list
  elements: str
  sample: [redis_mall_data]
removed_environment:
  description: For each service that lost variables, their names in the order of the file. Values are never returned.
  returned: always
  type: dict
  sample: {mall-server: [REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD]}
removed_depends_on:
  description: For each service whose C(depends_on) lost entries, the names of the removed services.
  returned: always
  type: dict
  sample: {mall-server: [redis-mall]}
removed_links:
  description: For each service whose C(links) lost entries, the names of the removed services.
  returned: always
  type: dict
  sample: {}
verified:
  description: Whether PyYAML confirmed that the result holds exactly the requested removals.
  returned: always
  type: bool
  sample: true
backup_file:
  description: Path of the backup copy of the file.
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /srv/mall-server/docker-compose.dev.yml.3728.2025-11-26@07:10:02~
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mall.cache_migration.plugins.module_utils._compose_source import (
    ComposeDocument,
    ComposeError,
    expected,
    plan_removals,
    unverifiable_line,
)
from ansible_collections.mall.cache_migration.plugins.module_utils._text_file import (
    LineEdits,
    exit_with_edits,
    read_text,
    text_file_argument_spec,
)

try:
    import yaml
except ImportError:
    yaml = None  # the edit is then written unchecked, and verified says so


def _yaml_error(error):
    """PyYAML's problem and its position, without the snippet of the line it quotes (a password, maybe)."""
    mark = getattr(error, 'problem_mark', None)
    where = f' at line {mark.line + 1}, column {mark.column + 1}' if mark else ''
    return f'{getattr(error, "problem", None) or type(error).__name__}{where}'


def _verify(module, path, before, after):
    """Whether PyYAML confirmed the edit; fails the module when the result is not the expected one."""
    if yaml is None:
        return False
    try:
        data = yaml.safe_load(before)
    except yaml.YAMLError as e:
        module.fail_json(msg=f'{path} is not valid YAML: {_yaml_error(e)}')
    try:
        result = yaml.safe_load(after)
    except yaml.YAMLError as e:
        result = e
    if result != expected(data, module.params):
        module.fail_json(msg=f'Refusing to write {path}: the edited file would not equal the original minus the requested '
                             'entries. Is something to remove defined through a YAML anchor, alias or merge key, or '
                             'written in a form this module does not edit? Edit it by hand or rewrite it in block style.')
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            text_file_argument_spec(),
            services=dict(type='list', elements='str', default=[]),
            volumes=dict(type='list', elements='str', default=[]),
            environment_keys=dict(type='list', elements='str', default=[], no_log=False),
            environment_services=dict(type='list', elements='str'),
            remove_depends_on=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    path = module.params['path']
    text = read_text(module, path)
    edits = LineEdits(text)
    doc = ComposeDocument(edits)
    if yaml is None:
        line = unverifiable_line(doc)
        if line is not None:
            module.fail_json(msg=f'{path}: line {line + 1} uses a YAML alias or merge key, which a text edit cannot follow, '
                                 'and PyYAML, which would check the edit, cannot be imported on the host. Install PyYAML '
                                 '(python3-yaml) for the Python that runs the module, or expand the alias. Nothing was written.')
    try:
        result = plan_removals(doc, module.params)
    except ComposeError as e:
        module.fail_json(msg=f'{path}: {e}')
    result['verified'] = _verify(module, path, text, edits.text())
    exit_with_edits(module, path, edits, **result)


if __name__ == '__main__':
    main()
