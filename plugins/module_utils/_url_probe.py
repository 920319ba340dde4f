# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The probe that the app_pages module runs inside the Django project's virtualenv.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release.

app_pages sends the source of this whole file to ``<venv>/bin/python -c`` with the project as working
directory and DJANGO_SETTINGS_MODULE set, so it needs only the standard library and Django. It reads
{"max_pages": N} as JSON on stdin and prints one JSON report: the project's own URL patterns that take
no parameter, as paths (the admin's login first), so that no route of the guide is assumed. Importing
it runs nothing.
"""

from __future__ import annotations

import json
import sys

try:
    import re._parser as regex_parser
    import re._constants as regex_constants
except ImportError:  # Python before 3.11
    import sre_parse as regex_parser
    import sre_constants as regex_constants


def literal_regex(regex):
    """The text a regular expression matches when it matches one text only (anchors aside), else None."""
    text = []
    for opcode, argument in regex_parser.parse(regex):
        if opcode is regex_constants.LITERAL:
            text.append(chr(argument))
        elif opcode is not regex_constants.AT:
            return None
    return ''.join(text)


def pattern_text(pattern):
    """The path part of one URL pattern without parameters, or None when it takes any."""
    from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern

    if isinstance(pattern, RoutePattern):
        return None if pattern.converters else str(pattern)
    if isinstance(pattern, RegexPattern):
        return None if pattern.regex.groups else literal_regex(pattern._regex)
    if isinstance(pattern, LocalePrefixPattern):
        return pattern.language_prefix
    return None


def parameterless_paths(patterns, prefix=''):
    """Yield (path, name) for each view reached without a parameter, in the order of the URLconf; the name with
    its namespaces (admin:login)."""
    from django.urls import URLResolver

    for entry in patterns:
        text = pattern_text(entry.pattern)
        if text is None:
            continue
        if isinstance(entry, URLResolver):
            namespace = (entry.namespace + ':') if entry.namespace else ''
            for path, name in parameterless_paths(entry.url_patterns, prefix + text):
                yield path, namespace + (name or '')
        else:
            yield prefix + text, entry.name or ''


def page_rank(found_path):
    """The admin's login first (every Django site with an admin has it, without a session), then the project's own
    pages, then the admin's other pages."""
    dummy, name = found_path
    return 0 if name == 'admin:login' else 2 if name.startswith('admin:') else 1


def main():
    params = json.load(sys.stdin)
    try:
        import django
        django.setup()
        from django.urls import get_resolver
        found = list(parameterless_paths(get_resolver().url_patterns))
    except Exception as exc:
        sys.stdout.write(json.dumps({'error': '%s: %s' % (type(exc).__name__, exc)}))
        return
    paths = []
    for path, dummy in sorted(found, key=page_rank):
        path = '/' + path
        if path not in paths:
            paths.append(path)
    sys.stdout.write(json.dumps({'paths': paths[:params['max_pages']], 'found': len(paths)}))


if __name__ == '__main__':
    main()
