# Two commands set everything up on a fresh machine with Python 3.11:
#   make run    create .venv, install, migrate, import the course, add demo accounts (development),
#               serve on 127.0.0.1:$(PORT)
#   make test   create .venv, install with dev tools, run the whole suite
# Both install the exact versions pinned (with hashes) in requirements/; `make lock` rewrites
# those files from pyproject.toml after a dependency is added or changed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PORT ?= 5000
# Exported, default included, for the server and the job worker `make run` starts: in development
# the links in e-mails go to http://127.0.0.1:$(PORT) unless PUBLIC_URL says otherwise (config.py).
export PORT
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
# pip itself is pinned too, so every install resolves and checks hashes the same way.
PIP_VERSION := 26.3

.PHONY: run test lint install install-dev lock lock-peers peers clean bench bench-cpu

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed and was not found"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)

# The lock pins every package; the project itself is then installed without resolving anything.
$(VENV)/.installed: $(BIN)/python requirements/main.txt pyproject.toml
	$(BIN)/pip install --quiet --require-hashes -r requirements/main.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python requirements/dev.txt pyproject.toml
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Re-resolve both lock files from pyproject.toml, for Python 3.11 on every platform. Pins already
# in the files are kept where pyproject allows them; `make lock UPGRADE=1` moves everything to the
# newest versions allowed. The runtime lock is constrained by the dev lock, so the two never disagree.
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade)
lock: $(VENV)/.installed-dev
	$(UV_COMPILE) --extra dev -o requirements/dev.txt
	$(UV_COMPILE) --extra redis -c requirements/dev.txt -o requirements/main.txt

# The job worker (e-mails, recalculations, reminders) runs beside the web server and stops with
# it: on Redis when REDIS_URL is set, else on the SQLite queue in instance/ (nothing to install).
# Its first line says which.
run: install
	$(FLASK) db upgrade
	$(FLASK) courses import --keep-published courses/naltrexone
	@if [ "$${APP_ENV:-development}" = "development" ]; then $(FLASK) demo; fi
	@trap 'kill -INT $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(FLASK) jobs worker & worker=$$!; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The real counterparts the tests start on loopback, each in a venv of its own under .peers/ (their
# pins clash with ours), installed from hash-pinned files like ours: Ralph, a learning record store.
PEERS := .peers
$(PEERS)/ralph/.installed: requirements/ralph.txt
	rm -rf $(PEERS)/ralph
	$(PYTHON) -m venv $(PEERS)/ralph
	$(PEERS)/ralph/bin/python -m pip install --quiet pip==$(PIP_VERSION)
	$(PEERS)/ralph/bin/pip install --quiet --require-hashes -r requirements/ralph.txt
	@touch $@

# lti1p3platform, an LTI 1.3 platform the LTI tests run (tests/lti_platform).
$(PEERS)/lti/.installed: requirements/lti-platform.txt
	rm -rf $(PEERS)/lti
	$(PYTHON) -m venv $(PEERS)/lti
	$(PEERS)/lti/bin/python -m pip install --quiet pip==$(PIP_VERSION)
	$(PEERS)/lti/bin/pip install --quiet --require-hashes -r requirements/lti-platform.txt
	@touch $@

peers: $(PEERS)/ralph/.installed
peers: $(PEERS)/lti/.installed

lock-peers: $(VENV)/.installed-dev
	$(BIN)/uv pip compile requirements/ralph.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock-peers" --quiet $(if $(UPGRADE),--upgrade) -o requirements/ralph.txt
	$(BIN)/uv pip compile requirements/lti-platform.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock-peers" --quiet $(if $(UPGRADE),--upgrade) -o requirements/lti-platform.txt

# worksteal: a worker that runs out of tests takes some of the other's queue, so a run does not end
# with one core idle while the other works through the slow tests it was handed at the start.
test: install-dev peers
	$(BIN)/python -m pytest -n auto --dist worksteal $(PYTEST_ARGS)

# Seeds PostgreSQL (BENCH_DATABASE_URL, or databases on the local server), serves the app with
# gunicorn and drives it with wrk; see bench/README.md. BENCH_LEARNERS defaults to "1000,100000".
bench: install
	$(BIN)/python -m bench.run

# CPU per request in process (the app's and PostgreSQL's) beside the reference's, in about a
# minute, on the first size of BENCH_LEARNERS; see bench/cpu.py.
bench-cpu: install
	$(BIN)/python -m bench.cpu

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(PEERS) instance/*.db .pytest_cache
