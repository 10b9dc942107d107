"""Snakemake script (rule blind_study): conditioned vs noise-blind Gaussian oracles on one data set's Gaussian
model at every configured resolution (diffsched.blind_study)."""

import numpy as np
import pandas as pd
import torch

from diffsched import blind_study, provenance, schedules, solvers, spectrum, sweep, tables


def main(sm) -> None:
    torch.set_num_threads(sm.threads)
    b, seed, name = sm.params.blind, sm.params.seed, sm.wildcards.dataset
    full = spectrum.load(sm.input[0])
    top = round((full.mean.size / 3) ** 0.5)
    measured, gaps = [], []
    grids = pd.DataFrame([{"sampler": label, "solver": s["solver"], "steps": s["steps"], "nfe": solvers.nfe(
        s["solver"], schedules.get("edm", s["steps"], b["sigma_min"], b["sigma_max"], rho=b["rho"]))}
        for label, s in b["samplers"].items()])
    for resolution in b["resolutions"]:
        if top % resolution:
            raise ValueError(f"blind.resolutions: {resolution} does not divide {name}'s resolution {top}")
        spec = blind_study.pooled(full, top // resolution)
        def generator(*names, resolution=resolution):
            return sweep.generator(seed, name, resolution, "blind", *names)

        samples, gap = blind_study.run(spec, b["samplers"], b["samples"], generator, b["sigma_min"], b["sigma_max"],
                                       b["rho"], b["init"], b["trajectory"])
        rng = np.random.default_rng([seed, resolution])
        facts = {"dataset": name, "source": f"{full.meta['label']} ({full.n_samples} train images), "
                           f"{top}x{top} pooled to {resolution}x{resolution}",
                 "resolution": resolution, "dimension": spec.mean.size, "n": b["samples"], "seed": seed}
        table = blind_study.measures(samples, spec.eigenvalues, b["replicates"], rng)
        measured.append(table.merge(grids, on="sampler").assign(**facts))
        gaps.append(blind_study.gap_by_sigma(gap, b["replicates"], rng).assign(sampler=b["trajectory"], **facts))
        print(measured[-1][["dimension", "sampler", "measure", "conditioned", "blind", "difference", "verdict"]]
              .to_string(index=False), flush=True)
    for path, frames in ((sm.output.table, measured), (sm.output.gap, gaps)):
        tables.write_csv(pd.concat(frames, ignore_index=True), path)


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
