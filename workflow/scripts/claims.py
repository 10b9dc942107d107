"""Snakemake script (rule claims): the replication's verdicts, one row per claim, from the other rules' tables
(diffsched.studies.claims)."""

import pandas as pd

from diffsched.data import published_spectra
from diffsched.studies import claims
from diffsched.infra import provenance, tables
from diffsched.method import solvers
from diffsched.infra.atomic import write_text


def per_spectrum(spectra, paths) -> dict[str, pd.DataFrame]:
    """{spectrum: table}, the paths given in the order of ``spectra``."""
    return {name: pd.read_csv(path) for name, path in zip(spectra, paths, strict=True)}


def main(sm) -> None:
    i = sm.input
    stochastic_samplers = [k for k, s in sm.params.samplers.items() if s["solver"] in solvers.STOCHASTIC_SOLVERS]
    single = ("monte_carlo", "one_eigenvalue", "sweep", "blind", "ablation", "probe", "vp_schemes")  # one table each
    folder, spectra = sm.params.spectrum_tables, sm.params.spectra  # folder: results/gaussian/{spectrum}

    def name(path):
        return claims.artefact_name(path, sm.params.roots)

    paths = {"em_ratio": name(f"{folder}/em_ratio.csv"),
             "gamma": name(f"{folder}/gamma_sweep.csv") + ", gamma_star.csv",
             **{k: name(str(getattr(i, k))) for k in single}}
    found = claims.collect(*(per_spectrum(spectra, paths_) for paths_ in (i.em_ratio, i.gamma_sweep, i.gamma_star)),
                           *(pd.read_csv(getattr(i, k)) for k in single),
                           pd.read_csv(i.vp_published, dtype={"steps": str, "w2": str}), paths,
                           {**sm.params.labels, "vp_schemes": published_spectra.SPECTRA[sm.params.vp_spectrum].label},
                           list(solvers.STOCHASTIC_SOLVERS), stochastic_samplers)
    table = tables.write_csv(claims.table(found), sm.output.csv)
    caption = provenance.caption(
        "The replication's claims and their verdicts (arXiv 2601.13602; arXiv 2606.20416; Sun et al. 2025; "
        "Pierret & Galerne 2025, arXiv 2405.14250), each "
        "decided by a rule, never by hand. " + claims.VERDICT_RULE + ". Each row's cell rule says what a cell is "
        "and which side is claimed; 'measured' shows its least and most favourable cells; {results} and {figures} in "
        "'artefact' are the run's folders (config keys results and figures)",
        seed=sm.params.seed)
    write_text(sm.output.md, tables.markdown(table, caption))
    for c in found:
        print(f"{c.row()['verdict']:>28}  {c.claim}")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
