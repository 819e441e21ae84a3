# make demo: set up .venv and run the whole workflow on the embedded demo config.
# make test: set up .venv and run the test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
CORES ?= 2
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup demo report test test-fast lint format clean-results

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check setuptools==81.0.0 wheel==0.45.1
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

demo: setup
	$(BIN)/snakemake --profile profiles/local --cores $(CORES) all
	$(BIN)/snakemake --profile profiles/local --report results/report.html all
	@echo; cat results/tables/ablation.md; echo; echo "report: results/report.html"

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

lint: setup
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile rules

format: setup
	$(BIN)/snakefmt Snakefile rules

clean-results:
	rm -rf results logs .snakemake
