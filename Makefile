# Entry points: `make run` (the whole system on http://127.0.0.1:3000) and `make test`.
# Each creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# What sam build/deploy translate template.yaml with (the version aws-sam-cli pins), for the deploy
# tests (tests/unit/test_deploy_*.py). It pins pydantic ~=2.13 while the functions pin 2.14, so it is
# installed without its dependencies: it uses only pydantic's v1 API, which 2.14 keeps, and its other
# dependencies (boto3, jsonschema) are already in requirements-dev.txt's tree.
SAM_TRANSLATOR := aws-sam-translator==1.115.0
STAMP := $(VENV)/.installed-$(shell (cat requirements-dev.txt layers/shared/requirements.txt; echo $(SAM_TRANSLATOR)) | cksum | cut -d' ' -f1)
export PYTHONPATH := $(CURDIR)/layers/shared:$(CURDIR)/functions:$(CURDIR)
export SAM_CLI_TELEMETRY := 0  # the project's commands send nothing to AWS
PORT ?= 3000

.PHONY: install run test test-unit test-integration test-e2e test-bench lint format typecheck validate build bench keys clean schemas

install: $(STAMP)

$(STAMP): requirements-dev.txt layers/shared/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	@echo "Installing the Python dependencies into $(VENV) (once, or when a requirements file changes): about a minute."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps $(SAM_TRANSLATOR)
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install  ## the whole system locally: API on 127.0.0.1:$(PORT)
	$(PY) -m infra.local --port $(PORT)

test: install  ## every test: unit, integration (real PostgreSQL, moto), end-to-end (HTTP, local stack), bench smoke run
	$(PY) -m pytest

test-unit: install
	$(PY) -m pytest tests/unit

test-integration: install
	$(PY) -m pytest tests/integration

test-e2e: install
	$(PY) -m pytest tests/e2e

test-bench: install  ## every benchmark at tiny sizes (python -m bench --smoke); writes nothing
	$(PY) -m pytest tests/bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schemas: install  ## regenerate schema/ exports: OpenAPI, event JSON Schemas, GraphQL SDL
	$(PY) -m infra.export_schemas
	$(PY) -m francium.graphql.export


SAM_VENV := .venv-sam
SAM_VERSION := 1.170.0
# sam build needs the functions' runtime (python3.12) on PATH; pyenv keeps it out of PATH when it is not the default.
PY312_DIR := $(shell for p in "$$(command -v python3.12)" $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12; do \
	[ -x "$$p" ] && "$$p" -c 'import sys' 2>/dev/null && dirname "$$(readlink -f "$$p")" && break; done)

$(SAM_VENV)/bin/sam:
	@echo "Installing aws-sam-cli $(SAM_VERSION) into $(SAM_VENV) (first use only): a few minutes."
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION)

build: $(SAM_VENV)/bin/sam  ## sam build (arm64, Python 3.12) into .aws-sam/; the shared layer trimmed and its unzipped size reported
	@test -n "$(PY312_DIR)" || { echo "sam build needs Python 3.12 (python3.12 on PATH, or pyenv install 3.12)"; exit 1; }
	PATH="$(PY312_DIR):$$PATH" $(SAM_VENV)/bin/sam build --cached --parallel
	@$(PYTHON) -m infra.layer .aws-sam/build/SharedLayer

CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30

$(CHECKOV_VENV)/bin/checkov:
	@echo "Installing checkov $(CHECKOV_VERSION) into $(CHECKOV_VENV) (first use only): a few minutes."
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

validate: install $(SAM_VENV)/bin/sam $(CHECKOV_VENV)/bin/checkov  ## offline checks: cfn-lint, sam validate --lint, checkov
	$(VENV)/bin/cfn-lint template.yaml infra/cloudformation/*.yaml
	$(SAM_VENV)/bin/sam validate --lint --region us-east-1
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f template.yaml $(addprefix -f ,$(wildcard infra/cloudformation/*.yaml))

keys: install  ## a development signing key under .local/keys (never committed)
	$(PY) -c 'from pathlib import Path; from infra.local.services import ensure_dev_keys; print(ensure_dev_keys(Path(".local/keys")))'

clean:
	rm -rf .local .pytest_cache .mypy_cache .ruff_cache .aws-sam .venv-sam .venv-checkov

bench: install  ## every benchmark; writes bench/results.json (see docs/benchmarks.md); BENCH_ARGS="--out DIR" writes elsewhere
	$(PY) -m bench $(BENCH_ARGS)


# Reliability: check and repair what the change feed derives, and a repeatable fault run.
.PHONY: verify rebuild chaos

# verify / rebuild: what the change feed derives (the read cache, a transfer's system message)
# against PostgreSQL: run with the environment `make run` has (see infra/local/maintenance.py).
# AGGREGATE=<type>#<id> limits either to one aggregate.
verify: install  ## the running local stack's read cache and derived writes against PostgreSQL (exit 1 on drift)
	$(PY) -m infra.local.maintenance verify $(if $(AGGREGATE),--aggregate '$(AGGREGATE)')

rebuild: install  ## repair them: re-derive missing derived writes, replay what the read cache lacks
	$(PY) -m infra.local.maintenance rebuild $(if $(AGGREGATE),--aggregate '$(AGGREGATE)')

# chaos: SIGKILL the local stack at random points under a mixed load from several client processes,
# retry what was not acknowledged, and check that nothing acknowledged or derived was lost
# (docs/reliability.md). Local only, bounded, a few minutes. CHAOS_ARGS="--seed N --record docs/reliability.md".
chaos: install  ## a repeatable fault run: kills, retries, then every acknowledged and derived write checked
	$(PY) -m infra.chaos $(CHAOS_ARGS)
