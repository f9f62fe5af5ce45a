# Two commands on a fresh machine:
#   make demo   create .venv, install inhouse, walk a sample program through the playbook and
#               send one chat through the embedded runtime (MODEL=path.gguf for a real model)
#   make test   create .venv, install with dev extras, run lint, types and the whole suite
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python

.PHONY: demo test lint typecheck docs bench clean screenshots

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# llama-cpp-python (the embedded runtime) compiles llama.cpp: minutes the first time, then it
# installs from a wheelhouse in ~/.cache/inhouse/wheelhouse in seconds.
$(VENV)/.installed-embedded: $(PY) scripts/install-embedded.sh
	bash scripts/install-embedded.sh $(PY)
	touch $@

demo: $(VENV)/.installed $(VENV)/.installed-embedded
	$(PY) -m inhouse.demo $(if $(MODEL),--model $(MODEL))

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

# the suite on every core (pytest-xdist): each test file runs whole on one worker, so a
# module's fixtures are built once; every worker has its own engine, home and schemas
test: lint typecheck $(VENV)/.installed-embedded
	sh scripts/install-chromium.sh
	$(PY) -m pytest -n auto --dist loadfile

docs: $(VENV)/.installed-dev
	PY=$(PY) sh scripts/gen-cli-docs.sh
	$(PY) -m inhouse playbook show --markdown > docs/playbook.md

# the dashboard's program and pilot pages, in real Chromium, into docs/img/ (shown in the README)
screenshots: $(VENV)/.installed-dev
	sh scripts/install-chromium.sh
	$(PY) -m tests.web.screenshots docs/img

bench: $(VENV)/.installed
	$(PY) benchmarks/cli_startup.py

clean:
	rm -rf $(VENV) demo-program .pytest_cache .mypy_cache .ruff_cache
