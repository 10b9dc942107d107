# The synthetic Gaussian study (arXiv 2601.13602): exact KL tables per spectrum, then figures and tables.
rule gaussian_spectrum:
    output:
        R("gaussian/{spectrum}/eigenvalues.npy"),
    log:
        R("logs/gaussian/{spectrum}/eigenvalues.log"),
    benchmark:
        R("benchmarks/gaussian_spectrum/{spectrum}.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("gaussian_spectrum"),
    params:
        spec=lambda w: G["spectra"][w.spectrum],
    script:
        "../scripts/gaussian_spectrum.py"


rule gaussian_table:
    input:
        R("gaussian/{spectrum}/eigenvalues.npy"),
    output:
        R("gaussian/{spectrum}/{table}.csv"),
    log:
        R("logs/gaussian/{spectrum}/{table}.log"),
    benchmark:
        R("benchmarks/gaussian_table/{spectrum}/{table}.tsv")
    wildcard_constraints:
        table="|".join(GAUSSIAN_TABLES),
    conda:
        "../../environment.yml"
    resources:
        **job_resources("gaussian_table"),
    params:
        settings=lambda w: gaussian_settings(GAUSSIAN_TABLES[w.table]),
    script:
        "../scripts/gaussian_table.py"


rule gaussian_figure:
    input:
        lambda w: [R("gaussian", s, f"{t}.csv") for s, t in figure_tables(w.figure)],
    output:
        F("gaussian/{figure}.pdf"),
        report(
            F("gaussian/{figure}.png"),
            caption="../report/gaussian_figure.rst",
            category="Gaussian theory",
        ),
    log:
        R("logs/gaussian/figure_{figure}.log"),
    benchmark:
        R("benchmarks/gaussian_figure/{figure}.tsv")
    wildcard_constraints:
        figure="|".join(GAUSSIAN_FIGURES),
    conda:
        "../../environment.yml"
    resources:
        **job_resources("gaussian_figure"),
    params:
        cells=lambda w: figure_tables(w.figure),
        labels=lambda w: {s: G["spectra"][s]["label"] for s in SPECTRA},
        settings=lambda w: gaussian_settings(
            ["sigma_min", "sigma_max", "init", "grid_steps", "solvers"]
        ),
        strategies=STYLED,
    script:
        "../scripts/gaussian_figure.py"


rule gaussian_kl_table:
    input:
        R("gaussian/{spectrum}/kl_table.csv"),
    output:
        report(
            F("gaussian/kl_table_{spectrum}.csv"),
            caption="../report/gaussian_kl_table.rst",
            category="Gaussian theory",
        ),
        F("gaussian/kl_table_{spectrum}.md"),
    log:
        R("logs/gaussian/kl_table_{spectrum}.log"),
    benchmark:
        R("benchmarks/gaussian_kl_table/{spectrum}.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("gaussian_kl_table"),
    params:
        label=lambda w: G["spectra"][w.spectrum]["label"],
        settings=lambda w: gaussian_settings(
            ["sigma_min", "sigma_max", "init", "table_nfe"]
        ),
    script:
        "../scripts/gaussian_kl_table.py"


# Claim checks of arXiv 2601.13602 read by rule claims: the closed form against the real sampler (Monte Carlo), and
# the tangent law as the one-eigenvalue optimum.
rule gaussian_check:
    output:
        csv=report(
            F("gaussian/{check}.csv"),
            caption="../report/gaussian_check.rst",
            category="Gaussian theory",
        ),
        md=F("gaussian/{check}.md"),
    log:
        R("logs/gaussian/check_{check}.log"),
    benchmark:
        R("benchmarks/gaussian_check/{check}.tsv")
    wildcard_constraints:
        check="|".join(GAUSSIAN_CHECKS),
    conda:
        "../../environment.yml"
    resources:
        **job_resources("gaussian_check"),
    params:
        settings=lambda w: gaussian_settings(
            ["sigma_min", "sigma_max", *GAUSSIAN_CHECKS[w.check]]
        ),
        seed=config["seed"],
    script:
        "../scripts/gaussian_check.py"


# Pierret & Galerne's VP-SDE schemes (arXiv 2405.14250, Table 2) on their published spectrum; read by rule claims.
rule gaussian_vp_schemes:
    output:
        csv=report(
            F("gaussian/vp_schemes.csv"),
            caption="../report/gaussian_vp_schemes.rst",
            category="Gaussian theory",
        ),
        md=F("gaussian/vp_schemes.md"),
    log:
        R("logs/gaussian/vp_schemes.log"),
    benchmark:
        R("benchmarks/gaussian_vp_schemes.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("gaussian_vp_schemes"),
    params:
        settings=G["vp_schemes"],
        root=config["data"]["root"],
    script:
        "../scripts/gaussian_vp_schemes.py"


# The Gaussian's extremal property for the KL at equal variance, exactly in 1-D (arXiv 2601.13602 v3): unit-variance
# sources, the data source being a data set's first principal component; read by rule claims.
rule gaussian_extremal:
    input:
        train=R("data", G["extremal"]["dataset"], "train.npz"),
        spectrum=R("spectrum", f"{G['extremal']['dataset']}.npz"),
    output:
        csv=report(
            F("gaussian/extremal.csv"),
            caption="../report/gaussian_extremal.rst",
            category="Gaussian theory",
        ),
        md=F("gaussian/extremal.md"),
        pdf=F("gaussian/extremal.pdf"),
        png=report(
            F("gaussian/extremal.png"),
            caption="../report/gaussian_extremal.rst",
            category="Gaussian theory",
        ),
    log:
        R("logs/gaussian/extremal.log"),
    benchmark:
        R("benchmarks/gaussian_extremal.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("gaussian_extremal"),
    params:
        settings=G["extremal"],
        noise=config["noise"],
        strategies=lambda w: {
            k: config["strategies"][k] for k in G["extremal"]["strategies"]
        },
    script:
        "../scripts/gaussian_extremal.py"
