"""Snakemake script (rule ablation_samples): samples of one trained model with each ablation sampler. Every
model of a data set starts from the same noise (and draws the same stochastic noise), so the rows of the
ablation table differ by the network alone."""

import numpy as np
import torch

from diffsched import provenance, solvers, strategies, sweep, trained
from diffsched.atomic import atomic_path


def main(sm) -> None:
    torch.set_num_threads(sm.threads)
    tr, r, w = sm.params.training, sm.params.ranking, sm.wildcards
    model_spec = trained.load_spec(sm.input.spec)
    denoiser = trained.load(sm.input.weights, sm.input.spec, trained.device(tr["device"]))
    resolution = model_spec["kwargs"]["img_resolution"]
    arrays = {}
    for label, s in tr["samplers"].items():
        spec = sm.params.strategies[s["strategy"]]
        grid = strategies.grid(spec["schedule"], s["steps"], r["sigma_min"], r["sigma_max"], **spec.get("params", {}))
        start = r["sigma_max"] * torch.randn(tr["samples"], 3 * resolution**2,
                                             generator=sweep.generator(sm.params.seed, w.dataset, "ablation"))
        noise = sweep.generator(sm.params.seed, w.dataset, "ablation", label)
        arrays[f"images_{label}"] = sweep.sample(denoiser, start, grid, s["solver"], resolution, generator=noise)
        arrays[f"nfe_{label}"] = np.array(solvers.nfe(s["solver"], grid))
        print(f"{label}: {s['solver']}, {s['strategy']} grid of {s['steps']} steps, "
              f"NFE {arrays[f'nfe_{label}']}", flush=True)
    arrays["samplers"] = np.array(list(tr["samplers"]))
    with atomic_path(sm.output[0]) as tmp:
        np.savez(tmp, **arrays)


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
