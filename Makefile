# The two commands of the README: `make up` (set up and serve) and `make test`.
# The interpreter of the virtual environment: the distribution's CPython when it is >= 3.11 and can make a venv
# with pip (Debian builds it with PGO and LTO), else python3 from PATH. pyenv's default builds, first on PATH on
# this project's machine, have neither: under them an appeal cost 5-9 % more CPU (docs/performance.md). An
# existing .venv is kept; `make clean` then `make PYTHON=python3.12 up` chooses another.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' \
	>/dev/null 2>&1 && echo $(SYSTEM_PYTHON) || echo python3)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: up test lint bench clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

up: $(STAMP)
	$(VENV)/bin/zvarot up

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

bench: $(STAMP)
	$(VENV)/bin/zvarot bench

clean:
	rm -rf $(VENV) var
