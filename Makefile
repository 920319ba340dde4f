# The two commands of the README: `make demo` runs the migration on the
# embedded sandbox, `make test` runs every test. Both bootstrap what they need.
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: bootstrap demo test lint unit molecule bench ee clean

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	@$(ENV) bash scripts/demo.sh

# Three workers: the Molecule scenarios and live tests wait on containers more than on the CPU.
# --no-loadscope-reorder: in the order tests/conftest.py sorts them (the longest first), not by
# the number of tests in a file. --durations: the 30 slowest tests in the log.
TEST_WORKERS ?= 3

test: bootstrap
	@$(ENV) pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=30 tests

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
