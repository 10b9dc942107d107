"""Snakemake script (rule ranking_outputs): spectra figure, criterion-vs-NFE figure, per-data-set tables, the
strategy each criterion picks at each NFE, and the KL's chosen grids exported for diffusers / k-diffusion."""

import pandas as pd

from diffsched.interface import export
from diffsched.method import optimise
from diffsched.studies import plots, ranking, styles
from diffsched.infra import provenance, store, tables
from diffsched.data import spectrum
from diffsched.infra.atomic import write_text


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
    plots.paper_criterion_vs_nfe({labels[n]: kl[n] for n in names}, styles.strategy_styles(sm.params.strategies),
                                 sm.output.kl_pdf, provenance.caption(
        "The paper's criterion, KL(source || output), against NFE for each data set (rows) and solver (columns): "
        "the thick red line is the KL's own finite-N pick, the floor every other grid sits above; the other "
        "criteria are in the per-data-set figures kl_vs_nfe_<data set>",
        solver=", ".join(sm.params.solvers), **facts))

    for name, csv_path, md_path in zip(names, sm.output.tables_csv, sm.output.tables_md, strict=True):
        caption = provenance.caption(f"Exact criteria per strategy and NFE, {labels[name]}",
                                     **{**facts, "source": f"{labels[name]} ({specs[name].n_samples} train images)"})
        tables.write_csv(kl[name], csv_path)
        write_text(md_path, ranking.to_markdown(kl[name], caption) + "\n")

    chosen = tables.write_csv(ranking.picks(pd.concat(kl.values(), ignore_index=True)), sm.output.picks_csv)
    wide = chosen.pivot_table(index=["dataset", "criterion", "solver"], columns="nfe_budget", values="picked",
                              aggfunc="first", sort=False)
    lines = [provenance.caption("The strategy with the lowest exact value of each criterion at each NFE (finite-N "
                                "optimum excluded)", **facts), "",
             "| data set | criterion | solver | " + " | ".join(f"NFE {c}" for c in wide.columns) + " |",
             "|" + "---|" * (len(wide.columns) + 3)]
    lines += [f"| {d} | {c} | {s} | " + " | ".join(row) + " |" for (d, c, s), row in wide.iterrows()]
    write_text(sm.output.picks_md, "\n".join(lines) + "\n")

    for name, path in zip(names, sm.output.grids, strict=True):
        mine = chosen[(chosen["dataset"] == name) & (chosen["criterion"] == "kl")]  # the paper's criterion
        records = {f"{row.solver}/nfe{row.nfe_budget}": export.grid_record(
            [float(v) for v in row.sigmas.split()], dataset=name, source=labels[name], solver=row.solver,
            nfe=int(row.nfe), strategy=row.picked, kl_forward=row.kl_forward) for row in mine.itertuples()}
        store.save_json(path, {"caption": provenance.caption(f"Chosen grids for {labels[name]}", **facts),
                               "grids": records})


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
