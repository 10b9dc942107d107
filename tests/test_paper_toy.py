"""The paper configuration at toy size end to end (workflow/configs/paper.yaml + paper-toy.yaml): every rule of
paper.yaml's plan runs, with its data sets, resolutions, denoisers, networks, variants, solvers and seeds.

Paper settings the toy run cannot exercise on a CPU (it takes the CPU path): bf16 autocast (CUDA only; training
warns and runs fp32), torch.compile (off: inductor would compile each of the 12 models for longer than the run),
GPU requests (the local run ignores `gpu`; tests/test_slurm.py checks paper.yaml's requests through the SLURM
profile) and the resource table's sizes (the same), every seed on every pair (three seeds on cifar10/gaussian only),
the official archives (the offline copies stand in).
"""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO / "workflow" / "configs" / "paper.yaml"
TOY = REPO / "workflow" / "configs" / "paper-toy.yaml"
pytestmark = [pytest.mark.slow, pytest.mark.paper_toy]  # not in make test: make test-paper-toy


def snakemake(tmp, *args, overlays=(PAPER,)):
    # Targets first: --configfile and --config swallow the words that follow them.
    cmd = [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--configfile", *map(str, overlays),
           "--config", f"results={tmp}/results", f"figures={tmp}/figures"]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, f"snakemake failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    return run.stdout + run.stderr


def planned_rules(tmp, overlays) -> dict[str, int]:
    """Rule -> job count of a dry run's job stats."""
    stats = snakemake(tmp, "--dry-run", "--quiet", "rules", overlays=overlays).split("Job stats:")[1]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+) +(\d+)$", stats, re.M) if rule != "total"}


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("paper-toy")
    return tmp, snakemake(tmp, overlays=(PAPER, TOY))


def test_every_rule_of_the_paper_plan_runs_at_toy_size(toy_run, tmp_path):
    tmp, log = toy_run
    paper = planned_rules(tmp_path, (PAPER,))
    ran = re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", log)
    assert {"train", "sweep_samples", "blind_metrics", "claims", "all"} <= set(paper)
    assert set(ran) == set(paper)


def test_the_toy_keeps_the_papers_data_sets_models_solvers_and_seeds(toy_run):
    tmp, _ = toy_run
    paper = yaml.safe_load(PAPER.read_text())
    table = pd.read_csv(tmp / "figures/sweep/sweep_table.csv")
    with_networks = [(d, n) for d in paper["sweep"]["datasets"]
                     for n in paper["sweep"]["denoisers"] + paper["sweep"]["networks"]]
    assert set(zip(table["dataset"], table["denoiser"])) == set(with_networks) | {("cifar10_16", "gaussian")}
    assert set(table["solver"]) == set(paper["sweep"]["solvers"])
    assert set(table["strategy"]) == set(paper["sweep"]["strategies"]) | set(paper["sweep"]["search"])
    assert set(table["seed"]) == set(paper["sweep"]["seeds"])
    assert table[["fid", "kid_mean", "precision", "recall", "crit_kl"]].notna().all().all()
    ablation = pd.read_csv(tmp / "figures/ablation/ablation_table.csv")
    models = {f"{n}-{v}" for n in ("unet", "dit") for v in ("with", "without", "matched")}
    assert set(zip(ablation["dataset"], ablation["model"])) == {(d, m) for d in ("cifar10", "celeba64") for m in models}
    parameters = ablation.drop_duplicates("model").set_index("model")["parameters"]
    for network in ("unet", "dit"):  # capacity matched: the conditioned network's parameters, no noise input
        assert parameters[f"{network}-matched"] == parameters[f"{network}-with"] > parameters[f"{network}-without"]
    with np.load(tmp / "results/spectrum/celeba64.npz") as spec:
        assert spec["eigenvectors"].shape == (12288, 12288)
    assert "12288-D Gaussian" in (tmp / "figures/gaussian/kl_table_powerlaw.md").read_text()
    assert "'bf16' needs CUDA; training in fp32" in (tmp / "results/logs/train/celeba64/dit-with.log").read_text()


def test_the_claims_table_is_made(toy_run):
    tmp, _ = toy_run
    claims = pd.read_csv(tmp / "figures/claims.csv")
    assert len(claims) > 0 and claims["verdict"].notna().all()
    assert (tmp / "figures/claims.md").stat().st_size > 0
