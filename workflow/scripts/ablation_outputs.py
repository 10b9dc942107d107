"""Snakemake script (rule ablation_outputs): the timestep-embedding ablation table, sample grids of every
model and sampler, the training-loss curves, and every model against its ideal denoiser (table and figure)."""

import pandas as pd

from diffsched.metrics import scores
from diffsched.studies import plots, sweep
from diffsched.infra import provenance, tables
from diffsched.infra.atomic import write_text

COLUMNS = ["dataset", "network", "time_embedding", "capacity_matched", "model", "parameters", "train_steps",
           "sampler", "nfe", *scores.SCORES, "ideal_gap", "n_samples", "n_reference", "reference", "prc_features",
           "weights_sha256"]


def ideal_outputs(sm, facts: dict) -> pd.DataFrame:
    """The table and figure of every model against its ideal denoisers; returns each model's mean gap over the
    sigma grid to its matching oracle (columns dataset, model, ideal_gap)."""
    ideal = sm.params.training["ideal"]
    gaps = tables.write_csv(pd.concat([pd.read_csv(p) for p in sm.input.ideal], ignore_index=True),
                            sm.output.ideal_csv)
    where = gaps[["dataset", "held_out"]].drop_duplicates().itertuples(index=False)
    what = dict(held_out=f"{ideal['images']} images per data set; " + "; ".join(f"{d}: {h}" for d, h in where),
                oracles=f"the conditioned and the noise-blind empirical denoiser of {ideal['oracle_images']} "
                        f"evenly spaced training images",
                sigmas=f"{ideal['sigma_points']} log-spaced over [{ideal['sigma_min']}, {ideal['sigma_max']}]",
                **{k: facts[k] for k in ("source", "training", "seed")})
    write_text(sm.output.ideal_md, tables.markdown(gaps.drop(columns=["source", "held_out"]), provenance.caption(
        "Trained denoisers against their ideal (arXiv 2606.20416; Sun et al. 2025): gap = mean over held-out "
        "noisy images of |D - D*|^2 / d, mse = |D - y|^2 / d, oracle_mse = |D* - y|^2 / d, with standard errors; "
        "matching: D* is the oracle the model is trained towards (conditioned with the timestep embedding, "
        "noise-blind without)", **what)))
    plots.ideal_gap(gaps, sm.output.ideal_pdf, provenance.caption(
        "Gap of each trained model to its matching ideal denoiser against sigma (band: +-2 standard errors); "
        "dashed and dotted, the oracles' own errors to the clean image", **what))
    matched = gaps[gaps["matching"]].groupby(["dataset", "model"], as_index=False)["gap"].mean()
    return matched.rename(columns={"gap": "ideal_gap"})


def main(sm) -> None:
    tr = sm.params.training
    table = pd.concat([pd.read_csv(p) for p in sm.input.metrics], ignore_index=True)
    samplers = "; ".join(f"{k}: {s['solver']}, {s['strategy']} grid, {s['steps']} steps"
                         for k, s in tr["samplers"].items())
    facts = dict(source=", ".join(tr["datasets"]) + " (see the reference column; offline copies are JPEG q75)",
                 training=f"{tr['steps']} steps of batch {tr['batch_size']}, {tr['precond']} preconditioning, "
                          f"EMA weights, seed {tr['seed']}",
                 samples=f"{tr['samples']} per model and sampler against {tr['reference']} training images",
                 samplers=samplers, seed=sm.params.seed, features="Inception pool3 (FID, KID, precision/recall)")
    table = table.merge(ideal_outputs(sm, facts), on=["dataset", "model"], how="left")
    table = tables.write_csv(table[[c for c in COLUMNS if c in table.columns]], sm.output.table_csv)
    write_text(sm.output.table_md, tables.markdown(
        table.drop(columns=["reference", "prc_features", "weights_sha256"]), provenance.caption(
            "Timestep-embedding ablation: the same networks with and without the noise-level input, trained "
            "alike and sampled from the same noise; ideal_gap: mean over the sigma grid of the gap to the matching "
            "ideal denoiser (ideal_gap.md)", **facts)))

    panels, cells = {}, [sweep.load_cell(path, sweep.ABLATION_CELL) for path in sm.input.samples]
    for cell, arrays in cells:
        for label in arrays["samplers"]:
            panels[(f"{cell['dataset']}\n{label}", cell["model"])] = arrays[f"images_{label}"][: tr["grid_images"]]
    plots.sample_grid(panels, sm.output.grid_pdf, provenance.caption(
        f"First {tr['grid_images']} samples of each model (rows) per data set and sampler (columns); every "
        "model starts from the same noise", **facts))

    curves = [pd.read_csv(sm.input[sweep.loss_input(**cell)]).assign(**cell) for cell, _ in cells]
    plots.training_loss(pd.concat(curves, ignore_index=True), sm.output.loss_pdf, provenance.caption(
        f"Training loss (mean of every {tr['log_every']} steps) of each model", **facts))


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
