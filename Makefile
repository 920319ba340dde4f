# The two commands of the README: `make demo` runs the migration on the
# embedded sandbox, `make test` runs every test. Both bootstrap what they need.
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: bootstrap demo check test lint unit molecule bench ee clean

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	@$(ENV) bash scripts/demo.sh

# Two tiers (tests/conftest.py marks them). `make check` is the gate: lint, sanity, unit, docs, changelog
# and package tests, a few minutes. `make test` runs it first and stops if it fails, then everything else:
# the Molecule scenarios and the live tests, on containers of their own, three at a time (they wait on
# containers more than on the CPU). The order is the longest first, by the seconds the last complete run
# recorded in tests/durations.json (MALL_RECORD_DURATIONS); --no-loadscope-reorder keeps that order.
CHECK_WORKERS ?= 2
TEST_WORKERS ?= 3
PYTEST_TIER = MALL_RECORD_DURATIONS=1 pytest --dist loadgroup --no-loadscope-reorder --durations=20

check: bootstrap
	@$(ENV) $(PYTEST_TIER) -n $(CHECK_WORKERS) -m check tests

test: check
	@$(ENV) $(PYTEST_TIER) -n $(TEST_WORKERS) -m "not check" tests

lint: bootstrap
	@$(ENV) pytest tests/test_collection.py

unit: bootstrap
	@$(ENV) pytest tests/unit

molecule: bootstrap
	@$(ENV) pytest tests/test_molecule.py

# A benchmark, not a test (not part of `make test`): cache latency and migrate.yml timings on the
# bench's own containers (bn-*), see docs/benchmarks.md. BENCH_ARGS passes options to bench/run.py.
bench: bootstrap
	@$(ENV) { [ -x "$$MALL_CACHE/bench-venv/bin/python" ] || python3 -m venv "$$MALL_CACHE/bench-venv"; } \
	  && "$$MALL_CACHE/bench-venv/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt \
	  && python bench/run.py $(BENCH_ARGS) && "$$MALL_CACHE/bench-venv/bin/python" bench/report.py

# The execution environment of meta/ee-image.yml, built offline (scripts/ee.sh).
ee: bootstrap
	@$(ENV) bash scripts/ee.sh build

clean:
	@$(ENV) ansible-playbook molecule/resources/cleanup.yml && molecule destroy --all
