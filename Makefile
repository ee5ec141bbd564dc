# Every target bootstraps .venv from nothing but python3 (with venv and pip).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test demo generate sync-spec bench lock lint clean

PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check

# pip >= 25.1 reads PEP 735 [dependency-groups] (--group); constraints.txt pins pip too.
# The dev group brings hatchling, so the editable install builds without an isolated env.
# $(WHEELHOUSE): docr's runtime dependencies as wheels, for tests/test_distribution.py to
# install the built wheel into a fresh venv without the network.
WHEELHOUSE := $(VENV)/wheelhouse
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt --upgrade pip
	$(PIP) install -c constraints.txt --group dev
	$(PIP) install -c constraints.txt --no-build-isolation -e '.[cli]'
	rm -rf $(WHEELHOUSE)
	$(PIP) download -c constraints.txt --no-build-isolation --dest $(WHEELHOUSE) .
	touch $@

## make demo: the main job, the CLI listing manifests, then where the storage goes and a prune's
## dry run (each on an embedded fake API: no account or token needed, nothing is deleted)
demo: $(STAMP)
	$(BIN)/docr manifests registry.digitalocean.com/example/my/repo --demo --limit 15 -o table
	@echo
	$(BIN)/docr usage example --demo -o table
	@echo
	$(BIN)/docr prune --demo -o table

## make test: lint, types, spec validation, generation drift, the whole pytest suite
test: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## make generate: rewrite generated/docr_api from openapi/ (never edit generated/ by hand)
generate: $(STAMP)
	DOCR_VENV_BIN=$(abspath $(BIN)) scripts/regenerate

## make sync-spec UPSTREAM=../shared/reference/do-openapi: refresh openapi/ from upstream
UPSTREAM ?= ../shared/reference/do-openapi
sync-spec: $(STAMP)
	$(BIN)/python scripts/sync_spec.py $(UPSTREAM)

## make bench: benchmarks against the fake API (not part of make test)
bench: $(STAMP)
	$(PIP) install -c constraints.txt --group bench
	$(BIN)/python benchmarks/run.py

## make lock: pin what .venv has now into constraints.txt (after changing dependencies)
lock: $(STAMP)
	$(PIP) install -c constraints.txt --no-build-isolation -e '.[cli]' --group dev --group bench
	{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --all --exclude-editable | grep -v -E '^(docr|setuptools)=='; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
