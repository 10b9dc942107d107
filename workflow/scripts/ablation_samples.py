"""Snakemake script (rule ablation_samples): samples of one trained model with each ablation sampler. Every
model of a data set starts from the same noise (and draws the same stochastic noise), so the rows of the
ablation table differ by the network alone."""

import numpy as np
import torch

from diffsched.infra import provenance
from diffsched.method import solvers, strategies
from diffsched.studies import sweep
from diffsched.models import checkpoints
from diffsched.infra.atomic import atomic_path


def main(sm) -> None:
    torch.set_num_threads(sm.threads)
    p, noise_range, w = sm.params, sm.params.noise, sm.wildcards
    model_spec = checkpoints.load_spec(sm.input.spec)
    denoiser = checkpoints.load(sm.input.weights, sm.input.spec, checkpoints.device(p.device))
    resolution = model_spec["kwargs"]["img_resolution"]
    arrays = {}
    for label, s in p.samplers.items():
        grid = strategies.entry_grid(p.strategies[s["strategy"]], s["steps"], noise_range["sigma_min"],
                                     noise_range["sigma_max"])
        start = noise_range["sigma_max"] * torch.randn(p.samples, 3 * resolution**2,
                                             generator=sweep.generator(sm.params.seed, w.dataset, "ablation"))
        noise = sweep.generator(sm.params.seed, w.dataset, "ablation", label)
        arrays[f"images_{label}"] = sweep.sample(denoiser, start, grid, s["solver"], resolution, generator=noise)
        arrays[f"nfe_{label}"] = np.array(solvers.nfe(s["solver"], grid))
        print(f"{label}: {s['solver']}, {s['strategy']} grid of {s['steps']} steps, "
              f"NFE {arrays[f'nfe_{label}']}", flush=True)
    arrays["samplers"] = np.array(list(p.samplers))
    arrays.update(sweep.cell_arrays({"dataset": w.dataset, "model": w.model}, sweep.ABLATION_CELL))
    with atomic_path(sm.output[0]) as tmp:
        np.savez(tmp, **arrays)


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
