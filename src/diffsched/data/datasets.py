"""Image data sets in one canonical format, from verified archives.

Canonical format (one ``.npz`` per split, written atomically by :mod:`diffsched.infra.store`): ``images``, uint8
N x H x W x C (HWC; C = 3 for RGB, C = 1 for grey), ``labels``, int64 class indices where the data set has them
(CIFAR-10, official class order airplane..truck; Fashion-MNIST, T-shirt/top..ankle boot), and a metadata record
with the source label, the archive's checksum, the resolution, the channel count and the count. Image order is
deterministic: the official index order for the official CIFAR-10 batches and for Fashion-MNIST, sorted member
path otherwise. ``limit`` keeps N evenly spaced images of each split in that order, so a small subset of the
class-sorted offline CIFAR-10 copy still covers every class.

Sources, per data set: ``official`` (CIFAR-10 python tarball, downloadable; CelebA ``img_align_celeba.zip``,
given as a path; the Fashion-MNIST release's four IDX files, downloadable or given as their folder) or
``offline`` (the JPEG q75 copies in ``../shared/data``, see its README; for Fashion-MNIST the lossless IDX files
in Debian's gzip repack, in ``../shared/data/fashion-mnist`` or where Debian's ``dataset-fashion-mnist`` package
installs them). ``auto`` takes an official file already given as a path, else the offline copy when present,
else the official download. One run reads one archive (Fashion-MNIST: one folder of four files), whose
checksums are verified before anything is decoded.

Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv 1708.07747) is 28 x 28 grey, 60,000 train and 10,000 test
images, kept at 28 x 28 with one channel. Its files are IDX (LeCun et al.'s MNIST format), read by
:func:`read_idx`.

CelebA preprocessing: the usual 64x64 recipe, a centre crop of 140 x 140 out of the 178 x 218 aligned image
(70 x 70 out of the 89 x 109 half-size offline copy), offsets rounded as in torchvision's ``CenterCrop``, then
a resize to the target resolution with PIL's antialiased bicubic filter and ``reducing_gap=None`` (one exact
convolution, no draft / box pre-reduction). JPEGs are decoded by PIL (libjpeg defaults).

CIFAR-10 below 32x32 (16, 8, ...: a divisor of 32): the mean of each k x k block, rounded to the nearest
integer, so that a 2x2 average undoes most of the offline copy's 4:2:0 chroma subsampling.
"""

from __future__ import annotations

import gzip
import io
import math
import pickle
import re
import struct
import tarfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from diffsched.infra import store
from diffsched.infra.atomic import atomic_path, file_digest

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CELEBA_SIZE = (178, 218)  # width, height of the official aligned images
CELEBA_CROP = 140  # centre crop side at that size
CELEBA_TRAIN_LAST = 162770  # official partition: images 000001..162770 are the train split
RESAMPLE = Image.Resampling.BICUBIC
RESAMPLE_NOTE = "PIL bicubic (antialiased), reducing_gap=None"
DEFAULT_ROOT = Path(__file__).resolve().parents[3].parent / "shared" / "data"  # ../shared/data from the repo
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_DEBIAN = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist package
IDX_IMAGES, IDX_LABELS = 2051, 2049  # IDX magic numbers 0x00000803 (uint8, 3 dimensions), 0x00000801 (uint8, 1)

DATASETS = ("cifar10", "celeba", "fashion_mnist")
KINDS = ("offline", "official")
SOURCES = ("auto",) + KINDS
SPLITS = {"cifar10": ("train", "test"), "celeba": ("train",), "fashion_mnist": ("train", "test")}
CLASSES = {"cifar10": CIFAR10_CLASSES, "fashion_mnist": FASHION_MNIST_CLASSES}
RESOLUTIONS = {"fashion_mnist": 28}  # data sets read at their native size only


@dataclass(frozen=True)
class Source:
    """One archive of one data set: where it is, how to verify it, and the label used in captions.

    A folder source (Fashion-MNIST) lists its files with their checksums in ``members``; ``path`` is then the
    folder and ``checksum`` the list written out, for the metadata record.
    """

    dataset: str
    kind: str
    path: Path
    algorithm: str
    checksum: str
    label: str
    members: tuple[tuple[str, str], ...] = ()

    def files(self) -> dict[Path, str]:
        """Each file to verify and its expected checksum."""
        if not self.members:
            return {Path(self.path): self.checksum}
        return {Path(self.path) / name: checksum for name, checksum in self.members}


# Known archives: file name, hash algorithm, checksum, caption label. Offline checksums: ../shared/data/SHA256SUMS.
ARCHIVES = {
    ("cifar10", "official"): ("cifar-10-python.tar.gz", "md5", "c58f30108f718f92721af3b95e74349a",
                              "CIFAR-10 (official)"),
    ("cifar10", "offline"): ("cifar10-jpeg.tar.gz", "sha256",
                             "7854ea059adc7729ab5267c5269ccc01e6eaeea6549d5f3c834c106bae86e8ee",
                             "CIFAR-10 (JPEG q75 copy)"),
    ("celeba", "official"): ("img_align_celeba.zip", "md5", "00d2c5bc6d35e252742224ab0c1e8fcb",
                             "CelebA (official aligned)"),
    ("celeba", "offline"): ("celeba-10k-jpeg.tar.gz", "sha256",
                            "5f356148cf5d857f59031929c21170bb12aa77a16b52e32bd90364b86c994f3d",
                            "CelebA 10k subset (JPEG q75 copy)"),
}
# Fashion-MNIST's four IDX files per kind: folder name, hash algorithm, {file: checksum}, caption label. Official:
# the upstream release's md5 values; offline: the sha256 of Debian's gzip repack (../shared/data/SHA256SUMS), the
# same pixels in other gzip containers.
FOLDERS = {
    ("fashion_mnist", "official"): ("fashion-mnist", "md5", {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }, "Fashion-MNIST (official, lossless)"),
    ("fashion_mnist", "offline"): ("fashion-mnist", "sha256", {
        "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    }, "Fashion-MNIST (lossless, Debian gzip repack)"),
}


LOSSY = {("cifar10", "offline"), ("celeba", "offline")}  # (data set, source kind) of the JPEG q75 copies


def quality(dataset: str, kind: str) -> str:
    """How faithful a source's pixels are: 'JPEG q75 copy' for the offline CIFAR-10 and CelebA copies (4:2:0
    chroma subsampling), else 'lossless'."""
    return "JPEG q75 copy" if (dataset, kind) in LOSSY else "lossless"


def _check_choice(value: str, valid: tuple[str, ...], what: str) -> None:
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")


def verify(source: Source) -> None:
    """Raise a ValueError naming the file and both checksums unless every file of the source is intact."""
    for path, checksum in source.files().items():
        if not path.is_file():
            raise ValueError(f"{source.label}: archive {str(path)!r} does not exist")
        actual = file_digest(path, source.algorithm)
        if actual != checksum:
            raise ValueError(
                f"{str(path)!r} is corrupted or truncated: {source.algorithm} expected {checksum}, "
                f"got {actual}. Replace the file (offline copies: `sha256sum -c SHA256SUMS` in their folder)."
            )


def _source(dataset: str, kind: str, path: Path) -> Source:
    if (dataset, kind) in FOLDERS:
        _, algorithm, checksums, label = FOLDERS[(dataset, kind)]
        members = tuple(checksums.items())
        listed = "; ".join(f"{name} {checksum}" for name, checksum in members)
        return Source(dataset, kind, Path(path), algorithm, listed, label, members)
    _, algorithm, checksum, label = ARCHIVES[(dataset, kind)]
    return Source(dataset, kind, Path(path), algorithm, checksum, label)


def download(url: str, dest, algorithm: str, checksum: str, timeout: float = 30.0) -> Path:
    """Fetch ``url`` to ``dest`` (atomically, checksum verified before the file appears there)."""
    dest = Path(dest)
    try:
        with atomic_path(dest, suffix=".part") as tmp:
            with open(tmp, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    f.write(block)
            verify(Source("", "official", tmp, algorithm, checksum, url))
    except (urllib.error.URLError, OSError) as err:
        raise ValueError(
            f"could not download {url} ({getattr(err, 'reason', err)}). Without internet, use the offline "
            f"copy (data source 'offline' or 'auto' with the archive in the data root, default "
            f"{DEFAULT_ROOT}), or fetch {dest.name} elsewhere and give its path."
        ) from None
    return dest


def _holds(folder: Path, names) -> bool:
    return all((folder / name).is_file() for name in names)


def _resolve_folder(dataset: str, source: str, root: Path, path, download_dir) -> Source:
    """Fashion-MNIST's folder: the given one (official files), the copy in ``root``, Debian's location, or the
    upstream download into ``download_dir``, in that order for ``auto``."""
    folder, _, checksums, _ = FOLDERS[(dataset, "official")]
    offline = [d for d in (root / folder, FASHION_MNIST_DEBIAN) if _holds(d, checksums)]
    if source == "offline" or (source == "auto" and path is None and offline):
        if not offline:
            raise ValueError(f"no offline {dataset} files ({', '.join(checksums)}) in {str(root / folder)!r} or "
                             f"{str(FASHION_MNIST_DEBIAN)!r}; set the data root to the folder that holds "
                             f"{folder}/, install Debian's dataset-fashion-mnist, or use source 'official'")
        return _source(dataset, "offline", offline[0])
    if path is not None:
        if not Path(path).is_dir():
            raise ValueError(f"official {dataset} folder {str(path)!r} does not exist; give the folder that holds "
                             f"{', '.join(checksums)}")
        return _source(dataset, "official", Path(path))
    if download_dir is None:
        raise ValueError(f"no {dataset} folder and no download folder; give one, or use the offline copy in {root}")
    dest = Path(download_dir) / folder
    for name, checksum in checksums.items():
        if not (dest / name).is_file():
            download(FASHION_MNIST_URL + name, dest / name, "md5", checksum)
    return _source(dataset, "official", dest)


def resolve(dataset: str, source: str = "auto", root=None, path=None, download_dir=None) -> Source:
    """The archive to read: ``official`` (``path``, else a CIFAR-10 or Fashion-MNIST download into
    ``download_dir``), ``offline`` (the copy in ``root``, default ../shared/data; for Fashion-MNIST, else
    Debian's location), or ``auto`` (given path, else the offline copy when present, else the official
    download). Nothing is decoded here; see :func:`prepare`."""
    _check_choice(dataset, DATASETS, "dataset")
    _check_choice(source, SOURCES, "data source")
    root = Path(root) if root is not None else DEFAULT_ROOT
    if (dataset, "offline") in FOLDERS:
        return _resolve_folder(dataset, source, root, path, download_dir)
    offline = root / ARCHIVES[(dataset, "offline")][0]
    if source == "offline" or (source == "auto" and path is None and offline.is_file()):
        if not offline.is_file():
            raise ValueError(f"offline archive {str(offline)!r} not found; set the data root to the folder "
                             f"that holds it, or use source 'official'")
        return _source(dataset, "offline", offline)
    if path is not None:
        if not Path(path).is_file():
            raise ValueError(f"official {dataset} archive {str(path)!r} does not exist")
        return _source(dataset, "official", Path(path))
    name, algorithm, checksum, _ = ARCHIVES[(dataset, "official")]
    if dataset == "celeba":
        raise ValueError(f"CelebA has no scripted download; give the path of {name} (from the CelebA site), "
                         f"or use the offline copy {offline.name} in the data root ({root})")
    if download_dir is None:
        raise ValueError(f"no {name} path and no download folder; give one, or use the offline copy in {root}")
    dest = Path(download_dir) / name
    if not dest.is_file():
        download(CIFAR10_URL, dest, algorithm, checksum)
    return _source(dataset, "official", dest)


def center_crop_box(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of a centred size x size crop, offsets rounded as torchvision's CenterCrop."""
    if not 0 < size <= min(width, height):
        raise ValueError(f"crop {size} does not fit a {width}x{height} image")
    left, top = round((width - size) / 2.0), round((height - size) / 2.0)
    return left, top, left + size, top + size


def celeba_image(image: Image.Image, resolution: int) -> np.ndarray:
    """Centre crop 140/178 of the width (140 at 178x218, 70 at 89x109), resize to resolution^2, uint8 HWC."""
    width, height = image.size
    crop = round(CELEBA_CROP * width / CELEBA_SIZE[0])
    if resolution > crop:
        raise ValueError(f"CelebA resolution {resolution} exceeds the {crop}x{crop} crop of a {width}x{height} "
                         f"image; choose at most {crop}")
    image = image.crop(center_crop_box(width, height, crop))
    if crop != resolution:
        image = image.resize((resolution, resolution), RESAMPLE, reducing_gap=None)
    return np.asarray(image, dtype=np.uint8)


def _rgb(blob: bytes, name: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(blob)) as image:
            return image.convert("RGB")
    except OSError as err:
        raise ValueError(f"cannot decode {name}: {err}") from None


def _tar_members(path: Path, pattern: str) -> dict[str, bytes]:
    """Contents of the regular members whose names match ``pattern``, in one sequential pass."""
    out = {}
    with tarfile.open(path, "r|gz") as tar:
        for member in tar:
            if member.isfile() and re.fullmatch(pattern, member.name):
                out[member.name] = tar.extractfile(member).read()
    return out


def subset(count: int, limit: int | None) -> np.ndarray:
    """Indices of ``limit`` evenly spaced items out of ``count`` (all of them when limit is None or larger)."""
    if limit is None or limit >= count:
        return np.arange(count)
    return np.floor(np.linspace(0, count - 1, limit) + 0.5).astype(np.int64)  # strictly increasing


def _first(names, limit):
    names = sorted(names)
    return [names[i] for i in subset(len(names), limit)]


def _cifar10_official(path: Path, limit) -> dict:
    batches = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    files = _tar_members(path, r"cifar-10-batches-py/(data_batch_[1-5]|test_batch)")
    out = {}
    for split, names in batches.items():
        images, labels = [], []
        for name in names:
            # Safe to unpickle: the tarball's checksum matched the official one before we got here.
            batch = pickle.loads(files[f"cifar-10-batches-py/{name}"], encoding="bytes")
            images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
        images, labels = np.concatenate(images), np.concatenate(labels)
        keep = subset(len(labels), limit)
        out[split] = (np.ascontiguousarray(images[keep]), labels[keep])
    return out


def _cifar10_offline(path: Path, limit) -> dict:
    files = _tar_members(path, r"cifar10/(train|test)/[^/]+/[^/]+\.jpg")
    out = {}
    for split in SPLITS["cifar10"]:
        names = _first([n for n in files if n.split("/")[1] == split], limit)
        images = np.empty((len(names), 32, 32, 3), dtype=np.uint8)
        labels = np.empty(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            cls = name.split("/")[2]
            if cls not in CIFAR10_CLASSES:
                raise ValueError(f"{path}: unknown CIFAR-10 class folder {cls!r} in {name}")
            image = _rgb(files[name], name)
            if image.size != (32, 32):
                raise ValueError(f"{path}: {name} is {image.size[0]}x{image.size[1]}, expected 32x32")
            images[i], labels[i] = np.asarray(image), CIFAR10_CLASSES.index(cls)
        out[split] = (images, labels)
    return out


def _celeba(blobs: dict[str, bytes], resolution: int, limit) -> dict:
    names = _first(blobs, limit)
    images = np.empty((len(names), resolution, resolution, 3), dtype=np.uint8)
    for i, name in enumerate(names):
        images[i] = celeba_image(_rgb(blobs[name], name), resolution)
    return {"train": (images, None)}


def _celeba_official(path: Path, resolution: int, limit) -> dict:
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if re.fullmatch(r"img_align_celeba/\d{6}\.jpg", n)
                 and int(n[-10:-4]) <= CELEBA_TRAIN_LAST]
        names = _first(names, limit)
        return _celeba({n: z.read(n) for n in names}, resolution, None)


def _celeba_offline(path: Path, resolution: int, limit) -> dict:
    return _celeba(_tar_members(path, r"celeba/celebA/\d{6}\.jpg"), resolution, limit)


def read_idx(path, magic: int) -> np.ndarray:
    """The uint8 array of an IDX file (gzip-compressed when named .gz): a big-endian int32 magic number (0x0800
    for uint8 values plus the number of dimensions), each dimension as a big-endian int32, then the values in
    C order. A wrong magic number or a size that disagrees with the header raises a ValueError naming the file."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            blob = f.read()
    except (OSError, EOFError) as err:
        raise ValueError(f"cannot read {str(path)!r} ({err}); it is truncated or not an IDX file, replace it") from None
    header = 4 * (1 + (magic & 0xFF))
    if len(blob) < header:
        raise ValueError(f"{str(path)!r} is truncated: {len(blob)} bytes, less than its {header}-byte IDX header")
    found, *shape = struct.unpack(f">{header // 4}i", blob[:header])
    if found != magic:
        raise ValueError(f"{str(path)!r}: IDX magic number {found}, expected {magic}; it is not the file its name "
                         f"says (images 2051, labels 2049)")
    size = math.prod(shape)
    if len(blob) - header != size:
        raise ValueError(f"{str(path)!r} is truncated or padded: its header announces {' x '.join(map(str, shape))} "
                         f"= {size} bytes of data, it holds {len(blob) - header}; replace it")
    return np.frombuffer(blob, dtype=np.uint8, offset=header).reshape(shape)


def _fashion_mnist(path: Path, limit) -> dict:
    """Both splits of the four IDX files in the folder ``path``, images N x 28 x 28 x 1, in index order."""
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(path / f"{prefix}-images-idx3-ubyte.gz", IDX_IMAGES)
        labels = read_idx(path / f"{prefix}-labels-idx1-ubyte.gz", IDX_LABELS)
        if images.shape[1:] != (28, 28) or len(images) != len(labels) or labels.max() >= len(FASHION_MNIST_CLASSES):
            raise ValueError(f"{path}: {prefix} files hold images {images.shape} and labels {labels.shape} "
                             f"(max {labels.max()}); expected N x 28 x 28 images with N labels in 0..9")
        keep = subset(len(labels), limit)
        out[split] = (np.ascontiguousarray(images[keep, :, :, None]), labels[keep].astype(np.int64))
    return out


def block_mean(images: np.ndarray, k: int) -> np.ndarray:
    """uint8 N x H x W x C images averaged over k x k blocks, rounded to the nearest integer (k = 1: as given)."""
    if k == 1:
        return images
    n, h, w, c = images.shape
    blocks = images.reshape(n, h // k, k, w // k, k, c).astype(np.float64).mean(axis=(2, 4))
    return np.rint(blocks).astype(np.uint8)


def read(source: Source, resolution: int = 32, limit: int | None = None) -> dict:
    """{split: (images uint8 N x H x W x C, labels int64 or None)} from a verified archive."""
    _check_choice(source.dataset, DATASETS, "dataset")
    _check_choice(source.kind, KINDS, "source kind")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be an integer >= 1 or None (all images), got {limit!r}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1:
        raise ValueError(f"resolution must be an integer >= 1, got {resolution!r}")
    if source.dataset == "cifar10" and (resolution > 32 or 32 % resolution):
        raise ValueError(f"CIFAR-10 is 32x32; got resolution {resolution}, use 32 or a divisor of it (16, 8)")
    native = RESOLUTIONS.get(source.dataset, resolution)
    if resolution != native:
        raise ValueError(f"{source.dataset} is read at its native {native}x{native} only; got resolution {resolution}")
    verify(source)
    if source.dataset == "fashion_mnist":
        return _fashion_mnist(Path(source.path), limit)
    if source.dataset == "cifar10":
        reader = _cifar10_official if source.kind == "official" else _cifar10_offline
        return {split: (block_mean(images, 32 // resolution), labels)
                for split, (images, labels) in reader(source.path, limit).items()}
    reader = _celeba_official if source.kind == "official" else _celeba_offline
    return reader(source.path, resolution, limit)


def prepare(source: Source, out_dir, resolution: int = 32, limit: int | None = None) -> dict[str, Path]:
    """Write ``out_dir/<split>.npz`` for every split of the data set; nothing is written unless all decode."""
    splits = read(source, resolution, limit)
    paths = {}
    for split, (images, labels) in splits.items():
        meta = {"dataset": source.dataset, "split": split, "source": source.kind, "label": source.label,
                "archive": Path(source.path).name, "checksum": f"{source.algorithm}:{source.checksum}",
                "resolution": resolution, "channels": int(images.shape[-1]), "count": int(images.shape[0]),
                "limit": limit, "classes": list(CLASSES[source.dataset]) if labels is not None else None,
                "resample": RESAMPLE_NOTE if source.dataset == "celeba" else None}
        arrays = {"images": images} if labels is None else {"images": images, "labels": labels}
        paths[split] = store.save(Path(out_dir) / f"{split}.npz", meta, **arrays)
    return paths


def load(path) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Images, labels (None without classes) and metadata of a canonical split file."""
    arrays, meta = store.load(path)
    if "images" not in arrays:
        raise ValueError(f"{str(path)!r} holds no 'images' array; it is not a canonical data file")
    return arrays["images"], arrays.get("labels"), meta
