"""Snakemake script (rule blind_metrics): FID and KID of both arms of one oracle pair's samples at every scored
resolution against the pair's reference images average-pooled to that resolution (exact Gaussian samples for the
Gaussian pair, training images for the empirical one), with paired-bootstrap intervals over the shared start
states (diffsched.studies.blind_study.scores); the other columns are the study's own (rule blind_study)."""

import numpy as np
import pandas as pd
import torch

from diffsched.studies import blind_study
from diffsched.data import datasets
from diffsched.metrics import scores
from diffsched.infra import provenance, tables


def main(sm) -> dict:
    torch.set_num_threads(sm.threads)
    p, name = sm.params, sm.wildcards.dataset
    study = pd.read_csv(sm.input.table)
    stored, reference = np.load(sm.input.samples), np.load(sm.input.reference)
    frames, sources = [], {}
    for resolution in p.scored_resolutions:
        pooled = datasets.block_mean(reference["images"], reference["images"].shape[1] // resolution)
        keys = {(label, arm): blind_study.image_key(resolution, label, arm)
                for label in p.samplers for arm in blind_study.ARMS}
        _, found, features = scores.score_sets({k: stored[k] for k in keys.values()}, pooled, name, p.metrics,
                                                p.cache)
        sources.update(found)
        table = blind_study.scores({label: {arm: features.sets[keys[label, arm]] for arm in blind_study.ARMS}
                                    for label in p.samplers}, features.reference, p.replicates, p.seed, p.metrics)
        facts = study[(study["resolution"] == resolution) & (study["measure"] == blind_study.MEASURES[0])]
        facts = facts[["sampler", *(c for c in study.columns if c not in table.columns)]]
        frames.append(table.merge(facts, on="sampler").assign(
            n_reference=len(pooled), reference=f"{reference['what']}, pooled to {resolution}x{resolution}",
            inception_input=scores.INCEPTION_INPUT[pooled.shape[-1]]))
        print(frames[-1][["dimension", "sampler", "measure", "conditioned", "blind", "difference", "verdict"]]
              .to_string(index=False), flush=True)
    tables.write_csv(pd.concat(frames, ignore_index=True), sm.output[0])
    return sources


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm) as extra:
    extra["sources"] = main(sm)
