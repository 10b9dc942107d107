import gzip
import io
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch_fidelity
from PIL import Image
from torch_fidelity import KEY_METRIC_FID
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

from diffsched.metrics import fast_inception, scores

CIFAR = Path("/work/shared/data/cifar10-jpeg.tar.gz")
FASHION = Path("/work/shared/data/fashion-mnist")
PER_CLASS = 30  # 300 test images, 30 of each class


@pytest.fixture(scope="module")
def cifar() -> np.ndarray:
    """The first PER_CLASS images of each class of the CIFAR-10 test split, decoded here, N x 32 x 32 x 3."""
    if not CIFAR.is_file():
        pytest.skip(f"{CIFAR} is not on this machine")
    taken: dict[str, list] = {}
    with tarfile.open(CIFAR, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or parts[1] != "test":
                continue
            images = taken.setdefault(parts[2], [])
            if len(images) < PER_CLASS:
                images.append(np.asarray(Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB")))
            if len(taken) == 10 and all(len(v) == PER_CLASS for v in taken.values()):
                break
    return np.stack([image for cls in sorted(taken) for image in taken[cls]])


@pytest.fixture(scope="module")
def halves(cifar):
    """Two disjoint halves with every class in each (even and odd positions)."""
    return cifar[0::2], cifar[1::2]


def test_our_extractor_gives_torch_fidelitys_features(converted, cifar):
    images = scores.as_uint8_nchw(cifar[::37][:6])
    stock = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(converted))
    fast = fast_inception.FastInceptionV3(fast_inception.NAME, ["2048"], feature_extractor_weights_path=str(converted))
    with torch.no_grad():
        (expected,) = stock(images)
    (got,) = fast(images)  # one chunk, padded to CHUNK images
    assert fast._compiled(images.device) is not None and not fast_inception._COMPILED.get("failed")
    assert got.shape == expected.shape == (6, 2048)
    assert (got - expected).abs().max() <= 1e-4 * expected.abs().max()


def test_eager_fallback_when_torch_compile_is_missing(converted, cifar, monkeypatch):
    def missing(*args, **kwargs):
        raise RuntimeError("torch.compile is not supported here")

    monkeypatch.setattr(torch, "compile", missing)
    monkeypatch.setattr(fast_inception, "_COMPILED", {})
    images = scores.as_uint8_nchw(cifar[:2])
    fast = fast_inception.FastInceptionV3(fast_inception.NAME, ["2048"], feature_extractor_weights_path=str(converted))
    stock = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(converted))
    with torch.no_grad():
        (expected,) = stock(images)
    with pytest.warns(UserWarning, match="eagerly"):
        (got,) = fast(images)
    assert fast_inception._COMPILED == {"failed": True}
    assert (got - expected).abs().max() <= 1e-4 * expected.abs().max()


def test_eager_fallback_when_the_compiled_graph_fails(converted, cifar, monkeypatch):
    def broken(x):
        raise RuntimeError("C++ compiler not found")

    monkeypatch.setattr(fast_inception, "_COMPILED", {})
    monkeypatch.setattr(fast_inception, "_frozen", lambda module: broken)
    images = scores.as_uint8_nchw(cifar[:2])
    fast = fast_inception.FastInceptionV3(fast_inception.NAME, ["2048"], feature_extractor_weights_path=str(converted))
    with pytest.warns(UserWarning, match="compiler not found"):
        (got,) = fast(images)
    assert got.shape == (2, 2048) and torch.isfinite(got).all() and fast_inception._COMPILED["failed"]


def test_instances_with_the_same_weights_share_one_frozen_graph(converted, monkeypatch):
    monkeypatch.setattr(fast_inception, "_COMPILED", {})
    cpu = torch.device("cpu")
    first, second, other = (fast_inception.FastInceptionV3(fast_inception.NAME, features,
                                                           feature_extractor_weights_path=str(converted))
                            for features in (["2048"], ["2048"], ["64", "2048"]))
    assert first._compiled(cpu) is second._compiled(cpu)  # torch-fidelity's next call does not compile again
    assert other._compiled(cpu) is not first._compiled(cpu)  # another graph for other features


@pytest.fixture(scope="module")
def reference_cache(tmp_path_factory):
    """One reference-statistics cache for the tests of this file: the reference half is extracted once."""
    return tmp_path_factory.mktemp("cache")


def test_fid_small_between_halves_large_against_noise(converted, halves, reference_cache):
    a, b = halves
    same = scores.compute_metrics(a, b, reference_key="cifar10-test-b", weights_path=converted,
                                   cache=reference_cache)
    cached = sorted(p.name for p in (reference_cache / "reference").glob("cifar10-test-b-n150-*"))
    assert len(cached) == 2  # features and FID statistics, named by key, size and weights
    noise = np.random.default_rng(0).integers(0, 256, size=(40, 32, 32, 3), dtype=np.uint8)
    far = scores.compute_metrics(noise, b, ("fid", "kid"), reference_key="cifar10-test-b", weights_path=converted,
                                  cache=reference_cache)
    # 150 images per set bias FID upwards (about 150 here), yet noise stays far beyond it; KID is unbiased.
    assert same["fid"] < 0.4 * far["fid"] and far["fid"] > 300
    assert abs(same["kid_mean"]) < 0.05 * far["kid_mean"]
    assert same["prc_features"] == far["prc_features"] == "inception-v3-pool3"
    assert same["n_reference"] == 150 and same["kid_subset_size"] == 150 and far["kid_subset_size"] == 40


@pytest.mark.parametrize("n", [20, 300])  # fewer samples than feature dimensions (the fast route), and more
def test_frechet_distance_is_torch_fidelitys(n):
    rng = np.random.default_rng(n)
    mixing = rng.standard_normal((64, 64))
    features = torch.from_numpy(rng.standard_normal((n, 64)) @ mixing + 0.3).float()
    reference = fid_features_to_statistics(torch.from_numpy(rng.standard_normal((100, 64)) @ mixing).float())
    expected = fid_statistics_to_metric(fid_features_to_statistics(features), reference, False)[KEY_METRIC_FID]
    # torch-fidelity averages the float32 features in float32: agreement to about 1e-8 relative
    assert scores.frechet_distance(features, reference) == pytest.approx(expected, rel=1e-6)


def torch_fidelity_metrics(images, reference, weights) -> dict:
    """torch-fidelity's own calculate_metrics with our extractor, renamed to our keys."""
    theirs = torch_fidelity.calculate_metrics(
        input1=scores.ImageSet(images), input2=scores.ImageSet(reference),
        feature_extractor=fast_inception.register(), feature_extractor_weights_path=str(weights), fid=True,
        kid=True, prc=True, kid_subset_size=len(images), prc_neighborhood=3, cuda=False, cache=False,
        save_cpu_ram=True, verbose=False)
    keys = {"fid": KEY_METRIC_FID, "kid_mean": torch_fidelity.KEY_METRIC_KID_MEAN,
            "kid_std": torch_fidelity.KEY_METRIC_KID_STD, "precision": torch_fidelity.KEY_METRIC_PRECISION,
            "recall": torch_fidelity.KEY_METRIC_RECALL}
    return {k: theirs[v] for k, v in keys.items()}


def test_all_metrics_are_torch_fidelitys_calculate_metrics(converted, halves):
    a, b = halves
    ours = scores.compute_metrics(a, b, weights_path=converted, cuda=False)
    theirs = torch_fidelity_metrics(a, b, converted)
    assert {k: ours[k] for k in theirs} == pytest.approx(theirs, rel=1e-6)


def test_grey_images_score_as_their_three_channel_replicas(converted):
    path = FASHION / "t10k-images-idx3-ubyte.gz"
    if not path.is_file():
        pytest.skip(f"{path} is not on this machine")
    with gzip.open(path) as f:
        assert struct.unpack(">4i", f.read(16)) == (2051, 10000, 28, 28)
        grey = np.frombuffer(f.read(80 * 28 * 28), dtype=np.uint8).reshape(80, 28, 28, 1).copy()
    samples, reference = grey[0::2], grey[1::2]
    ours = scores.compute_metrics(samples, reference, weights_path=converted, cuda=False)
    rgb = {name: np.repeat(x, 3, axis=-1) for name, x in (("samples", samples), ("reference", reference))}
    theirs = torch_fidelity_metrics(rgb["samples"], rgb["reference"], converted)
    assert {k: ours[k] for k in theirs} == pytest.approx(theirs, rel=1e-6)
    assert ours["inception_input"] == "grey replicated to 3 channels"
    assert scores.compute_metrics(rgb["samples"], rgb["reference"], ("fid",), weights_path=converted,
                                  cuda=False)["inception_input"] == "RGB"
    with pytest.raises(ValueError, match="reference of 3 channel"):
        scores.compute_metrics(samples, rgb["reference"], ("fid",), weights_path=converted)


def test_sets_scored_in_one_pass_score_as_each_alone(converted, halves):
    a, b = halves
    sets = {"first": a[:70], "rest": a[70:]}  # 150 images: the second set straddles the extractor's chunks
    together = scores.compute_metrics_of_sets(sets, b, weights_path=converted, cuda=False)
    for label, images in sets.items():
        alone = torch_fidelity_metrics(images, b, converted)
        assert {k: together[label][k] for k in alone} == pytest.approx(alone, rel=1e-5)
        assert together[label]["n_samples"] == len(images) and together[label]["kid_subset_size"] == len(images)


def test_mode_collapse_has_high_precision_low_recall(converted, halves, reference_cache):
    a, b = halves
    collapsed = np.repeat(a[::15], 5, axis=0)  # 10 distinct images, 5 copies each: 50 images
    result = scores.compute_metrics(collapsed, b, ("prc",), reference_key="cifar10-test-b", weights_path=converted,
                                     cache=reference_cache)
    assert result["precision"] >= 0.5 and result["recall"] <= 0.1
    assert result["prc_features"] == "inception-v3-pool3" and result["prc_neighborhood"] == 3


def test_inception_score_is_refused(converted, halves):
    with pytest.raises(ValueError, match="Inception Score is not available"):
        scores.compute_metrics(*halves, ("fid", "isc"), weights_path=converted)
    with pytest.raises(ValueError, match="Inception Score"):
        fast_inception.FastInceptionV3(fast_inception.NAME, ["logits_unbiased"],
                                       feature_extractor_weights_path=str(converted), diffsched_compile=False)


@pytest.mark.parametrize("bad", [np.zeros((4, 32, 32, 3), np.float32), np.zeros((4, 3, 32, 32), np.uint8),
                                 torch.zeros(4, 32, 32, 3, dtype=torch.uint8), np.zeros((4, 32, 32, 2), np.uint8)])
def test_image_layout_is_checked(bad):
    with pytest.raises(ValueError, match="uint8"):
        scores.as_uint8_nchw(bad)


def test_unknown_metric_and_bad_key_are_refused(converted, halves):
    with pytest.raises(ValueError, match="subset of"):
        scores.compute_metrics(*halves, ("fid", "lpips"), weights_path=converted)
    with pytest.raises(ValueError, match="reference_key"):
        scores.compute_metrics(*halves, reference_key="../escape", weights_path=converted)
    with pytest.raises(ValueError, match="more than 3 images"):
        scores.compute_metrics(halves[0][:3], halves[1], ("prc",), weights_path=converted)


KEEP_HEAP_PROBE = """
import resource, sys, torch
from diffsched.metrics import fast_inception
if sys.argv[1] == "keep":
    assert fast_inception.keep_heap()
faults = []
for _ in range(6):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(64 * 2**20)  # 256 MB, touched, then freed
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(max(faults[-3:]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_keep_heap_reuses_large_blocks_instead_of_faulting_them_in_again():
    def steady_faults(mode):
        done = subprocess.run([sys.executable, "-c", KEEP_HEAP_PROBE, mode], capture_output=True, text=True, check=True)
        return int(done.stdout)

    # The heap may grow once more than the first block (the 64-byte aligned request does not always fit the freed
    # chunk, depending on where small allocations landed), then it is steady: the last three rounds are compared.
    pages = 64 * 2**20 * 4 // 4096
    assert steady_faults("default") > pages // 2  # glibc's default: a fresh mmap, every page faulted in again
    assert steady_faults("keep") < pages // 100  # kept on the heap: the same pages reused


def test_inception_inputs_name_each_data_set_once():
    table = pd.DataFrame({"dataset": ["cifar10", "cifar10", "fashion_mnist", "fashion_mnist"],
                          "inception_input": ["RGB", "RGB", None, scores.INCEPTION_INPUT[1]]})
    assert scores.inception_inputs(table) == "cifar10: RGB; fashion_mnist: grey replicated to 3 channels"
    assert scores.inception_inputs(table.iloc[2:3]) == "none scored"
