"""The changelog is antsibull-changelog's: fragments lint clean, CHANGELOG.rst is what it generates.

Releases are recorded in changelogs/changelog.yaml (`antsibull-changelog release`, which also
removes the fragments it took). Every change after a release adds a fragment to
changelogs/fragments/; the next release takes it. antsibull-changelog runs from
.cache/sanity-venv (requirements/sanity.txt) and asks the tools' ansible-doc for the plugins.
"""
import os
import pathlib
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = pathlib.Path(os.environ.get("MALL_CACHE", str(ROOT / ".cache")))
ANTSIBULL_CHANGELOG = CACHE / "sanity-venv" / "bin" / "antsibull-changelog"
CHANGES = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())


def changelog(command, *args, cwd=ROOT):
    assert ANTSIBULL_CHANGELOG.is_file(), f"{ANTSIBULL_CHANGELOG} missing: run scripts/bootstrap.sh"
    if command != "lint":
        # The plugins' descriptions come from the tools' ansible-doc, which finds this collection.
        ansible_doc = shutil.which("ansible-doc")
        assert ansible_doc, "ansible-doc is not on PATH (source scripts/env.sh)"
        args = (*args, "--ansible-doc-bin", ansible_doc)
    return subprocess.run([str(ANTSIBULL_CHANGELOG), command, *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def version_tuple(version):
    return tuple(int(part) for part in version.split("."))


def test_fragments_and_changelog_yaml_lint_clean():
    result = changelog("lint")
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_release_1_0_0_is_recorded_and_galaxy_is_not_behind():
    releases = CHANGES["releases"]
    assert "1.0.0" in releases
    assert releases["1.0.0"]["changes"]["release_summary"]
    assert releases["1.0.0"].get("modules"), "the modules of the first release are not recorded"
    latest = max(releases, key=version_tuple)
    assert version_tuple(GALAXY["version"]) >= version_tuple(latest)


def test_pending_fragments_are_new():
    """A fragment with the name of a released one would be taken twice, or silently skipped."""
    released = {name for release in CHANGES["releases"].values() for name in release.get("fragments", [])}
    pending = {p.name for p in (ROOT / "changelogs" / "fragments").glob("*.y*ml")}
    assert not pending & released, f"fragments already released: {sorted(pending & released)}"


def test_changelog_rst_is_generated(tmp_path):
    out = tmp_path / "CHANGELOG.rst"
    result = changelog("generate", "--output", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (ROOT / "CHANGELOG.rst").read_text() == out.read_text(), \
        "CHANGELOG.rst is not what antsibull-changelog generates: run antsibull-changelog generate"


@pytest.fixture
def copy_of_changelogs(tmp_path):
    """The changelog configuration and history in a scratch tree, to try fragments on."""
    for name in ("galaxy.yml", "CHANGELOG.rst"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "changelogs", tmp_path / "changelogs",
                    ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    (tmp_path / "changelogs" / "fragments").mkdir(exist_ok=True)
    return tmp_path


def test_a_new_fragment_lints_and_the_next_release_takes_it(copy_of_changelogs):
    fragments = copy_of_changelogs / "changelogs" / "fragments"
    (fragments / "99-next-change.yml").write_text("---\nbugfixes:\n  - verify - a change after the release.\n")
    result = changelog("lint", cwd=copy_of_changelogs)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    # A release in the scratch tree puts the fragment under the new version and removes it.
    (copy_of_changelogs / "plugins").symlink_to(ROOT / "plugins")
    result = changelog("release", "--version", "1.0.1", "--date", "2026-12-31", cwd=copy_of_changelogs)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (copy_of_changelogs / "CHANGELOG.rst").read_text()
    assert text.index("v1.0.1") < text.index("a change after the release") < text.index("v1.0.0")
    assert not (fragments / "99-next-change.yml").exists()


def test_a_fragment_with_an_unknown_section_fails_lint(copy_of_changelogs):
    (copy_of_changelogs / "changelogs" / "fragments" / "99-typo.yml").write_text("---\nbug_fixes:\n  - x - y.\n")
    result = changelog("lint", cwd=copy_of_changelogs)
    assert result.returncode != 0 and "invalid section: bug_fixes" in result.stdout
