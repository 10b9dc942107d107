"""Images or latents from a user's folder or array, checked up front and then read in float64 row blocks.

Every constructor validates what it can without decoding the data (file types, sizes, shapes, dtypes, finite
values) and raises a ValueError naming the file or the problem, so a bad input fails before any expensive
work. Images become RGB, are optionally centre-cropped to a square and resized with PIL's antialiased bicubic
filter (as :mod:`diffsched.data.datasets`), and are scaled to [-1, 1] as x / 127.5 - 1; float arrays (latents, any
channel count) are taken as they are, times an optional scaling factor (a VAE's, for example). Rows are
flattened in HWC order, as :func:`diffsched.data.spectrum.scale`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from diffsched.data import datasets, spectrum

FINITE_CHECK_ROWS = 4096  # array rows checked for NaN / inf at a time


@dataclass(frozen=True)
class Images:
    """N samples of H x W x C values, read as scaled float64 rows (HWC order); ``meta`` says where from."""

    shape: tuple[int, int, int, int]
    read: Callable[[int, int], np.ndarray]
    meta: dict

    def blocks(self, size: int) -> Iterator[np.ndarray]:
        """Rows in blocks of at most ``size`` samples, read one block at a time."""
        for a in range(0, self.shape[0], size):
            yield self.read(a, min(a + size, self.shape[0]))


def _images(shape, read, meta) -> Images:
    shape = tuple(int(v) for v in shape)
    if shape[0] < 2:
        raise ValueError(f"{meta['source']}: a covariance needs at least 2 samples, got {shape[0]}")
    return Images(shape, read, dict(meta, height=shape[1], width=shape[2], channels=shape[3]))


def _files(root: Path) -> list[Path]:
    """Regular files below ``root`` (recursively), hidden names left out, sorted by path."""
    if not root.is_dir():
        raise ValueError(f"image folder {str(root)!r} does not exist or is not a folder")
    files = sorted(p for p in root.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
    if not files:
        raise ValueError(f"image folder {str(root)!r} holds no image files")
    return files


def _size(path: Path) -> tuple[int, int]:
    """(width, height) from the image header, without decoding the pixels."""
    try:
        with Image.open(path) as image:
            return image.size
    except OSError as err:
        raise ValueError(f"{path} is not an image PIL can read ({err}); remove it from the folder") from None


def _decode(path: Path, resize: int | None, crop: bool) -> np.ndarray:
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
    except OSError as err:
        raise ValueError(f"cannot decode {path}: {err}") from None
    if crop:
        image = image.crop(datasets.center_crop_box(*image.size, min(image.size)))
    if resize is not None and image.size != (resize, resize):
        image = image.resize((resize, resize), datasets.RESAMPLE, reducing_gap=None)
    return np.asarray(image, dtype=np.uint8)


def folder(path, resize: int | None = None, crop: bool = False) -> Images:
    """The images (PNG, JPEG, anything PIL reads) below a folder; all of one size unless ``resize`` is given.

    ``resize`` N: each image becomes N x N (bicubic); with ``crop``, after a centre crop to its largest square,
    so the aspect ratio is kept.
    """
    root = Path(path)
    if crop and resize is None:
        raise ValueError("--crop takes a centre square before resizing; give --resize N with it")
    if resize is not None and (isinstance(resize, bool) or not isinstance(resize, int) or resize < 1):
        raise ValueError(f"resize must be an integer >= 1, got {resize!r}")
    files = _files(root)
    sizes = {}
    for f in files:
        sizes.setdefault(_size(f), f)
    if resize is None and len(sizes) > 1:
        (a, fa), (b, fb) = list(sizes.items())[:2]
        raise ValueError(f"images differ in size: {fa} is {a[0]}x{a[1]}, {fb} is {b[0]}x{b[1]}; give --resize N "
                         "(with --crop to keep the aspect ratio)")
    width, height = (resize, resize) if resize is not None else next(iter(sizes))

    def read(a: int, b: int) -> np.ndarray:
        return spectrum.scale(np.stack([_decode(f, resize, crop) for f in files[a:b]]))

    meta = {"source": str(root), "kind": "images", "resize": resize, "crop": crop,
            "resample": datasets.RESAMPLE_NOTE if resize is not None else None, "scaling": "x / 127.5 - 1"}
    return _images((len(files), height, width, 3), read, meta)


def uint8_images(images: np.ndarray, meta: dict) -> Images:
    """uint8 images (N x H x W x C) already in memory or mapped, scaled as x / 127.5 - 1."""
    return _images(images.shape, lambda a, b: spectrum.scale(images[a:b]), dict(meta, scaling="x / 127.5 - 1"))


def _load(path: Path) -> np.ndarray:
    """The array of a .npy file (memory-mapped), or the one array (or the one named images) of a .npz file."""
    if not path.is_file():
        raise ValueError(f"array file {str(path)!r} does not exist")
    if path.suffix not in (".npy", ".npz"):
        raise ValueError(f"array file {path} must end in .npy or .npz")
    try:
        if path.suffix == ".npy":
            return np.load(path, mmap_mode="r", allow_pickle=False)
        with np.load(path, allow_pickle=False) as f:
            names = [n for n in f.files if n != "meta"]
            picked = "images" if "images" in names else names[0] if len(names) == 1 else None
            if picked is None:
                raise ValueError(f"{path} holds arrays {names}; keep one, or name the data 'images'")
            return f[picked]
    except (OSError, EOFError, ValueError) as err:
        raise ValueError(f"cannot read {path} as a numpy array: {err}") from None


def _first_non_finite(x: np.ndarray) -> int | None:
    """Index of the first sample with a NaN or an infinity, reading a few thousand samples at a time."""
    for a in range(0, len(x), FINITE_CHECK_ROWS):
        block = x[a : a + FINITE_CHECK_ROWS]
        bad = ~np.isfinite(block).reshape(len(block), -1).all(axis=1)
        if bad.any():
            return a + int(np.argmax(bad))
    return None


def array(path, scale: float | None = None) -> Images:
    """An N x H x W x C array: uint8 images, or float latents (times ``scale``, e.g. a VAE's scaling factor)."""
    path = Path(path)
    x = _load(path)
    if x.ndim != 4:
        raise ValueError(f"{path}: array of shape {x.shape}; expected N x H x W x C (4 dimensions, channels last)")
    if scale is not None and not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"--scale must be a finite number > 0, got {scale!r}")
    meta = {"source": str(path), "kind": "array"}
    if x.dtype == np.uint8:
        if scale is not None:
            raise ValueError(f"{path} holds uint8 images, scaled to [-1, 1]; --scale is for float latents")
        return uint8_images(x, meta)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{path}: dtype {x.dtype}; expected uint8 images in [0, 255] or float latents")
    bad = _first_non_finite(x)
    if bad is not None:
        raise ValueError(f"{path}: sample {bad} holds NaN or infinite values")
    factor = 1.0 if scale is None else float(scale)

    def read(a: int, b: int) -> np.ndarray:
        return np.asarray(x[a:b], dtype=np.float64).reshape(b - a, -1) * factor

    return _images(x.shape, read, dict(meta, scaling=f"x * {factor!r}"))
