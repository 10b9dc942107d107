"""Snakemake script (rule ranking_outputs): spectra figure, KL-vs-NFE figure, per-data-set tables, the
strategy the KL picks at each NFE, and the chosen grids exported for diffusers / k-diffusion."""

import numpy as np
import pandas as pd

from diffsched import export, optimise, plots, provenance, ranking, spectrum, store, tables
from diffsched.atomic import write_text


def picks(table: pd.DataFrame) -> pd.DataFrame:
    """Per data set, solver and NFE: the strategy with the lowest KL (floor excluded) and the floor's KL."""
    rows = []
    for (name, solver, budget), block in table.groupby(["dataset", "solver", "nfe_budget"], sort=False):
        others = block[block["schedule"] != ranking.FLOOR].sort_values("kl_forward")
        floor = block[block["schedule"] == ranking.FLOOR]
        best = others.iloc[0]
        rows.append({"dataset": name, "source": best["source"], "solver": solver, "nfe_budget": budget,
                     "nfe": best["nfe"], "picked": best["strategy"], "kl_forward": best["kl_forward"],
                     "runner_up": others.iloc[1]["strategy"] if len(others) > 1 else "",
                     "runner_up_kl": others.iloc[1]["kl_forward"] if len(others) > 1 else np.nan,
                     "floor_kl": floor["kl_forward"].min() if len(floor) else np.nan, "sigmas": best["sigmas"]})
    return pd.DataFrame(rows)


def main(sm) -> None:
    r, names = sm.params.ranking, sm.params.names
    kl = {name: pd.read_csv(path) for name, path in zip(names, sm.input.tables, strict=True)}
    specs = {name: spectrum.load(path, vectors=False) for name, path in zip(names, sm.input.spectra, strict=True)}
    labels = {n: f"{s.meta['label']}, {s.meta['resolution']}x{s.meta['resolution']}" for n, s in specs.items()}
    facts = dict(source="; ".join(f"{labels[n]} ({specs[n].n_samples} train images)" for n in names),
                 samples="none (exact Gaussian KL from the data covariance)", nfe=", ".join(map(str, r["nfe"])),
                 sigma=f"[{r['sigma_min']}, {r['sigma_max']}]", start=r["init"], seed="none (no random draws)")

    gammas = {n: optimise.gamma_star(s.eigenvalues, r["gamma_star_nfe"], r["sigma_min"], r["sigma_max"])
              for n, s in specs.items()}
    plots.spectra({labels[n]: (specs[n].eigenvalues, gammas[n]) for n in names}, spectrum.QUANTISATION_FLOOR,
                  sm.output.spectra_pdf, provenance.caption(
                      f"Covariance spectra of the data (pixels in [-1, 1]), eigenvalues floored at 8-bit "
                      f"quantisation noise; dashed: gamma*^2 for euler at n = {r['gamma_star_nfe']}",
                      **{**facts, "nfe": r["gamma_star_nfe"]}))
    plots.solvers({labels[n]: kl[n] for n in names}, sm.output.kl_pdf, provenance.caption(
        "Exact Gaussian KL against NFE for each strategy and solver, from each data set's covariance",
        solver=", ".join(sm.params.solvers), **facts))

    for name, csv_path, md_path in zip(names, sm.output.tables_csv, sm.output.tables_md, strict=True):
        caption = provenance.caption(f"Exact KL(source || output) per strategy and NFE, {labels[name]}",
                                     **{**facts, "source": f"{labels[name]} ({specs[name].n_samples} train images)"})
        tables.write_csv(kl[name], csv_path)
        write_text(md_path, ranking.to_markdown(kl[name], caption) + "\n")

    chosen = tables.write_csv(picks(pd.concat(kl.values(), ignore_index=True)), sm.output.picks_csv)
    wide = chosen.pivot_table(index=["dataset", "solver"], columns="nfe_budget", values="picked", aggfunc="first")
    lines = [provenance.caption("The strategy with the lowest exact KL at each NFE (finite-N optimum excluded)",
                                **facts), "", "| data set | solver | " + " | ".join(f"NFE {c}" for c in wide.columns)
             + " |", "|" + "---|" * (len(wide.columns) + 2)]
    lines += [f"| {d} | {s} | " + " | ".join(row) + " |" for (d, s), row in wide.iterrows()]
    write_text(sm.output.picks_md, "\n".join(lines) + "\n")

    for name, path in zip(names, sm.output.grids, strict=True):
        mine = chosen[chosen["dataset"] == name]
        records = {f"{row.solver}/nfe{row.nfe_budget}": export.grid_record(
            [float(v) for v in row.sigmas.split()], dataset=name, source=labels[name], solver=row.solver,
            nfe=int(row.nfe), strategy=row.picked, kl_forward=row.kl_forward) for row in mine.itertuples()}
        store.save_json(path, {"caption": provenance.caption(f"Chosen grids for {labels[name]}", **facts),
                               "grids": records})


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
