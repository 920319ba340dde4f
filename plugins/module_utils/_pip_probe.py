# Copyright (c) 2025, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The probe that the pip_sync module runs inside the target virtualenv.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release.

pip_sync sends the source of this whole file to ``<venv>/bin/python -I -c``:
the venv's interpreter knows its own environment markers and metadata, and its
pip vendors ``packaging``. So this file must stay a complete script that runs on
any Python 3.8+ with only the standard library and pip, and it imports pip's
``packaging`` inside the functions that use it: importing this file (as
Ansiballz does when it ships it, in an interpreter that may have no pip) runs
nothing.

stdin: {"requirements": [str], "planned": [report metadata]}; stdout: the
installed packages and every package's requirements that apply, each with the
extras ('' for none) under which it applies.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata


def spellings(extras):
    from pip._vendor.packaging.utils import canonicalize_name

    # packaging before 22 compares `extra == "..."` verbatim, so try both forms.
    return {form for extra in extras for form in (extra, canonicalize_name(extra))}


def applies(req, env, extra):
    return req.marker is None or req.marker.evaluate(dict(env, extra=extra))


def satisfied(req, dist):
    """Whether dist (None when absent) meets req as pip sees an installed package: a version in
    its specifier, pre-releases included. A URL requirement never counts as met here."""
    from pip._vendor.packaging.version import InvalidVersion

    if dist is None or req.url:
        return False
    try:
        return req.specifier.contains(dist['version'], prereleases=True)
    except InvalidVersion:
        return False


def describe(dists, lines, env):
    """dists: dicts of name, version, requires_dist, provides_extra and in_venv;
    the first one of a name wins, as on sys.path. Each requirement says whether the
    winning package of its name meets it (satisfied)."""
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    from pip._vendor.packaging.utils import canonicalize_name

    invalid = []

    def parse(text, where):
        try:
            return Requirement(text)
        except InvalidRequirement as exc:
            invalid.append('%s: %r (%s)' % (where, text, exc))
            return None

    roots = [req for req in (parse(line, 'requirements') for line in lines) if req]
    table = {}
    for dist in dists:
        key = canonicalize_name(dist['name'])
        if key not in table:
            reqs = (parse(text, dist['name']) for text in dist.get('requires_dist') or [])
            table[key] = dict(dist, reqs=[req for req in reqs if req])
    wanted = {}
    for req in roots + [req for dist in table.values() for req in dist['reqs']]:
        wanted.setdefault(canonicalize_name(req.name), set()).update(spellings(req.extras))
    out = {}
    for key, dist in table.items():
        extras = wanted.get(key, set()) | spellings(dist.get('provides_extra') or [])
        requires = []
        for req in dist['reqs']:
            when = {canonicalize_name(extra) for extra in extras if applies(req, env, extra)}
            if applies(req, env, ''):
                when.add('')
            if when:
                requires.append({'name': canonicalize_name(req.name),
                                 'extras': sorted(canonicalize_name(e) for e in req.extras),
                                 'when': sorted(when),
                                 'satisfied': satisfied(req, table.get(canonicalize_name(req.name)))})
        out[key] = {'name': dist['name'], 'version': dist['version'],
                    'in_venv': dist['in_venv'], 'requires': requires}
    return {
        'roots': [{'name': canonicalize_name(req.name),
                   'extras': sorted(canonicalize_name(e) for e in req.extras),
                   'satisfied': satisfied(req, table.get(canonicalize_name(req.name)))}
                  for req in roots if applies(req, env, '')],
        'dists': out,
        'invalid': invalid,
    }


def installed():
    prefix = os.path.join(os.path.realpath(sys.prefix), '')
    for dist in metadata.distributions():
        name = dist.metadata['Name']
        if name:
            where = os.path.join(os.path.realpath(str(dist.locate_file(''))), '')
            yield {'name': name, 'version': dist.version,
                   'requires_dist': dist.requires or [],
                   'provides_extra': dist.metadata.get_all('Provides-Extra') or [],
                   'in_venv': where.startswith(prefix)}


def main():
    from pip._vendor.packaging.markers import default_environment
    from pip._vendor.packaging.utils import canonicalize_name

    data = json.load(sys.stdin)
    current = list(installed())
    result = describe(data['planned'] + current, data['requirements'], default_environment())
    result['installed'] = {}
    for dist in current:
        if dist['in_venv']:
            result['installed'].setdefault(canonicalize_name(dist['name']),
                                           {'name': dist['name'], 'version': dist['version']})
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main()
