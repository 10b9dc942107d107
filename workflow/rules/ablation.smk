# Trained denoisers and the timestep-embedding ablation (Chavez, arXiv 2606.20416; Sun et al. 2025): every
# <network>-<variant> model trained on every training data set, sampled with each ablation sampler, scored.
TR = config["training"]


rule train:
    input:
        train=R("data/{dataset}/train.npz"),
    output:
        weights=R("train/{dataset}/{model}/model.pt"),
        spec=R("train/{dataset}/{model}/model.json"),
        loss=R("train/{dataset}/{model}/loss.csv"),
    log:
        R("logs/train/{dataset}/{model}.log"),
    benchmark:
        R("benchmarks/train/{dataset}/{model}.tsv")
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        "../../environment.yml"
    threads: THREADS["train"]
    resources:
        **job_resources("train"),
        gpu=TR["gpu"],
    params:
        training=model_training,
        # Not an output: Snakemake deletes the outputs of a killed job, but the checkpoint must survive it.
        state=lambda w: R("train", w.dataset, w.model, "state"),
    script:
        "../scripts/train_model.py"


rule ablation_samples:
    input:
        weights=R("train/{dataset}/{model}/model.pt"),
        spec=R("train/{dataset}/{model}/model.json"),
    output:
        R("ablation/{dataset}/{model}/samples.npz"),
    log:
        R("logs/ablation/{dataset}/{model}/samples.log"),
    benchmark:
        R("benchmarks/ablation_samples/{dataset}/{model}.tsv")
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        "../../environment.yml"
    threads: THREADS["sample"]
    resources:
        **job_resources("ablation_samples"),
        gpu=TR["gpu"],
    params:
        samplers=TR["samplers"],
        samples=TR["samples"],
        device=TR["device"],
        strategies={
            s["strategy"]: config["strategies"][s["strategy"]]
            for s in TR["samplers"].values()
        },
        noise={k: config["noise"][k] for k in ("sigma_min", "sigma_max")},
        seed=config["seed"],
    script:
        "../scripts/ablation_samples.py"


rule ablation_metrics:
    input:
        samples=expand(R("ablation/{{dataset}}/{model}/samples.npz"), model=MODELS),
        specs=expand(R("train/{{dataset}}/{model}/model.json"), model=MODELS),
        reference=R(f"reference/{{dataset}}/train-{TR['reference']}.npz"),
    output:
        R("ablation/{dataset}/metrics.csv"),
    log:
        R("logs/ablation/{dataset}/metrics.log"),
    benchmark:
        R("benchmarks/ablation_metrics/{dataset}.tsv")
    conda:
        "../../environment.yml"
    threads: THREADS["metrics"]
    resources:
        **job_resources("ablation_metrics"),
        gpu=TR["gpu"],
    params:
        metrics=TR["metrics"],
        cache=R("cache"),
    script:
        "../scripts/ablation_metrics.py"


rule ablation_ideal:
    input:
        unpack(ideal_inputs),
    output:
        R("ablation/{dataset}/ideal_gap.csv"),
    log:
        R("logs/ablation/{dataset}/ideal_gap.log"),
    benchmark:
        R("benchmarks/ablation_ideal/{dataset}.tsv")
    conda:
        "../../environment.yml"
    threads: THREADS["sample"]
    resources:
        **job_resources("ablation_ideal"),
        gpu=TR["gpu"],
    params:
        ideal=TR["ideal"],
        precond=TR["precond"],
        device=TR["device"],
        seed=config["seed"],
    script:
        "../scripts/ablation_ideal.py"


rule ablation_outputs:
    input:
        unpack(ablation_losses),
        metrics=expand(R("ablation/{dataset}/metrics.csv"), dataset=TR["datasets"]),
        samples=[R("ablation", d, m, "samples.npz") for d, m in ABLATION_CELLS],
        ideal=expand(R("ablation/{dataset}/ideal_gap.csv"), dataset=TR["datasets"]),
    output:
        table_csv=report(
            F("ablation/ablation_table.csv"),
            caption="../report/ablation_table.rst",
            category="Timestep-embedding ablation",
        ),
        table_md=F("ablation/ablation_table.md"),
        grid_pdf=F("ablation/samples.pdf"),
        grid_png=report(
            F("ablation/samples.png"),
            caption="../report/ablation_samples.rst",
            category="Timestep-embedding ablation",
        ),
        loss_pdf=F("ablation/loss.pdf"),
        loss_png=report(
            F("ablation/loss.png"),
            caption="../report/ablation_loss.rst",
            category="Timestep-embedding ablation",
        ),
        ideal_csv=F("ablation/ideal_gap.csv"),
        ideal_md=F("ablation/ideal_gap.md"),
        ideal_pdf=F("ablation/ideal_gap.pdf"),
        ideal_png=report(
            F("ablation/ideal_gap.png"),
            caption="../report/ablation_ideal.rst",
            category="Timestep-embedding ablation",
        ),
    log:
        R("logs/ablation/outputs.log"),
    benchmark:
        R("benchmarks/ablation_outputs.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("ablation_outputs"),
    params:
        training={
            k: TR[k]
            for k in (
                "datasets",
                "steps",
                "batch_size",
                "precond",
                "seed",
                "samplers",
                "samples",
                "reference",
                "grid_images",
                "log_every",
                "ideal",
            )
        },
        seed=config["seed"],
    script:
        "../scripts/ablation_outputs.py"
