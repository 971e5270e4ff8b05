# rural: the two commands are `make run` and `make test`. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= demo
HOST ?= 127.0.0.1
PORT ?= 8000
export RURAL_DEMO_URL := $(if $(RURAL_DATABASE_URL),$(RURAL_DATABASE_URL),sqlite:///data/demo.db)

.DEFAULT_GOAL := help
.PHONY: help install run test check lint typecheck heads fmt bench system-deps clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create the project venv and install everything Python needs

run: $(STAMP) ## load the demo county (once) and serve the app on 127.0.0.1:8000
	RURAL_DATABASE_URL=$(RURAL_DEMO_URL) $(BIN)/rural demo --if-missing
	RURAL_DATABASE_URL=$(RURAL_DEMO_URL) $(BIN)/rural serve --host $(HOST) --port $(PORT)

test: $(STAMP) ## run the whole suite (PostGIS/Chromium tests skip when absent, unless RURAL_REQUIRE_ALL=1)
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP) ## ruff lint and format check (never edits)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy
	$(BIN)/mypy

heads: $(STAMP) ## fail unless the migrations have exactly one head and match the models
	$(BIN)/rural db heads --check
	$(BIN)/rural db check

check: lint typecheck heads test ## lint, format check, types, single Alembic head, tests (never edits)

fmt: $(STAMP) ## format and fix what ruff can fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## benchmarks: make bench SCALE=demo|province
	$(BIN)/python -m bench --scale $(SCALE)

system-deps: ## Debian packages the full suite needs: PostGIS, Chromium, a CJK font (idempotent)
	@.ci/system-deps

clean: ## remove the venv, caches and local databases
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache data bench/.cache
