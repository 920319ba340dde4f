"""The declared minimum ansible-core (galaxy.yml, meta/runtime.yml: 2.17) runs the collection:
`ansible-test sanity` and a playbook with the newest 2.17 on PyPI, from $MALL_CACHE/core217-venv
(requirements/ansible-core-2.17.txt, bootstrap stage core217-venv). tests/test_sanity.py does the
same with the ansible-core of tools.txt; both run as tests/ansible_test_run.py says.

The playbook: migrate.yml over the local connection on a throwaway project (tests/local_host.py),
with only the lock: the validation play, the lock taken and released by host_lock. And a bad value,
refused by the validation before the lock.
"""
import pytest
from ansible_collections.mall.cache_migration.tests.ansible_test_run import (
    CACHE, EXCLUDED, SANITY_TESTS, SanityVenv, listed_tests,
)
from ansible_collections.mall.cache_migration.tests.local_host import checksums, failures, make_host, run_playbook

CORE217 = SanityVenv(CACHE / "core217-venv")
ANSIBLE_PLAYBOOK = str(CORE217.bin / "ansible-playbook")
# A run that takes the lock and nothing else: every migrate.yml step is tagged, the lock is "always".
LOCK_ONLY = ("--tags", "no_step_but_the_lock")


@pytest.fixture(scope="module")
def venv():
    if not CORE217.ansible_test_path.exists():
        pytest.fail(f"{CORE217.ansible_test_path} is missing: run scripts/bootstrap.sh")
    return CORE217


@pytest.fixture(scope="module")
def collection(venv, tmp_path_factory):
    return venv.collection(tmp_path_factory)


@pytest.fixture(scope="module")
def sanity(venv, collection):
    return venv.sanity(collection, SANITY_TESTS)


def test_it_is_ansible_core_2_17(venv):
    proc = venv.ansible_test(venv.path, "--version", timeout=60)[0]
    assert proc.stdout.split()[-1].startswith("2.17."), proc.stdout


def test_the_same_sanity_tests_as_on_the_newest_core(venv, collection):
    proc, log = venv.ansible_test(collection, "sanity", "--list-tests", timeout=300)
    assert proc.returncode == 0, log
    assert listed_tests(proc) == set(SANITY_TESTS) | set(EXCLUDED), log


@pytest.mark.slow
@pytest.mark.parametrize("name", SANITY_TESTS)
def test_sanity_on_the_minimum_core(sanity, name):
    problems = sanity.problems(name)
    assert not problems, problems


def test_a_playbook_takes_and_releases_the_lock_on_the_minimum_core(venv, tmp_path):
    host = make_host(tmp_path)
    result = run_playbook(host, "migrate.yml", {}, *LOCK_ONLY, ansible_playbook=ANSIBLE_PLAYBOOK)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    # The lock's parent is made, the lock itself is gone again, the project is untouched.
    assert (tmp_path / "run").is_dir() and not (tmp_path / "run" / "lock").exists()
    assert checksums(host["app"]) == host["before"]


def test_a_bad_value_is_refused_before_the_lock_on_the_minimum_core(venv, tmp_path, monkeypatch):
    host = make_host(tmp_path)
    monkeypatch.setenv("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.json")
    result = run_playbook(host, "migrate.yml", {"mall_db_port": 70000}, ansible_playbook=ANSIBLE_PLAYBOOK)
    assert result.returncode != 0
    [(play, failed)] = failures(result)
    assert play == "Check the settings of mall-server hosts" and "mall_db_port" in failed["msg"]
    assert not (tmp_path / "run").exists() and not (tmp_path / "restore-points").exists()
    assert checksums(host["app"]) == host["before"]
