"""Snakemake script (rule ablation_outputs): the timestep-embedding ablation table, sample grids of every
model and sampler, and the training-loss curves."""

import numpy as np
import pandas as pd

from diffsched import plots, provenance, tables
from diffsched.atomic import atomic_path, write_text

COLUMNS = ["dataset", "network", "time_embedding", "capacity_matched", "model", "parameters", "train_steps",
           "sampler", "nfe", "fid", "kid_mean", "kid_std", "precision", "recall", "n_samples", "n_reference",
           "reference", "prc_features", "weights_sha256"]


def main(sm) -> None:
    tr = sm.params.training
    table = pd.concat([pd.read_csv(p) for p in sm.input.metrics], ignore_index=True)
    table = table[[c for c in COLUMNS if c in table.columns]]
    samplers = "; ".join(f"{k}: {s['solver']}, {s['strategy']} grid, {s['steps']} steps"
                         for k, s in tr["samplers"].items())
    facts = dict(source=", ".join(tr["datasets"]) + " (see the reference column; offline copies are JPEG q75)",
                 training=f"{tr['steps']} steps of batch {tr['batch_size']}, {tr['precond']} preconditioning, "
                          f"EMA weights, seed {tr['seed']}",
                 samples=f"{tr['samples']} per model and sampler against {tr['reference']} training images",
                 samplers=samplers, seed=sm.params.seed, features="Inception pool3 (FID, KID, precision/recall)")
    with atomic_path(sm.output.table_csv) as tmp:
        table.to_csv(tmp, index=False)
    write_text(sm.output.table_md, tables.markdown(
        table.drop(columns=["reference", "prc_features", "weights_sha256"]), provenance.caption(
            "Timestep-embedding ablation: the same networks with and without the noise-level input, trained "
            "alike and sampled from the same noise", **facts)))

    panels = {}
    for path in sm.input.samples:
        dataset, model = path.split("/")[-3:-1]
        cell = np.load(path)
        for label in cell["samplers"]:
            panels[(f"{dataset}\n{label}", model)] = cell[f"images_{label}"][: tr["grid_images"]]
    plots.sample_grid(panels, sm.output.grid_pdf, provenance.caption(
        f"First {tr['grid_images']} samples of each model (rows) per data set and sampler (columns); every "
        "model starts from the same noise", **facts))

    curves = []
    for path in sm.input.loss:
        dataset, model = path.split("/")[-3:-1]
        curves.append(pd.read_csv(path).assign(dataset=dataset, model=model))
    plots.training_loss(pd.concat(curves, ignore_index=True), sm.output.loss_pdf, provenance.caption(
        f"Training loss (mean of every {tr['log_every']} steps) of each model", **facts))


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
