# Two entry points (see README "Quick start"): `make example` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/dev.lock

.PHONY: example test test-latest lint lock docs screenshots bench clean

# The exact versions (and hashes) of requirements/dev.lock, so a new release of any
# dependency cannot change what the tests run against; kg itself without build isolation,
# with the locked hatchling.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $(STAMP)

## Set up, then export the bundled example curations to outputs/ (and validate them).
example: $(STAMP)
	$(BIN)/kg export -o outputs --validate

## Set up, then run linters, type checks and the whole test suite.
test: $(STAMP)
	$(BIN)/ruff check kg tests
	$(BIN)/mypy
	$(BIN)/pytest

## The test suite against the newest releases pyproject's ranges allow (a fresh venv, no
## lock): a breaking release shows up here before `make lock` takes it in.
LATEST := .venv-latest
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install --quiet --upgrade pip
	$(LATEST)/bin/pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	$(LATEST)/bin/pip freeze --exclude-editable
	$(LATEST)/bin/pytest -p no:cacheprovider

## Refresh requirements/dev.lock on purpose (newest versions in pyproject's ranges), then `make test`.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet pip-tools
	.venv-lock/bin/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
	  --extra dev --no-emit-index-url --no-emit-find-links \
	  --output-file $(LOCK) pyproject.toml requirements/build.in
	rm -rf .venv-lock

## Regenerate what is generated from the code and the ontology: in docs/, the CLI reference, the
## query table and the graph-model diagrams, and the ontology's HTML page (pyLODE); in kg/, the
## vocabulary (vocab.py, namespaces.py). tests/test_docs.py and tests/publish/test_ontodoc.py check them.
GENERATED := docs/*.md kg/rdf/vocab.py kg/rdf/namespaces.py
docs: $(STAMP)
	$(BIN)/cog -r $(GENERATED)
	$(BIN)/python -m kg.publish.ontodoc docs/ontology/index.html

## Take the docs' screenshots again (docs/img/: the report page, kg serve's query page) in
## Debian's chromium, driven by Playwright.
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py

## Run the benchmark (bench/, issue 5) and regenerate BENCHMARKS.md. SIZES=1000,10000 for a shorter run.
SIZES ?= 1000,5000,10000,50000
bench: $(STAMP)
	$(BIN)/python -m bench.run --sizes $(SIZES)

clean:
	rm -rf $(VENV) $(LATEST) .pytest_cache .mypy_cache .ruff_cache
