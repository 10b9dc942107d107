# Exact-KL ranking of the strategies on each data spectrum, the figures, and the chosen grids.
rule ranking_table:
    input:
        R("spectrum/{name}.npz"),
    output:
        R("ranking/{name}/kl_table.csv"),
    log:
        R("logs/ranking/{name}.log"),
    benchmark:
        R("benchmarks/ranking_table/{name}.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("ranking_table"),
    params:
        strategies=config["strategies"],
        solvers=config["solvers"],
        criteria=config["criteria"],
        ranking={"nfe": config["ranking"]["nfe"], **config["noise"]},
    script:
        "../scripts/ranking_table.py"


rule ranking_outputs:
    input:
        tables=[R("ranking", name, "kl_table.csv") for name in RANKED],
        spectra=[R("spectrum", f"{name}.npz") for name in RANKED],
    output:
        spectra_pdf=F("data/spectra.pdf"),
        spectra_png=report(
            F("data/spectra.png"),
            caption="../report/data_spectra.rst",
            category="Data spectra and KL choices",
        ),
        kl_pdf=F("data/kl_vs_nfe.pdf"),
        kl_png=report(
            F("data/kl_vs_nfe.png"),
            caption="../report/data_kl_vs_nfe.rst",
            category="Data spectra and KL choices",
        ),
        picks_csv=report(
            F("data/kl_picks.csv"),
            caption="../report/data_kl_picks.rst",
            category="Data spectra and KL choices",
        ),
        picks_md=F("data/kl_picks.md"),
        tables_csv=[F("data", f"kl_table_{name}.csv") for name in RANKED],
        tables_md=[F("data", f"kl_table_{name}.md") for name in RANKED],
        grids=[F("data", f"chosen_grids_{name}.json") for name in RANKED],
    log:
        R("logs/ranking/outputs.log"),
    benchmark:
        R("benchmarks/ranking_outputs.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("ranking_outputs"),
    params:
        names=RANKED,  # the order of every input and output list above
        ranking={
            **{k: config["ranking"][k] for k in ("nfe", "gamma_star_nfe")},
            **config["noise"],
        },
        solvers=config["solvers"],
        strategies=STYLED,
    script:
        "../scripts/ranking_outputs.py"


rule ranking_figure:
    input:
        table=R("ranking/{name}/kl_table.csv"),
        spectrum=R("spectrum/{name}.npz"),
    output:
        pdf=F("data/kl_vs_nfe_{name}.pdf"),
        png=report(
            F("data/kl_vs_nfe_{name}.png"),
            caption="../report/data_kl_vs_nfe_one.rst",
            category="Data spectra and KL choices",
            subcategory="{name}",
        ),
    log:
        R("logs/ranking/figure_{name}.log"),
    benchmark:
        R("benchmarks/ranking_figure/{name}.tsv")
    wildcard_constraints:
        name="|".join(RANKED),
    conda:
        "../../environment.yml"
    resources:
        **job_resources("ranking_figure"),
    params:
        ranking={"nfe": config["ranking"]["nfe"], **config["noise"]},
        strategies=STYLED,
    script:
        "../scripts/ranking_figure.py"


rule published_comparison:
    input:
        model=R("spectrum/{name}.npz"),
        model_table=R("ranking/{name}/kl_table.csv"),
        basis=lambda w: R("spectrum", f"{PUBLISHED[w.name]['basis']}.npz"),
        basis_table=lambda w: R("ranking", PUBLISHED[w.name]["basis"], "kl_table.csv"),
    output:
        csv=F("data/{name}_vs_copy.csv"),
        md=F("data/{name}_vs_copy.md"),
        pdf=F("data/{name}_vs_copy.pdf"),
        png=report(
            F("data/{name}_vs_copy.png"),
            caption="../report/data_published_comparison.rst",
            category="Data spectra and KL choices",
        ),
    log:
        R("logs/ranking/published_comparison_{name}.log"),
    benchmark:
        R("benchmarks/published_comparison/{name}.tsv")
    wildcard_constraints:
        name="|".join(COMPARED) or "(?!)",
    conda:
        "../../environment.yml"
    resources:
        **job_resources("published_comparison"),
    params:
        ranking={
            **{k: config["ranking"][k] for k in ("nfe", "gamma_star_nfe")},
            **config["noise"],
        },
        solver="euler",
        strategies=STYLED,
    script:
        "../scripts/published_comparison.py"
