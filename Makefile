# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint install install-dev bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: migrate, load the demo into an empty database, serve web + worker + cron
run: $(VENV)/.installed
	exec $(BIN)/python -m helpdesk.local_stack

## test: lint, then the whole test suite
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

## bench: seed BENCH_DATABASE_URL (once), serve it with gunicorn, time every generated scenario, update docs/benchmarks.md
# BENCH_TICKETS empty: 1,000,000 on PostgreSQL, 100,000 on SQLite (the issue's sizes).
BENCH_TICKETS ?=
BENCH_ARGS ?=
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench --http $(if $(BENCH_TICKETS),--tickets $(BENCH_TICKETS)) $(BENCH_ARGS)
