"""Covariance spectra published with papers, loaded from a checksummed file: the references their tables use.

``cifar10_lossless``: the 3,072 eigenvalues of the covariance of the 50,000 original CIFAR-10 training images,
pixels scaled to [-1, 1], CHW flattening, unbiased covariance, ascending float32 (published with Pierret &
Galerne, ICML 2025, arXiv 2405.14250, as ``cifar10.npy`` in their code repository emilePi/Preprint_code). The file
is found at a given path or in the offline data folder that :mod:`diffsched.data.datasets` uses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diffsched.data.datasets import DEFAULT_ROOT


@dataclass(frozen=True)
class PublishedSpectrum:
    file: str
    sha256: str
    label: str


SPECTRA = {
    "cifar10_lossless": PublishedSpectrum(
        "cifar10-lossless-eigenvalues.npy", "18c507a2742e69d833e0225c762457b7c5a5f0cb45f4438ff430731b05778fd6",
        "CIFAR-10 train (50,000 lossless images, pixels in [-1, 1]), eigenvalues published with Pierret & Galerne "
        "2025"),
}


def path(name: str, root=None) -> Path:
    """Where the published spectrum ``name`` is looked for: in ``root`` (default: the offline data folder)."""
    if name not in SPECTRA:
        raise ValueError(f"unknown published spectrum {name!r}; valid: {', '.join(SPECTRA)}")
    return Path(root if root is not None else DEFAULT_ROOT) / SPECTRA[name].file


def load(name: str, file=None, root=None) -> tuple[np.ndarray, str]:
    """(eigenvalues as float64, ascending; caption label) of the published spectrum ``name``, read from ``file`` or
    from :func:`path` after checking its sha256."""
    where = path(name, root)  # refuses an unknown name
    file = Path(file) if file is not None else where
    spec = SPECTRA[name]
    if not file.is_file():
        raise ValueError(f"spectrum file {str(file)!r} not found; give its path, or the folder holding {spec.file}")
    actual = hashlib.sha256(file.read_bytes()).hexdigest()
    if actual != spec.sha256:
        raise ValueError(f"spectrum file {str(file)!r} has sha256 {actual}, expected {spec.sha256} for {name}; "
                         f"replace it with the published file")
    return np.asarray(np.load(file), dtype=np.float64), spec.label
