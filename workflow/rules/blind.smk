# Noise-blind vs conditioned sampling on the Gaussian model of each data set (diffsched.blind_study; Sun et al.
# 2025, arXiv 2606.20416): one job per data set over its resolutions, then one table and two figures.
BL = config["blind"]
STUDY = {  # the study's settings, the same for every data set, and the noise range and start
    **{
        k: BL[k]
        for k in (
            "resolutions",
            "samples",
            "replicates",
            "rho",
            "samplers",
            "trajectory",
        )
    },
    **config["noise"],
}


rule blind_study:
    input:
        R("spectrum/{dataset}.npz"),
    output:
        table=R("blind/{dataset}.csv"),
        gap=R("blind/{dataset}_gap.csv"),
    log:
        R("logs/blind/{dataset}.log"),
    benchmark:
        R("benchmarks/blind_study/{dataset}.tsv")
    wildcard_constraints:
        dataset="|".join(BL["datasets"]),
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


rule blind_outputs:
    input:
        tables=expand(R("blind/{dataset}.csv"), dataset=BL["datasets"]),
        gaps=expand(R("blind/{dataset}_gap.csv"), dataset=BL["datasets"]),
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
        blind={"datasets": BL["datasets"], **STUDY},  # datasets: the report caption
        seed=config["seed"],
    script:
        "../scripts/blind_outputs.py"
