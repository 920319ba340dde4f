"""The settings editor on odd characters and layouts: the corpus we run against each release.

Each case either gives exactly the intended new source (the planned statements changed, every other byte kept)
or a Refusal that names the file and the line (refusal.file, refusal.line) and raises nothing else.

The main table puts one odd character into one slot of a settings file. Python's own compile() is the oracle
for which inputs must be handled: what it accepts must come out as the hand-written EXPECTED with the same
character in the same slot; what it refuses must be refused at that slot's line.
"""
from __future__ import annotations

import pytest

from ansible_collections.mall.cache_migration.plugins.module_utils._settings_source import (
    Planner,
    Refusal,
    SettingsFile,
    new_contents,
    statement_diff,
)

OPTIONS = dict(table="mall_cache", max_entries=20000, cull_frequency=3, defaults={})
MYSQL_OPTIONS = dict(OPTIONS, backend="mysql")
KEYS = ("REDIS_URL", "REDIS_PASSWORD")

# {slot} marks where one odd character goes; every other slot is empty. TEMPLATE is HEAD, the Redis alias, MIDDLE,
# the CELERY line and TAIL; EXPECTED the same with the alias on the database and without the CELERY line.
HEAD = (
    '"""Settings{docstring}."""\n'
    "import os{after_statement}\n"
    "{blank_line}\n"
    'SECRET_KEY = "x{in_string}y"  # key{in_comment}\n'
    "{before_caches}CACHES = {{{after_brace}\n"
    '    "default": {{\n'
)
MIDDLE = (
    "    }},\n"
    "}}{after_caches}\n"
    "{after_caches_line}\n"
)
TAIL = (
    "SECURE_SSL_REDIRECT = True\n"
    'ALLOWED_HOSTS = ["shop{string_after}.example"]\n'
    "DEBUG = False  # end{last_comment}\n"
)
TEMPLATE = HEAD + (
    '        "BACKEND": "django_redis.cache.RedisCache",\n'
    '        "LOCATION": "redis://127.0.0.1:6379/1",\n'
    '        "KEY_PREFIX": "mall",\n'
) + MIDDLE + "CELERY_TASK_ALWAYS_EAGER = True{in_removed}\n" + TAIL
# {in_removed} here: what of the removed CELERY line's slot lies past that line's end.
EXPECTED = HEAD + (
    "        'BACKEND': 'django.core.cache.backends.db.DatabaseCache',\n"
    "        'LOCATION': 'mall_cache',\n"
    "        'KEY_PREFIX': \"mall\",\n"
    "        'OPTIONS': {{'MAX_ENTRIES': 20000, 'CULL_FREQUENCY': 3}},\n"
) + MIDDLE + "{in_removed}" + TAIL
SLOTS = ("docstring", "after_statement", "blank_line", "in_string", "in_comment", "before_caches", "after_brace",
         "after_caches", "after_caches_line", "in_removed", "string_after", "last_comment")
# Characters str.splitlines() breaks at and Python's tokenizer does not (or only some of them), and the rest.
ODD_CHARACTERS = {
    "form_feed": "\f", "vertical_tab": "\v", "fs": "\x1c", "gs": "\x1d", "rs": "\x1e", "nel": "\x85",
    "line_separator": "\u2028", "paragraph_separator": "\u2029", "lone_cr": "\r", "crlf": "\r\n", "tab": "\t",
    "nul": "\x00", "euro": "\u20ac",
}


def render(template, slot, character):
    return template.format(**{name: character if name == slot else "" for name in SLOTS})


def slot_line(slot):
    """1-based line of a slot, as Python counts lines in the template."""
    text = render(TEMPLATE, slot, "\0")
    return text[:text.index("\0")].count("\n") + 1


def python_accepts(data):
    try:
        compile(data, "settings.py", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def edit(modules, settings="app.settings", options=None, keys=KEYS):
    """{module name: new bytes} of every module (unchanged ones as they were) and the plan."""
    options = OPTIONS if options is None else options
    files = {name: SettingsFile("/srv/%s.py" % name.replace(".", "/"), data, module=name)
             for name, data in modules.items()}
    edits = Planner(files, settings, set(files), {}, options).plan(keys, [])
    contents = new_contents(edits)
    return {name: contents.get(files[name].path, data) for name, data in modules.items()}, edits


def refusal_of(modules, **kwargs):
    with pytest.raises(Refusal) as caught:
        edit(modules, **kwargs)
    return caught.value


@pytest.mark.parametrize("character", list(ODD_CHARACTERS.values()), ids=list(ODD_CHARACTERS))
@pytest.mark.parametrize("slot", SLOTS)
def test_odd_character_in_each_slot_is_kept_or_refused_at_its_line(slot, character):
    data = render(TEMPLATE, slot, character).encode()
    if python_accepts(data):
        after, dummy = edit({"app.settings": data})
        # The removed statement takes its whole line with it, the odd character included; a CRLF ends that line
        # and leaves the template's own LF behind, as a blank line.
        kept = {"\r\n": "\n"}.get(character, "") if slot == "in_removed" else character
        assert after["app.settings"] == render(EXPECTED, slot, kept).encode()
    else:
        refusal = refusal_of({"app.settings": data})
        assert (refusal.file, refusal.line) == ("/srv/app/settings.py", slot_line(slot))


def crlf(text):
    return text.replace("\n", "\r\n")


def lone_cr(text):
    return text.replace("\n", "\r")


def tabs(text):
    return text.replace("    ", "\t")


def no_final_newline(text):
    return text[:-1]


def latin1_coding_line(text):
    return "# -*- coding: latin-1 -*-\n# caf\xe9\n" + text


LAYOUTS = {"crlf": crlf, "lone_cr": lone_cr, "tabs": tabs, "no_final_newline": no_final_newline}


@pytest.mark.parametrize("slot", ["", "after_caches", "after_caches_line", "before_caches"])
@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
def test_layouts_with_a_form_feed_give_exactly_the_intended_source(layout, slot):
    change = LAYOUTS[layout]
    after, edits = edit({"app.settings": change(render(TEMPLATE, slot, "\f")).encode()})
    assert after["app.settings"] == change(render(EXPECTED, slot, "\f")).encode()
    # The diff shows both statements, on LF line ends, whatever the file's.
    diff = statement_diff(edits)
    assert "\r" not in diff["before"] + diff["after"]
    assert "\nCELERY_TASK_ALWAYS_EAGER = True\n" in diff["before"] and "CELERY_TASK" not in diff["after"]


@pytest.mark.parametrize("slot", ["", "after_caches_line"])
def test_bom_is_kept(slot):
    bom = b"\xef\xbb\xbf"
    after, dummy = edit({"app.settings": bom + render(TEMPLATE, slot, "\f").encode()})
    assert after["app.settings"] == bom + render(EXPECTED, slot, "\f").encode()


@pytest.mark.parametrize("slot", ["", "after_caches_line", "in_comment"])
def test_latin1_coding_line_is_kept_in_latin1(slot):
    character = "\x85" if slot == "in_comment" else "\f"
    data = latin1_coding_line(render(TEMPLATE, slot, character)).encode("latin-1")
    after, dummy = edit({"app.settings": data})
    assert after["app.settings"] == latin1_coding_line(render(EXPECTED, slot, character)).encode("latin-1")


def test_multibyte_characters_on_the_edited_lines_keep_their_columns():
    data = ('CACHES = {"d\u20ac": {"BACKEND": "django_redis.cache.RedisCache", "KEY_PREFIX": "\u00e9t\u00e9\U0001f600"}}'
            '  # \u2028\n'
            'INSTALLED_APPS = ["caf\u00e9", "\u20ac"]  # \u2029\n')
    after, dummy = edit({"app.settings": data.encode()}, options=MYSQL_OPTIONS)
    assert after["app.settings"].decode() == (
        'CACHES = {"d\u20ac": {\n'
        "    'BACKEND': 'django_mysql.cache.MySQLCache',\n"
        "    'LOCATION': 'mall_cache',\n"
        "    'KEY_PREFIX': \"\u00e9t\u00e9\U0001f600\",\n"
        "    'OPTIONS': {'MAX_ENTRIES': 20000, 'CULL_FREQUENCY': 3, 'CULL_PROBABILITY': 0},\n"
        "}}  # \u2028\n"
        'INSTALLED_APPS = ["caf\u00e9", "\u20ac", \'django_mysql\']  # \u2029\n')


REDIS_CACHES = 'CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://r/1"}}\n'
NEW_CACHES = ("CACHES = {\"default\": {\n"
              "    'BACKEND': 'django.core.cache.backends.db.DatabaseCache',\n"
              "    'LOCATION': 'mall_cache',\n"
              "    'OPTIONS': {'MAX_ENTRIES': 20000, 'CULL_FREQUENCY': 3},\n"
              "}}\n")


def test_backslash_continuations_before_and_in_a_removed_statement():
    data = ("TIMEOUT = 60 + \\\n    240\n" + REDIS_CACHES
            + "CELERY_BROKER_URL = \\\n    'redis://r/0'\nDEBUG = \\\n  False\n")
    after, dummy = edit({"app.settings": data.encode()})
    assert after["app.settings"].decode() == "TIMEOUT = 60 + \\\n    240\n" + NEW_CACHES + "DEBUG = \\\n  False\n"


def test_from_base_import_caches_rewrites_the_base_binding():
    modules = {"app.settings.base": (REDIS_CACHES + "CELERY_X = 1\n").encode(),
               "app.settings.dev": b"from .base import CACHES\nCELERY_TASK_ALWAYS_EAGER = True\nDEBUG = True\n"}
    after, edits = edit(modules, settings="app.settings.dev")
    # base is imported for CACHES alone: its own CELERY_X is not a setting of app.settings.dev.
    assert after["app.settings.base"] == (NEW_CACHES + "CELERY_X = 1\n").encode()
    assert after["app.settings.dev"] == b"from .base import CACHES\nDEBUG = True\n"
    assert sorted((e.describe()["file"], e.setting) for e in edits) == [
        ("/srv/app/settings/base.py", "CACHES"), ("/srv/app/settings/dev.py", "CELERY_TASK_ALWAYS_EAGER")]


def test_from_a_module_outside_the_project_import_caches_plans_nothing_for_it():
    after, edits = edit({"app.settings": b"from django.conf.global_settings import CACHES\nDEBUG = True\n"})
    assert edits == []


@pytest.mark.parametrize("modules, line, reason", [
    ({"app.settings": b"from . import base\nCACHES = base.CACHES\n",
      "app.base": REDIS_CACHES.encode()}, 2, "CACHES is built by Attribute"),
    ({"app.settings": b"def caches():\n    return {'default': {}}\n\n\nCACHES = caches()\n"}, 5,
     "CACHES is built by Call"),
    ({"app.settings": b"import os\nif os.environ.get('X'):\n    CACHES = {}\n"}, 2, "sets CACHES inside if"),
    ({"app.settings": b"try:\n    CACHES = {}\nexcept Exception:\n    pass\n"}, 1, "sets CACHES inside try"),
    ({"app.settings": b"BASE = {}\nCACHES = {**BASE}\n"}, 2, "(or a ** merge)"),
    ({"app.settings": b"A = 1\n\nB = (\n"}, 3, "does not parse"),
    ({"app.settings": b"A = 1\nB = '\xff'\n"}, 2, "is not valid utf-8 text"),
    ({"app.settings": b"# -*- coding: no-such-codec -*-\nA = 1\n"}, 1, "unknown encoding"),
    ({"app.settings": b"\xef\xbb\xbf# -*- coding: latin-1 -*-\nA = 1\n"}, 1, "encoding problem"),
    ({"app.settings": b"A = 1\nB = 'x\x00'\n"}, 2, "null"),
    # A continuation joins the removed statement's line to the next statement's `;`.
    ({"app.settings": REDIS_CACHES.encode() + b"CELERY_X = 1 \\\n; DEBUG = True\n"}, 2,
     "the edited file would not parse"),
])
def test_shapes_that_cannot_be_edited_are_refused_at_their_line(modules, line, reason):
    refusal = refusal_of(modules)
    assert refusal.file == "/srv/app/settings.py" and refusal.line == line
    assert reason in refusal.reason
    assert refusal.describe() == dict(file=refusal.file, line=refusal.line, reason=refusal.reason)
