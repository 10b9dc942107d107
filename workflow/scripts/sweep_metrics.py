"""Snakemake script (rule sweep_metrics): FID, KID and precision/recall of every strategy of every sweep cell
of one denoiser against its reference images (Inception pool3 features for all three), in one process so the
feature extractor is compiled once; the features are kept for the bootstrap (rule sweep_bootstrap)."""

import numpy as np
import torch

from diffsched.metrics import scores
from diffsched.studies import sweep
from diffsched.infra import provenance, tables
from diffsched.infra.atomic import atomic_path


def main(sm) -> dict:
    torch.set_num_threads(sm.threads)
    w = sm.wildcards
    reference = np.load(sm.input.reference)
    loaded = {path: sweep.load_cell(path) for path in sm.input.samples}
    sets = {f"{path}:{k}": arrays[f"images_{k}"] for path, (_, arrays) in loaded.items()
            for k in arrays["strategies"]}
    scored, sources, features = scores.score_sets(sets, reference["images"], w.dataset, sm.params.metrics,
                                                   sm.params.cache)
    rows, kept = [], []
    for path, (cell, arrays) in loaded.items():
        for row in sweep.metric_rows(cell, arrays):
            key = f"{path}:{row['strategy']}"
            rows.append({**row, "reference": str(reference["what"]), **scored[key]})
            kept.append(features.sets[key])
    table = tables.write_csv(rows, sm.output.table)
    print(table.to_string())
    with atomic_path(sm.output.features) as tmp:  # row k of features: row k of the table
        np.savez(tmp, features=np.stack(kept), reference=features.reference,
                 **{k: np.asarray(table[k].tolist()) for k in ("solver", "nfe_budget", "seed", "strategy")})
    return sources


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm)
