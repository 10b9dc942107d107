# Noise-level inference (Sun et al. 2025): how well sigma can be read from x = y + sigma n alone, per data set,
# then one table and figure over all of them.
PR = config["probe"]


rule probe:
    input:
        unpack(probe_inputs),
    output:
        R("probe/{dataset}.csv"),
    log:
        R("logs/probe/{dataset}.log"),
    benchmark:
        R("benchmarks/probe/{dataset}.tsv")
    wildcard_constraints:
        dataset="|".join(PR["datasets"]),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        **job_resources("probe"),
    params:
        probe={
            k: PR[k]
            for k in ("test_images", "steps", "batch", "sigma_points", "bayes_images")
        },
        noise={k: config["noise"][k] for k in ("sigma_min", "sigma_max")},
        seed=config["seed"],
    script:
        "../scripts/probe.py"


rule probe_outputs:
    input:
        expand(R("probe/{dataset}.csv"), dataset=PR["datasets"]),
    output:
        csv=report(
            F("probe/noise_level.csv"),
            caption="../report/probe_table.rst",
            category="Noise-level inference",
        ),
        md=F("probe/noise_level.md"),
        pdf=F("probe/noise_level.pdf"),
        png=report(
            F("probe/noise_level.png"),
            caption="../report/probe_figure.rst",
            category="Noise-level inference",
        ),
    log:
        R("logs/probe/outputs.log"),
    benchmark:
        R("benchmarks/probe_outputs.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("probe_outputs"),
    params:
        probe={  # also read by the report captions (workflow/report/probe_*.rst)
            k: PR[k]
            for k in (
                "datasets",
                "test_images",
                "steps",
                "batch",
                "sigma_points",
                "bayes_images",
            )
        },
        noise={k: config["noise"][k] for k in ("sigma_min", "sigma_max")},
        seed=config["seed"],
    script:
        "../scripts/probe_outputs.py"
