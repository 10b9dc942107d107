"""Inception feature extraction speed, stock torch-fidelity vs diffsched's extractor, on the same images.

    PYTHONPATH=src python benchmarks/bench_fid.py [--n 64] [--repeats 3] [--batch-size 64]

Prints images/s (median over alternating repeats, after one warm-up that includes compilation) for both
extractors and the FID of the same two CIFAR-10 sets computed from each one's features, to show that they
agree.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tarfile
import time

import numpy as np
import torch
from PIL import Image
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

from diffsched import fast_inception, inception_weights, metrics


def cifar(n: int, path: str) -> torch.Tensor:
    """The first n CIFAR-10 training images of the offline archive, uint8 n x 3 x 32 x 32."""
    images = []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.isfile() and "/train/" in member.name:
                images.append(np.asarray(Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB")))
                if len(images) == n:
                    break
    return metrics.as_uint8_nchw(np.stack(images))


def extract(extractor, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([extractor(batch)[0] for batch in images.split(batch_size)])


def timed(extractors: dict, sets, batch_size: int, repeats: int) -> tuple[dict, dict, dict]:
    """Warm-up seconds, median images/s and features of each set, per extractor.

    The repeats alternate between the extractors, so that load from other users of a shared machine falls on
    both alike.
    """
    warmup, features, rates = {}, {}, {name: [] for name in extractors}
    for name, extractor in extractors.items():
        start = time.perf_counter()
        features[name] = [extract(extractor, s, batch_size) for s in sets]
        warmup[name] = time.perf_counter() - start
    for _ in range(repeats):
        for name, extractor in extractors.items():
            start = time.perf_counter()
            for s in sets:
                extract(extractor, s, batch_size)
            rates[name].append(sum(len(s) for s in sets) / (time.perf_counter() - start))
    return warmup, {name: statistics.median(r) for name, r in rates.items()}, features


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=64, help="images per set (two disjoint sets)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--data", default="/work/shared/data/cifar10-jpeg.tar.gz")
    args = p.parse_args()
    weights, sha256 = inception_weights.inception_weights()
    images = cifar(2 * args.n, args.data)
    sets = [images[0::2], images[1::2]]
    extractors = {
        "torch-fidelity": FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                                      feature_extractor_weights_path=str(weights)),
        "diffsched": fast_inception.FastInceptionV3(fast_inception.NAME, ["2048"],
                                                    feature_extractor_weights_path=str(weights)),
    }
    warmup, rates, features = timed(extractors, sets, args.batch_size, args.repeats)
    report = {}
    for name in extractors:
        stats = [fid_features_to_statistics(f) for f in features[name]]
        fid = fid_statistics_to_metric(*stats, verbose=False)[KEY_METRIC_FID]
        report[name] = {"images_per_s": round(rates[name], 2), "warmup_s": round(warmup[name], 1), "fid": fid}
    stock, ours = (torch.cat(features[k]) for k in extractors)
    report["speedup"] = round(report["diffsched"]["images_per_s"] / report["torch-fidelity"]["images_per_s"], 2)
    report["max_rel_feature_diff"] = float((ours - stock).abs().max() / stock.abs().max())
    report["fid_rel_diff"] = abs(report["diffsched"]["fid"] / report["torch-fidelity"]["fid"] - 1)
    report.update(n_per_set=args.n, repeats=args.repeats, batch_size=args.batch_size,
                  threads=torch.get_num_threads(), torch=torch.__version__, weights_sha256=sha256)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
