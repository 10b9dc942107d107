"""Snakemake script (rule sweep_metrics): FID, KID and precision/recall of every strategy of every sweep cell
of one denoiser against its reference images (Inception pool3 features for all three), in one process so the
feature extractor is compiled once; the features are kept for the bootstrap (rule sweep_bootstrap)."""

import re

import numpy as np
import torch

from diffsched import gaussian, metrics, provenance, tables
from diffsched.atomic import atomic_path

CELL = re.compile(r"(?P<solver>[^/]+)/nfe(?P<nfe>\d+)/seed(?P<seed>\d+)\.npz$")


def main(sm) -> dict:
    torch.set_num_threads(sm.threads)
    w = sm.wildcards
    reference = np.load(sm.input.reference)
    cells = {path: np.load(path) for path in sm.input.samples}
    sets = {f"{path}:{k}": cell[f"images_{k}"] for path, cell in cells.items() for k in cell["strategies"]}
    scores, sources, features = metrics.score_sets(sets, reference["images"], w.dataset, sm.params.metrics,
                                                   sm.params.cache)
    rows, kept = [], []
    for path, cell in cells.items():
        where = CELL.search(path)
        for j, (label, nfe) in enumerate(zip(cell["strategies"], cell["nfe"])):
            criteria = {f"crit_{name}": float(cell[f"criterion_{name}"][j]) for name in gaussian.CRITERIA}
            rows.append({"dataset": w.dataset, "denoiser": w.denoiser, "solver": where["solver"],
                         "nfe_budget": int(where["nfe"]), "nfe": int(nfe), "seed": int(where["seed"]),
                         "strategy": str(label), "kl_forward": criteria["crit_kl"], **criteria,
                         "reference": str(reference["what"]), **scores[f"{path}:{label}"]})
            kept.append(features.sets[f"{path}:{label}"])
    table = tables.write_csv(rows, sm.output.table)
    print(table.to_string())
    with atomic_path(sm.output.features) as tmp:  # row k of features: row k of the table
        np.savez(tmp, features=np.stack(kept), reference=features.reference,
                 **{k: np.asarray(table[k].tolist()) for k in ("solver", "nfe_budget", "seed", "strategy")})
    return sources


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm)
