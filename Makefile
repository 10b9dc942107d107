# Every target builds the environment first, so the README's commands work on a fresh machine.
# torch comes from PyPI (its CUDA build also runs on the CPU); constraints.txt pins every version.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
CORES ?= all
# Free disk the environment build needs: the venv (torch with its CUDA libraries, about 6 GB) and pip's unpacking.
ENV_MIN_FREE_GB ?= 10

.PHONY: env run smoke test test-paper-toy test-slurm test-slurm-short bench mutation lint clean docs-figures

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import os, shutil, sys; free = shutil.disk_usage(os.path.dirname(os.path.abspath("$(VENV)"))).free / 1e9; sys.exit(None if free >= $(ENV_MIN_FREE_GB) else f"make: {free:.1f} GB free on the disk of $(abspath $(VENV)), and building $(VENV) needs about $(ENV_MIN_FREE_GB) GB (torch with its CUDA libraries is about 6 GB). Free space (old clones, results/, /tmp) and run make again.")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,slurm]"
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt k-diffusion dctorch  # dctorch pins numpy < 2
	touch $(STAMP)

run: env  ## the default pipeline: every figure and table
	$(BIN)/snakemake --cores $(CORES)

smoke: env  ## a tiny end-to-end run into results/smoke and figures/smoke
	$(BIN)/snakemake --cores $(CORES) --configfile workflow/configs/smoke.yaml

test: env  ## unit tests, then the smoke pipeline (tests/test_pipeline.py)
	$(BIN)/python -m pytest -q

test-paper-toy: env  ## the paper configuration at toy size, every rule of its plan (about 20 min on 2 cores; not yet in CI)
	$(BIN)/python -m pytest -q -m paper_toy tests/test_paper_toy.py

test-slurm: env  ## the smoke pipeline through profiles/slurm on a one-node SLURM cluster on localhost (root; apt-installs slurm)
	SNAKEMAKE=$(abspath $(BIN))/snakemake PYTHON=$(abspath $(BIN))/python tests/slurm/run.sh full

test-slurm-short: env  ## CI's SLURM check: representative jobs through profiles/slurm, and an oversized one stopped
	SNAKEMAKE=$(abspath $(BIN))/snakemake PYTHON=$(abspath $(BIN))/python tests/slurm/run.sh short

$(BENCH_STAMP): $(STAMP)  ## the bench extra: the reference U-Net of benchmarks/bench_train.py
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py

mutation: env  ## mutation testing of one module against its fast tests (MODULE=method.schedules); not in CI
	$(BIN)/python benchmarks/mutation/run.py $(MODULE)

.PHONY: gpu-check
gpu-check: env  ## the paper networks trained, sampled and scored on one GPU; REDUCED=1: the CPU form (CI)
	$(BIN)/python benchmarks/gpu_check.py $(if $(REDUCED),--reduced)

# The README's key figures: PNG copies of a finished default run's outputs, committed under docs/figures/.
DOCS_FIGURES := gaussian/em_ratio sweep/spearman_intervals blind/gap_vs_d probe/noise_level
docs-figures:  ## copy the README's figures from figures/ (run `make run` first)
	mkdir -p docs/figures
	for f in $(DOCS_FIGURES); do cp figures/$$f.png docs/figures/$$(echo $$f | tr / _).png; done

lint: env
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/ruff check src tests benchmarks workflow/scripts

clean:
	rm -rf results figures .snakemake
