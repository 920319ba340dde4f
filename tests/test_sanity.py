"""ansible-test sanity on the collection, with no ignore files, with the ansible-core of
requirements/sanity.txt from .cache/sanity-venv (bootstrap stage sanity-venv). How it runs offline
in a copy of the collection: tests/ansible_test_run.py.
"""
import pytest
from ansible_collections.mall.cache_migration.tests.ansible_test_run import (
    CACHE, EXCLUDED, SANITY_TESTS, SanityVenv, collection_files, listed_tests,
)

SANITY_VENV = SanityVenv(CACHE / "sanity-venv")


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A copy of the collection in an ansible_collections tree, and ansible-test's HOME."""
    if not SANITY_VENV.ansible_test_path.exists():
        pytest.fail(f"{SANITY_VENV.ansible_test_path} is missing: run scripts/bootstrap.sh")
    return SANITY_VENV.collection(tmp_path_factory)


@pytest.fixture(scope="module")
def sanity(collection):
    """Run every sanity test once; return {test: junit testcase} and the console output."""
    return SANITY_VENV.sanity(collection, SANITY_TESTS)


def test_collection_has_no_sanity_ignore_files():
    ignores = [p for p in collection_files() if p.startswith("tests/sanity/") and "ignore" in p]
    assert not ignores, f"sanity must pass without ignore files: {ignores}"


def test_every_sanity_test_is_run_or_excluded_with_a_reason(collection):
    proc, log = SANITY_VENV.ansible_test(collection, "sanity", "--list-tests", timeout=300)
    assert proc.returncode == 0, log
    assert listed_tests(proc) == set(SANITY_TESTS) | set(EXCLUDED), log


@pytest.mark.parametrize("name", SANITY_TESTS)
def test_sanity(sanity, name):
    problems = sanity.problems(name)
    assert not problems, problems
