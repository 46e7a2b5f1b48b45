# Concilia — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export CONCILIA_INSTANCE_PATH ?= $(CURDIR)/instance
export FLASK_APP := core:create_app

.PHONY: run test install assets translations translations-compile lint bench clean help

help:
	@echo "make run           set up, migrate, load the Isola-Garibaldi demo, serve on http://127.0.0.1:5000"
	@echo "make test          install test tools and run the whole suite (SQLite, and PostgreSQL if CONCILIA_TEST_DATABASE_URL is set)"
	@echo "make translations  extract, update and compile the gettext catalogs"
	@echo "make lint          ruff"
	@echo "make bench         benchmark the platform against a bare-Flask baseline (docs/performance.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	@echo "==> Installing Concilia and its dependencies into $(VENV)"
	$(BIN)/pip install --quiet -e '.[test,prod]'
	@touch $@

install: $(VENV)/.installed assets translations-compile

core/static/vendor/.installed: package.json
	@echo "==> Installing front-end assets (Bootstrap Italia)"
	npm install --no-audit --no-fund --loglevel=error
	rm -rf core/static/vendor && mkdir -p core/static/vendor
	cp -r node_modules/bootstrap-italia/dist core/static/vendor/bootstrap-italia
	cp node_modules/axe-core/axe.min.js core/static/vendor/axe.min.js
	@touch $@

assets: core/static/vendor/.installed

translations-compile: $(VENV)/.installed
	@$(BIN)/python -m core.i18n_tools compile

translations: $(VENV)/.installed
	$(BIN)/python -m core.i18n_tools extract update
	$(BIN)/python -m core.i18n_tools fill
	$(BIN)/python -m core.i18n_tools compile

run: install
	@echo "==> Migrating the database"
	$(BIN)/concilia db upgrade
	@echo "==> Loading the demo data"
	$(BIN)/concilia demo load
	$(BIN)/concilia demo logins
	@echo "==> Serving on http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(BIN)/concilia run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The benchmark (docs/performance.md): e.g. make bench BENCH_ARGS="--size small --backends sqlite"
bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules core/static/vendor instance .pytest_cache

# Until the first release, the schema is one migration, regenerated after model changes:
migration-reset: $(VENV)/.installed
	rm -f core/migrations/versions/*.py instance/migration-check.sqlite
	CONCILIA_DATABASE_URL=sqlite:///$(CURDIR)/instance/migration-check.sqlite $(BIN)/concilia db upgrade
	CONCILIA_DATABASE_URL=sqlite:///$(CURDIR)/instance/migration-check.sqlite $(BIN)/concilia db migrate --rev-id 0001 -m "initial schema"
	rm -f instance/migration-check.sqlite
