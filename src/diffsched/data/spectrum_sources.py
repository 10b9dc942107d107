"""Where a covariance spectrum comes from, resolved in one place for the command line and the workflow.

:func:`resolve` turns a :class:`Request` (a data set, an image folder, an array, a spectrum file or an eigenvalue
file) into eigenvalues, with a label saying what they are of and the file they were read from.

- A data set is prepared once into the workflow's files (``<cache>/data/<id>/train.npz``) and its spectrum computed
  once by :func:`write_dataset_spectrum` (``<cache>/spectrum/<id>.npz``), the function the workflow's spectrum rule
  runs, so either reuses what the other computed.
- CIFAR-10 resolves to its published lossless eigenvalues (:mod:`diffsched.data.published_spectra`): the offline copy
  is JPEG q75 with 4:2:0 chroma subsampling, which empties half of its spectrum (docs/studies.md). ``estimate=True``
  computes the spectrum from the images at hand instead, the JPEG sensitivity case.
- An image folder or an array is estimated in memory (:mod:`diffsched.data.estimate`); a spectrum file (``.npz``) or
  a 1-D eigenvalue file (``.npy``) is read and checked.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diffsched.data import datasets, estimate, inputs, published_spectra, spectrum
from diffsched.infra.atomic import atomic_path
from diffsched.method import gaussian

PUBLISHED = {"cifar10": "cifar10_lossless"}  # data set id -> its published lossless spectrum
WHAT = ("dataset", "images", "array", "spectrum", "eigenvalues")  # a request names exactly one of these
META_KEEP = ("dataset", "split", "label", "archive", "checksum", "resolution", "count")


@dataclass(frozen=True)
class Request:
    """What a spectrum is of (exactly one of :data:`WHAT`) and how it is read or estimated: ``resolution``,
    ``estimate``, ``source``, ``data_root``, ``path`` and ``cache`` apply to a data set; ``method`` to images, an
    array or a data set's images; ``resize`` and ``crop`` to an image folder; ``scale`` to an array of latents."""

    dataset: str | None = None
    images: str | None = None
    array: str | None = None
    spectrum: str | None = None
    eigenvalues: str | None = None
    resolution: int | None = None
    estimate: bool = False
    method: str = "auto"
    resize: int | None = None
    crop: bool = False
    scale: float | None = None
    source: str = "auto"
    data_root: str | None = None
    path: str | None = None
    cache: str = "results"

    @property
    def what(self) -> str:
        named = [k for k in WHAT if getattr(self, k) is not None]
        if len(named) != 1:
            raise ValueError(f"name exactly one of {', '.join(WHAT)}; got {', '.join(named) or 'none'}")
        return named[0]


@dataclass(frozen=True)
class Resolved:
    """Eigenvalues (float64, > 0), what they are of (a caption label), and the file they were read from (None when
    estimated in memory)."""

    eigenvalues: np.ndarray
    label: str
    file: str | None


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


def prepared(request: Request) -> Path:
    """The data set's canonical train split, ``<cache>/data/<id>/train.npz``, prepared on first use."""
    cache = Path(request.cache)
    train = cache / "data" / dataset_id(request.dataset, request.resolution) / "train.npz"
    if not train.is_file():
        resolution = resolution_of(request.dataset, request.resolution)
        src = datasets.resolve(request.dataset, request.source, root=request.data_root, path=request.path,
                               download_dir=cache / "downloads")
        print(f"preparing {src.label} at {resolution}x{resolution} into {train.parent}", file=sys.stderr)
        datasets.prepare(src, train.parent, resolution)
    return train


def write_dataset_spectrum(train, out, chunk: int = 1024) -> spectrum.Spectrum:
    """Mean, floored eigenvalues and eigenvectors of a prepared split (RGB or grey; the channel count is recorded),
    written to ``out`` (.npz) and its eigenvalues beside it (``.eigenvalues.npy``, for ``grid --eigenvalues``)."""
    images, _, meta = datasets.load(train)
    spec = spectrum.compute(images, chunk=chunk, meta=dict({k: meta[k] for k in META_KEEP},
                                                           channels=int(images.shape[-1]),
                                                           quality=datasets.quality(meta["dataset"], meta["source"])))
    spectrum.save(out, spec)
    with atomic_path(Path(out).with_suffix(".eigenvalues.npy")) as tmp:
        np.save(tmp, spec.eigenvalues)
    return spec


def on_basis(basis: spectrum.Spectrum, eigenvalues, label: str) -> spectrum.Spectrum:
    """A Gaussian model with ``eigenvalues`` placed on ``basis``'s eigenvectors of the same rank (largest on the
    first) and its mean: the published lossless spectrum of a data set on the directions its lossy copy estimates.
    The eigenvalues are used as published (none is floored); the basis's image shape is kept, and its quality
    (:func:`diffsched.data.datasets.quality`) named."""
    lam = np.sort(gaussian.check_eigenvalues(eigenvalues))[::-1].copy()
    if lam.size != basis.eigenvalues.size:
        raise ValueError(f"{lam.size} eigenvalues cannot be placed on a basis of {basis.eigenvalues.size} "
                         "eigenvectors; the published spectrum and the copy must be of the same dimension")
    quality = f"lossless eigenvalues on the eigenvectors of a {basis.meta['quality']}"
    return spectrum.Spectrum(mean=basis.mean, eigenvalues=lam, eigenvectors=basis.eigenvectors, floor=basis.floor,
                             n_floored=int(np.sum(lam <= basis.floor)), n_samples=basis.n_samples,
                             meta=dict(basis.meta, label=label, quality=quality))


def eigenvalue_file(path) -> Resolved:
    """Eigenvalues from a .npy file (1-D, > 0), with a message naming the file when it is unusable."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"eigenvalue file {str(path)!r} does not exist")
    try:
        values = np.load(p, allow_pickle=False)
    except ValueError as err:
        raise ValueError(f"{str(path)!r} is not a .npy array of eigenvalues: {err}") from None
    try:
        return Resolved(gaussian.check_eigenvalues(values), str(path), str(path))
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def check(request: Request) -> str:
    """What the request names, after checking that every option given applies to it (before any work)."""
    what = request.what
    if (request.resize is not None or request.crop) and what != "images":
        raise ValueError("--resize and --crop apply to --images")
    if request.scale is not None and what != "array":
        raise ValueError("--scale applies to --array (float latents)")
    if request.estimate and what != "dataset":
        raise ValueError("--estimate applies to --dataset (a data set with a published spectrum)")
    if what == "dataset":
        dataset_id(request.dataset, request.resolution)  # an unknown data set or resolution is refused here
    return what


def images_of(request: Request) -> inputs.Images:
    """The images of an image folder, an array or a data set (prepared on first use)."""
    what = check(request)
    if what in ("spectrum", "eigenvalues"):
        raise ValueError(f"a {what} file holds no images; give a data set, an image folder or an array")
    if what == "images":
        return inputs.folder(request.images, request.resize, request.crop)
    if what == "array":
        return inputs.array(request.array, request.scale)
    train = prepared(request)
    pixels, _, meta = datasets.load(train)
    return inputs.uint8_images(pixels, {"source": str(train), "kind": "dataset", "label": meta["label"]})


def _dataset(request: Request) -> Resolved:
    """A data set's eigenvalues: published and lossless where it has such a spectrum (unless ``estimate``), else
    computed once from its prepared train split."""
    key = dataset_id(request.dataset, request.resolution)
    if key in PUBLISHED and not request.estimate:
        if request.path is not None or request.source != "auto":
            raise ValueError(f"--dataset {request.dataset} uses its published lossless eigenvalues; add --estimate "
                             "to compute them from the archive that --path or --source names")
        name = PUBLISHED[key]
        lam, label = published_spectra.load(name, root=request.data_root)
        return Resolved(gaussian.check_eigenvalues(lam[::-1]), label,
                        str(published_spectra.path(name, root=request.data_root)))
    out = spectrum_path(request.dataset, request.resolution, request.cache)
    if not out.is_file():
        print(f"estimating the covariance spectrum of {request.dataset} into {out}", file=sys.stderr)
        write_dataset_spectrum(prepared(request), out)
    spec = spectrum.load(out, vectors=False)
    return Resolved(spec.eigenvalues, spec.meta["label"], str(out))


def resolve(request: Request) -> Resolved:
    """The eigenvalues a request names (module docstring), with their label and file."""
    what = check(request)
    if what == "eigenvalues":
        return eigenvalue_file(request.eigenvalues)
    if what == "spectrum":
        return Resolved(spectrum.load(request.spectrum, vectors=False).eigenvalues, request.spectrum,
                        request.spectrum)
    if what == "dataset":
        return _dataset(request)
    arrays, meta = estimate.estimate(images_of(request), request.method)
    return Resolved(arrays["eigenvalues"], meta["source"], None)
