# Two commands set everything up on a fresh machine with Python 3.11:
#   make run    create .venv, install, migrate, import the course, add demo accounts (development),
#               serve on 127.0.0.1:$(PORT)
#   make test   create .venv, install with dev tools, run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: run test lint install install-dev clean bench

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed and was not found"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(FLASK) db upgrade
	$(FLASK) courses import courses/naltrexone
	@if [ "$${APP_ENV:-development}" = "development" ]; then $(FLASK) demo; fi
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

# Seeds PostgreSQL (BENCH_DATABASE_URL, or databases on the local server), serves the app with
# gunicorn and drives it with wrk; see bench/README.md. BENCH_LEARNERS defaults to "1000,100000".
bench: install
	$(BIN)/python -m bench.run

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache
