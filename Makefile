# Two commands do all the set-up on a fresh machine:
#   make run   — virtual environment, install, migrate, load checklists and demo data, serve on :5000
#   make test  — virtual environment, install test tools, lint, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# `make run` is for a local machine: development unless the caller says otherwise.
RUN_ENV := APP_ENV=$${APP_ENV:-development}
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run serve setup install test test-pg lint clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	scripts/system-packages runtime
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	scripts/system-packages test
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

setup: install
	$(RUN_ENV) $(BIN)/flask --app wsgi db upgrade
	$(RUN_ENV) $(BIN)/flask --app wsgi checklists sync
	$(RUN_ENV) $(BIN)/flask --app wsgi demo seed

serve: install
	$(RUN_ENV) $(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --timeout 60 --access-logfile - wsgi:app

run: setup serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

test-pg: $(VENV)/.installed-dev
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# moto (for the S3 photo run) is a test dependency, hence the dev install.
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/sync.py --no-profile
	$(BIN)/python bench/sync.py --no-profile --db postgresql
	$(BIN)/python bench/photos.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/pwa.py
