"""Coverage of the sweep's paired-bootstrap intervals, measured with independent seeds of start states.

The overlay ``benchmarks/interval_coverage.yaml`` runs one decisive cell of the default sweep with eight
independent seeds through the workflow itself (rules sweep_samples and sweep_metrics). Per seed, the paired
bootstrap the verdicts use (:func:`diffsched.metrics.bootstrap.scores`, :func:`diffsched.studies.sweep.bootstrap_rows`)
gives every quantity a verdict reads (each criterion's Spearman with FID and KID, its pick's FID and KID minus each
baseline's) a point estimate and a 90% interval. How the estimates really vary is their spread across seeds:

- ``ratio``: the seeds' standard deviation over the bootstrap's implied one (half-width / 1.645); above 1 the
  intervals are too narrow.
- ``covered``: seeds whose interval holds the mean of the other seeds. The other seeds' mean has its own error, so a
  calibrated 90% interval covers it with probability P(|Z| < 1.645 / sqrt(1 + 1/(S - 1))), 88% for S = 8.

Usage: ``python benchmarks/interval_coverage.py [--cores N]``; prints the table and writes
``benchmarks/results/interval_coverage.{csv,md}``. The cell's FID is that of 96 samples: the coverage is of the
estimator's spread at that size, not of its bias.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from diffsched.infra import tables
from diffsched.interface import workflow_config
from diffsched.metrics import bootstrap
from diffsched.method import gaussian
from diffsched.studies import sweep

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OVERLAY = HERE / "interval_coverage.yaml"
OUT = HERE / "results" / "interval_coverage"


def configuration() -> dict:
    """config.yaml with the overlay on top (the lists the overlay names replace config.yaml's)."""
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    for key, value in yaml.safe_load(OVERLAY.read_text()).items():
        cfg[key] = {**cfg[key], **value} if isinstance(value, dict) else value
    return {**cfg, "strategies": workflow_config.strategies_with_defaults(cfg)}


def per_seed(table: pd.DataFrame, store, baselines, replicates: int, seed: int) -> pd.DataFrame:
    """The bootstrap rows of every seed of the cell, each from that seed's start states alone."""
    rows = []
    for s in sorted(table["seed"].unique()):
        block = table[table["seed"] == s]
        features = {k: store["features"][np.flatnonzero((store["seed"] == s) & (store["strategy"] == k)).item()]
                    for k in block["strategy"]}
        result = bootstrap.scores(features, store["reference"], replicates, seed)
        criteria = {c: dict(zip(block["strategy"], block[f"crit_{c}"])) for c in gaussian.CRITERIA}
        rows += [{"seed": int(s), **row} for row in sweep.bootstrap_rows(result, criteria, baselines)]
    return pd.DataFrame(rows)


def coverage(rows: pd.DataFrame, baselines) -> pd.DataFrame:
    """Per criterion, metric and quantity (spearman, vs_<baseline>): the seeds' mean and spread, the bootstrap's
    implied spread, their ratio and how many seeds' intervals hold the other seeds' mean."""
    out = []
    z = stats.norm.ppf(0.5 + bootstrap.LEVEL / 2)
    for (criterion, metric), block in rows.groupby(["criterion", "metric"], sort=False):
        for key in ["spearman", *[f"vs_{b}" for b in baselines]]:
            if key not in block or block[f"{key}_hi"].sub(block[f"{key}_lo"]).eq(0).any():
                continue  # a baseline that is the pick in some seed: no difference to cover
            est, lo, hi = (block[c].to_numpy() for c in (key, f"{key}_lo", f"{key}_hi"))
            others = (est.sum() - est) / (len(est) - 1)
            out.append({"criterion": criterion, "metric": metric, "quantity": key, "seeds": len(est),
                        "mean": est.mean(), "sd_seeds": est.std(ddof=1),
                        "sd_bootstrap": np.median((hi - lo) / (2 * z)),
                        "covered": int(((lo <= others) & (others <= hi)).sum())})
    table = pd.DataFrame(out)
    table["ratio"] = table["sd_seeds"] / table["sd_bootstrap"]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default="2")
    args = parser.parse_args()
    cfg = configuration()
    dataset = cfg["sweep"]["gaussian_datasets"][0]
    folder = Path(cfg["results"]) / "sweep" / dataset / "gaussian"  # relative to the repository, as the rules write
    targets = [str(folder / "metrics.csv"), str(folder / "features.npz")]
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", args.cores, "--configfile", str(OVERLAY), "--",
                    *targets], cwd=REPO, check=True)
    baselines = [*sweep.BASELINES, *cfg["sweep"]["search"]]
    rows = per_seed(pd.read_csv(REPO / targets[0]), np.load(REPO / targets[1]), baselines,
                    cfg["sweep"]["bootstrap_replicates"], cfg["seed"])
    table = coverage(rows, baselines)
    seeds = int(table["seeds"].iloc[0])
    expected = stats.norm.cdf(1.645 / np.sqrt(1 + 1 / (seeds - 1))) * 2 - 1
    OUT.parent.mkdir(exist_ok=True)
    table.to_csv(OUT.with_suffix(".csv"), index=False)
    rows.to_csv(OUT.parent / "interval_coverage_per_seed.csv", index=False)
    summary = (f"{dataset}, Gaussian oracle, {cfg['sweep']['solvers'][0]}, NFE {cfg['sweep']['nfe'][0]}, "
               f"{cfg['sweep']['samples']} samples per strategy and seed, {seeds} seeds: "
               f"{int(table['covered'].sum())} of {int(table['seeds'].sum())} intervals hold the other seeds' mean "
               f"({table['covered'].sum() / table['seeds'].sum():.0%}; a calibrated 90% interval: {expected:.0%}); "
               f"seeds' SD / bootstrap SD: median {table['ratio'].median():.2f}, quartiles "
               f"{table['ratio'].quantile(0.25):.2f} to {table['ratio'].quantile(0.75):.2f}")
    for name, part in table.groupby(table["quantity"].eq("spearman").map({True: "spearman", False: "differences"})):
        summary += (f"; {name}: {int(part['covered'].sum())} of {int(part['seeds'].sum())} covered, ratio median "
                    f"{part['ratio'].median():.2f}")
    OUT.with_suffix(".md").write_text(tables.markdown(table, summary))
    print(table.to_string())
    print(summary)


if __name__ == "__main__":
    main()
