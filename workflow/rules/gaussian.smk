# The synthetic Gaussian study (arXiv 2601.13602): exact KL tables per spectrum, then figures and tables.
G = config["gaussian"]
SPECTRA = list(G["spectra"])
GAUSSIAN_TABLES = {
    "kl_vs_steps": ["steps", "max_steps_optimal", "strategies", "sigma_min", "sigma_max", "init"],
    "em_ratio": ["steps", "strategies", "sigma_min", "sigma_max"],
    "gamma_sweep": ["gamma_steps", "gammas", "sigma_min", "sigma_max", "init"],
    "gamma_star": ["steps", "sigma_min", "sigma_max", "init"],
    "rho_sweep": ["rho_steps", "rhos", "sigma_min", "sigma_max", "init"],
    "grids": ["grid_steps", "strategies", "sigma_min", "sigma_max", "init"],
    "kl_table": ["solver_nfe", "table_nfe", "solvers", "strategies", "sigma_min", "sigma_max", "init"],
}
GAUSSIAN_FIGURES = {
    "kl_vs_steps": ["kl_vs_steps"],
    "em_ratio": ["em_ratio"],
    "gamma": ["gamma_sweep", "gamma_star"],
    "grids": ["grids"],
    "rho_sweep": ["rho_sweep"],
    "solvers": ["kl_table"],
}


def gaussian_outputs():
    figures = [p for name in GAUSSIAN_FIGURES for p in both(F("gaussian", name))]
    tables = [p for s in SPECTRA for p in both(F("gaussian", f"kl_table_{s}"), ("csv", "md"))]
    return figures + tables


rule gaussian_spectrum:
    output:
        R("gaussian/{spectrum}/eigenvalues.npy"),
    params:
        spec=lambda w: G["spectra"][w.spectrum],
    log:
        R("logs/gaussian/{spectrum}/eigenvalues.log"),
    script:
        "../scripts/gaussian_spectrum.py"


rule gaussian_table:
    input:
        R("gaussian/{spectrum}/eigenvalues.npy"),
    output:
        R("gaussian/{spectrum}/{table}.csv"),
    wildcard_constraints:
        table="|".join(GAUSSIAN_TABLES),
    params:
        settings=lambda w: {k: G[k] for k in GAUSSIAN_TABLES[w.table]},
    log:
        R("logs/gaussian/{spectrum}/{table}.log"),
    benchmark:
        R("benchmarks/gaussian/{spectrum}/{table}.tsv")
    script:
        "../scripts/gaussian_table.py"


rule gaussian_figure:
    input:
        lambda w: expand(
            R("gaussian/{spectrum}/{table}.csv"),
            spectrum=SPECTRA,
            table=GAUSSIAN_FIGURES[w.figure],
        ),
    output:
        both(F("gaussian/{figure}")),
    wildcard_constraints:
        figure="|".join(GAUSSIAN_FIGURES),
    params:
        labels=lambda w: {s: G["spectra"][s]["label"] for s in SPECTRA},
        settings=lambda w: {k: G[k] for k in ["sigma_min", "sigma_max", "init", "grid_steps", "solvers"]},
    log:
        R("logs/gaussian/figure_{figure}.log"),
    script:
        "../scripts/gaussian_figure.py"


rule gaussian_kl_table:
    input:
        R("gaussian/{spectrum}/kl_table.csv"),
    output:
        both(F("gaussian/kl_table_{spectrum}"), ("csv", "md")),
    params:
        label=lambda w: G["spectra"][w.spectrum]["label"],
        settings=lambda w: {k: G[k] for k in ["sigma_min", "sigma_max", "init", "table_nfe"]},
    log:
        R("logs/gaussian/kl_table_{spectrum}.log"),
    script:
        "../scripts/gaussian_kl_table.py"
