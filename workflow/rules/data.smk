# Canonical uint8 arrays per data set and split: {results}/data/{id}/{split}.npz (diffsched.data.datasets).
rule data_cifar10:
    output:
        train=R("data/{name}/train.npz"),
        test=R("data/{name}/test.npz"),
    log:
        R("logs/data/{name}.log"),
    benchmark:
        R("benchmarks/data_cifar10/{name}.tsv")
    wildcard_constraints:
        name=DATA_IDS["cifar10"],
    conda:
        "../../environment.yml"
    resources:
        **job_resources("data_cifar10"),
    params:
        settings=lambda w: config["data"]["datasets"][w.name],
        data={k: config["data"][k] for k in ("source", "root", "limit")},
        download_dir=R("downloads"),
        folder=R("data/{name}"),
    script:
        "../scripts/prepare_data.py"


use rule data_cifar10 as data_fashion_mnist with:
    benchmark:
        R("benchmarks/data_fashion_mnist/{name}.tsv")
    wildcard_constraints:
        name=DATA_IDS["fashion_mnist"],
    resources:
        **job_resources("data_fashion_mnist"),


rule data_celeba:
    output:
        train=R("data/{name}/train.npz"),
    log:
        R("logs/data/{name}.log"),
    benchmark:
        R("benchmarks/data_celeba/{name}.tsv")
    wildcard_constraints:
        name=DATA_IDS["celeba"],
    conda:
        "../../environment.yml"
    resources:
        **job_resources("data_celeba"),
    params:
        settings=lambda w: config["data"]["datasets"][w.name],
        data={k: config["data"][k] for k in ("source", "root", "limit")},
        download_dir=R("downloads"),
        folder=R("data/{name}"),
    script:
        "../scripts/prepare_data.py"


rule reference:
    input:
        unpack(reference_inputs),
    output:
        R("reference/{dataset}/{source}-{images}.npz"),
    log:
        R("logs/reference/{dataset}/{source}-{images}.log"),
    benchmark:
        R("benchmarks/reference/{dataset}/{source}-{images}.tsv")
    wildcard_constraints:
        source="train|gaussian",
        images=r"\d+",
    conda:
        "../../environment.yml"
    resources:
        **job_resources("reference"),
    params:
        seed=config["seed"],
    script:
        "../scripts/reference.py"
