"""Snakemake script (rule sweep_metrics): FID, KID and precision/recall of every strategy of every sweep cell
of one denoiser against its reference images (Inception pool3 features for all three), in one process so the
feature extractor is compiled once."""

import re

import numpy as np
import torch

from diffsched import metrics, provenance, tables

CELL = re.compile(r"(?P<solver>[^/]+)/nfe(?P<nfe>\d+)/seed(?P<seed>\d+)\.npz$")


def main(sm) -> dict:
    torch.set_num_threads(sm.threads)
    w = sm.wildcards
    reference = np.load(sm.input.reference)
    cells = {path: np.load(path) for path in sm.input.samples}
    sets = {f"{path}:{k}": cell[f"images_{k}"] for path, cell in cells.items() for k in cell["strategies"]}
    scores, sources = metrics.score_sets(sets, reference["images"], w.dataset, sm.params.metrics, sm.params.cache)
    rows = []
    for path, cell in cells.items():
        where = CELL.search(path)
        for label, kl, nfe in zip(cell["strategies"], cell["kl"], cell["nfe"]):
            rows.append({"dataset": w.dataset, "denoiser": w.denoiser, "solver": where["solver"],
                         "nfe_budget": int(where["nfe"]), "nfe": int(nfe), "seed": int(where["seed"]),
                         "strategy": str(label), "kl_forward": float(kl), "reference": str(reference["what"]),
                         **scores[f"{path}:{label}"]})
    print(tables.write_csv(rows, sm.output[0]).to_string())
    return sources


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm)
