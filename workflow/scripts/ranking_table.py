"""Snakemake script (rule ranking_table): exact criteria of every strategy, solver and NFE for one data spectrum."""

from diffsched.infra import provenance, tables
from diffsched.studies import ranking
from diffsched.data import spectrum


def main(path: str, name: str, strategies: dict, solvers: list, criteria: list, r: dict, out: str) -> None:
    spec = spectrum.load(path, vectors=r["init"] != "exact")
    mean = None if r["init"] == "exact" else spec.eigenvectors.T @ spec.mean  # start offsets, eigenbasis
    table = ranking.kl_table(spec.eigenvalues, strategies, r["nfe"], solvers, r["sigma_min"], r["sigma_max"],
                             r["init"], mean, criteria)
    table.insert(0, "dataset", name)
    table.insert(1, "source", spec.meta["label"])
    table.insert(2, "images", spec.n_samples)
    tables.write_csv(table, out)
    print(f"{name}: {len(table)} rows")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm.input[0], sm.wildcards.name, sm.params.strategies, sm.params.solvers, sm.params.criteria, sm.params.ranking,
         sm.output[0])
