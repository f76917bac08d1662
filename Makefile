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

.PHONY: run serve setup install test test-pg lint clean bench fuzz

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
	$(RUN_ENV) $(BIN)/gunicorn --bind $(HOST):$(PORT) --worker-class gthread --workers 2 --threads 4 \
		--timeout 30 --graceful-timeout 30 --keep-alive 5 --max-requests 20000 --max-requests-jitter 2000 \
		--access-logfile - wsgi:app

run: setup serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

test-pg: $(VENV)/.installed-dev
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# moto (for the S3 photo run) is a test dependency, hence the dev install. Each bench records its figures in
# bench/results/; the table in bench/README.md is then rebuilt from them, even when a bench failed (that bench
# keeps its previous figures and dates), and the target fails at the end if any bench did.
# `make bench BENCHES=photos.py` runs a subset and still rebuilds the whole table.
BENCHES := "sync.py --no-profile" "sync.py --no-profile --db postgresql" photos.py documents.py pwa.py load.py

bench: $(VENV)/.installed-dev
	@failed=""; \
	for bench in $(BENCHES); do \
		echo "== $(BIN)/python bench/$$bench"; \
		$(BIN)/python bench/$$bench || failed="$$failed, bench/$$bench (exit $$?)"; \
	done; \
	echo "== $(BIN)/python bench/results.py"; \
	$(BIN)/python bench/results.py || exit 1; \
	if [ -n "$$failed" ]; then echo "make bench: failed: $${failed#, }" >&2; exit 1; fi

# The long contract-fuzzing profile (the suite runs the short one): every role, every phase, a new seed.
fuzz: $(VENV)/.installed-dev
	$(BIN)/python bench/contract.py
