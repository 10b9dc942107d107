"""How far a trained denoiser is from the Bayes optimum of its training objective (Chavez, arXiv 2606.20416;
Sun et al. 2025, arXiv 2502.13129).

On held-out clean images y, each noised as x = y + sigma n at every sigma of a grid, the gap of a denoiser D to an
ideal oracle D* is the mean over images of |D(x; sigma) - D*(x; sigma)|^2 / d (mean squared difference per pixel
in the [-1, 1] scale), with its standard error over images; beside it, each one's own error |D - y|^2 / d. The
oracles (:mod:`diffsched.models.denoisers`) are the empirical distribution of the training images seen through the
training's preconditioning: ``conditioned`` (:class:`~diffsched.models.denoisers.EmpiricalDenoiser`), the optimum of a
network that is told sigma, and ``blind`` (:class:`~diffsched.models.denoisers.BlindEmpiricalDenoiser`), the optimum of
one that is not. Every denoiser sees the same x, drawn from one seeded ``torch.Generator``.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import torch

from diffsched.data import datasets
from diffsched.studies import probe

HELD_OUT_TEST = "test split"
HELD_OUT_TRAIN = "held out of the oracles' training images, not of the models' (no test split)"


def matching(time_embedding: bool) -> str:
    """The oracle a model is trained towards: ``conditioned`` when it sees sigma, else ``blind``."""
    return "conditioned" if time_embedding else "blind"


def held_out(train, test, count: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(the oracle's pool of training images, ``count`` held-out images, where these come from): evenly spaced
    images of the test split, or, without one (``test`` None), evenly spaced images held out of ``train``."""
    if test is None:
        pool, held = probe.hold_out(train, count)
        return pool, held, HELD_OUT_TRAIN
    return train, test[datasets.subset(len(test), count)], HELD_OUT_TEST


def _per_image(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).square().mean(dim=1)


def _mean_se(parts: list[torch.Tensor]) -> tuple[float, float]:
    """Mean and standard error over images (NaN for one image)."""
    values = torch.cat(parts).double()
    se = values.std().item() / math.sqrt(values.numel()) if values.numel() > 1 else math.nan
    return values.mean().item(), se


def compare(models: dict, oracles: dict, clean: torch.Tensor, sigmas, generator: torch.Generator,
            batch: int = 64) -> pd.DataFrame:
    """Per sigma, model and oracle: ``gap`` = mean |D - D*|^2 / d, ``mse`` = mean |D - y|^2 / d and
    ``oracle_mse`` = mean |D* - y|^2 / d over the rows of ``clean`` (B, d) in the oracles' dtype, each with its
    standard error (``*_se``). ``models`` and ``oracles`` map names to ``D(x, sigma)`` callables; the noise of
    each image and sigma is drawn once from ``generator`` and shared by all, ``batch`` images at a time."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if sigmas.size == 0 or not np.all(sigmas > 0):
        raise ValueError(f"noise levels must be positive (and at least one given), got {sigmas.tolist()}")
    rows = []
    for sigma in map(float, sigmas):
        errors = defaultdict(list)
        for y in clean.split(batch):
            x = y + sigma * torch.randn(y.shape, generator=generator, dtype=y.dtype, device=y.device)
            ideal = {o: oracle(x, sigma) for o, oracle in oracles.items()}
            for o, out in ideal.items():
                errors["oracle", o].append(_per_image(out, y))
            with torch.no_grad():
                for m, model in models.items():
                    out = model(x, sigma).to(y.dtype)
                    errors["model", m].append(_per_image(out, y))
                    for o, target in ideal.items():
                        errors["gap", m, o].append(_per_image(out, target))
        for m in models:
            mse = _mean_se(errors["model", m])
            for o in oracles:
                gap, oracle_mse = _mean_se(errors["gap", m, o]), _mean_se(errors["oracle", o])
                rows.append({"sigma": sigma, "model": m, "oracle": o, "gap": gap[0], "gap_se": gap[1],
                             "mse": mse[0], "mse_se": mse[1], "oracle_mse": oracle_mse[0],
                             "oracle_mse_se": oracle_mse[1], "n_images": len(clean)})
    return pd.DataFrame(rows)
