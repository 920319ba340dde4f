# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Finds, with Python's ast, the places in a Django project's code that use Redis for more than its cache.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release.

The redis_use_info module walks the project and calls scan_source() on each Python file; the unit tests
call it on source text. A use is a dict {path, line, kind, name, celery_app}: C(kind) is C(import) (a module
of REDIS_MODULES, any form but the relative one), C(call) (a call that only Redis or Celery answers),
C(decorator) (a Celery task) or C(setting) (a session engine on Redis that is not Django's cache engine).
"""

from __future__ import annotations

import ast
import os

# Importing any of these (or a submodule) uses Redis or the Celery broker on it.
REDIS_MODULES = ('redis', 'django_redis', 'celery', 'kombu')
# Calls on a cache (`cache`, `*_cache`, `self.cache`, `caches[...]`) that only django-redis's cache has; each is
# flagged only with an argument, since dict.keys() and a lock() without one are not the cache's.
CACHE_ONLY_CALLS = ('lock', 'delete_pattern', 'ttl', 'pttl', 'keys', 'iter_keys', 'persist', 'expire',
                    'expire_at', 'pexpire', 'pexpire_at')
# Calls that only Redis or Celery answer, whatever they are called on.
REDIS_CALLS = ('get_redis_connection', 'delay', 'apply_async', 'send_task')
# Decorators that make a Celery task: the name itself, or `.task` on the Celery app.
TASK_DECORATORS = ('shared_task', 'periodic_task')
CELERY_APPS = ('app', 'celery_app', 'celery')
# Directories that hold no code of the app's own.
SKIPPED_DIRECTORIES = ('migrations', 'node_modules', '__pycache__')


def _dotted(node):
    """`a.b.c` for a Name or an Attribute chain of Names, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return base and '%s.%s' % (base, node.attr)
    return None


def _is_cache(node):
    """`cache`, `foo_cache`, `self.cache`, `caches['x']`: what django-redis's cache is reached by."""
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Name) and node.value.id == 'caches'
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ''
    return name == 'cache' or name.endswith('_cache')


def _matches(module, modules):
    return any(module == name or module.startswith(name + '.') for name in modules)


class _Finder(ast.NodeVisitor):

    def __init__(self, path, modules, calls):
        self.path = path
        self.modules = modules
        self.calls = calls
        self.celery_app_module = os.path.basename(path) == 'celery.py'
        self.uses = []

    def add(self, node, kind, name, celery_app=False):
        self.uses.append(dict(path=self.path, line=node.lineno, kind=kind, name=name, celery_app=celery_app))

    def visit_Import(self, node):
        for alias in node.names:
            if _matches(alias.name, self.modules):
                self.add(node, 'import', alias.name, self.celery_app_module and alias.name == 'celery')

    def visit_ImportFrom(self, node):
        # Relative imports (`from .celery import app`) are the project's own modules.
        if node.level == 0 and node.module and _matches(node.module, self.modules):
            # `from celery import Celery` in <package>/celery.py defines the app the settings change unhooks.
            app_only = node.module == 'celery' and all(alias.name == 'Celery' for alias in node.names)
            self.add(node, 'import', node.module, self.celery_app_module and app_only)

    def visit_Call(self, node):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in self.calls:
            self.add(node, 'call', name)
        elif name in CACHE_ONLY_CALLS and isinstance(func, ast.Attribute) and _is_cache(func.value) \
                and (node.args or node.keywords):
            self.add(node, 'call', name)
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        for decorator in node.decorator_list:
            target = _dotted(decorator.func if isinstance(decorator, ast.Call) else decorator) or ''
            parts = target.split('.')
            if parts[-1] in TASK_DECORATORS or (len(parts) == 2 and parts[0] in CELERY_APPS and parts[1] == 'task'):
                self.add(decorator, 'decorator', target)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node):
        for target in node.targets:
            self.setting(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self.setting(node.target, node.value)
        self.generic_visit(node)

    def setting(self, target, value):
        if not isinstance(target, ast.Name):
            return
        if target.id == 'SESSION_ENGINE' and isinstance(value, ast.Constant) and isinstance(value.value, str) \
                and 'redis' in value.value.lower():
            self.add(target, 'setting', target.id)
        elif target.id.startswith('SESSION_REDIS'):
            self.add(target, 'setting', target.id)


def scan_source(source, path, extra_modules=(), extra_calls=()):
    """(uses, problem) of one file's source (bytes or text): problem is None, or {path, line, error} when the file
    does not parse."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        return [], dict(path=path, line=exc.lineno or 1, error='%s: %s' % (type(exc).__name__, exc.msg))
    except ValueError as exc:  # null bytes
        return [], dict(path=path, line=1, error='%s: %s' % (type(exc).__name__, exc))
    finder = _Finder(path, REDIS_MODULES + tuple(extra_modules), REDIS_CALLS + tuple(extra_calls))
    finder.visit(tree)
    return sorted(finder.uses, key=lambda use: (use['line'], use['kind'], use['name'])), None


def python_files(root, excludes=()):
    """The .py files under root, sorted; virtualenvs (a pyvenv.cfg), hidden directories, SKIPPED_DIRECTORIES and
    the directories named in excludes (a name, or a path) left out. Symbolic links to directories are not followed."""
    excluded = set(SKIPPED_DIRECTORIES) | {os.path.normpath(os.path.join(root, e)) for e in excludes} | set(excludes)
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(
            d for d in subdirectories
            if not d.startswith('.') and d not in excluded and os.path.join(directory, d) not in excluded
            and not os.path.exists(os.path.join(directory, d, 'pyvenv.cfg')))
        found.extend(os.path.join(directory, f) for f in sorted(files) if f.endswith('.py'))
    return found


def scan_tree(root, excludes=(), extra_modules=(), extra_calls=()):
    """{uses, unparseable, files} of every Python file under root (see python_files)."""
    root = os.path.normpath(root)
    uses, unparseable = [], []
    files = python_files(root, excludes)
    for path in files:
        try:
            with open(path, 'rb') as handle:
                source = handle.read()
        except OSError as exc:
            unparseable.append(dict(path=path, line=1, error='%s: %s' % (type(exc).__name__, exc.strerror)))
            continue
        found, problem = scan_source(source, path, extra_modules, extra_calls)
        uses.extend(found)
        if problem:
            unparseable.append(problem)
    return dict(uses=uses, unparseable=unparseable, files=len(files))
