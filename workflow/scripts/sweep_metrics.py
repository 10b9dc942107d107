"""Snakemake script (rule sweep_metrics): FID, KID and precision/recall of every strategy of one sweep cell
against the oracle's reference images (Inception pool3 features for all three)."""

import hashlib

import numpy as np
import pandas as pd
import torch

from diffsched import metrics, provenance
from diffsched.atomic import atomic_path


def main(sm) -> dict:
    torch.set_num_threads(sm.threads)
    w = sm.wildcards
    cell = np.load(sm.input.samples)
    reference = np.load(sm.input.reference)
    digest = hashlib.sha256(reference["images"].tobytes()).hexdigest()[:12]  # the cache key names the exact set
    key = f"sweep-{w.dataset}-{w.denoiser}-{digest}"
    rows = []
    for label, kl, nfe in zip(cell["strategies"], cell["kl"], cell["nfe"]):
        scores = metrics.compute_metrics(cell[f"images_{label}"], reference["images"], sm.params.metrics,
                                         reference_key=key, cache=sm.params.cache)
        weights = scores.pop("weights")  # a local path: provenance keeps it, the table keeps the checksum
        rows.append({"dataset": w.dataset, "denoiser": w.denoiser, "solver": w.solver, "nfe_budget": int(w.nfe),
                     "nfe": int(nfe), "seed": int(w.seed), "strategy": str(label), "kl_forward": float(kl),
                     "reference": str(reference["what"]), **scores})
        print(rows[-1], flush=True)
    with atomic_path(sm.output[0]) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    return {weights: f"sha256:{rows[-1]['weights_sha256']}"}


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm)
