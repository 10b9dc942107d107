"""Mean, covariance and eigen-decomposition of an image data set, streamed in float64 chunks.

Images (uint8, HWC) are scaled to [-1, 1] as x / 127.5 - 1 and flattened in HWC order. Chunks are merged with
the pairwise update of Chan, Golub & LeVeque (1979), so 60k x 3072 images never sit in memory as float64 at
once and no large sum of squares is cancelled. The covariance is the unbiased one (divisor N - 1, as
``np.cov``). Eigenvalues below the variance of 8-bit quantisation noise in this scale, (2/255)^2 / 12, are
raised to it, so a rank-deficient estimate (fewer images than dimensions) still gives a usable Gaussian
model (strictly positive spectrum); the floor and the number of floored eigenvalues are recorded. With no more
images than dimensions the decomposition comes from the images themselves (:func:`eigen_of_rows`), not the
d x d covariance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from diffsched.infra import store

QUANTISATION_FLOOR = (2.0 / 255.0) ** 2 / 12.0  # uniform rounding noise of one 8-bit step, 2/255 here


@dataclass
class Spectrum:
    """Mean, eigenvalues (descending, floored) and eigenvectors (columns) of a data covariance."""

    mean: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    floor: float
    n_floored: int
    n_samples: int
    meta: dict = field(default_factory=dict)


def scale(images) -> np.ndarray:
    """uint8 images (N x H x W x C) -> float64 rows in [-1, 1], flattened in HWC order."""
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (the canonical data format), got {x.dtype}")
    return x.reshape(x.shape[0], -1).astype(np.float64) / 127.5 - 1.0


def chunks(images, size: int = 1024):
    """Scaled float64 blocks of at most ``size`` images each, made one at a time."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"chunk size must be an integer >= 1, got {size!r}")
    for a in range(0, len(images), size):
        yield scale(images[a : a + size])


def gram(rows: np.ndarray) -> np.ndarray:
    """Scatter matrix sum_n x_n x_n^T of centred rows."""
    return rows.T @ rows


def moments(blocks: Iterable[np.ndarray], second=gram) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean, unbiased covariance and count of the rows of a stream of float64 blocks (Chan et al. merge).

    ``second`` maps centred rows to their scatter, sum_n L(x_n) L(x_n)^H for a linear map L (the identity in
    ``gram``, a Fourier transform in :mod:`diffsched.data.stationary`); any such scatter merges the same way.
    """
    n, mean, scatter = 0, None, None
    for block in blocks:
        x = np.asarray(block, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"each block must be a non-empty 2-D array (rows = samples), got shape {x.shape}")
        m = x.mean(axis=0)
        centred = x - m
        if mean is None:
            n, mean, scatter = x.shape[0], m, second(centred)
            continue
        if x.shape[1] != mean.size:
            raise ValueError(f"block has {x.shape[1]} columns, earlier blocks had {mean.size}")
        k = x.shape[0]
        delta = m - mean
        scatter += second(centred) + second(delta[None]) * (n * k / (n + k))
        mean = mean + delta * (k / (n + k))
        n += k
    if n < 2:
        raise ValueError(f"a covariance needs at least 2 samples, got {n}")
    return mean, scatter / (n - 1), n


def eigen(cov) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues in descending order and the matching eigenvectors (columns), by ``numpy.linalg.eigh``."""
    values, vectors = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    return values[::-1].copy(), vectors[:, ::-1].copy()


def eigen_of_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, covariance eigenvalues (descending) and eigenvectors of N <= d rows, without the d x d covariance:
    the thin SVD of the centred rows gives the eigenpairs of its range, a complete QR of them the rest of an
    orthonormal basis (eigenvalue 0). O(N^2 d + N d^2) instead of eigh's O(d^3): 100 images of 64x64 (d = 12,288)
    took 62 s on the busy 2-core host, where eigh took 61 s at d = 4,096 (27 times that at d = 12,288)."""
    x = np.asarray(rows, dtype=np.float64)
    n, d = x.shape
    if not 2 <= n <= d:
        raise ValueError(f"need 2 <= rows <= columns, got {n} rows of {d}")
    mean = x.mean(axis=0)
    _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
    complete, _ = np.linalg.qr(vt.T, mode="complete")
    values = np.concatenate([singular**2 / (n - 1), np.zeros(d - n)])
    return mean, values, np.concatenate([vt.T, complete[:, n:]], axis=1)


def apply_floor(eigenvalues, floor: float = QUANTISATION_FLOOR) -> tuple[np.ndarray, int]:
    """max(lambda, floor) and how many eigenvalues were raised."""
    if not (np.isfinite(floor) and floor > 0):
        raise ValueError(f"eigenvalue floor must be a finite number > 0, got {floor!r}")
    lam = np.asarray(eigenvalues, dtype=np.float64)
    low = lam < floor
    return np.where(low, floor, lam), int(low.sum())


def compute(images, chunk: int = 1024, floor: float = QUANTISATION_FLOOR, meta: dict | None = None) -> Spectrum:
    """Spectrum of uint8 images (N x H x W x C): streamed through the covariance, or, with no more images than
    dimensions, from the images themselves (:func:`eigen_of_rows`); ``meta`` (source label, checksum, ...) is kept."""
    n = len(images)
    if 2 <= n <= np.prod(np.shape(images)[1:]):
        mean, values, vectors = eigen_of_rows(scale(images))
    else:
        mean, cov, n = moments(chunks(images, chunk))
        values, vectors = eigen(cov)
        del cov
    values, n_floored = apply_floor(values, floor)
    return Spectrum(mean, values, vectors, float(floor), n_floored, n, dict(meta or {}))


def save(path, spectrum: Spectrum):
    """Write a spectrum to ``path`` (.npz) atomically."""
    meta = dict(spectrum.meta, floor=spectrum.floor, n_floored=spectrum.n_floored, n_samples=spectrum.n_samples)
    return store.save(path, meta, mean=spectrum.mean, eigenvalues=spectrum.eigenvalues,
                      eigenvectors=spectrum.eigenvectors)


def load(path, vectors: bool = True) -> Spectrum:
    """A spectrum written by :func:`save`; ``vectors=False`` skips the (large) eigenvectors (left empty)."""
    arrays, meta = store.load(path, None if vectors else ["mean", "eigenvalues"])
    if not vectors:
        arrays["eigenvectors"] = np.empty((0, 0))
    missing = {"mean", "eigenvalues", "eigenvectors"} - set(arrays)
    if missing:
        raise ValueError(f"{str(path)!r} lacks {sorted(missing)}; it is not a spectrum file")
    floor, n_floored, n = meta.pop("floor"), meta.pop("n_floored"), meta.pop("n_samples")
    return Spectrum(arrays["mean"], arrays["eigenvalues"], arrays["eigenvectors"], floor, n_floored, n, meta)
