"""Snakemake script (rule gaussian_table): one exact-KL table of the Gaussian study for one spectrum."""

import numpy as np

from diffsched.studies import gaussian_study, ranking
from diffsched.infra import provenance, tables


def main(path: str, table: str, s: dict, out: str) -> None:
    lam = np.load(path)
    ends = (s["sigma_min"], s["sigma_max"])
    builders = {
        "kl_vs_steps": lambda: gaussian_study.kl_vs_steps(lam, s["strategies"], s["steps"], *ends,
                                                          s["max_steps_optimal"], s["init"]),
        "em_ratio": lambda: gaussian_study.em_ratio(lam, s["strategies"], s["steps"], *ends),
        "gamma_sweep": lambda: gaussian_study.gamma_sweep(
            lam, s["gamma_steps"], np.geomspace(s["gammas"]["min"], s["gammas"]["max"], s["gammas"]["points"]),
            *ends, init=s["init"]),
        "gamma_star": lambda: gaussian_study.gamma_star(lam, s["steps"], *ends, init=s["init"]),
        "rho_sweep": lambda: gaussian_study.rho_sweep(lam, s["rho_steps"], s["rhos"], *ends, init=s["init"]),
        "grids": lambda: gaussian_study.grids(lam, s["strategies"], s["grid_steps"], *ends, s["init"]),
        "kl_table": lambda: ranking.kl_table(lam, s["strategies"], sorted(set(s["solver_nfe"]) | set(s["table_nfe"])),
                                             s["solvers"], *ends, s["init"], criteria=s["criteria"]),
    }
    result = builders[table]()
    tables.write_csv(result, out)
    print(f"{table}: {len(result)} rows")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm.input[0], sm.wildcards.table, sm.params.settings, sm.output[0])
