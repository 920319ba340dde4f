"""scripts/debian_mirror.sh: bootstrap builds the test image from the mirror apt is configured with."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "debian_mirror.sh"

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://mirror.corp.test/debian-security
Suites: bookworm-security
Components: main

Types: deb-src deb
URIs: http://mirror.corp.test/debian/ http://second.corp.test/debian
Suites: bookworm bookworm-updates
Components: main
"""
DISABLED = """\
Enabled: no
Types: deb
URIs: http://disabled.corp.test/debian
Suites: bookworm
"""
ONE_LINE = """\
# deb http://commented.corp.test/debian bookworm main
deb-src http://src.corp.test/debian bookworm main
deb http://security.corp.test/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://list.corp.test/debian bookworm main
"""


def mirror(apt_dir, **env):
    """Run the script on apt_dir; MALL_DEBIAN_MIRROR only when the test sets it."""
    full = {k: v for k, v in os.environ.items() if k != "MALL_DEBIAN_MIRROR"}
    full.update(env)
    return subprocess.run(["bash", str(SCRIPT), str(apt_dir)], capture_output=True, text=True, check=False, env=full)


@pytest.fixture
def apt_dir(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    return tmp_path


def test_deb822_sources_give_the_first_main_archive_uri(apt_dir):
    (apt_dir / "sources.list.d" / "00-off.sources").write_text(DISABLED)
    (apt_dir / "sources.list.d" / "debian.sources").write_text(DEB822)
    (apt_dir / "sources.list").write_text(ONE_LINE)
    result = mirror(apt_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "http://mirror.corp.test/debian\n"


def test_one_line_sources_list_skips_comments_sources_options_and_security(apt_dir):
    (apt_dir / "sources.list").write_text(ONE_LINE)
    result = mirror(apt_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "http://list.corp.test/debian\n"


def test_no_source_fails_and_says_how_to_set_one(apt_dir):
    (apt_dir / "sources.list.d" / "off.sources").write_text(DISABLED)
    result = mirror(apt_dir)
    assert result.returncode == 1 and result.stdout == ""
    assert "MALL_DEBIAN_MIRROR" in result.stderr


def test_the_variable_overrides_apt(apt_dir):
    (apt_dir / "sources.list").write_text(ONE_LINE)
    result = mirror(apt_dir, MALL_DEBIAN_MIRROR="http://override.corp.test/debian")
    assert result.stdout == "http://override.corp.test/debian\n"


def test_bootstrap_names_no_mirror_of_its_own():
    text = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "debian_mirror.sh" in text
    assert "deb.debian.org" not in text and "http://" not in text
