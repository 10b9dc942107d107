# Canonical uint8 arrays per data set and split: {results}/data/{id}/{split}.npz (diffsched.data).
import re


def data_ids(kind):
    """Ids in config["data"]["datasets"] that are of data set ``kind`` (cifar10, celeba)."""
    return [k for k, v in config["data"]["datasets"].items() if v["dataset"] == kind]


def data_id_pattern(kind):
    return "|".join(re.escape(k) for k in data_ids(kind)) or "(?!)"


rule data_cifar10:
    output:
        train=f"{config['results']}/data/{{name}}/train.npz",
        test=f"{config['results']}/data/{{name}}/test.npz",
    log:
        f"{config['results']}/logs/data/{{name}}.log",
    benchmark:
        f"{config['results']}/benchmarks/data/{{name}}.tsv"
    wildcard_constraints:
        name=data_id_pattern("cifar10"),
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
        name=data_id_pattern("celeba"),
    params:
        settings=lambda wc: config["data"]["datasets"][wc.name],
        data=config["data"],
        download_dir=f"{config['results']}/downloads",
    script:
        "../scripts/prepare_data.py"
