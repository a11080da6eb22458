# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test test-fast deploy-check install node-deps system-deps tasks-emulator lint typecheck unit bench token clean schema config-doc

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# The repository's one package.json: GraphiQL's files (served by the app), the Apollo
# Client tests and the GraphQL-over-HTTP audit (graphql-http), as package-lock.json
# pins them. Without npm, `make run` still serves the API; GraphiQL's page then says to
# run `npm ci` (and `make test` installs npm first, through system-deps).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  echo "npm is missing (make system-deps installs it): GraphiQL will not be served" >&2; \
	fi

node-deps: node_modules/.installed

## The server on $(HOST):$(PORT) in local mode, with the embedded store and demo data; GraphiQL at /graphql.
run: install node-deps
	TIMELINE_ENV=local TIMELINE_DEMO_DATA=1 TIMELINE_PUBLIC_ORIGIN=http://$(HOST):$(PORT) \
	  $(BIN)/python -m serve --host $(HOST) --port $(PORT)

## Everything CI runs: lint, types, and the whole test suite on both stores.
test: install system-deps node-deps tasks-emulator lint typecheck unit

## The quick loop (under a minute): lint, and the tests that need no emulator and no subprocess server.
# Compiled modules, and pytest's rewritten test modules, are kept between runs (in
# __pycache__, ignored by git and the Docker build) even where the environment turns
# bytecode off: each of the processes would otherwise compile the app and rewrite
# every test module again on every run, a third of the loop's CPU time.
test-fast: export PYTHONDONTWRITEBYTECODE :=
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q -x -n $(TEST_WORKERS) --dist loadscope -m "not datastore and not slow"

## Offline checks of everything that is deployed (docs/DEPLOY.md): app.yaml, cron.yaml,
## queue.yaml and index.yaml through the Cloud SDK's own loaders; the Dockerfile,
## .dockerignore and Cloud Run's service.yaml; every gcloud command in docs/DEPLOY.md and
## those the deploy tools print, against the installed SDK; and the app started from the
## deploy files as App Engine and as Cloud Run start it, against the emulators.
deploy-check: install system-deps tasks-emulator
	$(BIN)/pytest -q tests/test_config_files.py tests/test_deploy_files.py \
	  tests/test_deploy_guide.py tests/test_startup.py

# Debian's packages the tests need, installed only when missing: Java for the Datastore
# emulator (it ships with the Google Cloud CLI), Chromium for the GraphiQL browser test,
# Node.js and npm for GraphiQL's files, the Apollo Client tests and the audit, and
# redis-server, which the cache tests start on their own, and wrk, the C load generator
# bench_workers uses (a Python one takes too much of two cores from the servers).
system-deps:
	@missing=""; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

# Line coverage of the app's code (pyproject.toml's [tool.coverage.run]) below which
# `make test` fails: a point or two under the figure measured when it was set
# (COVERAGE_MEASURED); raise both as the tests grow. Only the total is printed;
# `.venv/bin/coverage report` prints the table of what is not covered afterwards.
COVERAGE_MEASURED := 93.6
COVERAGE_FLOOR := 92

# The suite in TEST_WORKERS processes (pytest-xdist), a test module to a process
# (--dist loadscope: a module's fixtures start once). Half of a serial run was
# waiting (on emulators, servers in subprocesses, queues' etas), so twice as many
# processes as a 2-core machine's cores still shorten it (docs/ARCHITECTURE.md,
# Tests); each process starts the emulators its tests ask for.
TEST_WORKERS ?= 4

unit: install
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope --cov --cov-report= --cov-fail-under=$(COVERAGE_FLOOR)

## Benchmarks; results go into docs/PERFORMANCE.md by hand, as ratios from one run.
bench: install system-deps
	$(BIN)/python -m benchmarks

## schema.graphql from the live schema; refuses breaking changes not listed in docs/SCHEMA_CHANGELOG.md.
schema: install
	$(BIN)/python -m schema.export

## docs/CONFIGURATION.md from the variables declared in settings/ (a test fails when it is stale).
config-doc: install
	$(BIN)/python -m settings.doc

## A dev token for GraphiQL or curl: make token USER=alice
token: install
	@TIMELINE_ENV=local $(BIN)/python -m auth.dev_tokens $(USER)

clean:
	rm -rf $(VENV) .venv-tasks-emulator node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis

# The Cloud Tasks emulator (PyPI) pins protobuf<5, so it lives in a venv of its own.
TASKS_EMULATOR_VENV := .venv-tasks-emulator
$(TASKS_EMULATOR_VENV)/.installed: requirements-tasks-emulator.txt
	$(PYTHON) -m venv $(TASKS_EMULATOR_VENV)
	$(TASKS_EMULATOR_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-tasks-emulator.txt
	touch $@

tasks-emulator: $(TASKS_EMULATOR_VENV)/.installed
