"""Recommend a sigma grid for a data set and an NFE budget by an exact Gaussian criterion (arXiv 2601.13602): W2
by default (the criterion whose ranking agreed best with FID in this project's sweep; :data:`CAVEAT`), any of
:data:`diffsched.method.gaussian.CRITERIA` on request.

The data set's covariance spectrum is prepared and cached on first use, in the same files the workflow
writes (``<cache>/data/<id>/train.npz``, ``<cache>/spectrum/<id>.npz``), so a later pipeline run reuses them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from diffsched.data import datasets, spectrum
from diffsched.method import gaussian, solvers
from diffsched.method import strategies as registry
from diffsched.studies import ranking
from diffsched.method.schedules import SIGMA_MAX, SIGMA_MIN
from diffsched.infra.atomic import atomic_path


def resolution_of(dataset: str, resolution: int | None) -> int:
    """The resolution asked for, or the data set's default: its native size where it has only one (Fashion-MNIST
    28), else 32."""
    return datasets.RESOLUTIONS.get(dataset, 32) if resolution is None else resolution


def dataset_id(dataset: str, resolution: int | None) -> str:
    """The workflow's id for a data set at a resolution: cifar10 (32x32 only), fashion_mnist (28x28 only) or
    celeba<resolution>."""
    resolution = resolution_of(dataset, resolution)
    if dataset == "cifar10":
        if resolution != 32:
            raise ValueError(f"CIFAR-10 is 32x32; got --resolution {resolution}")
        return "cifar10"
    if dataset == "fashion_mnist":
        if resolution != 28:
            raise ValueError(f"Fashion-MNIST is 28x28; got --resolution {resolution}")
        return "fashion_mnist"
    if dataset == "celeba":
        return f"celeba{resolution}"
    raise ValueError(f"unknown data set {dataset!r}; valid: {', '.join(datasets.DATASETS)}")


def spectrum_path(dataset: str, resolution: int | None, cache="results") -> Path:
    """Where the data set's spectrum is cached, ``<cache>/spectrum/<id>.npz`` (the workflow's file)."""
    return Path(cache) / "spectrum" / f"{dataset_id(dataset, resolution)}.npz"


def prepared(dataset: str, resolution: int | None = None, cache="results", source: str = "auto", root=None,
             path=None) -> Path:
    """The data set's canonical train split, ``<cache>/data/<id>/train.npz``, prepared on first use."""
    cache = Path(cache)
    train = cache / "data" / dataset_id(dataset, resolution) / "train.npz"
    resolution = resolution_of(dataset, resolution)
    if not train.is_file():
        src = datasets.resolve(dataset, source, root=root, path=path, download_dir=cache / "downloads")
        print(f"preparing {src.label} at {resolution}x{resolution} into {train.parent}", file=sys.stderr)
        datasets.prepare(src, train.parent, resolution)
    return train


def data_eigenvalues(dataset: str, resolution: int | None = None, cache="results", source: str = "auto", root=None,
                     path=None) -> tuple[np.ndarray, str]:
    """Eigenvalues of a data set's covariance and its source label, computed once and cached at
    :func:`spectrum_path`."""
    spec_path = spectrum_path(dataset, resolution, cache)
    if not spec_path.is_file():
        images, _, meta = datasets.load(prepared(dataset, resolution, cache, source, root, path))
        print(f"estimating the covariance spectrum of {len(images)} images into {spec_path}", file=sys.stderr)
        keep = ("dataset", "split", "label", "archive", "checksum", "resolution", "count")
        spec = spectrum.compute(images, meta={k: meta[k] for k in keep})
        spectrum.save(spec_path, spec)
        with atomic_path(spec_path.with_suffix(".eigenvalues.npy")) as tmp:
            np.save(tmp, spec.eigenvalues)
    spec = spectrum.load(spec_path, vectors=False)
    return spec.eigenvalues, spec.meta["label"]


CAVEAT = ("An exact criterion ranks grids for the Gaussian model of the data, not for a trained network. Which "
          "criterion agrees with FID, and whether its grid beats hand-made ones, is measured by this project's "
          "low-NFE sweep: see docs/studies.md (Results of the default run) and figures/claims.md. best_named is the "
          "best closed-form grid under the criterion.")


def recommend(eigenvalues, nfe: int, solver: str = "euler", sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX,
              init: str = "exact", strategies: dict | None = None, criterion: str = "w2") -> dict:
    """The grid with the lowest exact ``criterion`` at this budget among the strategies, the criterion's finite-n
    optimum included, with every strategy's value and grid, and the KLs of the chosen grid."""
    gaussian.criterion_params(criterion, {})  # an unknown name is refused before any grid is computed
    lam = gaussian.check_eigenvalues(eigenvalues)
    specs = strategies or registry.DEFAULTS
    for label, spec in specs.items():
        registry.check_entry(label, spec)
    n = solvers.steps_for_nfe(solver, nfe)
    grids = ranking.strategy_grids(lam, specs, n, sigma_min, sigma_max, solver, init, criterion)
    values = {label: gaussian.criterion(criterion, lam, grid, solver, init) for label, grid in grids.items()}
    best = min(values, key=values.get)  # the floor comes last: a closed form that ties it is named
    named = [label for label in values if specs[label]["schedule"] != ranking.FLOOR]
    grid = grids[best]
    return {"criterion": criterion, "strategy": best, "sigmas": grid.tolist(), "value": values[best],
            "kl": gaussian.kl_divergence(lam, grid, solver, init),
            "kl_reverse": gaussian.kl_divergence(lam, grid, solver, init, "reverse"), "nfe": solvers.nfe(solver, grid),
            "steps": n, "solver": solver, "init": init, "sigma_min": sigma_min, "sigma_max": sigma_max,
            "best_named": min(named, key=values.get) if named else None, "alternatives": values,
            "grids": {label: g.tolist() for label, g in grids.items()}, "caveat": CAVEAT}
