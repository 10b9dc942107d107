"""Recommend a sigma grid for a data set and an NFE budget by the exact Gaussian KL (arXiv 2601.13602).

The data set's covariance spectrum is prepared and cached on first use, in the same files the workflow
writes (``<cache>/data/<id>/train.npz``, ``<cache>/spectrum/<id>.npz``), so a later pipeline run reuses them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from diffsched import data, ranking, spectrum
from diffsched.atomic import atomic_path

# The strategies of config.yaml (tests/test_recommend.py keeps the two equal).
DEFAULT_STRATEGIES = {
    "edm": {"schedule": "edm", "params": {"rho": 7}},
    "logsnr": {"schedule": "logsnr"},
    "vp_uniform": {"schedule": "vp_time", "params": {"rho": 1}},
    "vp_quadratic": {"schedule": "vp_time", "params": {"rho": 2}},
    "power_best": {"schedule": "vp_time", "search": {"rho": [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0]}},
    "cosine": {"schedule": "tangent", "params": {"gamma": 1.0}},
    "tangent_opt": {"schedule": "tangent_opt"},
    "variational": {"schedule": "variational"},
    "kl_optimal": {"schedule": "kl_optimal"},
}


def dataset_id(dataset: str, resolution: int) -> str:
    """The workflow's id for a data set at a resolution: cifar10 (32x32 only) or celeba<resolution>."""
    if dataset == "cifar10":
        if resolution != 32:
            raise ValueError(f"CIFAR-10 is 32x32; got --resolution {resolution}")
        return "cifar10"
    if dataset == "celeba":
        return f"celeba{resolution}"
    raise ValueError(f"unknown data set {dataset!r}; valid: {', '.join(data.DATASETS)}")


def prepared(dataset: str, resolution: int = 32, cache="results", source: str = "auto", root=None,
             path=None) -> Path:
    """The data set's canonical train split, ``<cache>/data/<id>/train.npz``, prepared on first use."""
    cache = Path(cache)
    train = cache / "data" / dataset_id(dataset, resolution) / "train.npz"
    if not train.is_file():
        src = data.resolve(dataset, source, root=root, path=path, download_dir=cache / "downloads")
        print(f"preparing {src.label} at {resolution}x{resolution} into {train.parent}", file=sys.stderr)
        data.prepare(src, train.parent, resolution)
    return train


def data_eigenvalues(dataset: str, resolution: int = 32, cache="results", source: str = "auto", root=None,
                     path=None) -> tuple[np.ndarray, str]:
    """Eigenvalues of a data set's covariance and its source label, computed once and cached."""
    spec_path = Path(cache) / "spectrum" / f"{dataset_id(dataset, resolution)}.npz"
    if not spec_path.is_file():
        images, _, meta = data.load(prepared(dataset, resolution, cache, source, root, path))
        print(f"estimating the covariance spectrum of {len(images)} images into {spec_path}", file=sys.stderr)
        keep = ("dataset", "split", "label", "archive", "checksum", "resolution", "count")
        spec = spectrum.compute(images, meta={k: meta[k] for k in keep})
        spectrum.save(spec_path, spec)
        with atomic_path(spec_path.with_suffix(".eigenvalues.npy")) as tmp:
            np.save(tmp, spec.eigenvalues)
    spec = spectrum.load(spec_path, vectors=False)
    return spec.eigenvalues, spec.meta["label"]


def recommend(eigenvalues, nfe: int, solver: str = "euler", sigma_min: float = 0.002, sigma_max: float = 80.0,
              init: str = "exact", strategies: dict | None = None) -> dict:
    """The grid with the lowest exact KL at this budget, its KL, and every strategy's KL."""
    table = ranking.kl_table(eigenvalues, strategies or DEFAULT_STRATEGIES, [nfe], [solver], sigma_min, sigma_max,
                             init)
    best = table.loc[table["kl_forward"].idxmin()]
    closed = table[table["schedule"] != ranking.FLOOR]
    return {"strategy": best["strategy"], "sigmas": [float(v) for v in best["sigmas"].split()],
            "kl": float(best["kl_forward"]), "kl_reverse": float(best["kl_reverse"]), "nfe": int(best["nfe"]),
            "steps": int(best["steps"]), "solver": solver, "init": init, "sigma_min": sigma_min,
            "sigma_max": sigma_max,
            "best_named": closed.loc[closed["kl_forward"].idxmin(), "strategy"] if len(closed) else None,
            "alternatives": dict(zip(table["strategy"], table["kl_forward"].astype(float)))}
