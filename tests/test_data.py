import gzip
import hashlib
import io
import pickle
import shutil
import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.datasets.mnist import read_image_file, read_label_file

from diffsched.data import datasets
from diffsched.infra import store

OFFLINE = datasets.DEFAULT_ROOT
needs_offline = pytest.mark.skipif(
    not (OFFLINE / "cifar10-jpeg.tar.gz").is_file(), reason=f"offline archives not in {OFFLINE}"
)


def test_the_offline_root_is_the_shared_data_folder_beside_the_repository():
    """The default data root is ``../shared/data`` seen from the repository, wherever the module sits in the package
    (the archive tests below skip when it is absent, so a wrong root would otherwise pass unnoticed)."""
    repo = Path(__file__).resolve().parents[1]
    assert OFFLINE == repo.parent / "shared" / "data"


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def png_bytes(array):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def add_bytes(tar, name, blob):
    info = tarfile.TarInfo(name)
    info.size = len(blob)
    tar.addfile(info, io.BytesIO(blob))


@needs_offline
def test_offline_checksums_pass():
    for dataset in datasets.DATASETS:
        datasets.verify(datasets.resolve(dataset, "offline"))


@needs_offline
def test_truncated_archive_fails_before_decoding_and_writes_nothing(tmp_path):
    good = OFFLINE / "cifar10-jpeg.tar.gz"
    with open(good, "rb") as f:
        (tmp_path / good.name).write_bytes(f.read(good.stat().st_size // 2))
    source = datasets.resolve("cifar10", "auto", root=tmp_path)
    assert source.kind == "offline"
    actual = hashlib.sha256((tmp_path / good.name).read_bytes()).hexdigest()
    out = tmp_path / "out"
    with pytest.raises(ValueError) as err:
        datasets.prepare(source, out, limit=10)
    message = str(err.value)
    assert str(tmp_path / good.name) in message and source.checksum in message and actual in message
    assert not out.exists()


@needs_offline
def test_cifar10_canonical_arrays_match_direct_decoding(tmp_path):
    limit = 300
    paths = datasets.prepare(datasets.resolve("cifar10", "offline"), tmp_path, limit=limit)
    assert set(paths) == {"train", "test"}
    images, labels, meta = datasets.load(paths["train"])
    assert images.shape == (limit, 32, 32, 3) and images.dtype == np.uint8
    assert labels.shape == (limit,) and labels.dtype == np.int64
    assert meta["label"] == "CIFAR-10 (JPEG q75 copy)" and meta["count"] == limit
    assert meta["checksum"] == "sha256:" + datasets.ARCHIVES[("cifar10", "offline")][2]

    with tarfile.open(OFFLINE / "cifar10-jpeg.tar.gz") as tar:
        names = sorted(n for n in tar.getnames() if n.startswith("cifar10/train/") and n.endswith(".jpg"))
        # evenly spaced, rounded half up, in exact integer arithmetic
        names = [names[(2 * k * (len(names) - 1) + limit - 1) // (2 * (limit - 1))] for k in range(limit)]
        direct = np.stack([np.asarray(Image.open(tar.extractfile(n)).convert("RGB")) for n in names])
    expected_labels = [datasets.CIFAR10_CLASSES.index(n.split("/")[2]) for n in names]
    assert set(expected_labels) == set(range(10))  # an evenly spaced subset covers every class
    np.testing.assert_array_equal(labels, expected_labels)
    x, y = images.astype(np.float64), direct.astype(np.float64)
    np.testing.assert_allclose(x.mean(axis=(0, 1, 2)), y.mean(axis=(0, 1, 2)), rtol=0, atol=1e-9)
    np.testing.assert_allclose(x.std(axis=(0, 1, 2)), y.std(axis=(0, 1, 2)), rtol=0, atol=1e-9)


def test_official_cifar10_batches_become_hwc_in_official_order(tmp_path):
    rng = np.random.default_rng(0)
    batches = {}
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, 4))}
            batches[name] = batch
            add_bytes(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch))
    source = datasets.Source("cifar10", "official", path, "md5", md5(path), "CIFAR-10 (official)")
    splits = datasets.read(source)
    train, labels = splits["train"]
    names = [f"data_batch_{i}" for i in range(1, 6)]
    rows = np.concatenate([batches[n][b"data"] for n in names])
    for i in range(20):
        np.testing.assert_array_equal(train[i], rows[i].reshape(3, 32, 32).transpose(1, 2, 0))
    np.testing.assert_array_equal(labels, sum((batches[n][b"labels"] for n in names), []))
    assert splits["test"][0].shape == (4, 32, 32, 3)


def test_cifar10_below_32_is_the_rounded_block_mean(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [0, 1]}
            add_bytes(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch))
    source = datasets.Source("cifar10", "official", path, "md5", md5(path), "CIFAR-10 (official)")
    full = datasets.read(source)["train"][0]
    for res in (16, 8):
        small, labels = datasets.read(source, resolution=res)["train"]
        k = 32 // res
        assert small.shape == (10, res, res, 3) and small.dtype == np.uint8 and labels.shape == (10,)
        for i, y, x, c in [(0, 0, 0, 0), (3, res - 1, 2, 1), (9, 5 % res, res - 1, 2)]:
            block = [int(full[i, y * k + a, x * k + b, c]) for a in range(k) for b in range(k)]
            assert abs(int(small[i, y, x, c]) - sum(block) / k**2) <= 0.5
    with pytest.raises(ValueError, match="divisor"):
        datasets.read(source, resolution=12)


def test_celeba_crop_and_resize_match_torchvision(tmp_path):
    rng = np.random.default_rng(1)
    full = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)  # H x W of the aligned images
    half = rng.integers(0, 256, (109, 89, 3), dtype=np.uint8)
    zip_path = tmp_path / "img_align_celeba.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        z.writestr("img_align_celeba/000001.jpg", png_bytes(full))  # PNG bytes: lossless, PIL reads by content
        z.writestr("img_align_celeba/162771.jpg", png_bytes(half))  # validation partition: left out
    tar_path = tmp_path / "celeba-10k-jpeg.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        add_bytes(tar, "celeba/celebA/000001.jpg", png_bytes(half))
    official = datasets.Source("celeba", "official", zip_path, "md5", md5(zip_path), "CelebA (official aligned)")
    offline = datasets.Source("celeba", "offline", tar_path, "md5", md5(tar_path), "CelebA 10k subset (JPEG q75 copy)")

    assert datasets.center_crop_box(178, 218, 140) == (19, 39, 159, 179)
    for source, array, crop in ((official, full, 140), (offline, half, 70)):
        image = Image.fromarray(array)
        cropped = datasets.read(source, resolution=crop)["train"][0]
        assert cropped.shape == (1, crop, crop, 3)
        np.testing.assert_array_equal(cropped[0], np.asarray(TF.center_crop(image, crop)))
        for res in (32, 64):
            ref = TF.resize(TF.center_crop(image, crop), [res, res], TF.InterpolationMode.BICUBIC)
            np.testing.assert_array_equal(datasets.read(source, resolution=res)["train"][0][0], np.asarray(ref))
    with pytest.raises(ValueError, match="at most 70"):
        datasets.read(offline, resolution=71)


@needs_offline
def test_offline_celeba_subset_at_32_and_64(tmp_path):
    source = datasets.resolve("celeba", "offline")
    for res in (32, 64):
        prepared = datasets.prepare(source, tmp_path / str(res), resolution=res, limit=4)
        images, labels, meta = datasets.load(prepared["train"])
        assert images.shape == (4, res, res, 3) and images.dtype == np.uint8 and labels is None
        assert meta["label"] == "CelebA 10k subset (JPEG q75 copy)" and meta["resolution"] == res


def test_decoding_failure_leaves_no_output(tmp_path):
    path = tmp_path / "cifar10-jpeg.tar.gz"
    good = png_bytes(np.zeros((32, 32, 3), dtype=np.uint8))
    with tarfile.open(path, "w:gz") as tar:
        add_bytes(tar, "cifar10/test/cat/0000.jpg", good)
        add_bytes(tar, "cifar10/train/cat/0000.jpg", good)
        add_bytes(tar, "cifar10/train/cat/0001.jpg", b"not an image")
    source = datasets.Source("cifar10", "offline", path, "md5", md5(path), "test")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="cannot decode cifar10/train/cat/0001.jpg"):
        datasets.prepare(source, out)
    assert not out.exists()


def test_store_failure_leaves_neither_file_nor_temporary(tmp_path, monkeypatch):
    def broken(f, **arrays):
        f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(store.np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        store.save(tmp_path / "x.npz", {}, images=np.zeros(3))
    assert list(tmp_path.iterdir()) == []


def test_source_selection(tmp_path):
    official = tmp_path / "cifar-10-python.tar.gz"
    official.write_bytes(b"x")
    shutil.copy(official, tmp_path / "cifar10-jpeg.tar.gz")
    assert datasets.resolve("cifar10", "auto", root=tmp_path).label == "CIFAR-10 (JPEG q75 copy)"
    assert datasets.resolve("cifar10", "auto", root=tmp_path, path=official).label == "CIFAR-10 (official)"
    assert datasets.resolve("cifar10", "official", root=tmp_path, path=official).kind == "official"
    empty = tmp_path / "empty"
    with pytest.raises(ValueError, match="offline archive .* not found"):
        datasets.resolve("celeba", "offline", root=empty)
    with pytest.raises(ValueError, match="give the path of img_align_celeba.zip"):
        datasets.resolve("celeba", "auto", root=empty)
    with pytest.raises(ValueError, match="unknown data source 'web'"):
        datasets.resolve("cifar10", "web")


def test_failed_download_suggests_the_offline_copy(tmp_path):
    with pytest.raises(ValueError, match="could not download .*offline copy"):
        datasets.download("http://127.0.0.1:9/cifar-10-python.tar.gz", tmp_path / "c.tar.gz", "md5", "0" * 32,
                          timeout=5)
    assert list(tmp_path.iterdir()) == []


FASHION = OFFLINE / "fashion-mnist"
FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz")
needs_fashion = pytest.mark.skipif(not (FASHION / FASHION_FILES[0]).is_file(), reason=f"Fashion-MNIST not in {FASHION}")


def idx_bytes(magic, shape, values):
    """An IDX file by the format's definition: big-endian int32 magic and dimensions, then the uint8 values."""
    return struct.pack(f">{1 + len(shape)}i", magic, *shape) + bytes(values)


def link_fashion(folder, replace=None):
    """``folder`` with links to the offline Fashion-MNIST files, one of them replaced by ``replace`` = (name, bytes)."""
    folder.mkdir(parents=True)
    for name in FASHION_FILES:
        (folder / name).symlink_to(FASHION / name)
    if replace is not None:
        (folder / replace[0]).unlink()
        (folder / replace[0]).write_bytes(replace[1])
    return folder


@needs_fashion
def test_fashion_mnist_headers_counts_and_published_statistics(tmp_path):
    for prefix, count in (("train", 60000), ("t10k", 10000)):
        with gzip.open(FASHION / f"{prefix}-images-idx3-ubyte.gz") as f:
            assert struct.unpack(">4i", f.read(16)) == (2051, count, 28, 28)
        with gzip.open(FASHION / f"{prefix}-labels-idx1-ubyte.gz") as f:
            assert struct.unpack(">2i", f.read(8)) == (2049, count)
    paths = datasets.prepare(datasets.resolve("fashion_mnist", "offline"), tmp_path, resolution=28)
    train, train_labels, meta = datasets.load(paths["train"])
    test, test_labels, _ = datasets.load(paths["test"])
    assert train.shape == (60000, 28, 28, 1) and test.shape == (10000, 28, 28, 1) and train.dtype == np.uint8
    assert meta["channels"] == 1 and meta["label"] == "Fashion-MNIST (lossless, Debian gzip repack)"
    assert meta["classes"][0] == "T-shirt/top" and meta["classes"][9] == "Ankle boot"
    # Xiao et al. (2017): mean 0.2860 and std 0.3530 of the training pixels on [0, 1]; 6,000 / 1,000 per class
    x = train.astype(np.float64) / 255
    assert abs(x.mean() - 0.2860) < 5e-5 and abs(x.std() - 0.3530) < 5e-5
    assert np.bincount(train_labels).tolist() == [6000] * 10 and np.bincount(test_labels).tolist() == [1000] * 10
    # the same pixels and labels as torchvision's own IDX reader, in the same order
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(gzip.decompress((FASHION / f"{name}.gz").read_bytes()))
    np.testing.assert_array_equal(test[..., 0], read_image_file(str(raw / "t10k-images-idx3-ubyte")).numpy())
    np.testing.assert_array_equal(test_labels, read_label_file(str(raw / "t10k-labels-idx1-ubyte")).numpy())


def test_idx_reader_refuses_wrong_magic_and_truncated_files(tmp_path):
    values = list(range(2 * 3 * 4))
    good = tmp_path / "good-idx3-ubyte.gz"
    good.write_bytes(gzip.compress(idx_bytes(2051, (2, 3, 4), values)))
    np.testing.assert_array_equal(datasets.read_idx(good, 2051), np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    plain = tmp_path / "labels-idx1-ubyte"  # not compressed: read as it is
    plain.write_bytes(idx_bytes(2049, (3,), [7, 8, 9]))
    assert datasets.read_idx(plain, 2049).tolist() == [7, 8, 9]
    images = tmp_path / "images-idx3-ubyte"
    images.write_bytes(idx_bytes(2049, (3, 1, 1), [7, 8, 9]))  # a label magic on an image file
    with pytest.raises(ValueError, match=f"{images}.*magic number 2049, expected 2051"):
        datasets.read_idx(images, 2051)
    short = tmp_path / "short-idx3-ubyte.gz"
    short.write_bytes(gzip.compress(idx_bytes(2051, (2, 3, 4), values[:-1])))
    with pytest.raises(ValueError, match=f"{short}.*truncated.*2 x 3 x 4 = 24 bytes.*holds 23"):
        datasets.read_idx(short, 2051)
    cut = tmp_path / "cut-idx3-ubyte.gz"
    cut.write_bytes(good.read_bytes()[:20])  # a gzip stream cut short
    with pytest.raises(ValueError, match=f"cannot read '{cut}'"):
        datasets.read_idx(cut, 2051)


@needs_fashion
@pytest.mark.parametrize("damage", ["truncated", "altered"])
def test_damaged_fashion_mnist_file_is_named_and_nothing_is_written(tmp_path, damage):
    name = "t10k-labels-idx1-ubyte.gz"
    blob = (FASHION / name).read_bytes()
    bad = blob[: len(blob) // 2] if damage == "truncated" else blob[:-9] + bytes([blob[-9] ^ 1]) + blob[-8:]
    root = tmp_path / "root"
    link_fashion(root / "fashion-mnist", (name, bad))
    source = datasets.resolve("fashion_mnist", "offline", root=root)
    out = tmp_path / "out"
    with pytest.raises(ValueError) as err:
        datasets.prepare(source, out, resolution=28)
    expected = dict(source.members)[name]
    assert str(root / "fashion-mnist" / name) in str(err.value) and expected in str(err.value)
    assert hashlib.sha256(bad).hexdigest() in str(err.value)
    assert not out.exists()


@needs_fashion
def test_fashion_mnist_sources_in_order(tmp_path, monkeypatch):
    debian = link_fashion(tmp_path / "debian")
    monkeypatch.setattr(datasets, "FASHION_MNIST_DEBIAN", debian)
    root = tmp_path / "root"
    shared = link_fashion(root / "fashion-mnist")
    given = tmp_path / "given"
    given.mkdir()
    assert datasets.resolve("fashion_mnist", "auto", root=root, path=given).path == given
    assert datasets.resolve("fashion_mnist", "auto", root=root, path=given).algorithm == "md5"
    assert datasets.resolve("fashion_mnist", "auto", root=root).path == shared
    assert datasets.resolve("fashion_mnist", "auto", root=tmp_path / "empty").path == debian
    assert datasets.resolve("fashion_mnist", "offline", root=tmp_path / "empty").kind == "offline"
    monkeypatch.setattr(datasets, "FASHION_MNIST_DEBIAN", tmp_path / "none")
    with pytest.raises(ValueError, match="no offline fashion_mnist files"):
        datasets.resolve("fashion_mnist", "offline", root=tmp_path / "empty")
    with pytest.raises(ValueError, match="no fashion_mnist folder and no download folder"):
        datasets.resolve("fashion_mnist", "auto", root=tmp_path / "empty")
    # the Debian repack given as the official release: refused by the upstream md5, the file named
    official = datasets.resolve("fashion_mnist", "official", path=shared)
    with pytest.raises(ValueError, match=f"{shared / FASHION_FILES[0]}.*md5 expected 8d4fb7e6c68d591d4c3dfef9ec88bf0d"):
        datasets.read(official, resolution=28)
    with pytest.raises(ValueError, match="native 28x28"):
        datasets.read(datasets.resolve("fashion_mnist", "offline", root=root), resolution=32)


@pytest.mark.parametrize("dataset,kind,expected", [
    ("cifar10", "offline", "JPEG q75 copy"), ("celeba", "offline", "JPEG q75 copy"),
    ("cifar10", "official", "lossless"), ("fashion_mnist", "offline", "lossless"),
])
def test_each_source_states_its_quality(dataset, kind, expected):
    assert datasets.quality(dataset, kind) == expected
