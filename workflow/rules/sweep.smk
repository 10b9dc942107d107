# The low-NFE sweep with exact-score oracles and trained networks (workflow/rules/ablation.smk): samples per
# cell, their metrics, then tables and figures.
SW = config["sweep"]


rule sweep_samples:
    input:
        unpack(sweep_network),
        unpack(sweep_train),
        spectrum=R("spectrum/{dataset}.npz"),
    output:
        R("sweep/{dataset}/{denoiser}/{solver}/nfe{nfe}/seed{seed}.npz"),
    log:
        R("logs/sweep/{dataset}/{denoiser}/{solver}/nfe{nfe}/seed{seed}.log"),
    benchmark:
        R(
            "benchmarks/sweep_samples/{dataset}/{denoiser}/{solver}/nfe{nfe}/seed{seed}.tsv"
        )
    wildcard_constraints:
        denoiser="|".join([*sweep.ORACLES, *MODELS]),
        nfe=r"\d+",
        seed=r"\d+",
    conda:
        "../../environment.yml"
    threads: THREADS["sample"]
    resources:
        **job_resources("sweep_samples"),
        gpu=lambda w: 0 if w.denoiser in sweep.ORACLES else config["training"]["gpu"],
    params:
        strategies={
            **{k: config["strategies"][k] for k in SW["strategies"]},
            **SW["search"],
        },
        settings={k: SW[k] for k in ("samples", "search_batch", "empirical_images")},
        device=config["training"]["device"],
        noise=config["noise"],
    script:
        "../scripts/sweep_samples.py"


rule sweep_metrics:
    input:
        samples=denoiser_samples,
        reference=sweep_reference,
    output:
        table=R("sweep/{dataset}/{denoiser}/metrics.csv"),
        features=R("sweep/{dataset}/{denoiser}/features.npz"),
    log:
        R("logs/sweep/{dataset}/{denoiser}/metrics.log"),
    benchmark:
        R("benchmarks/sweep_metrics/{dataset}/{denoiser}.tsv")
    wildcard_constraints:
        denoiser="|".join([*sweep.ORACLES, *MODELS]),
    conda:
        "../../environment.yml"
    threads: THREADS["metrics"]
    resources:
        **job_resources("sweep_metrics"),
        gpu=config["training"]["gpu"],
    params:
        metrics=SW["metrics"],
        cache=R("cache"),
    script:
        "../scripts/sweep_metrics.py"


rule sweep_bootstrap:
    input:
        spectrum=R("spectrum/{dataset}.npz"),
        metrics=R("sweep/{dataset}/{denoiser}/metrics.csv"),
        features=R("sweep/{dataset}/{denoiser}/features.npz"),
    output:
        summary=R("sweep/{dataset}/{denoiser}/bootstrap.csv"),
        scores=R("sweep/{dataset}/{denoiser}/bootstrap_scores.csv"),
    log:
        R("logs/sweep/{dataset}/{denoiser}/bootstrap.log"),
    benchmark:
        R("benchmarks/sweep_bootstrap/{dataset}/{denoiser}.tsv")
    wildcard_constraints:
        denoiser="|".join([*sweep.ORACLES, *MODELS]),
    conda:
        "../../environment.yml"
    resources:
        **job_resources("sweep_bootstrap"),
    params:
        replicates=SW["bootstrap_replicates"],
        baselines=[*sweep.BASELINES, *SW["search"]],
        seed=config["seed"],
    script:
        "../scripts/sweep_bootstrap.py"


rule sweep_outputs:
    input:
        metrics=[R("sweep", d, n, "metrics.csv") for d, n in sweep.pairs(SW)],
        bootstrap=[R("sweep", d, n, "bootstrap.csv") for d, n in sweep.pairs(SW)],
        scores=[R("sweep", d, n, "bootstrap_scores.csv") for d, n in sweep.pairs(SW)],
        samples=[cell_path(c) for c in sweep_cells(first_only=True)],  # the sample grids
    output:
        table_csv=report(
            F("sweep/sweep_table.csv"),
            caption="../report/sweep_table.rst",
            category="Oracle sweep",
        ),
        table_md=F("sweep/sweep_table.md"),
        rank_csv=F("sweep/rank_correlation.csv"),
        rank_md=F("sweep/rank_correlation.md"),
        rank_pdf=F("sweep/rank_correlation.pdf"),
        rank_png=report(
            F("sweep/rank_correlation.png"),
            caption="../report/sweep_rank.rst",
            category="Oracle sweep",
        ),
        fid_pdf=F("sweep/fid_vs_nfe.pdf"),
        fid_png=report(
            F("sweep/fid_vs_nfe.png"),
            caption="../report/sweep_fid.rst",
            category="Oracle sweep",
        ),
        bootstrap_csv=F("sweep/bootstrap.csv"),
        bootstrap_md=F("sweep/bootstrap.md"),
        criterion_pdf=F("sweep/criterion_vs_fid.pdf"),
        criterion_png=report(
            F("sweep/criterion_vs_fid.png"),
            caption="../report/sweep_criterion.rst",
            category="Oracle sweep",
        ),
        spearman_pdf=F("sweep/spearman_intervals.pdf"),
        spearman_png=report(
            F("sweep/spearman_intervals.png"),
            caption="../report/sweep_spearman.rst",
            category="Oracle sweep",
        ),
        grid_pdf=F("sweep/samples.pdf"),
        grid_png=report(
            F("sweep/samples.png"),
            caption="../report/sweep_samples.rst",
            category="Oracle sweep",
        ),
    log:
        R("logs/sweep/outputs.log"),
    benchmark:
        R("benchmarks/sweep_outputs.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("sweep_outputs"),
    params:
        strategies=STYLED,
        sweep={
            k: SW[k]
            for k in (
                "datasets",
                "gaussian_datasets",
                "denoisers",
                "networks",
                "solvers",
                "nfe",
                "seeds",
                "every_seed",
                "samples",
                "reference",
                "bootstrap_replicates",
                "grid_images",
            )
        },
        noise={k: config["noise"][k] for k in ("sigma_min", "sigma_max")},
        training={k: config["training"][k] for k in ("steps", "batch_size", "precond")},
        seed=config["seed"],
    script:
        "../scripts/sweep_outputs.py"
