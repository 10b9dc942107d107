"""Snakemake script (rule ranking_figure): every exact criterion against NFE for one data set's spectrum, a column
per solver and a line per strategy; regenerable alone (figures/data/kl_vs_nfe_<name>.png)."""

import pandas as pd

from diffsched.data import spectrum
from diffsched.infra import provenance
from diffsched.studies import plots, styles


def main(sm) -> None:
    r, name = sm.params.ranking, sm.wildcards.name
    table = pd.read_csv(sm.input.table)
    spec = spectrum.load(sm.input.spectrum, vectors=False)
    label = f"{spec.meta['label']}, {spec.meta['resolution']}x{spec.meta['resolution']}"
    plots.criteria_vs_nfe(table, styles.strategy_styles(sm.params.strategies), sm.output.pdf, provenance.caption(
        f"{label}: every exact Gaussian criterion (rows) against NFE for each solver (columns); each criterion's "
        "own finite-N pick is the lowest solid line of its row and the paper's pick, the KL's, is the thick red "
        "one, so look at how far above it the hand-made grids (dashed) sit",
        source=f"{label} ({spec.n_samples} train images, data set id {name})",
        samples="none (exact Gaussian criteria from the data covariance)", solver=", ".join(dict.fromkeys(
            table["solver"])), nfe=", ".join(map(str, r["nfe"])), sigma=f"[{r['sigma_min']}, {r['sigma_max']}]",
        start=r["init"], seed="none (no random draws)"))


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
