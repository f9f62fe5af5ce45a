# Two commands on a fresh machine:
#   make demo   create .venv, install inhouse, walk a sample program through the playbook
#   make test   create .venv, install with dev extras, run lint, types and the whole suite
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python

.PHONY: demo test lint typecheck docs bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m inhouse.demo

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

test: lint typecheck
	$(PY) -m pytest

docs: $(VENV)/.installed-dev
	PY=$(PY) sh scripts/gen-cli-docs.sh
	$(PY) -m inhouse playbook show --markdown > docs/playbook.md

bench: $(VENV)/.installed
	$(PY) benchmarks/cli_startup.py

clean:
	rm -rf $(VENV) demo-program .pytest_cache .mypy_cache .ruff_cache
