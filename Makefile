# Painting recommender. On a fresh machine: `make run` (demo server) and `make test` (whole suite).
# Both are safe to run again: the virtualenv is created once and requirements are reinstalled only
# when a requirements/*.txt file changes (checksum stamp in .venv/). README.md explains every target.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
WORKER_CONCURRENCY ?= 2
PYTEST_ARGS ?=
# pytest-xdist workers of `make test` (auto: one per CPU; 0: no parallelism)
TEST_WORKERS ?= auto
# `make test` runs the suite a second time on SQLite, the embedded default's database, less the
# unit layer and these folders, whose tests do not depend on the database (README, "Tests").
SQLITE_SKIP ?= tests/browser tests/infra tests/smoke
BENCH_ARGS ?=
DOCKER_COMPOSE ?= docker compose

PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
REQUIREMENTS := $(sort $(wildcard requirements/*.txt))

# Install requirements/$(1).txt into the virtualenv unless the stamp says these exact requirement
# files were installed already (a re-run costs a checksum, not a pip resolve).
define pip_sync
	@want=$$(cat $(REQUIREMENTS) | $(PY) -c "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"); \
	if [ "$$(cat $(VENV)/.installed-$(1) 2>/dev/null)" != "$$want" ]; then \
		echo "Installing requirements/$(1).txt into $(VENV)/ (first time: a few minutes)"; \
		$(PY) -m pip install --disable-pip-version-check -r requirements/$(1).txt && echo "$$want" > $(VENV)/.installed-$(1); \
	fi
endef

.PHONY: help venv run test test-fast lint format worker bench compose-up compose-down clean

help:
	@echo "make run           set everything up and serve the demo on http://$(HOST):$(PORT)/"
	@echo "make test          set up and run the whole test suite (needs PostgreSQL and Redis, see README)"
	@echo "make test-fast     the unit layer only (pure code: no database, no services, no lint)"
	@echo "make lint          ruff check + ruff format --check + lint-imports (recsys walls)"
	@echo "make format        ruff format + ruff check --fix"
	@echo "make worker        a Celery worker (REDIS_URL's broker, else the embedded var/celery/ one)"
	@echo "make bench         recommendation latency benchmark (bench/recommend.py)"
	@echo "make compose-up    docker compose stack (web, worker, postgres, redis, flower)"
	@echo "make compose-down  stop the docker compose stack (volumes are kept)"
	@echo "make clean         delete .venv/, var/ (local database, media, artefacts) and caches"

venv:
	@if [ ! -x "$(PY)" ]; then \
		$(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 11))" \
			|| { echo "Python 3.11 or newer is needed; point PYTHON= at one (make run PYTHON=python3.11)." >&2; exit 1; }; \
		echo "Creating the virtualenv in $(VENV)/"; \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(call pip_sync,dev)

# The embedded default (SQLite, a filesystem broker under var/celery/) unless DATABASE_URL /
# REDIS_URL are exported. A background Celery worker (with beat) starts beside the web server, so
# engine refreshes triggered in the admin never run inside a request (log: var/worker.log).
# Where huggingface.co cannot be reached, engines load models from local files only instead of
# retrying the hub for every model: each process finds that out itself (recsys/engines/hub.py).
# The import itself queues no engine work (RECSYS_AUTO_REFRESH=0 for that one command): the
# engines are then queued to the worker, computed while the server already answers (progress:
# /api/v1/recommenders/, the admin's Artefacts page, var/worker.log). Stopping the server (Ctrl-C,
# or SIGTERM/SIGHUP to make's process group) stops the worker: SIGTERM to its main process (a warm
# shutdown: it finishes its current task), and after 10 s SIGKILL to its whole group; a build it
# left open is closed by the reaper and computed again by the next `make run`.
# A missing sample catalogue or an engine without its model is reported, and the server starts.
run: export DJANGO_SETTINGS_MODULE = config.settings.dev
run: venv
	@set -eu; \
	$(MANAGE) migrate --noinput; \
	$(MANAGE) collectstatic --noinput --verbosity 0; \
	RECSYS_AUTO_REFRESH=0 $(MANAGE) import_catalog --sample \
		|| echo "make run: the sample catalogue was not imported (see above); the server starts anyway."; \
	$(MANAGE) ensure_demo_admin --url "http://$(HOST):$(PORT)/admin/"; \
	var="$${VAR_DIR:-var}"; \
	mkdir -p "$$var"; \
	setsid $(VENV)/bin/celery -A config worker --beat --schedule "$$var/celerybeat-schedule" --loglevel INFO \
		--concurrency $(WORKER_CONCURRENCY) --without-gossip --without-mingle --without-heartbeat \
		> "$$var/worker.log" 2>&1 & worker=$$!; \
	stop_worker() { \
		trap '' INT TERM HUP; \
		kill -TERM $$worker 2>/dev/null || true; \
		for _ in $$(seq 20); do kill -0 $$worker 2>/dev/null || break; sleep 0.5; done; \
		kill -KILL -- -$$worker 2>/dev/null || true; \
	}; \
	trap stop_worker EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP; \
	echo "Background worker started (log: $$var/worker.log); queueing the engines' computation."; \
	$(MANAGE) precompute --engine all --async --start-timeout 3600 > "$$var/precompute.log" 2>&1 & \
	echo "Serving http://$(HOST):$(PORT)/ (Ctrl-C stops the server and the worker; the demo admin is printed above)."; \
	$(MANAGE) runserver "$(HOST):$(PORT)"

# The whole suite in parallel (pytest-xdist), in two passes: everything on PostgreSQL, with Redis
# on 127.0.0.1 (TEST_DATABASE_URL, TEST_REDIS_URL); then the tests that use a database again on
# SQLite (not the unit layer, nor SQLITE_SKIP), where the tests marked postgres are skipped and
# listed. The smoke test of `make run` (tests/smoke/) runs in the first pass, on its own SQLite file.
test: export DJANGO_SETTINGS_MODULE = config.settings.test
test: venv lint
	@echo "make test, pass 1 of 2: the whole suite on PostgreSQL"
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --db-vendor=postgresql $(PYTEST_ARGS)
	@echo "make test, pass 2 of 2: the tests that use a database, on SQLite"
	TEST_DATABASE_URL=sqlite:// $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --db-vendor=sqlite \
		-m "not unit" $(addprefix --ignore=,$(SQLITE_SKIP)) $(PYTEST_ARGS)

# Pure code only (tests/conftest.py gives the `unit` marker): no database, Redis or lint needed.
test-fast: export DJANGO_SETTINGS_MODULE = config.settings.test
test-fast: venv
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

# lint-imports: the import-linter contracts in pyproject.toml (recsys layers, no experiments in
# recsys core, no Django in recsys/algorithms, no import cycles).
lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

worker: export DJANGO_SETTINGS_MODULE ?= config.settings.dev
worker: venv
	$(VENV)/bin/celery -A config worker --beat --schedule var/celerybeat-schedule --loglevel INFO --concurrency $(WORKER_CONCURRENCY)

bench: venv
	$(call pip_sync,bench)
	$(PY) bench/recommend.py $(BENCH_ARGS)

# Creates .env from .env.example on first use, with a fresh secret key and database password.
compose-up:
	@if [ ! -f .env ]; then \
		secret=$$($(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))"); \
		dbpass=$$($(PYTHON) -c "import secrets; print(secrets.token_urlsafe(24))"); \
		flower=$$($(PYTHON) -c "import secrets; print(secrets.token_urlsafe(18))"); \
		sed -e "s/^DJANGO_SECRET_KEY=.*/DJANGO_SECRET_KEY=$$secret/" \
			-e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$$dbpass/" \
			-e "s/^FLOWER_BASIC_AUTH=.*/FLOWER_BASIC_AUTH=admin:$$flower/" .env.example > .env; \
		echo "Wrote .env (from .env.example, with a new secret key, database and Flower password)."; \
	fi
	$(DOCKER_COMPOSE) up --build --detach
	@echo "Stack starting; addresses and first steps: README.md, 'docker compose mode'."

compose-down:
	$(DOCKER_COMPOSE) down

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .coverage htmlcov
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
