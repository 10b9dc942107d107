"""Inception feature extraction speed, stock torch-fidelity vs diffsched's extractor, on the same images.

    PYTHONPATH=src python benchmarks/bench_fid.py [--n 64] [--repeats 3] [--batch-size 64]

Each measurement runs in a fresh process, as a user would run the extractor: diffsched's extractor changes the
process's malloc settings (``fast_inception.keep_heap``), which must not reach the stock one. The processes
alternate between the extractors, so that load from other users of a shared machine falls on all alike. Each
process makes one warm-up pass (compilation included) and one timed pass over two sets of CIFAR-10 images.
Prints the median images/s of each extractor, the stock one with ``keep_heap`` applied as well (how much of the
speed-up is the allocator), and the FID of the two sets computed from each one's features, to show that they
agree. Then the ceiling: the network's convolution arithmetic per image (counted with forward hooks), the
machine's fp32 matrix-multiply speed (MKL sgemm, 4096 x 4096, median of 5), and the images/s an extractor would
reach if every convolution ran at that speed, as a multiple of stock.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric
from bench_conv import conv_shapes
from timing import median_seconds

from diffsched.metrics import fast_inception, inception_weights, scores

EXTRACTORS = ("torch-fidelity", "torch-fidelity+keep_heap", "diffsched")


def cifar(n: int, path: str) -> torch.Tensor:
    """The first n CIFAR-10 training images of the offline archive, uint8 n x 3 x 32 x 32."""
    images = []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.isfile() and "/train/" in member.name:
                images.append(np.asarray(Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB")))
                if len(images) == n:
                    break
    return scores.as_uint8_nchw(np.stack(images))


def extractor(name: str, weights: str):
    if name == "diffsched":
        return fast_inception.FastInceptionV3(fast_inception.NAME, ["2048"], feature_extractor_weights_path=weights)
    if name.endswith("+keep_heap"):
        fast_inception.keep_heap()
    return FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=weights)


def extract(model, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([model(batch)[0] for batch in images.split(batch_size)])


def measure(args) -> None:
    """In a child process: one warm-up and one timed pass of one extractor; features saved to args.features."""
    weights, _ = inception_weights.inception_weights()
    images = cifar(2 * args.n, args.data)
    sets = [images[0::2], images[1::2]]
    model = extractor(args.only, str(weights))
    start = time.perf_counter()
    features = [extract(model, s, args.batch_size) for s in sets]
    warmup = time.perf_counter() - start
    start = time.perf_counter()
    for s in sets:
        extract(model, s, args.batch_size)
    rate = len(images) / (time.perf_counter() - start)
    torch.save(features, args.features)
    print(json.dumps({"images_per_s": rate, "warmup_s": warmup}))


def conv_flops_per_image(weights: str) -> float:
    """Multiply-adds of every convolution of the network on one image, times 2."""
    return 2.0 * sum(count * cin * cout * kernel[0] * kernel[1] * out[0] * out[1]
                     for (cin, cout, kernel, _, _, _, out), count in conv_shapes(weights).items())


def sgemm_flops_per_s(size: int = 4096, repeats: int = 5) -> float:
    """fp32 matrix-multiply speed of this machine (torch's BLAS, all threads)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    return 2.0 * size**3 / median_seconds(lambda: a @ b, repeats)


def run_child(name: str, features: Path, args) -> dict:
    command = [sys.executable, __file__, "--only", name, "--features", str(features), "--n", str(args.n),
               "--batch-size", str(args.batch_size), "--data", args.data]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=64, help="images per set (two disjoint sets)")
    p.add_argument("--repeats", type=int, default=3, help="processes per extractor")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--data", default="/work/shared/data/cifar10-jpeg.tar.gz")
    p.add_argument("--only", choices=EXTRACTORS, help=argparse.SUPPRESS)
    p.add_argument("--features", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.only:
        return measure(args)
    weights, sha256 = inception_weights.inception_weights()
    runs = {name: [] for name in EXTRACTORS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for name in EXTRACTORS:
                runs[name].append(run_child(name, Path(tmp) / f"{name}.pt", args))
        features = {name: torch.load(Path(tmp) / f"{name}.pt") for name in EXTRACTORS}
    report = {}
    for name in EXTRACTORS:
        stats = [fid_features_to_statistics(f) for f in features[name]]
        report[name] = {
            "images_per_s": round(statistics.median(r["images_per_s"] for r in runs[name]), 2),
            "warmup_s": round(statistics.median(r["warmup_s"] for r in runs[name]), 1),
            "fid": fid_statistics_to_metric(*stats, verbose=False)[KEY_METRIC_FID],
        }
    rate = {name: report[name]["images_per_s"] for name in EXTRACTORS}
    stock, ours = (torch.cat(features[k]) for k in ("torch-fidelity", "diffsched"))
    report["speedup"] = round(rate["diffsched"] / rate["torch-fidelity"], 2)
    report["speedup_vs_stock_with_keep_heap"] = round(rate["diffsched"] / rate["torch-fidelity+keep_heap"], 2)
    report["max_rel_feature_diff"] = float((ours - stock).abs().max() / stock.abs().max())
    report["fid_rel_diff"] = abs(report["diffsched"]["fid"] / report["torch-fidelity"]["fid"] - 1)
    flops, peak = conv_flops_per_image(str(weights)), sgemm_flops_per_s()
    report["conv_gflop_per_image"] = round(flops / 1e9, 2)
    report["sgemm_gflop_per_s"] = round(peak / 1e9, 1)
    report["conv_gflop_per_s"] = {name: round(rate[name] * flops / 1e9, 1) for name in EXTRACTORS}
    report["ceiling_images_per_s"] = round(peak / flops, 2)
    report["ceiling_speedup"] = round(peak / flops / rate["torch-fidelity"], 2)
    report.update(n_per_set=args.n, repeats=args.repeats, batch_size=args.batch_size,
                  threads=torch.get_num_threads(), torch=torch.__version__, weights_sha256=sha256)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
