# Quick start: `make demo` runs the example project on the embedded fake Upscope;
# `make test` runs every check and test. Both create .venv themselves.
# `make help` lists the targets; docs/development.md explains them.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Two sets of extras, each with its own stamp: `make demo` installs only what the demo runs;
# every other target installs everything (a venv made by `make demo` gets the rest then).
DEMO_EXTRAS := drf,spectacular,example,tasks
DEV_EXTRAS := drf,spectacular,example,tasks,test,type,bench
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
# The pyenv interpreters for tox (3.10-3.13), put ahead of pyenv's shims.
PYENV_ROOT ?= $(HOME)/.pyenv
PYENV_BINS := $(subst $(eval) ,:,$(wildcard $(PYENV_ROOT)/versions/3.1[0-3].*/bin))
# make tox ARGS="-e py310-dj52 -- -x -q tests/test_types.py"
ARGS ?=
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
export DEMO_HOST DEMO_PORT

.PHONY: help venv demo test test-sqlite test-pg test-browser screenshots lint format type bench tox \
	reliability pg-start pg-stop pg-url clean

help:
	@echo "make demo          example project on the embedded fake: http://$(DEMO_HOST):$(DEMO_PORT)/admin/"
	@echo "                   (agent console: /console/; DEMO_PORT=8001 for another port)"
	@echo "make test          ruff, migrations check, tests on SQLite and PostgreSQL, browser tests"
	@echo "make test-sqlite   the suite on SQLite only (no browser tests)"
	@echo "make test-pg       the suite on a throwaway PostgreSQL cluster"
	@echo "make test-browser  the browser tests (Playwright + Debian's Chromium)"
	@echo "make screenshots   the README's screenshots (docs/screenshots/), from the demo"
	@echo "make lint          ruff check + ruff format --check"
	@echo "make format        ruff format + ruff check --fix"
	@echo "make type          mypy (django-stubs) on django_upscope"
	@echo "make reliability   the fault matrix, written to docs/reliability.md"
	@echo "make bench         every bench/bench_*.py (SQLite and a throwaway PostgreSQL)"
	@echo "make tox           the tox matrix on pyenv's Pythons (ARGS=\"-e py311-dj52\")"
	@echo "make pg-start|pg-url|pg-stop   a PostgreSQL cluster to use by hand"
	@echo "make clean         remove .venv, .tox, caches, artifacts, db.sqlite3"

$(STAMP): pyproject.toml scripts/bootstrap_venv.sh
	scripts/bootstrap_venv.sh $(DEV_EXTRAS)
	touch $(STAMP)

# The full install has every demo extra: when it is up to date, nothing to install.
$(DEMO_STAMP): pyproject.toml scripts/bootstrap_venv.sh
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ] \
		&& [ $(STAMP) -nt scripts/bootstrap_venv.sh ]; then \
		echo "$(VENV) has every extra already (make venv)"; \
	else \
		scripts/bootstrap_venv.sh $(DEMO_EXTRAS); \
	fi
	touch $(DEMO_STAMP)

venv: $(STAMP)

demo: $(DEMO_STAMP)
	scripts/demo.sh

test: $(STAMP)
	scripts/run_tests.sh all

test-sqlite: $(STAMP)
	scripts/run_tests.sh sqlite

test-pg: $(STAMP)
	scripts/run_tests.sh pg

test-browser: $(STAMP)
	scripts/run_tests.sh browser

# The README's screenshots (docs/screenshots/), taken by the browser tests from the demo.
screenshots: $(STAMP)
	scripts/ensure_chromium.sh
	UPSCOPE_SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest -m browser -p no:cacheprovider \
		tests/browser/test_readme_screenshots.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

type: $(STAMP)
	$(VENV)/bin/mypy django_upscope

bench: $(STAMP)
	scripts/bench.sh

reliability: $(STAMP)
	$(VENV)/bin/pytest tests/reliability --reliability-report docs/reliability.md

tox: $(STAMP)
	@$(PY) -m tox --version >/dev/null 2>&1 || $(PY) -m pip install --quiet "tox>=4.14"
	PATH="$(PYENV_BINS):$$PATH" $(PY) -m tox $(ARGS)

pg-start:
	@scripts/pg_cluster.sh start

pg-url:
	@scripts/pg_cluster.sh url

pg-stop:
	@scripts/pg_cluster.sh stop

clean:
	-scripts/pg_cluster.sh stop
	rm -rf $(VENV) .tox .pytest_cache .mypy_cache .ruff_cache artifacts db.sqlite3 db.sqlite3-* \
		staticfiles
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
