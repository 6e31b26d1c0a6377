# raftlab: set up and use the lab kit.
#
#   make lab     create .venv, install raftlab with the [lab] extra, open JupyterLab on notebooks/
#   make test    create .venv, install raftlab with the [test] extra, run every test and notebook
#   make bench   run each benchmarks/*.py
#   make student-notebooks DIR=course   copy the notebooks, outputs cleared, into DIR
#                (FORCE=1 overwrites copies already there)
#   make clean   remove .venv (and .venv-*) and caches
#
# Settings (on the command line or in the environment):
#   PYTHON=python3.11     the interpreter that creates .venv (must be >= $(MIN_PYTHON))
#   VENV=.venv-3.10       the virtual environment to create and use (default .venv); CI uses
#                         one per Python version: make test PYTHON=python3.10 VENV=.venv-3.10
#   PYTEST_ARGS='-k foo'  extra arguments for pytest
#   TEST_WORKERS=auto     pytest-xdist processes for make test (auto: one per CPU; 0: none),
#                         each running whole files (a notebook's cells stay in one kernel)
#   LAB_ARGS='--port=9999' extra arguments for jupyter lab
#   LAB_ROOT=notebooks    the folder jupyter lab serves

PYTHON ?= python3
VENV ?= .venv
MIN_PYTHON := 3.10
PYTEST_ARGS ?=
TEST_WORKERS ?= auto
LAB_ARGS ?=
LAB_ROOT ?= notebooks
PIP_FLAGS ?= --disable-pip-version-check

VPY := $(VENV)/bin/python
# Jupyter refuses to run as root unless told to (CI and these dev machines are root).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.DEFAULT_GOAL := help
.PHONY: help lab test bench clean venv install-lab install-test student-notebooks

help:
	@echo "make lab    set up .venv and open the notebooks in JupyterLab (127.0.0.1, token auth)"
	@echo "make test   set up .venv and run all tests (tests/ and notebooks/)"
	@echo "make bench  run the benchmarks in benchmarks/"
	@echo "make student-notebooks DIR=course   the notebooks with outputs cleared, into DIR"
	@echo "make clean  remove .venv (and .venv-*) and caches"

# The virtual environment. Order-only prerequisite everywhere: .venv/bin/python
# is a symlink whose target's timestamp says nothing about the venv.
$(VPY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: '$(PYTHON)' not found. raftlab needs Python >= $(MIN_PYTHON); run e.g. 'make $(or $(MAKECMDGOALS),test) PYTHON=python3.11'." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; v = tuple(int(x) for x in "$(MIN_PYTHON)".split(".")); sys.exit(0 if sys.version_info[:2] >= v else 1)' || { \
	  echo "error: raftlab needs Python >= $(MIN_PYTHON), but '$(PYTHON)' is $$($(PYTHON) -c 'import platform; print(platform.python_version())')." >&2; \
	  echo "       Run e.g. 'make $(or $(MAKECMDGOALS),test) PYTHON=python3.11' (and 'make clean' first if .venv is stale)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install $(PIP_FLAGS) --quiet --upgrade pip

venv: | $(VPY)

# Installs are redone only when pyproject.toml changes (or .venv is removed).
$(VENV)/.installed-lab: pyproject.toml | $(VPY)
	$(VPY) -m pip install $(PIP_FLAGS) -e '.[lab]'
	@touch $@

# [test] includes all of [lab], so it satisfies the lab stamp too.
$(VENV)/.installed-test: pyproject.toml | $(VPY)
	$(VPY) -m pip install $(PIP_FLAGS) -e '.[test]'
	@touch $@ $(VENV)/.installed-lab

install-lab: $(VENV)/.installed-lab
install-test: $(VENV)/.installed-test

# jupyter-config/ holds the kit's JupyterLab defaults (labconfig/default_setting_overrides.json:
# no "official Jupyter news?" pop-up, no update checks). JUPYTER_CONFIG_PATH adds it for this
# server only; a user's own settings still win. tests/test_browser.py starts JupyterLab
# through this target.
LAB_CONFIG := $(CURDIR)/jupyter-config

lab: $(VENV)/.installed-lab
	JUPYTER_CONFIG_PATH="$(LAB_CONFIG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	  $(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir="$(LAB_ROOT)" $(ALLOW_ROOT) $(LAB_ARGS)

test: $(VENV)/.installed-test
	$(VPY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# A student's copy of the notebooks: same cells, no outputs (raftlab notebooks DIR).
student-notebooks: $(VENV)/.installed-lab
	@[ -n "$(DIR)" ] || { echo "error: name the folder to write into: make student-notebooks DIR=course" >&2; exit 2; }
	$(VPY) -m raftlab notebooks "$(DIR)" $(if $(FORCE),--force)

bench: $(VENV)/.installed-test
	@found=0; \
	for f in benchmarks/*.py; do \
	  [ -e "$$f" ] || continue; \
	  found=1; \
	  echo "== $$f"; \
	  $(VPY) "$$f" || exit 1; \
	done; \
	[ $$found = 1 ] || echo "no benchmarks/*.py to run"

clean:
	rm -rf $(VENV) .venv-* .pytest_cache .hypothesis dask-worker-space build dist *.egg-info tests/artifacts
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -not -path './.git/*' -exec rm -rf {} +
