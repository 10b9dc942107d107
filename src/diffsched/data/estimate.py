"""The ``spectrum`` command: a covariance spectrum file from images or latents, for ``recommend`` and the
schedules that need one.

The full covariance (:mod:`diffsched.data.spectrum`) where d = H W C is at most ``FULL_MAX_DIM`` (12,288 = 64 x 64 x
3), the stationary approximation (:mod:`diffsched.data.stationary`, memory linear in d) above, unless a method is
named. Eigenvalues are floored as in :mod:`diffsched.data.spectrum`.
The output is checked for writability before any work and written atomically (:mod:`diffsched.infra.store`), with
what it was computed from; :func:`diffsched.data.spectrum.load` with ``vectors=False`` reads it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from diffsched import __version__
from diffsched.data import spectrum, stationary
from diffsched.infra import store
from diffsched.infra.atomic import check_writable
from diffsched.data.inputs import Images

FULL_MAX_DIM = 12_288
METHODS = ("auto", "full", "stationary")
BLOCK_VALUES = 1 << 23  # float64 values per block of rows (64 MiB)


def method_for(method: str, dimension: int) -> str:
    """The method to use: the one named, or for ``auto`` full up to FULL_MAX_DIM dimensions, stationary above."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    if method != "auto":
        return method
    return "full" if dimension <= FULL_MAX_DIM else "stationary"


def check_output(path) -> Path:
    """Refuse an output that is not a writable .npz path, before any work is done and without creating anything."""
    if Path(path).suffix != ".npz":
        raise ValueError(f"output {str(Path(path).absolute())!r} must end in .npz")
    return check_writable(path)


def estimate(images: Images, method: str = "auto", floor: float = spectrum.QUANTISATION_FLOOR,
             progress: bool = True) -> tuple[dict, dict]:
    """The arrays (``eigenvalues``, float64 descending and floored, and ``mean``) and the metadata record."""
    n, height, width, channels = images.shape
    dimension = height * width * channels
    method = method_for(method, dimension)
    size = max(1, BLOCK_VALUES // dimension)
    bar = tqdm(total=n, unit="img", desc=f"spectrum ({method})", disable=None if progress else True, file=sys.stderr)

    def blocks():
        for block in images.blocks(size):
            yield block
            bar.update(len(block))

    if method == "full":
        mean, cov, count = spectrum.moments(blocks())
        bar.close()
        print(f"eigenvalues of the {dimension} x {dimension} covariance", file=sys.stderr)
        values = np.linalg.eigvalsh(cov)[::-1].copy()  # no eigenvectors: a fraction of the time and memory
    else:
        mean, power, count = stationary.moments(blocks(), height, width, channels)
        bar.close()
        values = stationary.eigenvalues(power, width)
    values, n_floored = spectrum.apply_floor(values, floor)
    meta = dict(images.meta, method=method, dimension=dimension, floor=float(floor), n_floored=n_floored,
                n_samples=count, diffsched_version=__version__)
    return {"eigenvalues": values, "mean": mean}, meta


def write(images: Images, out, method: str = "auto", progress: bool = True) -> dict:
    """Estimate the spectrum and write it to ``out`` (.npz, atomically); a summary of what was written."""
    out = check_output(out)
    arrays, meta = estimate(images, method, progress=progress)
    store.save(out, meta, **arrays)
    lam = arrays["eigenvalues"]
    return {"out": str(out), **meta, "trace": float(lam.sum()), "eigenvalue_max": float(lam[0]),
            "eigenvalue_min": float(lam[-1])}
