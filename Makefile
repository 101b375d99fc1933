# barrack-ops: every entry point a new user or CI needs.
#   make demo   set up, then run the recipes against the embedded simulator
#   make test   set up, then run ruff, mypy (strict) and the whole pytest suite
#   make up     a local Prefect server, UI, simulator, work pool, deployments and a worker
#               (make up DB=postgres: the Prefect server on the stack's own PostgreSQL)
#   make down   stop everything make up started
#   make dist   a wheel, an sdist and constraints.txt (the locked runtime versions) in dist/
#   make image  the container image (Dockerfile) from make dist's output
#   make bench-fleet   the recipes at fleet scale (prints figures; not part of make test)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements-dev.lock
# The runtime dependencies alone, at the dev lock's versions: the wheel's constraints file.
RUNTIME_LOCK := requirements.lock
STAMP := $(VENV)/.installed

# Prefect keeps its database under the repo, never under ~/.prefect, and stays offline.
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: dist image install demo test lint typecheck pytest bench bench-fleet chaos-long clean sim lock system-deps up down

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "barrack-ops needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

# uv makes a fresh install take seconds; plain pip is the fallback when uv cannot be had.
$(STAMP): $(BIN)/python $(LOCK) pyproject.toml
	@if $(BIN)/python -m pip install --quiet uv >/dev/null 2>&1 && $(BIN)/python -m uv --version >/dev/null 2>&1; then \
		echo "installing from $(LOCK) with uv"; \
		$(BIN)/python -m uv pip sync --quiet --python $(BIN)/python $(LOCK) && \
		$(BIN)/python -m uv pip install --quiet --python $(BIN)/python --no-deps -e . ; \
	else \
		echo "uv unavailable: installing from $(LOCK) with pip"; \
		$(BIN)/python -m pip install --quiet -r $(LOCK) && \
		$(BIN)/python -m pip install --quiet --no-deps -e . ; \
	fi
	@touch $(STAMP)

demo: install
	$(BIN)/barrack-ops demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install system-deps
	$(BIN)/pytest

# The SSH probe and restore verification are tested against a real OpenSSH server on
# loopback, the Prefect UI with Debian's headless Chromium (driven by Playwright, which
# downloads no browser), and the stack on PostgreSQL with Debian's postgresql (its programs
# only: the stack runs its own server, never the system service). Install what is missing
# where we may (root with apt); otherwise those tests skip and say why.
system-deps:
	@missing=""; \
	[ -x /usr/sbin/sshd ] || missing="$$missing openssh-server"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	{ command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || \
		missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing$$missing for the SSH and browser tests"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "note: missing$$missing; the tests that need them will be skipped"; \
		fi; \
	fi

test: lint typecheck pytest

bench: install
	$(BIN)/python -m benchmarks.simulator_throughput

# The recipes at fleet scale (docs/performance.md): N = 100, 1,000, 5,000, about 40 minutes.
# Narrow it with ARGS, e.g. make bench-fleet ARGS="--sizes 1000 --recipes nightly,naive";
# DB=postgres runs the Prefect server on a PostgreSQL of its own (as make up DB=postgres).
bench-fleet: install
	$(BIN)/python -m benchmarks.fleet $(if $(DB),--db $(DB)) $(ARGS)

# The long chaos run (docs/reliability.md): more seeds and rounds than make test.
chaos-long: install
	$(BIN)/python -m tests.chaos.long $(ARGS)

sim: install
	$(BIN)/barrack-ops sim --clock 60

# The production path on one machine: Prefect server and UI, simulator, receiver, work pool,
# every deployment of deployments/prefect.yaml, one worker (docs/operations.md).
# DB=postgres (or BARRACK_STACK_DB=postgres) runs the Prefect server on the stack's own
# PostgreSQL, its data in .run/postgres (make system-deps installs the programs).
up: install
	$(BIN)/python -m deployments.stack up $(if $(DB),--db $(DB))

down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m deployments.stack down; \
	else echo "nothing to stop: $(VENV) does not exist"; fi

# Regenerate the lock after changing dependencies in pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev --extra pools --universal --python-version 3.11 -o $(LOCK)
	$(BIN)/python -m uv pip compile pyproject.toml --universal --python-version 3.11 -c $(LOCK) -o $(RUNTIME_LOCK)

# The installable artifact: the wheel is built from the sdist (so the sdist is complete),
# and constraints.txt pins every runtime dependency to the locked version. Install with
#   pip install -c dist/constraints.txt dist/barrack_ops-*.whl
DIST ?= dist
dist: install
	rm -rf $(DIST)
	$(BIN)/python -m uv build --quiet --out-dir $(DIST)
	cp $(RUNTIME_LOCK) $(DIST)/constraints.txt
	@ls -1 $(DIST)

IMAGE ?= barrack-ops:$(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
image: dist
	docker build --tag $(IMAGE) .

clean:
	rm -rf $(VENV) dist .prefect .mypy_cache .ruff_cache .pytest_cache .hypothesis
