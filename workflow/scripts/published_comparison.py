"""Snakemake script (rule published_comparison): a published lossless spectrum against the copy's own, and the
strategy each criterion picks under each (diffsched.studies.ranking.picks), with each criterion's optimum grid."""

import pandas as pd

from diffsched.data import spectrum
from diffsched.infra import provenance, tables
from diffsched.infra.atomic import write_text
from diffsched.studies import plots, ranking, styles


def optimum_grids(table: pd.DataFrame, solver: str, budget: int) -> pd.DataFrame:
    """(strategy, index, sigma) of every finite-N optimum's grid at one solver and budget of a ranking table."""
    rows = table[(table["schedule"] == ranking.FLOOR) & (table["solver"] == solver) & (table["nfe_budget"] == budget)]
    grids = rows.drop_duplicates("strategy")
    return pd.DataFrame([{"strategy": r.strategy, "index": k, "sigma": float(v)}
                         for r in grids.itertuples() for k, v in enumerate(r.sigmas.split())])


def main(sm) -> None:
    r = sm.params.ranking
    specs = {"copy": spectrum.load(sm.input.basis, vectors=False), "lossless": spectrum.load(sm.input.model,
                                                                                           vectors=False)}
    kl = {"copy": pd.read_csv(sm.input.basis_table), "lossless": pd.read_csv(sm.input.model_table)}
    names = {"copy": "the copy's spectrum", "lossless": "the published lossless spectrum"}
    picked = {k: ranking.picks(t).set_index(["criterion", "solver", "nfe_budget"]) for k, t in kl.items()}
    both = picked["copy"][["picked", "value"]].join(picked["lossless"][["picked", "value"]], lsuffix="_copy",
                                                    rsuffix="_lossless").reset_index()
    both["same_pick"] = both["picked_copy"] == both["picked_lossless"]
    table = tables.write_csv(both, sm.output.csv)
    facts = dict(source=f"{specs['lossless'].meta['label']}; copy: {specs['copy'].meta['label']} "
                 f"({specs['copy'].n_samples} train images)",
                 samples="none (exact Gaussian criteria of the two spectra)", nfe=", ".join(map(str, r["nfe"])),
                 solver=sm.params.solver, sigma=f"[{r['sigma_min']}, {r['sigma_max']}]", start=r["init"],
                 seed="none (no random draws)")
    changed = table[~table["same_pick"]]
    lead = (f"Each criterion's pick (lowest exact value, the finite-N optimum excluded) under the copy's spectrum and "
            f"under the published lossless one: {len(changed)} of {len(table)} picks change with the spectrum")
    write_text(sm.output.md, tables.markdown(table, provenance.caption(lead, **facts)))
    plots.published_comparison(
        {names[k]: s.eigenvalues for k, s in specs.items()},
        {names[k]: optimum_grids(t, sm.params.solver, r["gamma_star_nfe"]) for k, t in kl.items()},
        styles.strategy_styles(sm.params.strategies), sm.output.pdf, provenance.caption(
            f"The copy's spectrum against the published lossless one (left), and each criterion's finite-N optimum "
            f"grid at NFE {r['gamma_star_nfe']} under each (right): where the spectra part, the grids part",
            **{**facts, "nfe": r["gamma_star_nfe"]}))
    print(changed.to_string())


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
