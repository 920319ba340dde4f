# The two commands of the README: `make demo` runs the migration on the
# embedded sandbox, `make test` runs every test. Both bootstrap what they need.
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: bootstrap demo test lint unit molecule clean

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	@$(ENV) bash scripts/demo.sh

# Two workers: the Molecule scenarios and live tests wait on containers more than on the CPU.
TEST_WORKERS ?= 2

test: bootstrap
	@$(ENV) pytest -n $(TEST_WORKERS) --dist loadgroup tests

lint: bootstrap
	@$(ENV) pytest tests/test_collection.py

unit: bootstrap
	@$(ENV) pytest tests/unit

molecule: bootstrap
	@$(ENV) pytest tests/test_molecule.py

clean:
	@$(ENV) ansible-playbook molecule/resources/cleanup.yml && molecule destroy --all
