"""Snakemake script (rule ablation_ideal): every trained model of one data set against the ideal denoisers of its
training images (diffsched.studies.ideal_gap; arXiv 2606.20416, Sun et al. 2025), conditioned and noise-blind, on
held-out noisy images at each sigma of a log-spaced grid. The oracles are computed once for all the data set's
models."""

from pathlib import Path

import torch

from diffsched.data import datasets, spectrum
from diffsched.models import checkpoints, denoisers, precond
from diffsched.studies import ideal_gap, probe, sweep
from diffsched.infra import provenance, tables

COLUMNS = ["dataset", "model", "time_embedding", "oracle", "matching", "sigma", "gap", "gap_se", "mse", "mse_se",
           "oracle_mse", "oracle_mse_se", "n_images", "n_oracle", "train_steps", "precond", "source", "held_out"]


def main(sm) -> None:
    torch.set_num_threads(sm.threads)
    ideal, name = sm.params.ideal, sm.wildcards.dataset
    train, _, meta = datasets.load(sm.input.train)
    test = datasets.load(sm.input.test)[0] if sm.input.get("test") else None
    pool, held, where = ideal_gap.held_out(train, test, ideal["images"])
    points = pool[datasets.subset(len(pool), ideal["oracle_images"])]
    oracles = {"conditioned": denoisers.EmpiricalDenoiser.fit(points),
               "blind": denoisers.BlindEmpiricalDenoiser.fit(points, precond=precond.get(sm.params.precond))}
    device = checkpoints.device(sm.params.device)
    weights = {Path(w).parent: w for w in sm.input.weights}  # a model's weights sit beside its spec (rule train)
    specs = {spec["model"]: (spec, path) for path in sm.input.specs for spec in [checkpoints.load_spec(path)]}
    models = {m: checkpoints.load(weights[Path(path).parent], path, device) for m, (_, path) in specs.items()}
    specs = {m: spec for m, (spec, _) in specs.items()}
    sigmas = probe.sigma_grid(ideal["sigma_min"], ideal["sigma_max"], ideal["sigma_points"])
    clean = torch.from_numpy(spectrum.scale(held))
    table = ideal_gap.compare(models, oracles, clean, sigmas, sweep.generator(sm.params.seed, name, "ideal"),
                              ideal["batch"])
    embedding = {m: spec["kwargs"].get("time_embedding", True) for m, spec in specs.items()}
    table = table.assign(
        dataset=name, time_embedding=table["model"].map(embedding),
        matching=table["oracle"] == table["model"].map(embedding).map(ideal_gap.matching),
        train_steps=table["model"].map({m: spec["steps"] for m, spec in specs.items()}), n_oracle=len(points),
        precond=sm.params.precond, source=f"{meta['label']}, {meta['resolution']}x{meta['resolution']}", held_out=where)
    table = tables.write_csv(table[COLUMNS], sm.output[0])
    print(table.pivot_table(index="sigma", columns=["model", "oracle"], values="gap").to_string())


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
