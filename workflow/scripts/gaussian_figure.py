"""Snakemake script (rule gaussian_figure): one figure of the Gaussian study from its tables (all spectra)."""

import pandas as pd

from diffsched.studies import plots, styles
from diffsched.infra import provenance

WHAT = {
    "kl_vs_steps": "Exact KL of the Euler sampler against steps for every discretization strategy: every grid "
                   "approaches the slope -2 guide, and the KL's finite-N pick (thick red, computed at small n) is "
                   "the floor",
    "em_ratio": "N^2 KL over the Euler-Maclaurin constant sum J^2/4 (grids of N intervals ending at sigma_min; "
                "VP time-uniform is steep near sigma_min and nears 1 only for N in the tens of thousands)",
    "gamma": "Tangent-law KL against gamma (star: gamma*) and gamma* against n (Euler)",
    "grids": "Sigma grids of every strategy at n = {grid_steps} steps (Euler): where each grid spends its steps "
             "between sigma_max and sigma_min",
    "rho_sweep": "Power-uniform VP-time grids: KL against rho (star: best rho), Euler",
    "solvers": "The paper's criterion, KL(source || output), against NFE for each spectrum (rows) and deterministic "
               "solver (columns): the thick red line, the KL's finite-N pick, is the floor; the other criteria are "
               "in the kl_table of each spectrum",
}


def main(figure: str, cells: list, paths: list, labels: dict, s: dict, strategies: dict, out: str) -> None:
    tables = {}  # table -> spectrum label -> rows
    for (spectrum, name), path in zip(cells, paths, strict=True):
        tables.setdefault(name, {})[labels[spectrum]] = pd.read_csv(path)
    names = list(tables)
    caption = provenance.caption(
        WHAT[figure].format(**s), source="synthetic Gaussian, " + "; ".join(labels.values()),
        samples="none (exact closed-form KL)", solver=", ".join(s["solvers"]) if figure == "solvers" else "euler",
        start=s["init"], sigma=f"[{s['sigma_min']}, {s['sigma_max']}]", seed="none (no random draws)")
    drawn = styles.strategy_styles(strategies)
    if figure == "gamma":
        plots.gamma(tables["gamma_sweep"], tables["gamma_star"], out, caption)
    elif figure == "rho_sweep":
        plots.rho_sweep(tables[names[0]], out, caption)
    elif figure == "solvers":
        plots.paper_criterion_vs_nfe(tables[names[0]], drawn, out, caption)
    else:
        getattr(plots, figure)(tables[names[0]], drawn, out, caption)


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm.wildcards.figure, sm.params.cells, list(sm.input), sm.params.labels, sm.params.settings,
         sm.params.strategies, sm.output[0])
