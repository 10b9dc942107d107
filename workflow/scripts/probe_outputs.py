"""Snakemake script (rule probe_outputs): the noise-level inference table and figure over all data sets."""

import pandas as pd

from diffsched.studies import plots
from diffsched.infra import provenance, tables
from diffsched.infra.atomic import write_text


def markdown(table: pd.DataFrame, caption: str) -> str:
    """Per data set: RMS of log(sigma_hat / sigma) of each estimator and the prediction 1/sqrt(2d), by sigma."""
    parts = [caption, ""]
    for name, block in table.groupby("dataset", sort=False):
        wide = block.pivot(index="sigma", columns="estimator", values="rms_log_error")
        wide["1/sqrt(2d)"] = block.groupby("sigma")["high_dim_prediction"].first()
        parts += [f"**{name}** ({block['source'].iloc[0]}, d = {block['dimension'].iloc[0]})", "",
                  "| sigma | " + " | ".join(wide.columns) + " |", "|" + "---|" * (len(wide.columns) + 1)]
        parts += [f"| {sigma:.4g} | " + " | ".join(f"{v:.4g}" for v in row) + " |" for sigma, row in wide.iterrows()]
        parts.append("")
    return "\n".join(parts)


def main(sm) -> None:
    p, r = sm.params.probe, sm.params.noise
    table = pd.concat([pd.read_csv(path) for path in sm.input], ignore_index=True)
    first = table.groupby("dataset", sort=False).first()
    facts = dict(source="; ".join(f"{row.source} ({row.n_train} train images, {row.n_test} held-out images: "
                                  f"{row.held_out})" for row in first.itertuples()),
                 sigma=f"{p['sigma_points']} log-spaced in [{r['sigma_min']}, {r['sigma_max']}]",
                 probe=f"{p['steps']} Adam steps of batch {p['batch']}, log sigma uniform over that range",
                 bayes=f"posterior mean of ln sigma under the data's Gaussian model, ln sigma uniform over the "
                       f"range, on the first {p['bayes_images']} held-out images",
                 seed=sm.params.seed)
    what = ("Noise-level inference from x = y + sigma n alone: RMS of log(sigma_hat / sigma) of the norm "
            "estimator (||x||^2/d minus the data's second moment), a learned CNN probe and the Bayes posterior of "
            "sigma "
            "under the data's Gaussian model (the floor for Gaussian data), against the "
            "high-dimension prediction 1/sqrt(2d) (Sun et al. 2025)")
    tables.write_csv(table, sm.output.csv)
    write_text(sm.output.md, markdown(table, provenance.caption(what, **facts)) + "\n")
    plots.noise_level(table, sm.output.pdf, provenance.caption(what, **facts))


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
