"""Snakemake script (rule sweep_outputs): the sweep table, the KL-vs-FID rank correlations, FID against NFE,
the bootstrap table and figures of every criterion against FID, and the sample grids."""

import numpy as np
import pandas as pd

from diffsched.metrics import bootstrap, scores
from diffsched.method import gaussian
from diffsched.studies import plots, styles, sweep
from diffsched.infra import provenance, tables
from diffsched.infra.atomic import write_text

CRITERIA = [f"crit_{c}" for c in gaussian.CRITERIA]
COLUMNS = ["dataset", "denoiser", "solver", "nfe_budget", "nfe", "seed", "strategy", "kl_forward", *CRITERIA,
           *scores.SCORES, "n_samples", "n_reference", "reference", "prc_features", "inception_input", "weights_sha256"]


def main(sm) -> None:
    sw, r, t = sm.params.sweep, sm.params.noise, sm.params.training
    trained = f"trained {t['steps']} steps of batch {t['batch_size']}, {t['precond']} preconditioning, EMA"
    table = pd.concat([pd.read_csv(p) for p in sm.input.metrics], ignore_index=True)
    table = table[[c for c in COLUMNS if c in table.columns]]
    checks = "".join(f", {d} (gaussian oracle only)" for d in sw["gaussian_datasets"])
    facts = dict(source=", ".join(sw["datasets"]) + checks
                 + " (see the reference column; the offline CIFAR-10 and CelebA copies are JPEG q75, Fashion-MNIST "
                   "is lossless)",
                 samples=f"{sw['samples']} per strategy and cell against {sw['reference']} reference images",
                 denoisers=", ".join(sw["denoisers"] + [f"{n} ({trained})" for n in sw["networks"]]),
                 solver=", ".join(sw["solvers"]), nfe=", ".join(map(str, sw["nfe"])),
                 seeds="; ".join(f"{d}/{n}: {', '.join(map(str, sweep.cell_seeds(sw, d, n)))}"
                                 for d, n in sweep.pairs(sw)),
                 sigma=f"[{r['sigma_min']}, {r['sigma_max']}]",
                 features=f"Inception pool3 (FID, KID, precision/recall), input {scores.inception_inputs(table)}")
    tables.write_csv(table, sm.output.table_csv)
    shown = table.drop(columns=["reference", "prc_features", "inception_input", "weights_sha256"], errors="ignore")
    write_text(sm.output.table_md, tables.markdown(shown, provenance.caption(
        "Low-NFE sweep with exact-score oracles: exact Gaussian KL of each grid and the measured sample quality",
        **facts)))

    ranks = sweep.rank_correlation(table)
    spread = sweep.seed_spread(table)
    tables.write_csv(ranks, sm.output.rank_csv)
    gap = spread.merge(ranks, on=["dataset", "denoiser", "solver", "nfe_budget"])
    agree = []
    for _, row in ranks.iterrows():
        cell = gap[(gap["denoiser"] == row["denoiser"]) & (gap["solver"] == row["solver"])
                   & (gap["nfe_budget"] == row["nfe_budget"]) & (gap["dataset"] == row["dataset"])]
        kl_fid = cell[cell["strategy"] == row["kl_pick"]]["fid_mean"].item()
        best = cell[cell["strategy"] == row["fid_pick"]]
        noise = float(np.nanmax(cell["fid_std"])) if cell["fid_std"].notna().any() else float("nan")
        agree.append({"fid_of_kl_pick": kl_fid, "best_fid": best["fid_mean"].item(),
                      "fid_gap": kl_fid - best["fid_mean"].item(), "fid_seed_std": noise})
    ranks = pd.concat([ranks, pd.DataFrame(agree)], axis=1)
    write_text(sm.output.rank_md, tables.markdown(ranks, provenance.caption(
        "Rank correlation between the exact Gaussian KL and the measured FID across strategies (seeds averaged); "
        "fid_gap = FID of the KL's pick minus the best FID, fid_seed_std = largest FID standard deviation over "
        "seeds in the cell (NaN with one seed)", **facts)))
    plots.rank_correlation(ranks, sm.output.rank_pdf, provenance.caption(
        "Spearman and Kendall rank correlation between exact Gaussian KL and FID", **facts))

    boot = tables.write_csv(pd.concat([pd.read_csv(p) for p in sm.input.bootstrap], ignore_index=True),
                            sm.output.bootstrap_csv)
    intervals = pd.concat([pd.read_csv(p) for p in sm.input.scores], ignore_index=True)
    resampled = dict(criteria=", ".join(gaussian.CRITERIA),
                     replicates=f"{sw['bootstrap_replicates']} paired-bootstrap draws of the shared start states "
                                f"(seeds pooled), seed {sm.params.seed}",
                     level=f"{bootstrap.LEVEL:.0%} percentile intervals (metric differences moved by the "
                           "bootstrap bias)")
    write_text(sm.output.bootstrap_md, tables.markdown(sweep.bootstrap_display(boot), provenance.caption(
        "Every exact Gaussian criterion against FID and KID per cell: rank correlations, the criterion's pick, the "
        "metric's best, the pick's regret and the pick minus each baseline, with intervals; a difference whose "
        "interval holds 0 is unresolved", **facts, **resampled)))
    drawn = styles.strategy_styles(sm.params.strategies)
    plots.fid_vs_nfe(intervals, drawn, sm.output.fid_pdf, provenance.caption(
        "FID against NFE budget per strategy in each data set, denoiser and solver: compare the paper's pick (thick "
        "red) with the hand-made grids (dashed) and the search baselines (dotted); bars are the FID's "
        "paired-bootstrap interval, seeds pooled", **facts, **resampled))
    plots.criterion_vs_fid(table, intervals, list(gaussian.CRITERIA), drawn, sm.output.criterion_pdf,
                           provenance.caption(
        "Each exact Gaussian criterion of a grid (rows) against its FID, a line per strategy through its NFE "
        "budgets: a criterion that ranks the grids as FID does puts the points on a rising line; criterion "
        "averaged over seeds, bars the FID's interval", **facts, **resampled))
    plots.spearman_intervals(boot, sm.output.spearman_pdf, provenance.caption(
        "Spearman rank correlation of each criterion with FID across strategies, with its interval",
        **facts, **resampled))

    panels, keep = {}, sw["grid_images"]
    grid = [sweep.load_cell(path) for path in sm.input.samples]
    for cell, arrays in grid:
        for label in arrays["strategies"]:
            panels[(f"{cell['denoiser']}\nNFE {cell['nfe']}", str(label))] = arrays[f"images_{label}"][:keep]
    solver, seed = (", ".join(sorted({str(cell[k]) for cell, _ in grid})) for k in ("solver", "seed"))
    plots.sample_grid(panels, sm.output.grid_pdf, provenance.caption(
        f"First {sw['grid_images']} samples of each strategy (rows) at each denoiser and NFE (columns), same start "
        f"noise; solver {solver}, seed {seed}", **facts))


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
