# Two commands on a fresh machine with Python 3.11+ and make:
#   make demo   - virtual environment, install, load the demo, run the pipeline, serve the API
#   make test   - development install, lint, type check, the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

ASSETS := legation/web/static/build/dashboard.js
NODE_MODULES := frontend/node_modules/.package-lock.json

.PHONY: demo test lint typecheck pytest bench docs clean assets

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(STAMP_DEV): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@ $(STAMP_RUN)

# The dashboard's browser code: npm packages from package-lock.json, bundled by esbuild.
$(NODE_MODULES): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

$(ASSETS): $(NODE_MODULES) frontend/build.mjs $(wildcard frontend/src/*.js)
	cd frontend && npm run build

assets: $(ASSETS)

demo: $(STAMP_RUN) $(ASSETS)
	$(BIN)/legation demo

test: $(STAMP_DEV) $(ASSETS) lint typecheck pytest

lint: $(STAMP_DEV)
	$(BIN)/ruff check legation tests bench
	$(BIN)/ruff format --check legation tests bench

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

pytest: $(STAMP_DEV)
	$(BIN)/pytest

bench: $(STAMP_DEV)
	$(BIN)/python bench/pipeline_throughput.py
	$(BIN)/python bench/alert_latency.py

docs: $(STAMP_DEV)
	$(BIN)/python -m legation.docs_cli > docs/cli.md
	$(BIN)/python -m legation.docs_cli settings > docs/settings.md

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache frontend/node_modules \
		legation/web/static/build test-artifacts
