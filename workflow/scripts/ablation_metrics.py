"""Snakemake script (rule ablation_metrics): FID, KID and precision/recall of one trained model's samples,
per sampler, against real training images (Inception pool3 features for all three)."""

import numpy as np
import torch

from diffsched import metrics, provenance, tables, trained


def main(sm) -> dict:
    torch.set_num_threads(sm.threads)
    w = sm.wildcards
    cell, reference = np.load(sm.input.samples), np.load(sm.input.reference)
    spec = trained.load_spec(sm.input.spec)
    scores, sources = metrics.score_sets({str(k): cell[f"images_{k}"] for k in cell["samplers"]},
                                         reference["images"], w.dataset, sm.params.metrics, sm.params.cache)
    rows = [{"dataset": w.dataset, "model": w.model, "network": spec["network"],
             "time_embedding": spec["kwargs"].get("time_embedding", True),
             "capacity_matched": spec["kwargs"].get("capacity_matched", False), "parameters": spec["parameters"],
             "train_steps": spec["steps"], "sampler": label, "nfe": int(cell[f"nfe_{label}"]),
             "reference": str(reference["what"]), **scores[label]} for label in scores]
    print(tables.write_csv(rows, sm.output[0]).to_string())
    return sources


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm)
