"""Snakemake script (rule blind_study): one oracle pair (Gaussian or empirical) of one data set, conditioned vs
noise-blind, at every configured resolution (diffsched.studies.blind_study); the samples at the scored resolutions are
kept as images for rule blind_metrics."""

import numpy as np
import pandas as pd
import torch

from diffsched.studies import blind_study, sweep
from diffsched.data import datasets, spectrum
from diffsched.models import denoisers
from diffsched.infra import provenance, tables
from diffsched.method import solvers, strategies
from diffsched.infra.atomic import atomic_path


def held_images(path: str, count: int) -> tuple[np.ndarray, str]:
    """The evenly spaced training images the empirical oracles hold, and what they are."""
    train, _, _ = datasets.load(path)
    held = train[datasets.subset(len(train), count)]
    return held, f"{len(held)} of its {len(train)} train images held"


def main(sm) -> None:
    torch.set_num_threads(sm.threads)
    b, seed, name, oracle = sm.params.blind, sm.params.seed, sm.wildcards.dataset, sm.wildcards.oracle
    full = spectrum.load(sm.input.spectrum)
    top, _ = denoisers.image_shape(full.mean.size)  # RGB or grey
    held, what = (None, f"{full.n_samples} train images") if oracle == "gaussian" else held_images(
        sm.input.train, b["empirical_images"])
    measured, gaps, kept = [], [], {}
    grids = pd.DataFrame([{"sampler": label, "solver": s["solver"], "steps": s["steps"], "nfe": solvers.nfe(
        s["solver"], strategies.entry_grid(b["strategy"], s["steps"], b["sigma_min"], b["sigma_max"]))}
        for label, s in b["samplers"].items()])
    for resolution in b["resolutions"]:
        if top % resolution:
            raise ValueError(f"blind.resolutions: {resolution} does not divide {name}'s resolution {top}")
        spec = blind_study.pooled(full, top // resolution)
        points = None if held is None else blind_study.pooled_points(held, top // resolution)
        # the Gaussian pair's streams are named as before the empirical pair existed (its numbers unchanged)
        prefix = (name, resolution, "blind") + (() if oracle == "gaussian" else (oracle,))

        def generator(*names, prefix=prefix):
            return sweep.generator(seed, *prefix, *names)

        samples, gap = blind_study.run(spec, b["samplers"], b["samples"], generator, b["sigma_min"], b["sigma_max"],
                                       b["strategy"], b["init"], b["trajectory"], oracle=oracle, points=points)
        rng = np.random.default_rng([seed, resolution])
        facts = {"dataset": name, "oracle": oracle, "source": f"{full.meta['label']} ({what}), "
                 f"{top}x{top} pooled to {resolution}x{resolution}", "resolution": resolution,
                 "dimension": spec.mean.size, "n": b["samples"], "seed": seed}
        table = blind_study.measures(samples, spec.eigenvalues, b["replicates"], rng)
        measured.append(table.merge(grids, on="sampler").assign(**facts))
        gaps.append(blind_study.gap_by_sigma(gap, b["replicates"], rng).assign(sampler=b["trajectory"], **facts))
        if resolution in b["scored_resolutions"]:
            kept.update({blind_study.image_key(resolution, label, arm): blind_study.sample_images(z, spec)
                         for label, arms in samples.items() for arm, z in arms.items()})
        print(measured[-1][["dimension", "sampler", "measure", "conditioned", "blind", "difference", "verdict"]]
              .to_string(index=False), flush=True)
    for path, frames in ((sm.output.table, measured), (sm.output.gap, gaps)):
        tables.write_csv(pd.concat(frames, ignore_index=True), path)
    with atomic_path(sm.output.samples) as tmp:
        np.savez(tmp, **kept)


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
