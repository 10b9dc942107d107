"""The smoke configuration end to end through Snakemake, the way a user runs it."""

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "workflow" / "configs" / "smoke.yaml"
pytestmark = pytest.mark.slow


def snakemake(tmp, *args, overlays=(), check=True):
    # Targets first: --configfile, --config and --quiet each swallow the words that follow them.
    cmd = [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--configfile", str(SMOKE), *map(str, overlays),
           "--config", f"results={tmp}/results", f"figures={tmp}/figures"]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if check and run.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}")
    return run


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("smoke")
    snakemake(tmp)
    return tmp


def expected_outputs(tmp):
    figures = ["kl_vs_steps", "em_ratio", "gamma", "grids", "rho_sweep", "solvers"]
    paths = [f"gaussian/{f}.{e}" for f in figures for e in ("pdf", "png")]
    paths += [f"gaussian/kl_table_{s}.{e}" for s in ("lowdim", "powerlaw") for e in ("csv", "md")]
    paths += [f"gaussian/{c}.{e}" for c in ("monte_carlo", "one_eigenvalue", "vp_schemes") for e in ("csv", "md")]
    paths += [f"gaussian/extremal.{e}" for e in ("csv", "md", "pdf", "png")]
    paths += [f"data/{f}.{e}" for f in ("spectra", "kl_vs_nfe") for e in ("pdf", "png")]
    ranked = ("cifar10", "celeba32", "cifar10_16", "fashion_mnist", "cifar10_lossless")
    paths += [f"data/kl_vs_nfe_{d}.{e}" for d in ranked for e in ("pdf", "png")]
    paths += [f"data/cifar10_lossless_vs_copy.{e}" for e in ("csv", "md", "pdf", "png")]
    paths += [f"data/{f}.{e}" for f in ("kl_picks", "kl_table_cifar10", "kl_table_celeba32") for e in ("csv", "md")]
    paths += [f"data/chosen_grids_{d}.json" for d in ("cifar10", "celeba32")]
    paths += [f"sweep/{f}.{e}" for f in ("sweep_table", "rank_correlation", "bootstrap") for e in ("csv", "md")]
    paths += [f"sweep/{f}.{e}" for f in ("rank_correlation", "fid_vs_nfe", "samples", "criterion_vs_fid",
                                         "spearman_intervals") for e in ("pdf", "png")]
    paths += [f"ablation/ablation_table.{e}" for e in ("csv", "md")]
    paths += [f"ablation/{f}.{e}" for f in ("samples", "loss", "ideal_gap") for e in ("pdf", "png")]
    paths += [f"ablation/ideal_gap.{e}" for e in ("csv", "md")]
    paths += [f"probe/noise_level.{e}" for e in ("pdf", "png", "csv", "md")]
    paths += [f"blind/blind_vs_conditioned.{e}" for e in ("csv", "md")]
    paths += [f"blind/{f}.{e}" for f in ("gap_vs_d", "gap_vs_sigma") for e in ("pdf", "png")]
    paths += [f"claims.{e}" for e in ("csv", "md")]
    return [tmp / "figures" / p for p in paths]


def test_every_figure_and_table_is_made(smoke_run):
    for path in expected_outputs(smoke_run):
        assert path.is_file() and path.stat().st_size > 0, path
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (smoke_run / "figures/gaussian/kl_table_powerlaw.md").read_text()
    assert "source: synthetic Gaussian" in table and "**" in table and "kl_optimal" in table
    picks = (smoke_run / "figures/data/kl_picks.md").read_text()
    assert "CIFAR-10 (JPEG q75 copy), 32x32 (500 train images)" in picks and "CelebA 10k subset" in picks


def test_every_figure_passes_the_figure_check(smoke_run):
    from diffsched.studies import figure_check

    figures = sorted((smoke_run / "figures").rglob("*.png"))
    assert len(figures) == sum(p.suffix == ".png" for p in expected_outputs(smoke_run))
    assert [p for png in figures for p in figure_check.check_png(png)] == []


def test_one_data_set_figure_is_made_alone(smoke_run):
    target = smoke_run / "figures/data/kl_vs_nfe_celeba32.png"
    plan = snakemake(smoke_run, str(target), "--forcerun", "ranking_figure", "--dry-run", "--quiet", "rules").stdout
    assert "ranking_figure" in plan and "ranking_outputs" not in plan


def test_sweep_table_scores_every_strategy(smoke_run):
    import pandas as pd

    table = pd.read_csv(smoke_run / "figures/sweep/sweep_table.csv")
    assert set(table["strategy"]) == {"edm", "tangent_opt", "kl_optimal", "w2_optimal", "gits", "dmn"}
    pairs = set(zip(table["dataset"], table["denoiser"]))  # sweep.datasets x every denoiser, gaussian_datasets
    assert pairs == {("cifar10_16", d) for d in ("gaussian", "empirical", "unet-with", "unet-without")} | {
        ("cifar10_lossless", "gaussian")}  # the published lossless spectrum on the copy's eigenvectors
    # each criterion's own optimum is the argmin of that criterion among the cell's grids
    for crit, label in (("crit_kl", "kl_optimal"), ("crit_w2", "w2_optimal")):
        picks = table.loc[table.groupby(["dataset", "denoiser", "nfe_budget", "seed"])[crit].idxmin(), "strategy"]
        assert set(picks) == {label}, crit
    assert table[["fid", "kid_mean", "precision", "recall", "kl_forward", "crit_w2"]].notna().all().all()
    assert (table["kl_forward"] == table["crit_kl"]).all()
    assert (table["n_samples"] == 24).all() and (table["prc_features"] == "inception-v3-pool3").all()
    gauss = table[table["denoiser"] == "gaussian"]["reference"].iloc[0]
    assert gauss.startswith("exact samples of N(mu, Sigma)")
    seeds = table.groupby("denoiser")["seed"].unique().map(sorted).to_dict()
    assert seeds == {"gaussian": [0, 1], "empirical": [0], "unet-with": [0], "unet-without": [0]}  # every_seed
    ranks = pd.read_csv(smoke_run / "figures/sweep/rank_correlation.csv")
    assert len(ranks) == 5 and ranks["spearman"].between(-1, 1).all()
    boot = pd.read_csv(smoke_run / "figures/sweep/bootstrap.csv")
    assert len(boot) == 5 * 5 * 2 and (boot["replicates"] == 100).all()  # (data set, denoiser) x criteria x metrics
    assert boot["spearman_resolved"].isin([True, False]).all()
    assert set(boot["vs_edm_verdict"]) <= {"pick better", "baseline better", "unresolved", "is the pick"}
    trained = table[table["denoiser"] == "unet-with"]["reference"].iloc[0]
    assert trained.startswith("training images of CIFAR-10")


def test_ablation_table_has_every_model_and_sampler(smoke_run):
    import pandas as pd

    table = pd.read_csv(smoke_run / "figures/ablation/ablation_table.csv")
    assert len(table) == 2 * 4 * 2  # data sets x models x samplers
    assert set(table["model"]) == {"unet-with", "unet-without", "dit-with", "dit-without"}
    assert dict(zip(table["sampler"], table["nfe"])) == {"heun": 5, "ancestral": 4}
    assert table[["fid", "kid_mean", "precision", "recall", "ideal_gap"]].notna().all().all()
    assert (table["train_steps"] == 20).all() and (table["n_samples"] == 24).all()
    without = table[table["model"] == "dit-without"]["parameters"].iloc[0]
    assert without < table[table["model"] == "dit-with"]["parameters"].iloc[0]  # adaLN gone
    caption = (smoke_run / "figures/ablation/ablation_table.md").read_text()
    for fact in ("training: 20 steps of batch 16", "samples: 24 per model and sampler", "euler_ancestral",
                 "cifar10_16, celeba16"):
        assert fact in caption, fact


def test_noise_level_probe_meets_the_high_dimension_prediction(smoke_run):
    import pandas as pd

    table = pd.read_csv(smoke_run / "figures/probe/noise_level.csv")
    bayes = "bayes (Gaussian model)"
    assert set(table["dataset"]) == {"cifar10", "celeba32"} and set(table["estimator"]) == {"norm", "learned", bayes}
    assert (table["n_test"] == table["estimator"].map({bayes: 50}).fillna(100)).all() and (table["steps"] == 100).all()
    top = table[(table["sigma"] == table["sigma"].max()) & (table["estimator"] == "norm")]
    assert (abs(top["rms_log_error"] / top["high_dim_prediction"] - 1) < 0.3).all()  # 1/sqrt(2d), 100 images
    caption = (smoke_run / "figures/probe/noise_level.md").read_text()
    assert "CelebA 10k subset (JPEG q75 copy), 32x32 (400 train images, 100 held-out images" in caption


def test_blind_table_has_every_dimension_sampler_and_measure(smoke_run):
    import pandas as pd

    table = pd.read_csv(smoke_run / "figures/blind/blind_vs_conditioned.csv")
    assert list(dict.fromkeys(table["oracle"])) == ["gaussian", "empirical"]
    for _, pair in table.groupby("oracle"):  # per pair: w2, kl at 8x8 and 16x16; fid, kid at 16x16 (scored) only
        assert set(pair["dimension"]) == {192, 768} and len(pair) == 24
        assert set(pair[pair["dimension"] == 192]["measure"]) == {"w2", "kl"}
        assert set(pair[pair["dimension"] == 768]["measure"]) == {"w2", "kl", "fid", "kid"}
        assert set(pair["sampler"]) == {"heun", "euler6", "euler18", "ancestral"}
    assert ((table["difference_lo"] <= table["difference"]) & (table["difference"] <= table["difference_hi"])).all()
    assert (table[table["measure"].isin(["fid", "kid"])]["n_reference"] == 48).all()
    caption = (smoke_run / "figures/blind/blind_vs_conditioned.md").read_text()
    assert "16 shared start states" in caption and "20 evenly spaced training images" in caption


def test_data_ranking_floor_and_sources(smoke_run):
    import pandas as pd

    for name, label in [("cifar10", "CIFAR-10 (JPEG q75 copy)"), ("celeba32", "CelebA 10k subset (JPEG q75 copy)")]:
        table = pd.read_csv(smoke_run / f"figures/data/kl_table_{name}.csv")
        assert set(table["source"]) == {label}
        assert set(table["criterion"]) == {"kl", "kl_reverse", "kl_smoothed", "kl_sigma_min", "w2"}
        for _, block in table.groupby(["criterion", "solver", "nfe_budget"]):  # each criterion's own floor
            floors = block["schedule"] == "optimal"
            assert (block[~floors]["value"] >= block[floors]["value"].min() * (1 - 1e-12)).all() and block["best"].any()
    picks = pd.read_csv(smoke_run / "figures/data/kl_picks.csv")
    assert len(picks) == len(picks.drop_duplicates(["dataset", "criterion", "solver", "nfe_budget"]))


def test_second_run_has_nothing_to_do(smoke_run):
    assert "Nothing to be done" in snakemake(smoke_run, "--dry-run").stdout


def test_deleting_one_figure_rebuilds_only_that_branch(smoke_run):
    target = smoke_run / "figures/gaussian/em_ratio.pdf"
    others = {p: p.stat().st_mtime_ns for p in expected_outputs(smoke_run) if p.stem != "em_ratio"}
    target.unlink()
    plan = snakemake(smoke_run, str(target), "--dry-run", "--quiet", "rules").stdout
    assert "gaussian_figure" in plan and "gaussian_table" not in plan
    snakemake(smoke_run, str(target))
    assert target.is_file()
    assert {p: p.stat().st_mtime_ns for p in others} == others


# Schema errors, and two of the checks across keys (all of them: tests/test_workflow_config.py), through Snakemake.
@pytest.mark.parametrize("overlay,message", [
    ("noise:\n  sigma_min: small\n", "sigma_min"),
    ("solvers: [euler, rk45]\n", "rk45"),
    ("seed: -3\n", "seed"),
    ("strategies:\n  mine: {schedule: edm, params: {rh: 3}}\n", "strategy 'mine'"),
    ("criteria: [w2]\n", "criteria"),
    ("blind:\n  oracles: [mixture]\n", "mixture"),
    ("blind:\n  strategy: kl_optimal\n", "blind.strategy 'kl_optimal' is not a closed-form strategy"),
])
def test_bad_config_fails_before_any_job(tmp_path, overlay, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(overlay)
    run = snakemake(tmp_path, "--dry-run", overlays=[bad], check=False)
    assert run.returncode != 0
    assert message in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()


def test_new_sample_count_resamples_without_retraining(smoke_run, tmp_path):
    overlay = tmp_path / "more_samples.yaml"
    overlay.write_text("training:\n  samples: 32\n")
    plan = snakemake(smoke_run, "--dry-run", "--quiet", "rules", overlays=[overlay]).stdout
    assert "ablation_samples" in plan and "train" not in plan.split()


def test_new_variant_trains_only_the_new_models(smoke_run, tmp_path):
    """A variant added to training.variants plans the new models' jobs alone: the train rule's params are the one
    model's own settings, so the existing models keep theirs."""
    overlay = tmp_path / "one_more_variant.yaml"
    overlay.write_text("training:\n  variants:\n    with: {time_embedding: true}\n"
                       "    without: {time_embedding: false}\n"
                       "    matched: {time_embedding: false, capacity_matched: true}\n")
    plan = snakemake(smoke_run, "--dry-run", overlays=[overlay]).stdout
    trained = re.findall(r"rule train:\n(?:    .*\n)*?    wildcards: dataset=(\w+), model=([\w-]+)", plan)
    assert trained and {model for _, model in trained} == {"unet-matched", "dit-matched"}


def test_report_builds_from_the_smoke_run(smoke_run):
    report = smoke_run / "report.html"
    snakemake(smoke_run, "--report", str(report))
    html = report.read_text(errors="replace")
    assert "Gaussian theory" in html and "Euler-Maclaurin" in html
    assert "Claims and verdicts" in html


def test_killed_run_resumes_and_matches_an_uninterrupted_one(smoke_run, tmp_path):
    """Kill the whole pipeline (SIGKILL to its process group) at a random point, rerun, compare the tables."""
    rng = random.Random(20261122)
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", str(SMOKE),
           "--config", f"results={tmp_path}/results", f"figures={tmp_path}/figures"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list((tmp_path / "results").glob("gaussian/*/*.csv"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(rng.uniform(0.0, 3.0))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p: p.stat().st_mtime_ns for p in (tmp_path / "results").glob("gaussian/*/*.csv")}
    assert done_before, "the pipeline was killed before it wrote anything"
    snakemake(tmp_path, "--unlock")  # a hard kill leaves Snakemake's lock behind; Ctrl-C does not
    snakemake(tmp_path)
    kept = [p for p, t in done_before.items() if p.stat().st_mtime_ns == t]
    assert kept, "the rerun recomputed everything instead of resuming"
    for ref in (smoke_run / "figures").rglob("*"):
        if ref.suffix in (".csv", ".md"):
            assert (tmp_path / "figures" / ref.relative_to(smoke_run / "figures")).read_text() == ref.read_text()


def test_provenance_walks_a_figure_back_to_the_archive_checksum(smoke_run):
    figure = smoke_run / "figures/data/spectra.pdf"
    run = subprocess.run([sys.executable, "-m", "diffsched", "provenance", str(figure), "--results",
                          str(smoke_run / "results")], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    text = run.stdout
    checksum = "7854ea059adc7729ab5267c5269ccc01e6eaeea6549d5f3c834c106bae86e8ee"  # ../shared/data/SHA256SUMS
    assert f"cifar10-jpeg.tar.gz  sha256:{checksum}" in text
    for rule in ("rule ranking_outputs", "rule spectrum", "rule data_cifar10", "rule data_celeba"):
        assert rule in text
    assert "seed 0" in text and "config slice sha256:" in text and "git " in text
    missing = subprocess.run([sys.executable, "-m", "diffsched", "provenance", "nothing.pdf"], cwd=REPO,
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "no provenance record" in missing.stderr


def test_fashion_mnist_entry_prepares_grey_data_and_its_spectrum(tmp_path):
    overlay = tmp_path / "fashion.yaml"
    overlay.write_text("data:\n  datasets:\n    fashion_mnist: {dataset: fashion_mnist, resolution: 28, path: null}\n")
    target = tmp_path / "results/spectrum/fashion_mnist.npz"
    snakemake(tmp_path, str(target), overlays=[overlay])
    with np.load(tmp_path / "results/data/fashion_mnist/test.npz") as f:
        assert f["images"].shape == (500, 28, 28, 1)  # the smoke limit, one channel
    with np.load(target) as f:
        assert f["eigenvalues"].shape == (784,)
    run = subprocess.run([sys.executable, "-m", "diffsched", "provenance", str(target), "--results",
                          str(tmp_path / "results")], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    checksum = "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"  # ../shared/data/SHA256SUMS
    assert f"t10k-images-idx3-ubyte.gz  sha256:{checksum}" in run.stdout and "rule data_fashion_mnist" in run.stdout


def test_killed_training_resumes_from_its_checkpoint_and_ends_as_an_uninterrupted_run(tmp_path):
    """SIGKILL Snakemake while a model trains; the rerun resumes from the last checkpoint (not step 0) and its
    final weights equal those of a run that was never interrupted."""
    longer = tmp_path / "longer.yaml"
    longer.write_text("training:\n  steps: 200\n  checkpoint_every: 10\n")
    model = "results/train/cifar10/unet-without/model.pt"
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    snakemake(whole, str(whole / model), overlays=[longer])

    cmd = [sys.executable, "-m", "snakemake", str(killed / model), "--cores", "2", "--configfile", str(SMOKE),
           str(longer), "--config", f"results={killed}/results", f"figures={killed}/figures"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    checkpoint = killed / "results/train/cifar10/unet-without/state/checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.is_file() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoint.is_file() and not (killed / model).exists(), "killed before the first or after the last step"
    snakemake(killed, "--unlock", overlays=[longer])
    snakemake(killed, str(killed / model), overlays=[longer])
    log = (killed / "results/logs/train/cifar10/unet-without.log").read_text()
    step = int(log.split("resuming from step ")[1].split()[0])
    assert 0 < step < 200
    import torch

    a, b = (torch.load(d / model, weights_only=True) for d in (whole, killed))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
