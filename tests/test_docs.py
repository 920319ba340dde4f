"""The README a newcomer reads, the docs index, the flow picture and the troubleshooting page hold together."""
import html
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md")), *sorted((ROOT / "roles").glob("*/README.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
# Hosts of package indexes and mirrors: the user's pip and apt configuration decide those.
PACKAGE_HOSTS = re.compile(r"debian\.org|pypi\.org|pythonhosted\.org|ubuntu\.com|galaxy\.ansible\.com|://")


def links(page):
    return [a or b for a, b in LINK.findall(page.read_text())]


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page):
    return {slug(m) for m in re.findall(r"^#+ (.+)$", page.read_text(), re.M)}


def test_readme_is_short_and_names_the_two_commands():
    text = README.read_text()
    assert len(text.splitlines()) < 250
    assert "make demo" in text and "make test" in text


def test_readme_names_no_package_host():
    found = PACKAGE_HOSTS.findall(README.read_text())
    assert not found, f"README.md names package hosts or URLs: {found}"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page):
    broken = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):
            continue
        path, anchor = target.split("#", 1) if "#" in target else (target, "")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"


def test_docs_index_lists_every_page_and_only_pages_that_exist():
    index = DOCS / "README.md"
    linked = {(DOCS / target.partition("#")[0]).resolve() for target in links(index) if not target.startswith("../")}
    pages = {p.resolve() for p in DOCS.glob("*.md") if p.name != "README.md"}
    assert not pages - linked, f"docs pages missing from docs/README.md: {sorted(p.name for p in pages - linked)}"
    assert all(p.exists() for p in linked)


def test_readme_links_the_docs_index_and_the_generated_variables():
    targets = links(README)
    assert "docs/README.md" in targets and "docs/variables.md" in targets and "docs/troubleshooting.md" in targets


def test_flow_dot_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "flow_graph.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_flow_svg_is_rendered_from_the_current_dot():
    """Rendering needs Graphviz, the test does not: the picture must show every label of the DOT."""
    dot = (DOCS / "flow.dot").read_text()
    labels = {label.replace("\\n", "\n") for label in re.findall(r'label="((?:[^"\\]|\\.)*)"', dot)}
    svg = html.unescape((DOCS / "flow.svg").read_text())
    texts = "\n".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    missing = sorted(label for label in labels if any(line not in texts for line in label.split("\n")))
    assert not missing, f"docs/flow.svg lacks {missing}: run python scripts/flow_graph.py --render"
    assert "![" in README.read_text() and "(docs/flow.svg)" in README.read_text()


def test_troubleshooting_names_only_tests_that_exist():
    text = (DOCS / "troubleshooting.md").read_text()
    files = set(re.findall(r"`((?:tests|molecule)/[\w./-]+)`", text))
    scenarios = set(re.findall(r"Molecule\s+`(\w+)`", text))
    assert files and scenarios
    missing = sorted(f for f in files if not (ROOT / f).exists())
    missing += sorted(s for s in scenarios if not (ROOT / "molecule" / s / "molecule.yml").is_file())
    assert not missing, f"docs/troubleshooting.md names tests that do not exist: {missing}"
    # Each item says how it is covered.
    items = re.split(r"^### ", text, flags=re.M)[1:]
    uncovered = [item.splitlines()[0] for item in items if "**Covered by**" not in item]
    assert not uncovered, f"items that do not say how they are covered: {uncovered}"
