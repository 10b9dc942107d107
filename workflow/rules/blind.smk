# Noise-blind vs conditioned ideal oracles on each data set (diffsched.studies.blind_study; Sun et al. 2025, arXiv
# 2606.20416): one sampling job per data set and oracle pair (Gaussian model, empirical distribution) over its
# resolutions, one FID/KID job per pair at the scored resolutions, then one table and two figures.
BL = config["blind"]
STUDY = {  # the study's settings, the same for every data set, and the noise range and start
    **{
        k: BL[k]
        for k in (
            "resolutions",
            "scored_resolutions",
            "samples",
            "replicates",
            "samplers",
            "trajectory",
            "empirical_images",
        )
    },
    "strategy": config["strategies"][BL["strategy"]],
    **config["noise"],
}
BLIND_PAIRS = [(d, o) for d in BL["datasets"] for o in BL["oracles"]]


rule blind_study:
    input:
        unpack(blind_inputs),
    output:
        table=R("blind/{dataset}/{oracle}/measures.csv"),
        gap=R("blind/{dataset}/{oracle}/gap.csv"),
        samples=R("blind/{dataset}/{oracle}/samples.npz"),
    log:
        R("logs/blind/{dataset}/{oracle}.log"),
    benchmark:
        R("benchmarks/blind_study/{dataset}/{oracle}.tsv")
    wildcard_constraints:
        dataset="|".join(BL["datasets"]),
        oracle="|".join(BL["oracles"]),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        **job_resources("blind_study"),
    params:
        blind=STUDY,
        seed=config["seed"],
    script:
        "../scripts/blind_study.py"


rule blind_metrics:
    input:
        samples=R("blind/{dataset}/{oracle}/samples.npz"),
        table=R("blind/{dataset}/{oracle}/measures.csv"),
        reference=lambda w: oracle_reference(w.dataset, w.oracle),
    output:
        R("blind/{dataset}/{oracle}/scores.csv"),
    log:
        R("logs/blind/{dataset}/{oracle}_metrics.log"),
    benchmark:
        R("benchmarks/blind_metrics/{dataset}/{oracle}.tsv")
    wildcard_constraints:
        dataset="|".join(BL["datasets"]),
        oracle="|".join(BL["oracles"]),
    conda:
        "../../environment.yml"
    threads: THREADS["metrics"]
    resources:
        **job_resources("blind_metrics"),
        gpu=config["training"]["gpu"],
    params:
        scored_resolutions=BL["scored_resolutions"],
        samplers=list(BL["samplers"]),
        metrics=BL["metrics"],
        replicates=BL["replicates"],
        seed=config["seed"],
        cache=R("cache"),
    script:
        "../scripts/blind_metrics.py"


rule blind_outputs:
    input:
        tables=[R("blind", d, o, "measures.csv") for d, o in BLIND_PAIRS],
        scores=(
            [R("blind", d, o, "scores.csv") for d, o in BLIND_PAIRS]
            if BL["scored_resolutions"]
            else []
        ),
        # no FID/KID without scored resolutions
        gaps=[R("blind", d, o, "gap.csv") for d, o in BLIND_PAIRS],
    output:
        csv=report(
            F("blind/blind_vs_conditioned.csv"),
            caption="../report/blind_table.rst",
            category="Noise-blind denoisers",
        ),
        md=F("blind/blind_vs_conditioned.md"),
        gap_d=both(F("blind/gap_vs_d")),
        gap_sigma=both(F("blind/gap_vs_sigma")),
    log:
        R("logs/blind/outputs.log"),
    benchmark:
        R("benchmarks/blind_outputs.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("blind_outputs"),
    params:
        blind={
            "datasets": BL["datasets"],
            "oracles": BL["oracles"],
            "reference": config["sweep"]["reference"],
            **STUDY,
        },
        # the report caption
        seed=config["seed"],
    script:
        "../scripts/blind_outputs.py"
