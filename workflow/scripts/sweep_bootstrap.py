"""Snakemake script (rule sweep_bootstrap): the paired bootstrap (diffsched.metrics.bootstrap) of every solver and NFE
cell of one denoiser, seeds pooled: per criterion of diffsched.method.gaussian.CRITERIA its rank correlations with FID
and KID, its pick and regret and the pick against the cell's baselines; and every strategy's FID and KID, all
with intervals. Each row states the data's quality (diffsched.data.datasets.quality, from its spectrum)."""

import numpy as np
import pandas as pd

from diffsched.data import spectrum
from diffsched.metrics import bootstrap
from diffsched.method import gaussian
from diffsched.infra import provenance, tables
from diffsched.studies import sweep


def main(sm) -> None:
    w, p = sm.wildcards, sm.params
    table = pd.read_csv(sm.input.metrics)
    quality = spectrum.load(sm.input.spectrum, vectors=False).meta["quality"]
    store = np.load(sm.input.features)
    summary, scores = [], []
    for (solver, nfe), block in table.groupby(["solver", "nfe_budget"]):
        seeds = sorted(block["seed"].unique())
        features = {}
        for strategy in dict.fromkeys(block["strategy"]):
            mine = (store["solver"] == solver) & (store["nfe_budget"] == nfe) & (store["strategy"] == strategy)
            features[strategy] = [store["features"][np.flatnonzero(mine & (store["seed"] == s)).item()] for s in seeds]
        result = bootstrap.scores(features, store["reference"], p.replicates, p.seed)
        means = block.groupby("strategy")[[f"crit_{c}" for c in gaussian.CRITERIA]].mean()
        criteria = {c: means[f"crit_{c}"].to_dict() for c in gaussian.CRITERIA}
        cell = {"dataset": w.dataset, "quality": quality, "denoiser": w.denoiser, "solver": solver,
                "nfe_budget": int(nfe),
                "seeds": " ".join(map(str, seeds)), "n_samples": int(block["n_samples"].iloc[0]),
                "n_reference": int(block["n_reference"].iloc[0]), "replicates": p.replicates,
                "level": bootstrap.LEVEL}
        summary += [{**cell, **row} for row in sweep.bootstrap_rows(result, criteria, p.baselines)]
        scores += [{**cell, **row} for row in sweep.score_rows(result)]
    print(tables.write_csv(summary, sm.output.summary).to_string())
    tables.write_csv(scores, sm.output.scores)


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
