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

## bench: seed BENCH_TICKETS tickets into BENCH_DATABASE_URL (once), time the pages, write docs/benchmarks.md
BENCH_TICKETS ?= 100000
BENCH_ARGS ?=
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench --tickets $(BENCH_TICKETS) $(BENCH_ARGS)
