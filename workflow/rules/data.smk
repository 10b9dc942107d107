# Canonical uint8 arrays per data set and split: {results}/data/{id}/{split}.npz (diffsched.data).
# Ids of config["data"]["datasets"] by data set, as wildcard patterns (ids are [A-Za-z0-9_]+, see the schema).
DATA_ID_PATTERN = {
    kind: "|".join(
        k for k, v in config["data"]["datasets"].items() if v["dataset"] == kind
    )
    or "(?!)"
    for kind in ("cifar10", "celeba")
}


rule data_cifar10:
    output:
        train=f"{config['results']}/data/{{name}}/train.npz",
        test=f"{config['results']}/data/{{name}}/test.npz",
    log:
        f"{config['results']}/logs/data/{{name}}.log",
    benchmark:
        f"{config['results']}/benchmarks/data/{{name}}.tsv"
    wildcard_constraints:
        name=DATA_ID_PATTERN["cifar10"],
    params:
        settings=lambda wc: config["data"]["datasets"][wc.name],
        data=config["data"],
        download_dir=f"{config['results']}/downloads",
    script:
        "../scripts/prepare_data.py"


rule data_celeba:
    output:
        train=f"{config['results']}/data/{{name}}/train.npz",
    log:
        f"{config['results']}/logs/data/{{name}}.log",
    benchmark:
        f"{config['results']}/benchmarks/data/{{name}}.tsv"
    wildcard_constraints:
        name=DATA_ID_PATTERN["celeba"],
    params:
        settings=lambda wc: config["data"]["datasets"][wc.name],
        data=config["data"],
        download_dir=f"{config['results']}/downloads",
    script:
        "../scripts/prepare_data.py"
