# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test test-fast install system-deps tasks-emulator lint typecheck unit bench token clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## The server on $(HOST):$(PORT) in local mode, with the embedded store and demo data; GraphiQL at /graphql.
run: install
	TIMELINE_ENV=local TIMELINE_DEMO_DATA=1 TIMELINE_PUBLIC_ORIGIN=http://$(HOST):$(PORT) \
	  $(BIN)/python -m serve --host $(HOST) --port $(PORT)

## Everything CI runs: lint, types, and the whole test suite on both stores.
test: install system-deps tasks-emulator lint typecheck unit

## The quick loop (under a minute): lint, and the tests that need no emulator and no subprocess server.
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q -x -m "not datastore and not slow"

# The Datastore emulator ships with the Google Cloud CLI and needs Java; the cache
# tests start a redis-server of their own (Debian's).
system-deps:
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing a Java runtime for the Cloud Datastore emulator"; \
	  apt-get update -qq && apt-get install -y -qq default-jre-headless >/dev/null; }
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server for the cache tests"; \
	  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

unit: install
	$(BIN)/pytest -q

## Benchmarks; results go into docs/PERFORMANCE.md by hand, as ratios from one run.
bench: install
	$(BIN)/python -m benchmarks

## A dev token for GraphiQL or curl: make token USER=alice
token: install
	@TIMELINE_ENV=local $(BIN)/python -m auth.dev_tokens $(USER)

clean:
	rm -rf $(VENV) .venv-tasks-emulator .mypy_cache .ruff_cache .pytest_cache .hypothesis

# The Cloud Tasks emulator (PyPI) pins protobuf<5, so it lives in a venv of its own.
TASKS_EMULATOR_VENV := .venv-tasks-emulator
$(TASKS_EMULATOR_VENV)/.installed: requirements-tasks-emulator.txt
	$(PYTHON) -m venv $(TASKS_EMULATOR_VENV)
	$(TASKS_EMULATOR_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-tasks-emulator.txt
	touch $@

tasks-emulator: $(TASKS_EMULATOR_VENV)/.installed
