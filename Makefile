# Marketplace developer entry points. The heavy lifting lives in scripts/*.sh.
#
#   make run       dev server on http://127.0.0.1:5000 (SQLite in ./instance, admin / admin)
#                  RUN_HOST, RUN_PORT, DEV_DATABASE_URL, ADMIN_PASSWORD to change
#   make test      ruff + full pytest suite on MariaDB + Redis + smoke subset on SQLite + faults
#   make test-faults  the fault suite alone (tests/faults: its own MariaDB, Redis, gunicorn,
#                  worker, scheduler; pieces killed under traffic; prints its figures)
#   make lint      ruff check, ruff format --check, import contracts (lint-imports)
#   make install   create the virtualenv (outside the clone, keyed by requirements.lock)
#   make services  make sure MariaDB (127.0.0.1:3306) and Redis (127.0.0.1:6379) are up
#   make audit     pip-audit on requirements.lock, npm audit on the admin's front-end lock
#   make superset  Apache Superset (BI) in its own venv on http://127.0.0.1:8088 (SUPERSET_* env; README)
#   make bench     seed 100k products into MariaDB (shop_bench), time the admin lists; bench/results/
#   make bench-compare  storefront API vs django-oscar + a bare Flask ceiling, one run (bench/peers/;
#                  ROUNDS=2 DURATION=20s ROWS=...): bench/results/compare-<UTC date>.md/.tsv
#   make clean     caches and temp files in the clone (make distclean: also venv and ./instance)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

LOCK_HASH := $(shell sha256sum requirements.lock | cut -c1-12)
VENV ?= $(HOME)/.cache/marketplace/venv-$(LOCK_HASH)
export VENV

# make run: the embedded development setup (SQLite file under ./instance, jobs in-process).
RUN_HOST ?= 127.0.0.1
RUN_PORT ?= 5000
DEV_INSTANCE := $(CURDIR)/instance
DEV_DATABASE_URL ?= sqlite:///$(DEV_INSTANCE)/marketplace.db
DEV_FLASK = env APP_CONFIG=development FLASK_APP=wsgi.py INSTANCE_PATH=$(DEV_INSTANCE) \
	DATABASE_URL=$(DEV_DATABASE_URL) $(VENV)/bin/flask

.PHONY: help run test test-faults lint install services audit bench bench-compare clean distclean superset

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))
	@echo "virtualenv: $(VENV)"

install:
	@scripts/venv.sh

run: install
	@mkdir -p $(DEV_INSTANCE)
	$(DEV_FLASK) db upgrade heads
	$(DEV_FLASK) init
	$(DEV_FLASK) seed --if-empty
	$(DEV_FLASK) search reindex
	@if [ -n "$${ADMIN_PASSWORD:-}" ]; then pw='(the value of $$ADMIN_PASSWORD)'; else pw=admin; fi; \
	printf '\n  Marketplace: http://%s:%s/\n  Admin login: http://%s:%s/login/  user: %s  password: %s\n' \
		'$(RUN_HOST)' '$(RUN_PORT)' '$(RUN_HOST)' '$(RUN_PORT)' "$${ADMIN_USERNAME:-admin}" "$$pw"; \
	printf '  (the password is the one in effect when flask init first created the admin)\n\n'
	$(DEV_FLASK) serve --host $(RUN_HOST) --port $(RUN_PORT)

test:
	@scripts/test.sh

test-faults: install
	@scripts/test-faults.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

services:
	@scripts/services.sh

audit:
	@scripts/audit.sh

# Superset: its own virtualenv outside the clone (keyed by deploy/superset/requirements.txt), its
# metadata DB upgraded, its admin created from SUPERSET_ADMIN_PASSWORD, gunicorn in the foreground
superset:
	@scripts/superset.sh serve

bench: install services
	$(VENV)/bin/python bench/seed_bench.py
	$(VENV)/bin/python bench/admin_list_bench.py

# bench/peers/compare.sh from the repository: the peer's venvs (~/.cache/marketplace/peer-oscar-*),
# peer_oscar and shop_bench seeded when they are not, the search index, then the run (~9 min a round)
bench-compare: install services
	@scripts/bench-compare.sh

clean:
	find . -path ./.git -prune -o -type d -name __pycache__ -print0 | xargs -0r rm -rf
	find . -path ./.git -prune -o -type f -name '*.py[co]' -print0 | xargs -0r rm -f
	rm -rf .pytest_cache .ruff_cache
	rm -f bench/results/*.tmp

distclean: clean
	rm -rf instance "$(VENV)" "$(VENV).lock"
