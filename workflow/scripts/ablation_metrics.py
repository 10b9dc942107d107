"""Snakemake script (rule ablation_metrics): FID, KID and precision/recall of every trained model's samples on
one data set, per sampler, against real training images (Inception pool3 features for all three), in one
process so the feature extractor is compiled once."""

import numpy as np
import torch

from diffsched.metrics import scores
from diffsched.infra import provenance, tables
from diffsched.models import checkpoints
from diffsched.studies import sweep


def main(sm) -> dict:
    torch.set_num_threads(sm.threads)
    reference = np.load(sm.input.reference)
    cells = [sweep.load_cell(path, sweep.ABLATION_CELL) for path in sm.input.samples]
    specs = {(s["dataset"], s["model"]): s for s in map(checkpoints.load_spec, sm.input.specs)}
    sets = {f"{c['model']}:{k}": arrays[f"images_{k}"] for c, arrays in cells for k in arrays["samplers"]}
    scored, sources, _ = scores.score_sets(sets, reference["images"], sm.wildcards.dataset, sm.params.metrics,
                                            sm.params.cache)
    rows = []
    for cell, arrays in cells:
        model, spec = cell["model"], specs[cell["dataset"], cell["model"]]
        for label in map(str, arrays["samplers"]):
            rows.append({"dataset": cell["dataset"], "model": model, "network": spec["network"],
                         "time_embedding": spec["kwargs"].get("time_embedding", True),
                         "capacity_matched": spec["kwargs"].get("capacity_matched", False),
                         "parameters": spec["parameters"], "train_steps": spec["steps"], "sampler": label,
                         "nfe": int(arrays[f"nfe_{label}"]), "reference": str(reference["what"]),
                         **scored[f"{model}:{label}"]})
    print(tables.write_csv(rows, sm.output[0]).to_string())
    return sources


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm)
