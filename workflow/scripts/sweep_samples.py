"""Snakemake script (rule sweep_samples): one cell of the sweep. Every strategy samples from the same start
states with one denoiser (an oracle or a trained network), solver and NFE budget; the grids and the exact value
of every Gaussian criterion (diffsched.method.gaussian.CRITERIA) for the data spectrum are stored beside."""

import numpy as np
import torch

from diffsched.infra import provenance
from diffsched.method import solvers
from diffsched.data import spectrum
from diffsched.studies import sweep
from diffsched.models import checkpoints
from diffsched.infra.atomic import atomic_path


def main(sm) -> None:
    torch.set_num_threads(sm.threads)
    w, s, r = sm.wildcards, sm.params.settings, sm.params.noise
    seed = int(w.seed)
    spec = spectrum.load(sm.input.spectrum, vectors=False)
    resolution = int(spec.meta["resolution"])
    if w.denoiser in sweep.ORACLES:
        denoiser = starts = sweep.oracle(w.denoiser, sm.input.spectrum, sm.input.get("train"), s["empirical_images"])
    else:  # a trained network starts where the data's Gaussian model says the sigma_max marginal is
        denoiser = checkpoints.load(sm.input.weights, sm.input.spec, checkpoints.device(sm.params.device))
        starts = sweep.oracle("gaussian", sm.input.spectrum, None)
    start = starts.start(s["samples"], r["sigma_max"], r["init"], sweep.generator(seed, w.dataset, w.denoiser))
    probe = starts.start(s["search_batch"], r["sigma_max"], r["init"],
                         sweep.generator(seed, w.dataset, w.denoiser, "search"))
    n = solvers.steps_for_nfe(w.solver, int(w.nfe))
    grids = sweep.grids(sm.params.strategies, n, r["sigma_min"], r["sigma_max"], spec.eigenvalues, w.solver,
                        r["init"], denoiser, probe)
    criteria = sweep.criteria_of_grids(spec.eigenvalues, grids, w.solver, r["init"])
    arrays = {}
    for label, grid in grids.items():
        arrays[f"images_{label}"] = sweep.sample(denoiser, start, grid, w.solver, resolution)
        arrays[f"grid_{label}"] = grid
        print(f"{label}: KL {criteria['kl'][label]:.4g}, grid {np.array2string(grid, precision=4)}", flush=True)
    for name, values in criteria.items():
        arrays[f"criterion_{name}"] = np.array([values[k] for k in grids])
    arrays["strategies"] = np.array(list(grids))
    arrays["nfe"] = np.array([solvers.nfe(w.solver, g) for g in grids.values()])
    arrays.update(sweep.cell_arrays({"dataset": w.dataset, "denoiser": w.denoiser, "solver": w.solver,
                                     "nfe": int(w.nfe), "seed": seed}))
    with atomic_path(sm.output[0]) as tmp:
        np.savez(tmp, **arrays)


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
