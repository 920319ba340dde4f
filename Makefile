# The two commands of the README: `make demo` runs the migration on the
# embedded sandbox, `make test` runs every test. Both bootstrap what they need.
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: bootstrap demo test lint unit molecule ee clean

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	@$(ENV) bash scripts/demo.sh

test: bootstrap
	@$(ENV) pytest tests

lint: bootstrap
	@$(ENV) pytest tests/test_collection.py

unit: bootstrap
	@$(ENV) pytest tests/unit

molecule: bootstrap
	@$(ENV) pytest tests/test_molecule.py

# The execution environment of meta/ee-image.yml, built offline (scripts/ee.sh).
ee: bootstrap
	@$(ENV) bash scripts/ee.sh build

clean:
	@$(ENV) ansible-playbook molecule/resources/cleanup.yml && molecule destroy --all
