"""The bad-input table: each bad value is refused before the lock and before any change.

Every row of tests/bad_inputs.yml runs its playbook (migrate.yml unless the row says otherwise)
with the row's extra vars against a real host: this machine over the local connection, with a
throwaway project, restore point root and lock under a temporary directory. Each run must end
with rc != 0 and a message that names the variable; afterwards the lock's directory and the
restore point root do not exist and the project's files have their checksums of before. A
control run with valid settings takes and releases the lock, so the lock check can fail.

docs/bad-input.md holds the same table with the message each row gets;
MALL_WRITE_DOCS=1 pytest tests/test_bad_input.py rewrites it from the runs.
"""
import concurrent.futures
import json
import os
import pathlib
import re

import pytest
import yaml
from ansible_collections.mall.cache_migration.tests.local_host import checksums, make_host, run_playbook

ROOT = pathlib.Path(__file__).resolve().parent.parent
ROWS = yaml.safe_load((ROOT / "tests" / "bad_inputs.yml").read_text())
DOC = ROOT / "docs" / "bad-input.md"
IDS = [f"{row.get('playbook', 'migrate.yml')}-{row['variable']}-{n}" for n, row in enumerate(ROWS)]
# "failed: [host] (item=...) => {json}" or "fatal: [host]: FAILED! => {json}"
RESULT_LINE = re.compile(r"^(?:failed|fatal): \[[^\]]+\].*? => (\{.*\})$", re.M)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    return make_host(tmp_path_factory.mktemp("inp-bad-input"))


def messages(output):
    """The msg of every failed result in the default callback's output."""
    found = []
    for match in RESULT_LINE.finditer(output):
        try:
            found.append(json.loads(match.group(1))["msg"])
        except (ValueError, KeyError):
            continue
    return found


@pytest.fixture(scope="module")
def runs(host):
    """Every row's run, four at a time; each with the state of the host right after it."""
    def one(row):
        result = run_playbook(host, row.get("playbook", "migrate.yml"), row["extra"])
        state = {"lock": (host["base"] / "run").exists(), "restore_points": (host["base"] / "restore-points").exists(),
                 "files": checksums(host["app"])}
        return result, state

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, ROWS))


@pytest.mark.parametrize("index", range(len(ROWS)), ids=IDS)
def test_bad_input_is_refused_before_any_change(host, runs, index):
    row = ROWS[index]
    result, state = runs[index]
    output = result.stdout + result.stderr
    tail = "\n".join(output.splitlines()[-25:])
    assert result.returncode != 0, tail
    found = [m for m in messages(output) if row["variable"] in m]
    assert found, f"no failure message names {row['variable']}:\n{tail}"
    if row.get("hidden"):
        assert row["hidden"] not in output
    assert state == {"lock": False, "restore_points": False, "files": host["before"]}, tail
    # Refused by the validation play, before the play that takes the lock began.
    assert "PLAY [Check the settings of mall-server hosts]" in output and "Take the lock" not in output


def test_valid_settings_take_and_release_the_lock(host, runs):
    """The control: the same host with valid settings gets past the validation and takes the lock
    (its parent directory stays), so the lock check of the table could fail."""
    del runs  # after the table, which must find no lock directory
    result = run_playbook(host, "migrate.yml", {}, "--tags", "no_step_but_the_lock")
    assert result.returncode == 0, result.stdout[-3000:]
    assert (host["base"] / "run").is_dir()
    assert not (host["base"] / "run" / "lock").exists()
    assert checksums(host["app"]) == host["before"]


def render_doc(runs):
    lines = [
        "# Bad input: what is refused, and how",
        "",
        "Every playbook first runs `playbooks/validate.yml`, a play of its own that checks each setting against",
        "its kind (`roles/mall/vars/main.yml`: `__mall_input_kinds`, `__mall_input_rules`; the `invalid_settings` filter",
        "finds the broken ones in one pass) and stops every host before the lock and before any change. Role",
        "variables are checked when they are set. The table is the one `tests/test_bad_input.py` runs",
        "(`tests/bad_inputs.yml`), each row against a real host, asserting rc != 0, a message that names the variable,",
        "no lock directory, no restore point and the files unchanged. Values that may hold a secret are never shown.",
        "The messages below are the ones the runs print.",
        "",
        "| Playbook | Input (extra vars) | Message |",
        "|----------|--------------------|---------|",
    ]
    for row, (result, _state) in zip(ROWS, runs):
        found = [m for m in messages(result.stdout + result.stderr) if row["variable"] in m]
        message = (found[0] if found else "(none)").replace("\n", " ").replace("|", "\\|")
        extra = json.dumps(row["extra"]).replace("|", "\\|")
        code = f"`` {extra} ``" if "`" in extra else f"`{extra}`"
        lines.append(f"| {row.get('playbook', 'migrate.yml')} | {code} | {message} |")
    return "\n".join(lines) + "\n"


def test_the_docs_show_the_table_with_its_messages(runs):
    text = render_doc(runs)
    if os.environ.get("MALL_WRITE_DOCS"):
        DOC.write_text(text)
    assert DOC.read_text() == text, "docs/bad-input.md is stale: MALL_WRITE_DOCS=1 pytest tests/test_bad_input.py"


def test_the_table_has_at_least_25_distinct_inputs():
    distinct = {json.dumps([row.get("playbook", "migrate.yml"), row["extra"]], sort_keys=True) for row in ROWS}
    assert len(distinct) == len(ROWS) >= 25
