"""Snakemake script (rule ablation_metrics): FID, KID and precision/recall of every trained model's samples on
one data set, per sampler, against real training images (Inception pool3 features for all three), in one
process so the feature extractor is compiled once."""

import numpy as np
import torch

from diffsched.metrics import scores
from diffsched.infra import provenance, tables
from diffsched.models import checkpoints


def main(sm) -> dict:
    torch.set_num_threads(sm.threads)
    reference = np.load(sm.input.reference)
    cells = {model: np.load(path) for model, path in zip(sm.params.models, sm.input.samples, strict=True)}
    sets = {f"{m}:{k}": cell[f"images_{k}"] for m, cell in cells.items() for k in cell["samplers"]}
    scored, sources, _ = scores.score_sets(sets, reference["images"], sm.wildcards.dataset, sm.params.metrics,
                                            sm.params.cache)
    rows = []
    for (model, cell), spec_path in zip(cells.items(), sm.input.specs, strict=True):
        spec = checkpoints.load_spec(spec_path)
        for label in map(str, cell["samplers"]):
            rows.append({"dataset": sm.wildcards.dataset, "model": model, "network": spec["network"],
                         "time_embedding": spec["kwargs"].get("time_embedding", True),
                         "capacity_matched": spec["kwargs"].get("capacity_matched", False),
                         "parameters": spec["parameters"], "train_steps": spec["steps"], "sampler": label,
                         "nfe": int(cell[f"nfe_{label}"]), "reference": str(reference["what"]),
                         **scored[f"{model}:{label}"]})
    print(tables.write_csv(rows, sm.output[0]).to_string())
    return sources


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm)
