# eventpay developer commands. `make test` is the gate (CI runs it through .ci/run).
#
#   make install   create .venv and install eventpay with its [dev] extra (redone when
#                  pyproject.toml changes)
#   make test      the full gate: lint, types, import layers, unit + integration + e2e tests
#                  against a throwaway PostgreSQL cluster that is always stopped afterwards
#   make lint      static checks only
#   make unit      fast unit tests only
#   make demo      run the demo
#   make clean     remove caches and build leftovers (keeps .venv); `make distclean` also .venv

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv

.DEFAULT_GOAL := help
.PHONY: help install test lint unit demo clean distclean

help:
	@sed -n '/^#   make/,/^$$/s/^#//p' $(firstword $(MAKEFILE_LIST))

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: eventpay needs Python >= 3.11, but '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing)." >&2; \
	  echo "       Install Python 3.11+ or point make at one: make PYTHON=python3.11 ..." >&2; \
	  exit 1; }
	@test -x $(VENV)/bin/python || { echo "==> creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> pip install -e '.[dev]'"
	@$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# One shell line, so the trap sees the cluster and stops it however check ends; the recipe exits
# with check's status.
test: $(VENV)/.installed
	@scripts/pg ensure >/dev/null
	@pg_env=$$(scripts/pg start) || exit $$?; \
	eval "$$pg_env"; \
	trap 'scripts/pg stop' EXIT; \
	trap 'exit 130' INT; \
	trap 'exit 143' TERM; \
	export EVENTPAY_REQUIRE_POSTGRES=1; \
	scripts/check

lint: $(VENV)/.installed
	@scripts/check --lint-only

unit: $(VENV)/.installed
	$(VENV)/bin/pytest tests/unit -q -m 'not slow'

demo: $(VENV)/.installed
	$(VENV)/bin/eventpay demo

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache htmlcov .coverage .coverage.* \
	  build dist src/*.egg-info
	find src tests $(wildcard benchmarks) -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
