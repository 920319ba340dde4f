# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read Django settings modules with Python's ast and plan the edits of a move off Redis.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

The django_settings module asks the project's own Django which modules a
settings module loads; this file does the rest in the module's Python:

- SettingsFile parses one file with ast (encoding line, UTF-8 BOM, CRLF, a lone
  CR and a missing final newline kept) and lists its top-level statements; its
  positions are ast's own, on lines cut where Python's tokenizer cuts them
  (SourceLines), so a form feed or U+2028 moves nothing;
- settings_events() follows `from .base import *` in execution order, and
  `from .base import CACHES` to base's statements, so the last binding of a
  name is the effective one, as Django sees it;
- Planner decides each edit: the Redis aliases of CACHES become the chosen
  database backend, Django's DatabaseCache or django-mysql's MySQLCache
  (TIMEOUT, KEY_PREFIX, VERSION, KEY_FUNCTION kept as source text), an app the
  backend needs (django_mysql) joins INSTALLED_APPS, CELERY_* settings, the
  Celery app import and unused reads of removed env keys go, SESSION_ENGINE on
  a Redis cache becomes cached_db;
- edited_text() applies them by character ranges: every byte outside the
  edited ranges stays as it was, and the result must parse to the same
  statements but the planned ones;
- statement_diff() shows the changed statements with every string under
  CACHES, DATABASES or a name like PASSWORD, SECRET, TOKEN or KEY masked.

What it cannot rewrite safely raises Refusal, with the file, the line and the
reason as fields.
"""

from __future__ import annotations

import ast
import io
import tokenize

DATABASE_BACKEND = 'django.core.cache.backends.db.DatabaseCache'
MYSQL_BACKEND = 'django_mysql.cache.MySQLCache'
# Per backend choice: the BACKEND path, and the app it needs in INSTALLED_APPS (None: none).
BACKENDS = {
    'database': dict(path=DATABASE_BACKEND, app=None),
    'mysql': dict(path=MYSQL_BACKEND, app='django_mysql'),
}
CACHED_DB_SESSIONS = 'django.contrib.sessions.backends.cached_db'
CACHE_SESSIONS = 'django.contrib.sessions.backends.cache'
# Alias options that keep their meaning on any backend, kept as source text.
KEPT_ALIAS_OPTIONS = ('TIMEOUT', 'KEY_PREFIX', 'VERSION', 'KEY_FUNCTION')
# Call names that read an environment variable: decouple's config(), django-environ's
# env() and env.str()/int()..., os.getenv(), os.environ.get().
ENV_READ_CALLS = frozenset((
    'config', 'env', 'getenv', 'get', 'str', 'int', 'bool', 'float', 'list', 'tuple', 'dict',
    'url', 'json', 'path', 'cache', 'cache_url', 'db', 'db_url', 'setdefault',
))
BOM = b'\xef\xbb\xbf'
MASK = '********'
# In a diff, every string under these settings is masked, and under any name with one of these parts in it.
SECRET_SETTINGS = frozenset(('CACHES', 'DATABASES'))
SECRET_NAME_PARTS = ('pass', 'pwd', 'secret', 'token', 'key', 'credential')


class Refusal(Exception):
    """A shape the plan cannot rewrite safely. file and line (1-based, as Python counts lines; None when no line
    applies) say where, reason says why; the message names the file and line too."""

    def __init__(self, reason, file=None, line=None):
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.line = line

    @classmethod
    def at(cls, statement, reason):
        return cls(reason, statement.source.path, statement.start)

    def describe(self):
        return dict(file=self.file, line=self.line, reason=self.reason)


def is_redis_backend(backend):
    """Whether a CACHES BACKEND path is a Redis one (django-redis, Django's own, django-redis-cache)."""
    return isinstance(backend, str) and ('redis' in backend.lower())


class SourceLines:
    """Python source cut into lines where Python's tokenizer cuts them: at \\n, \\r\\n and a lone \\r only.
    str.splitlines() also cuts at \\f, \\v, \\x1c-\\x1e, \\x85, U+2028 and U+2029, and its line numbers then
    drift from ast's."""

    def __init__(self, text):
        # Universal newlines, untranslated: exactly the three line ends Python's tokenizer knows.
        self.lines = io.StringIO(text, newline='').readlines()
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def index(self, lineno, col_offset):
        """Index in the text of an ast position (col_offset counts UTF-8 bytes)."""
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode('utf-8')[:col_offset].decode('utf-8', 'replace'))

    def node_span(self, node):
        return self.index(node.lineno, node.col_offset), self.index(node.end_lineno, node.end_col_offset)

    def line_start(self, lineno):
        """Index where line lineno (1-based) starts; the text's length for the line after the last."""
        return self.starts[lineno - 1]

    def eol(self):
        """The line end the text mostly uses (\\n when it has none)."""
        ends = [line[len(line.rstrip('\r\n')):] for line in self.lines]
        return max(('\n', '\r\n', '\r'), key=ends.count)


def line_after(prefix):
    """The line (1-based, as Python counts them) of a character that comes right after prefix."""
    return len(io.StringIO(prefix + ' ', newline='').readlines())


def parse(text, path):
    """The ast of text; a Refusal naming the line where Python stops."""
    try:
        return ast.parse(text, filename=path)
    except (SyntaxError, ValueError) as e:
        # A NUL byte: a ValueError before Python 3.12, a SyntaxError without a line since.
        line = getattr(e, 'lineno', None) or (line_after(text[:text.index('\0')]) if '\0' in text else None)
        raise Refusal('%s:%s does not parse: %s. Fix the file first; nothing was changed.'
                      % (path, line, getattr(e, 'msg', e)), path, line)


class Statement:
    """One top-level statement of a settings file and what it does to settings."""

    def __init__(self, source, node):
        self.source = source
        self.node = node
        self.start = node.lineno
        self.end = node.end_lineno
        self.binds = assigned_names(node)
        self.mutates = mutated_names(node)
        self.star_import = star_import_of(node, source.module)
        self.env_reads = env_reads(node)

    @property
    def location(self):
        return '%s:%d' % (self.source.path, self.start)

    def describe(self):
        return dict(file=self.source.path, start=self.start, end=self.end)


class SettingsFile:
    """A Python file as text and as ast, with every byte kept for the write back."""

    def __init__(self, path, data, module=''):
        self.path = path
        self.module = module
        self.bom = data.startswith(BOM)
        self.encoding = self._encoding(data)
        body = data[len(BOM):] if self.bom else data
        try:
            self.text = body.decode(self.encoding)
        except UnicodeDecodeError as e:
            line = line_after(body[:e.start].decode(self.encoding))
            raise Refusal('%s:%d is not valid %s text: %s. Nothing was changed.'
                          % (path, line, self.encoding, e.reason), path, line)
        self.tree = parse(self.text, path)
        self.line_table = SourceLines(self.text)
        self.statements = [Statement(self, node) for node in self.tree.body]

    def _encoding(self, data):
        """The encoding Python reads the file in (its coding line, else UTF-8); a Refusal at the line that
        declares an encoding Python does not know, or one the BOM contradicts."""
        reader = io.BytesIO(data)
        lines_read = []

        def readline():
            lines_read.append(reader.readline())
            return lines_read[-1]

        try:
            encoding, dummy = tokenize.detect_encoding(readline)
        except SyntaxError as e:
            line = max(len(lines_read), 1)
            raise Refusal('%s:%d: %s. Nothing was changed.' % (self.path, line, e), self.path, line)
        return 'utf-8' if encoding == 'utf-8-sig' else encoding

    @property
    def eol(self):
        return self.line_table.eol()

    def node_span(self, node):
        return self.line_table.node_span(node)

    def segment(self, node):
        start, end = self.node_span(node)
        return self.text[start:end]

    def line_span(self, statement):
        """Characters of the statement's whole lines, line endings included."""
        return self.line_table.line_start(statement.start), self.line_table.line_start(statement.end + 1)

    def line_start(self, lineno):
        """Index in self.text where line lineno (1-based) starts."""
        return self.line_table.line_start(lineno)

    def indent_of(self, lineno):
        line = self.line_table.lines[lineno - 1]
        return line[:len(line) - len(line.lstrip(' \t'))]

    def encode(self, text, line):
        """The file's bytes for text; a Refusal at line when text holds a character the encoding lacks."""
        try:
            return (BOM if self.bom else b'') + text.encode(self.encoding)
        except UnicodeEncodeError as e:
            raise Refusal('%s:%d: the new text has a character %s cannot encode (%s). Nothing was changed.'
                          % (self.path, line, self.encoding, e.reason), self.path, line)


def target_names(target):
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for elt in target.elts for name in target_names(elt)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def assigned_names(node):
    """Names a top-level statement binds (CACHES = ..., CACHES: dict = ..., import)."""
    if isinstance(node, ast.Assign):
        return [name for target in node.targets for name in target_names(target)]
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return target_names(node.target)
    if isinstance(node, ast.ImportFrom):
        return [alias.asname or alias.name for alias in node.names if alias.name != '*']
    if isinstance(node, ast.Import):
        return [(alias.asname or alias.name).split('.')[0] for alias in node.names]
    return []


def subscript_root(node):
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def mutated_names(node):
    """Names whose object a statement changes in place: CACHES['x'] = ..., CACHES.update(...)."""
    names = []
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names += [subscript_root(t) for t in targets if isinstance(t, (ast.Subscript, ast.Attribute))]
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if isinstance(func, ast.Attribute):
            names.append(subscript_root(func.value))
    return [name for name in names if name]


def resolve_module(module, level, name):
    """Absolute name of `from <level dots><name> import ...` written in module."""
    if level == 0:
        return name
    parts = module.split('.')
    base = parts[:len(parts) - level] if level <= len(parts) else []
    return '.'.join(base + ([name] if name else []))


def star_import_of(node, module):
    if isinstance(node, ast.ImportFrom) and any(alias.name == '*' for alias in node.names):
        return resolve_module(module, node.level, node.module or '')
    return None


def nested_star_imports(node, module):
    """Star imports inside a compound statement (try: from .local import * except ImportError)."""
    found = []
    for child in ast.walk(node):
        if child is not node and isinstance(child, ast.ImportFrom):
            target = star_import_of(child, module)
            if target:
                found.append(target)
    return found


def call_name(func):
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def is_environ(node):
    """os.environ or environ."""
    return (isinstance(node, ast.Attribute) and node.attr == 'environ') or (
        isinstance(node, ast.Name) and node.id == 'environ')


def env_reads(node):
    """[(key, has_default)] of every environment read in a statement."""
    reads = []
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and child.args and isinstance(child.args[0], ast.Constant) \
                and isinstance(child.args[0].value, str) and call_name(child.func) in ENV_READ_CALLS:
            if call_name(child.func) in ('get', 'setdefault') and not is_environ(getattr(child.func, 'value', None)):
                continue
            has_default = len(child.args) > 1 or any(k.arg == 'default' for k in child.keywords)
            reads.append((child.args[0].value, has_default))
        elif isinstance(child, ast.Subscript) and is_environ(child.value) \
                and isinstance(child.slice, ast.Constant) and isinstance(child.slice.value, str):
            reads.append((child.slice.value, False))
    return reads


def loaded_names(node):
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}


def settings_events(files, module, name, loaded, seen=None):
    """Statements binding or changing `name`, in the order Django executes them for module.

    files maps a module name to its SettingsFile; loaded is the set of module names
    Django really imported (a `try: from .local import *` counts only when it did).
    `from .base import CACHES` stands for the statements of base that set CACHES.
    """
    seen = set() if seen is None else seen
    source = files.get(module)
    if source is None or module in seen:
        return []
    seen.add(module)
    events = []
    for statement in source.statements:
        imported = [statement.star_import] if statement.star_import else nested_star_imports(statement.node, module)
        for target in imported:
            if target in loaded:
                events += settings_events(files, target, name, loaded, seen)
        origin = name_imported_from(statement.node, module, name)
        if origin in loaded and origin in files:
            events += settings_events(files, origin, name, loaded, seen)
        elif name in statement.binds or name in statement.mutates:
            events.append(statement)
        elif not statement.star_import and name in compound_names(statement.node):
            raise Refusal.at(statement, '%s sets %s inside %s: a conditional or loop cannot be rewritten safely. '
                                        'Make it one top-level assignment, or deliver the change as a release '
                                        '(mall_release_version). Nothing was changed.'
                             % (statement.location, name, type(statement.node).__name__.lower()))
    return events


def name_imported_from(node, module, name):
    """The module that `from <module> import name` (under its own name) takes name from, or None."""
    if isinstance(node, ast.ImportFrom) and any(alias.name == name and alias.asname in (None, name)
                                                for alias in node.names):
        return resolve_module(module, node.level, node.module or '')
    return None


def compound_names(node):
    """Names bound or changed anywhere inside a compound statement (if/try/for/while/with); a def or class
    body binds nothing at module level."""
    if not isinstance(node, (ast.If, ast.Try, ast.For, ast.While, ast.With)):
        return set()
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.stmt) and child is not node:
            names.update(assigned_names(child))
            names.update(mutated_names(child))
    return names


def chain_modules(files, module, loaded, seen=None):
    """The settings module and every module it star-imports, depth first, each once."""
    seen = [] if seen is None else seen
    if module in seen or module not in files:
        return seen
    seen.append(module)
    for statement in files[module].statements:
        imported = [statement.star_import] if statement.star_import else nested_star_imports(statement.node, module)
        for target in imported:
            if target in loaded:
                chain_modules(files, target, loaded, seen)
    return seen


def dict_items(node):
    """{constant key: value node} of a dict literal, or None when a key is not a constant string."""
    items = {}
    for key, value in zip(node.keys, node.values):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        items[key.value] = value
    return items


class Edit:
    """Replace characters [start, end) of a file; the statement lines it touches are reported."""

    def __init__(self, statement, start, end, text, action, setting, reason):
        self.statement = statement
        self.start = start
        self.end = end
        self.text = text
        self.action = action
        self.setting = setting
        self.reason = reason

    @property
    def source(self):
        return self.statement.source

    def describe(self):
        return dict(self.statement.describe(), action=self.action, setting=self.setting, reason=self.reason)


class Planner:
    """Decides the edits that take the settings of one module off Redis."""

    def __init__(self, files, settings_module, loaded, runtime, options):
        self.files = files
        self.module = settings_module
        self.loaded = loaded
        self.runtime = runtime
        self.options = options
        self.edits = []
        self.chain = chain_modules(files, settings_module, loaded)
        self.backend = BACKENDS[options.get('backend', 'database')]

    def backend_options(self):
        """OPTIONS of a new alias, in the order they are written. MySQLCache culls on a schedule
        (cull_mysql_caches), so a set never culls (CULL_PROBABILITY 0)."""
        options = [('MAX_ENTRIES', self.options['max_entries']), ('CULL_FREQUENCY', self.options['cull_frequency'])]
        if self.backend['path'] == MYSQL_BACKEND:
            options.append(('CULL_PROBABILITY', self.options.get('cull_probability', 0)))
        return options

    def _edit(self, statement, start, end, text, action, setting, reason):
        for other in self.edits:
            if other.source is statement.source and other.start < end and start < other.end:
                return
        self.edits.append(Edit(statement, start, end, text, action, setting, reason))

    def remove(self, statement, setting, reason):
        self._check_own_lines(statement)
        start, end = statement.source.line_span(statement)
        self._edit(statement, start, end, '', 'remove', setting, reason)

    def replace_node(self, statement, node, text, setting, reason):
        start, end = statement.source.node_span(node)
        self._edit(statement, start, end, text, 'replace', setting, reason)

    def _check_own_lines(self, statement):
        for other in statement.source.statements:
            if other is not statement and (other.start <= statement.end and statement.start <= other.end):
                raise Refusal.at(statement, '%s shares its line with another statement (a `;`): put each on its '
                                 'own line. Nothing was changed.' % statement.location)

    # CACHES -----------------------------------------------------------------

    def alias_config(self, statement, alias, node):
        """The replacement text of one Redis alias, or None when the alias is not on Redis."""
        source = statement.source
        if not isinstance(node, ast.Dict):
            backend = self.runtime.get('caches', {}).get(alias, {}).get('backend')
            if backend is None or is_redis_backend(backend):
                raise Refusal.at(statement, '%s: CACHES[%r] is not a dict literal (it is built by %s), so it cannot be '
                                 'rewritten safely. Write it as a literal dict, or deliver the change as a release '
                                 '(mall_release_version). Nothing was changed.'
                                 % (statement.location, alias, type(node).__name__))
            return None
        items = dict_items(node)
        if items is None:
            raise Refusal.at(statement, '%s: CACHES[%r] has a key that is not a string literal. Nothing was changed.'
                             % (statement.location, alias))
        backend = items.get('BACKEND')
        if not (isinstance(backend, ast.Constant) and isinstance(backend.value, str)):
            raise Refusal.at(statement, '%s: the BACKEND of CACHES[%r] is not a string literal, so whether it is '
                             'Redis cannot be decided from the source. Write it as a literal, or deliver the change '
                             'as a release (mall_release_version). Nothing was changed.' % (statement.location, alias))
        if not is_redis_backend(backend.value):
            return None
        indent = source.indent_of(node.lineno)
        # The old items' own indentation where they stand on lines of their own (tabs stay tabs).
        first_key = node.keys[0] if node.keys else None
        inner = source.indent_of(first_key.lineno) if first_key is not None and first_key.lineno > node.lineno \
            else indent + '    '
        eol = source.eol
        options = dict(self.options.get('defaults', {}))
        options.update({name: source.segment(items[name]) for name in KEPT_ALIAS_OPTIONS if name in items})
        lines = ['{',
                 "%s'BACKEND': %r," % (inner, self.backend['path']),
                 "%s'LOCATION': %r," % (inner, self.options['table'])]
        lines += ["%s%r: %s," % (inner, name, options[name]) for name in KEPT_ALIAS_OPTIONS if name in options]
        lines.append("%s'OPTIONS': {%s}," % (inner, ', '.join(
            '%r: %r' % (name, value) for name, value in self.backend_options())))
        lines.append(indent + '}')
        return eol.join(lines)

    def plan_caches(self):
        events = settings_events(self.files, self.module, 'CACHES', self.loaded)
        redis_aliases = set()
        # The last definition of each alias moved to the table: the one Django uses.
        namespaces = {}
        for statement in events:
            node = statement.node
            if 'CACHES' in statement.binds:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    # From a module outside the project (its statements are followed otherwise).
                    continue
                value = node.value
                if isinstance(node, ast.AugAssign) or not isinstance(value, ast.Dict):
                    raise Refusal.at(statement, '%s: CACHES is built by %s, not a dict literal, so it cannot be '
                                     'rewritten safely. Write it as a literal dict, or deliver the change as a '
                                     'release (mall_release_version). Nothing was changed.'
                                     % (statement.location, type(value).__name__ if value else 'an annotation'))
                pairs = self._alias_pairs(statement, value)
            else:
                pairs = self._mutation_pairs(statement)
            for alias, alias_node in pairs:
                text = self.alias_config(statement, alias, alias_node)
                if text is not None:
                    redis_aliases.add(alias)
                    namespaces[alias] = self.alias_namespace(statement, alias, alias_node)
                    self.replace_node(statement, alias_node, text, 'CACHES',
                                      'CACHES[%r] on Redis becomes %s on %s'
                                      % (alias, self.backend['path'].rsplit('.', 1)[-1], self.options['table']))
        self.refuse_shared_namespaces(namespaces)
        return redis_aliases

    def alias_namespace(self, statement, alias, node):
        """What tells an alias' keys apart in the one table: KEY_PREFIX, VERSION and KEY_FUNCTION as the new alias
        has them (its own value as Django read it, else its source text, else the role's default)."""
        items = dict_items(node)
        effective = self.runtime.get('caches', {}).get(alias, {})
        defaults = self.options.get('defaults', {})
        if 'KEY_PREFIX' not in items:
            prefix = defaults.get('KEY_PREFIX', '')
        else:
            prefix = effective.get('key_prefix', statement.source.segment(items['KEY_PREFIX']))
        version = statement.source.segment(items['VERSION']) if 'VERSION' in items else defaults.get('VERSION', '1')
        function = statement.source.segment(items['KEY_FUNCTION']) if 'KEY_FUNCTION' in items else ''
        return (str(prefix), str(version), function)

    def refuse_shared_namespaces(self, namespaces):
        """Two aliases that each had a Redis of their own would share the table's keys: refuse, naming them."""
        effective = self.runtime.get('caches') or namespaces
        by_namespace = {}
        for alias in sorted(namespaces):
            if alias in effective:
                by_namespace.setdefault(namespaces[alias], []).append(alias)
        shared = [aliases for aliases in by_namespace.values() if len(aliases) > 1]
        if shared:
            raise Refusal('The CACHES aliases %s would share the table %s with the same KEY_PREFIX, VERSION and '
                          'KEY_FUNCTION, so their keys would collide. Give each of them a KEY_PREFIX of its own in '
                          'the settings first. Nothing was changed.'
                          % ('; '.join(' and '.join(repr(a) for a in aliases) for aliases in shared),
                             self.options['table']))

    def _alias_pairs(self, statement, value):
        items = dict_items(value)
        if items is None:
            raise Refusal.at(statement, '%s: CACHES has a key that is not a string literal (or a ** merge). '
                             'Nothing was changed.' % statement.location)
        return list(items.items())

    def _mutation_pairs(self, statement):
        node = statement.node
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript) \
                and isinstance(node.targets[0].value, ast.Name) and isinstance(node.targets[0].slice, ast.Constant):
            return [(node.targets[0].slice.value, node.value)]
        if isinstance(node, ast.Expr) and call_name(node.value.func) == 'update' \
                and len(node.value.args) == 1 and isinstance(node.value.args[0], ast.Dict) \
                and not node.value.keywords:
            return self._alias_pairs(statement, node.value.args[0])
        raise Refusal.at(statement, '%s changes CACHES in a way that cannot be rewritten safely (%s). Assign '
                         "whole aliases (CACHES['name'] = {...}) or CACHES.update({...}) instead. Nothing was changed."
                         % (statement.location, statement.source.segment(node).splitlines()[0].strip()))

    # Sessions, Celery, env reads -------------------------------------------

    def plan_sessions(self, redis_aliases):
        engine = self.runtime.get('session_engine')
        alias = self.runtime.get('session_cache_alias', 'default')
        if engine != CACHE_SESSIONS or alias not in redis_aliases:
            return
        events = [s for s in settings_events(self.files, self.module, 'SESSION_ENGINE', self.loaded)
                  if 'SESSION_ENGINE' in s.binds and not isinstance(s.node, ast.ImportFrom)]
        if not events:
            return
        statement = events[-1]
        self.replace_node(statement, statement.node.value, repr(CACHED_DB_SESSIONS), 'SESSION_ENGINE',
                          'sessions move from the Redis cache to cached_db (the database, read through the cache)')

    def plan_celery(self):
        for module in self.chain:
            for statement in self.files[module].statements:
                names = statement.binds
                if names and all(name.startswith('CELERY_') for name in names) \
                        and not isinstance(statement.node, (ast.Import, ast.ImportFrom)):
                    self.remove(statement, names[0], 'Celery settings go with Redis')

    def plan_celery_import(self, init_files):
        """Remove `from .celery import app as celery_app` and an __all__ naming only it."""
        for source in init_files:
            removed = set()
            for statement in source.statements:
                node = statement.node
                if isinstance(node, ast.ImportFrom) and (node.module or '').split('.')[-1] == 'celery' \
                        and resolve_module(source.module, node.level, node.module or '') in self.loaded:
                    removed.update(statement.binds)
                    self.remove(statement, 'celery', 'the Celery app goes with Redis')
            for statement in source.statements:
                node = statement.node
                if removed and statement.binds == ['__all__'] and isinstance(node, ast.Assign) \
                        and isinstance(node.value, (ast.Tuple, ast.List)):
                    names = [elt.value for elt in node.value.elts if isinstance(elt, ast.Constant)]
                    if names and set(names) <= removed:
                        self.remove(statement, '__all__', 'it names only the Celery app')

    def plan_env_reads(self, keys):
        """Remove assignments that read a removed env key and that nothing uses any more."""
        keys = set(keys)
        candidates = []
        for module in self.chain:
            for statement in self.files[module].statements:
                if self._covered(statement):
                    continue
                reads = [(key, default) for key, default in statement.env_reads if key in keys]
                if reads:
                    candidates.append((statement, reads))
        used = self._names_used_after_edits()
        for statement, reads in candidates:
            simple = isinstance(statement.node, (ast.Assign, ast.AnnAssign)) and statement.binds
            if simple and not (set(statement.binds) & used):
                self.remove(statement, statement.binds[0], 'reads %s, which the env files no longer set'
                            % ', '.join(sorted({key for key, dummy in reads})))
            elif not all(default for dummy, default in reads):
                raise Refusal.at(statement, '%s reads %s without a default, and the migration removes that key from '
                                 'the env files. Give it a default or remove that use, or deliver the change as a '
                                 'release (mall_release_version). Nothing was changed.'
                                 % (statement.location, ', '.join(sorted(k for k, d in reads if not d))))

    def _covered(self, statement):
        return any(edit.statement is statement for edit in self.edits)

    def _names_used_after_edits(self):
        used = set()
        for module in self.chain:
            source = self.files[module]
            new_text = edited_text(source, [e for e in self.edits if e.source is source])
            used |= loaded_names(ast.parse(new_text))
        return used

    # INSTALLED_APPS --------------------------------------------------------

    def plan_installed_app(self, redis_aliases):
        """Append the backend's app to the effective INSTALLED_APPS literal, when an alias moves to it."""
        app = self.backend['app']
        if not app or not redis_aliases or app in self.runtime.get('installed_apps', []):
            return
        events = settings_events(self.files, self.module, 'INSTALLED_APPS', self.loaded)
        statement = events[-1] if events else None
        node = statement.node if statement else None
        value = node.value if isinstance(node, (ast.Assign, ast.AugAssign)) else None
        single_target = isinstance(node, ast.AugAssign) or (isinstance(node, ast.Assign) and len(node.targets) == 1)
        if not (single_target and isinstance(value, (ast.List, ast.Tuple))):
            where = (statement.source.path, statement.start) if statement else (None, None)
            raise Refusal('%s: the last statement that sets INSTALLED_APPS is not a list or tuple literal (assigned or '
                          'added with +=), so %r cannot be added to it safely. Add it by hand, or deliver the change '
                          'as a release (mall_release_version). Nothing was changed.'
                          % (statement.location if statement else self.module, app), *where)
        start, end, text = self._appended_element(statement.source, value, repr(app))
        self._edit(statement, start, end, text, 'replace', 'INSTALLED_APPS',
                   '%s needs %r in INSTALLED_APPS' % (self.backend['path'].rsplit('.', 1)[-1], app))

    @staticmethod
    def _appended_element(source, literal, element):
        """(start, end, text) of an edit that appends element to a list or tuple literal, in its layout."""
        literal_start, literal_end = source.node_span(literal)
        close = literal_end - 1
        if not literal.elts:
            suffix = ',' if isinstance(literal, ast.Tuple) else ''
            return literal_start + 1, close, element + suffix
        last = literal.elts[-1]
        last_end = source.node_span(last)[1]
        after = source.text[last_end:close]
        comma = after.lstrip(' \t').startswith(',')
        if last.lineno > literal.lineno and literal.end_lineno > last.end_lineno:
            # One element a line: a new line after the last element's, with its indentation; the rest of that
            # line (its comma, a comment) stays as it was.
            line_end = source.line_start(last.end_lineno + 1)
            rest = source.text[last_end:line_end]
            eol = rest[len(rest.rstrip('\r\n')):] or source.eol
            return last_end, line_end, ('' if comma else ',') + rest + source.indent_of(last.lineno) + element + ',' + eol
        if comma:
            comma_at = last_end + after.index(',') + 1
            return comma_at, comma_at, ' ' + element + ','
        return last_end, last_end, ', ' + element

    def plan(self, redis_env_keys, init_files):
        redis_aliases = self.plan_caches()
        self.plan_installed_app(redis_aliases)
        self.plan_sessions(redis_aliases)
        self.plan_celery()
        self.plan_celery_import(init_files)
        self.plan_env_reads(redis_env_keys)
        return self.edits


def apply_to_text(source, edits):
    """The file's text with edits applied; every other character kept."""
    text = source.text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text


def edited_text(source, edits):
    """The file's text with edits applied, every other character kept; a Refusal at the statement an edit
    touches when the result would not parse, or would change a statement the plan does not name."""
    text = apply_to_text(source, edits)
    problem = edit_problem(source, edits, text)
    if problem:
        ordered = sorted(edits, key=lambda e: e.start)
        culprit = next((edit for edit in ordered if edit_problem(source, [edit], apply_to_text(source, [edit]))),
                       ordered[0])
        raise Refusal.at(culprit.statement, '%s: %s, so it cannot be edited safely. Nothing was changed.'
                         % (culprit.statement.location, problem))
    return text


def edit_problem(source, edits, text):
    """Why text, the source with edits applied, is not what the plan means; None when it is."""
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError) as e:
        return 'the edited file would not parse (%s)' % getattr(e, 'msg', e)
    removed = {edit.statement for edit in edits if edit.action == 'remove'}
    replaced = {edit.statement for edit in edits if edit.action == 'replace'}
    kept = [statement for statement in source.statements if statement not in removed]
    if len(body) == len(kept) and all(
            type(node) is type(statement.node) if statement in replaced else ast.dump(node) == ast.dump(statement.node)
            for node, statement in zip(body, kept)):
        return None
    return 'the edited file would change statements the plan does not name'


def new_contents(edits):
    """{path: new bytes} of every file the edits change."""
    by_file = {}
    for edit in edits:
        by_file.setdefault(edit.source.path, (edit.source, []))[1].append(edit)
    return {path: source.encode(edited_text(source, file_edits), min(edit.statement.start for edit in file_edits))
            for path, (source, file_edits) in by_file.items()}


def mask_secrets(text):
    """Source text with every string literal that may hold a secret masked, for diffs; all of it masked when it
    does not parse. Literals are found by their place in the ast, not by how the text looks."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return MASK
    lines = SourceLines(text)
    # From the end, so that the earlier spans stay where they are.
    for start, end in sorted((lines.node_span(node) for node in secret_literals(tree)), reverse=True):
        text = text[:start] + repr(MASK) + text[end:]
    return text


def secret_literals(node, secret=False):
    """The string literals under node that may hold a secret (an f-string as a whole): every one in the value of a
    setting, dict key, keyword or call named like a secret (names_secret), and any that looks like one."""
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))):
        if secret or looks_secret(literal_text(node)):
            yield node
        return
    for child, child_secret in children_and_secrecy(node, secret):
        yield from secret_literals(child, child_secret)


def children_and_secrecy(node, secret):
    """(child, whether its literals are secret) of each child of node."""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        named = any(names_secret(word) for target in targets for word in target_words(target))
        return [(target, False) for target in targets] + ([(node.value, secret or named)] if node.value else [])
    if isinstance(node, ast.Dict):
        return [(key, False) for key in node.keys if key is not None] + [
            (value, secret or (isinstance(key, ast.Constant) and names_secret(key.value)))
            for key, value in zip(node.keys, node.values)]
    if isinstance(node, ast.Call):
        # CACHES.update(...), config('REDIS_PASSWORD', default=...), get_secret(...).
        named = secret or any(names_secret(word) for word in target_words(node.func)) or any(
            isinstance(arg, ast.Constant) and names_secret(arg.value) for arg in node.args)
        return [(node.func, False)] + [(arg, named) for arg in node.args] + [
            (keyword.value, named or names_secret(keyword.arg)) for keyword in node.keywords]
    return [(child, secret) for child in ast.iter_child_nodes(node)]


def target_words(target):
    """The names, attributes and constant subscripts of a target: DATABASES['default']['PASSWORD'] gives all three."""
    return [child.id if isinstance(child, ast.Name) else getattr(child, 'attr', getattr(child, 'value', None))
            for child in ast.walk(target) if isinstance(child, (ast.Name, ast.Attribute, ast.Constant))]


def names_secret(name):
    """Whether what a setting, dict key or keyword of that name holds is secret: CACHES, DATABASES, and any name
    with PASSWORD, PASS, PWD, SECRET, TOKEN, KEY or CREDENTIAL in it."""
    return isinstance(name, str) and (name in SECRET_SETTINGS or any(part in name.lower() for part in SECRET_NAME_PARTS))


def literal_text(node):
    """The text of a string literal: an f-string's constant parts, a bytes literal decoded byte for byte."""
    if isinstance(node, ast.JoinedStr):
        return ''.join(part.value for part in node.values if isinstance(part, ast.Constant))
    return node.value.decode('latin-1') if isinstance(node.value, bytes) else node.value


def looks_secret(literal):
    """Whether a literal is a URL with credentials (scheme://user:password@host), wherever it stands."""
    return '://' in literal and '@' in literal


def unix_newlines(text):
    return io.StringIO(text, newline=None).read()


def statement_diff(edits):
    """Ansible diff of the changed statements only, secrets masked."""
    by_statement = {}
    for edit in edits:
        by_statement.setdefault((edit.source.path, edit.statement.start), []).append(edit)
    before, after = [], []
    for key in sorted(by_statement):
        statement_edits = by_statement[key]
        statement = statement_edits[0].statement
        source = statement.source
        first, last = source.line_span(statement)
        old = source.text[first:last]
        new = old
        for edit in sorted(statement_edits, key=lambda e: e.start, reverse=True):
            new = new[:max(edit.start - first, 0)] + edit.text + new[edit.end - first:]
        reasons = '; '.join(edit.reason for edit in statement_edits)
        header = '# %s:%d-%d: %s\n' % (source.path, statement.start, statement.end, reasons)
        before.append(header + mask_secrets(unix_newlines(old)))
        after.append(header + mask_secrets(unix_newlines(new)))
    return dict(before=''.join(before), after=''.join(after),
                before_header='settings statements', after_header='settings statements')
