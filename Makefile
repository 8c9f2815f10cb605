# Two entry points (see README "Quick start"): `make example` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: example test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Set up, then export the bundled example curations to outputs/ (and validate them).
example: $(STAMP)
	$(BIN)/kg export -o outputs --validate

## Set up, then run linters, type checks and the whole test suite.
test: $(STAMP)
	$(BIN)/ruff check kg tests
	$(BIN)/mypy
	$(BIN)/pytest

## Run the benchmark (bench/, issue 5) and regenerate BENCHMARKS.md. SIZES=1000,10000 for a shorter run.
SIZES ?= 1000,5000,10000,50000
bench: $(STAMP)
	$(BIN)/python -m bench.run --sizes $(SIZES)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
