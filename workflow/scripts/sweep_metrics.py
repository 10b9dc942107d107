"""Snakemake script (rule sweep_metrics): FID, KID and precision/recall of every strategy of one sweep cell
against the denoiser's reference images (Inception pool3 features for all three)."""

import numpy as np
import torch

from diffsched import metrics, provenance, tables


def main(sm) -> dict:
    torch.set_num_threads(sm.threads)
    w = sm.wildcards
    cell, reference = np.load(sm.input.samples), np.load(sm.input.reference)
    scores, sources = metrics.score_sets({str(k): cell[f"images_{k}"] for k in cell["strategies"]},
                                         reference["images"], w.dataset, sm.params.metrics, sm.params.cache)
    rows = [{"dataset": w.dataset, "denoiser": w.denoiser, "solver": w.solver, "nfe_budget": int(w.nfe),
             "nfe": int(nfe), "seed": int(w.seed), "strategy": str(label), "kl_forward": float(kl),
             "reference": str(reference["what"]), **scores[str(label)]}
            for label, kl, nfe in zip(cell["strategies"], cell["kl"], cell["nfe"])]
    print(tables.write_csv(rows, sm.output[0]).to_string())
    return sources


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm)
