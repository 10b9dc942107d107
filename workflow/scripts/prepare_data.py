"""Snakemake script (rules data_cifar10, data_fashion_mnist, data_celeba): write the canonical arrays of one data
set."""

from diffsched.data import datasets
from diffsched.infra import provenance


def main(settings: dict, cfg: dict, download_dir: str, folder: str) -> dict:
    source = datasets.resolve(settings["dataset"], cfg["source"], root=cfg["root"], path=settings["path"],
                          download_dir=download_dir)
    print(f"source: {source.label} ({source.path})")
    for split, path in datasets.prepare(source, folder, settings["resolution"], cfg["limit"]).items():
        print(f"{split}: {datasets.load(path)[0].shape} -> {path}")
    return {str(path): f"{source.algorithm}:{checksum}" for path, checksum in source.files().items()}


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm.params.settings, sm.params.data, sm.params.download_dir, sm.params.folder)
