"""Snakemake script (rule claims): the replication's verdicts, one row per claim, from the other rules' tables
(diffsched.claims)."""

import os

import pandas as pd

from diffsched import claims, provenance, solvers, tables
from diffsched.atomic import write_text


def per_spectrum(paths) -> dict[str, pd.DataFrame]:
    """{spectrum: table} from results/gaussian/<spectrum>/<table>.csv paths."""
    return {os.path.basename(os.path.dirname(p)): pd.read_csv(p) for p in paths}


def pattern(paths) -> str:
    """The Gaussian tables' paths with the spectrum folder as {spectrum}."""
    first = str(paths[0])
    return os.path.join(os.path.dirname(os.path.dirname(first)), "{spectrum}", os.path.basename(first))


def main(sm) -> None:
    i = sm.input
    stochastic_samplers = [k for k, s in sm.params.samplers.items() if s["solver"] in solvers.STOCHASTIC_SOLVERS]
    single = ("monte_carlo", "one_eigenvalue", "sweep", "blind", "ablation", "probe")  # one table each
    paths = {"em_ratio": pattern(i.em_ratio),
             "gamma": f"{pattern(i.gamma_sweep)}, {os.path.basename(str(i.gamma_star[0]))}",
             **{k: str(getattr(i, k)) for k in single}}
    found = claims.collect(per_spectrum(i.em_ratio), per_spectrum(i.gamma_sweep), per_spectrum(i.gamma_star),
                           *(pd.read_csv(getattr(i, k)) for k in single), paths, sm.params.labels,
                           list(solvers.STOCHASTIC_SOLVERS), stochastic_samplers)
    table = tables.write_csv(claims.table(found), sm.output.csv)
    caption = provenance.caption(
        "The replication's claims and their verdicts (arXiv 2601.13602; arXiv 2606.20416; Sun et al. 2025), each "
        "decided by a rule, never by hand. " + claims.VERDICT_RULE + ". Each row's cell rule says what a cell is "
        "and which side is claimed; 'measured' shows its least and most favourable cells",
        seed=sm.params.seed)
    write_text(sm.output.md, tables.markdown(table, caption))
    for c in found:
        print(f"{c.row()['verdict']:>28}  {c.claim}")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
