"""Snakemake script (rule blind_outputs): the conditioned-vs-blind table and the two gap figures over all data
sets (diffsched.studies.blind_study)."""

import pandas as pd

from diffsched.metrics import scores
from diffsched.studies import plots
from diffsched.infra import provenance, tables
from diffsched.infra.atomic import write_text

ARMS = ("conditioned", "blind", "difference")


def markdown(table: pd.DataFrame, caption: str) -> str:
    """One row per oracle, data set, dimension, sampler and measure: both arms and blind - conditioned, [90%
    interval]."""
    head = ["oracle", "dataset", "d", "sampler", "NFE", "measure", "conditioned", "blind", "blind - conditioned",
            "verdict"]
    lines = [caption, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.itertuples():
        cells = [f"{getattr(r, a):.4g} [{getattr(r, a + '_lo'):.4g}, {getattr(r, a + '_hi'):.4g}]" for a in ARMS]
        lines.append(f"| {r.oracle} | {r.dataset} | {r.dimension} | {r.sampler} | {r.nfe} | {r.measure} | "
                     + " | ".join(cells) + f" | {r.verdict} |")
    return "\n".join(lines)


def ordered(paths, b: dict) -> pd.DataFrame:
    """The tables at ``paths`` in one frame, by oracle pair and data set in the configuration's order (stable: per
    pair its files' rows in the order given)."""
    order = {"oracle": b["oracles"], "dataset": b["datasets"]}
    frame = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    return frame.sort_values(["oracle", "dataset"], kind="stable", key=lambda c: c.map(order[c.name].index),
                             ignore_index=True)


def main(sm) -> None:
    b = sm.params.blind
    table = ordered([*sm.input.tables, *sm.input.scores], b)  # per pair: W2 and KL rows, then FID and KID
    gaps = ordered(sm.input.gaps, b)
    samplers = ", ".join(f"{k} ({v['solver']}, {v['steps']} steps)" for k, v in b["samplers"].items())
    grid = b["strategy"]
    grid_params = ", ".join(f"{k} {v}" for k, v in grid.get("params", {}).items()) or "no parameters"
    facts = dict(source="; ".join(dict.fromkeys(table["source"].str.split(",").str[0])),
                 resolutions=", ".join(f"{r}x{r}" for r in b["resolutions"]),
                 n=f"{b['samples']} shared start states ({b['init']}), {b['replicates']} paired bootstrap resamples",
                 scored=(f"FID/KID at {', '.join(f'{r}x{r}' for r in b['scored_resolutions'])} against "
                         f"{b['reference']} reference images pooled to the resolution (Gaussian pair: exact samples "
                         "of the Gaussian model; empirical pair: training images, which its conditioned oracle "
                         f"memorises); Inception input {scores.inception_inputs(table)}")
                 if b["scored_resolutions"] else "none",
                 empirical_pair=f"{b['empirical_images']} evenly spaced training images, pooled like the spectrum",
                 samplers=f"{samplers}; {grid['schedule']} grid ({grid_params}) over [{b['sigma_min']}, "
                          f"{b['sigma_max']}]",
                 seed=sm.params.seed)
    what = ("Conditioned vs noise-blind Bayes-optimal denoiser of each data set's Gaussian model and of its "
            "empirical distribution (Sun et al. 2025; arXiv 2606.20416), same sampler, starts and noise: W2^2 per "
            "dimension and mean KL of the per-direction sample variances against the eigenvalues (the data's "
            "eigenbasis for both pairs), FID and KID, 90% paired intervals; verdict from blind - conditioned")
    tables.write_csv(table, sm.output.csv)
    write_text(sm.output.md, markdown(table, provenance.caption(what, **facts)) + "\n")
    plots.blind_gap_vs_d(table, sm.output.gap_d[0], provenance.caption(
        "Blind - conditioned W2^2 per dimension against d, a panel per data set and oracle pair (log-log; "
        "|difference|, hollow where negative, bars 90% paired intervals), dotted: the 1/sqrt(2d) width of the "
        "noise-level posterior, through the first point", **facts))
    plots.blind_gap_vs_sigma(gaps, sm.output.gap_sigma[0], provenance.caption(
        f"Denoiser gap E|D_blind - D|^2 / d along the conditioned {b['trajectory']} trajectory, a panel per "
        "data set and oracle pair, mean over the start states with 90% bootstrap intervals", **facts))


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
