"""Draw one figure of the Gaussian study from its tables (all spectra)."""

import sys

import pandas as pd

from diffsched import plots, provenance

sm = snakemake  # noqa: F821 (snakemake is injected)
sys.stderr = sys.stdout = open(sm.log[0], "w")
labels, s, figure = sm.params.labels, sm.params.settings, sm.wildcards.figure
names = sm.params.tables
paths = iter(sm.input)  # expand() order: spectrum-major, then table
tables = {name: {} for name in names}
for label in labels.values():
    for name in names:
        tables[name][label] = pd.read_csv(next(paths))
what = {
    "kl_vs_steps": "Exact KL of the Euler sampler against steps for every discretization strategy",
    "em_ratio": "N^2 KL over the Euler-Maclaurin constant sum J^2/4 (grids of N intervals ending at sigma_min)",
    "gamma": "Tangent-law KL against gamma (star: gamma*) and gamma* against n (Euler)",
    "grids": f"Sigma grids of every strategy at n = {s['grid_steps']} steps (Euler)",
    "rho_sweep": "Power-uniform VP-time grids: KL against rho (star: best rho), Euler",
    "solvers": "Exact KL against NFE for each deterministic solver",
}[figure]
caption = provenance.caption(
    what, source="synthetic Gaussian, " + "; ".join(labels.values()), samples="none (exact closed-form KL)",
    solver=", ".join(s["solvers"]) if figure == "solvers" else "euler", start=s["init"],
    sigma=f"[{s['sigma_min']}, {s['sigma_max']}]", seed="none (no random draws)")
out = sm.output[0]
if figure == "gamma":
    plots.gamma(tables["gamma_sweep"], tables["gamma_star"], out, caption)
else:
    getattr(plots, figure)(tables[names[0]], out, caption)
