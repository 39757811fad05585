# okta-auth0-sync: the two commands are `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ACTION := auth0/actions/deny-deactivated
export SAM_CLI_TELEMETRY := 0
# Bytecode is written (.gitignore'd; sam build leaves __pycache__ out): the suite's workers and a
# second run reuse it instead of compiling and assert-rewriting every module again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help test demo lint typecheck validate bytecode unit package-check coverage action-test build wheelhouse bench sandbox clean

help:
	@echo "make test      lint, type check, template validation, every test (Python and the Auth0 Action)"
	@echo "make package-check  sam build offline (a step of make test) and what it built"
	@echo "make coverage  the Python suite with line and branch coverage (library, handlers, CLI)"
	@echo "make demo      run the flows end to end on the embedded sandbox tenants and moto"
	@echo "make build     sam build (no Docker, no python3.13: makefile build method)"
	@echo "make wheelhouse  the layer's wheels, for WHEELHOUSE=\$$PWD/.wheelhouse make build offline"
	@echo "make bench     benchmarks (cold start, API calls, tokens, provisioning throughput)"
	@echo "make sandbox   sandbox Okta and Auth0 tenants + moto with the stack, and .sandbox/env.json for sam local"

$(STAMP): requirements-dev.txt layers/identity/requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy --strict on the domain library; the files and settings are in pyproject.toml [tool.mypy].
typecheck: $(STAMP)
	$(VENV)/bin/mypy --config-file pyproject.toml

validate: $(STAMP)
	$(VENV)/bin/sam validate --lint --template template.yaml

# The suite on two workers (pyproject addopts: -n 2; `-n 0` for one process).
unit: $(STAMP)
	$(VENV)/bin/pytest

# `sam build` offline (cp313/arm64 wheels from a wheelhouse, no package index), and what it built.
package-check: $(STAMP)
	$(VENV)/bin/pytest -q -n 0 -m packaging tests/template/test_build.py

# Line and branch coverage of the library the layer ships (and of the handlers and the CLI), not
# part of make test: measuring costs CPU. Same suite, same workers; the report is printed.
coverage: $(STAMP)
	$(VENV)/bin/pytest -q --cov=okta_auth0_sync --cov=functions --cov=okta_auth0_sync_cli --cov-branch \
	  --cov-report=term:skip-covered

# The fuzz suites' long profile: 20,000 generated inputs per entry point (make test runs 300,
# derandomized); the figures (inputs per entry point, 5xx and unhandled exceptions seen) and the
# slowest tests are printed at the end. Each test is a unit of work for either worker (worksteal),
# not each module as in make test: one module's tests take minutes each.
.PHONY: fuzz-long
fuzz-long: $(STAMP)
	HYPOTHESIS_PROFILE=long $(VENV)/bin/pytest tests/fuzz -q --dist worksteal --durations=25

# Okta refresh-token rotation: 1,000 refreshes by 8 concurrent containers over ~40 simulated days,
# 2% of the holders killed between Okta's answer and the secret write (make test runs 8).
.PHONY: refresh-rotation
refresh-rotation: $(STAMP)
	$(PY) -m bench refresh_rotation --refreshes 1000 --containers 8

action-test:
	@command -v node >/dev/null || { echo "Node.js 20+ is required for the Auth0 Action tests"; exit 1; }
	cd $(ACTION) && node --test

# The checks that use one core each run two at a time, beside a collection of the suite that
# writes its bytecode (pytest's rewritten test modules included), so that on a fresh clone the
# suite's two workers start warm instead of both compiling everything; then the suite, the
# packaging check and the Action tests, one after another.
test:
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint typecheck validate bytecode
	@$(MAKE) --no-print-directory unit package-check action-test

bytecode: $(STAMP)
	$(VENV)/bin/pytest --collect-only -q -n 0 > /dev/null

demo: $(STAMP)
	$(PY) -m okta_auth0_sync_testbed.demo

build: $(STAMP)
	$(VENV)/bin/sam build --template template.yaml

# The layer's cp313/aarch64 wheels, for `WHEELHOUSE=$(CURDIR)/.wheelhouse make build` with no network.
wheelhouse: $(STAMP)
	$(PY) -m pip download --quiet --requirement layers/identity/requirements.txt --dest .wheelhouse \
	  --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 --platform manylinux_2_34_aarch64 \
	  --implementation cp --python-version 3.13 --only-binary=:all:

bench: $(STAMP)
	$(PY) -m bench

sandbox: $(STAMP)
	$(PY) -m okta_auth0_sync_testbed.sam_local

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache .wheelhouse .bench
