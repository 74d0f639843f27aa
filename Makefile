# Pivot — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint install clean contracts

demo: $(STAMP) ## Create the virtualenv, install, run the demo on embedded defaults
	$(BIN)/pivot demo

test: $(STAMP) ## Install and run the whole test suite (lint included)
	$(BIN)/ruff check .
	$(BIN)/pivot contracts check
	$(BIN)/pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

contracts: $(STAMP) ## Regenerate contracts/schemas from the canonical model
	$(BIN)/pivot contracts export

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
