# Wangge: set-up, serve and test on a Debian machine (as root, or with sudo).
#
#   make run     set up everything, then serve on http://$(HOST):$(PORT)
#   make test    set up the test database and the browser, then run the test suite
#
# Each step skips what is already done: system packages and databases are checked on every
# run (quickly); the virtualenv is rebuilt only when requirements.txt changes and the
# front-end assets only when package-lock.json or static/vendor.json change.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# Set-up steps depend on each other's side effects (packages, then venv, then assets).
.NOTPARALLEL:

HOST ?= 127.0.0.1
PORT ?= 5000
DATABASE_URL ?= postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge
ifeq ($(origin TEST_DATABASE_URL),undefined)
TEST_DATABASE_URL := $(shell python3 -c 'import sys, urllib.parse as p; u = p.urlsplit(sys.argv[1]); print(u._replace(path=u.path + "_test").geturl())' '$(DATABASE_URL)')
endif
PYTEST_ARGS ?=
export DATABASE_URL TEST_DATABASE_URL

VENV := .venv/.requirements.sha256
ASSETS := static/vendor/.installed

.PHONY: help run test setup setup-test system system-test db db-test venv assets translations bench bench-load bench-maps lint clean

help:
	@echo "make run     set up and serve Wangge on http://$(HOST):$(PORT) (DATABASE_URL=$(DATABASE_URL))"
	@echo "make test    set up the test database (TEST_DATABASE_URL=$(TEST_DATABASE_URL)) and run pytest \$$PYTEST_ARGS"
	@echo "make setup | setup-test | bench | bench-load | lint | clean"

run: setup
	.venv/bin/flask --app app db upgrade
	.venv/bin/flask --app app wangge demo
	exec .venv/bin/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) 'app:create_app()'

test: setup-test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

setup: system venv assets translations db

setup-test: system-test venv assets translations db-test

system:
	scripts/provision-system.sh "$(DATABASE_URL)"

system-test:
	scripts/provision-system.sh --browser "$(TEST_DATABASE_URL)"

db: system
	scripts/provision-db.sh "$(DATABASE_URL)"

db-test: system-test
	scripts/provision-db.sh "$(TEST_DATABASE_URL)"

venv: $(VENV)

assets: $(ASSETS)

# The Chinese catalogue, compiled from its .po (the .mo is not committed).
translations: venv
	.venv/bin/pybabel -q compile -d app/translations -D messages
	.venv/bin/pybabel -q compile -d app/translations -D js

$(VENV): requirements.txt
	scripts/provision-venv.sh

$(ASSETS): package.json package-lock.json static/vendor.json scripts/provision-assets.sh $(VENV)
	scripts/provision-assets.sh

bench: setup
	.venv/bin/python bench/assign.py

bench-maps: setup
	.venv/bin/python bench/maps.py --reuse

# The worker API under 50 simulated users, on the demo city with 1,000,000 households (built
# once, about 6 minutes; kept between runs).
LOAD_DATABASE_URL ?= postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge_load
bench-load: setup
	scripts/provision-db.sh "$(LOAD_DATABASE_URL)"
	DATABASE_URL="$(LOAD_DATABASE_URL)" .venv/bin/flask --app app db upgrade
	DATABASE_URL="$(LOAD_DATABASE_URL)" .venv/bin/flask --app app wangge demo --households 1000000
	.venv/bin/python bench/load.py --database-url "$(LOAD_DATABASE_URL)"

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

clean:
	rm -rf .venv node_modules static/vendor static/vendor.new
