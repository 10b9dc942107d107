"""Snakemake script (rule probe): how well sigma can be read from x = y + sigma n alone on one data set
(diffsched.studies.probe, Sun et al. 2025): the norm estimator, a learned probe and the Bayes estimator under the data's
Gaussian model on held-out images, per sigma."""

import torch

from diffsched.data import datasets, spectrum
from diffsched.models import denoisers
from diffsched.studies import probe, sweep
from diffsched.infra import provenance, tables


def split(sm, count: int):
    """Training images, held-out images (the test split where the data set has one) and where they came from."""
    train, _, meta = datasets.load(sm.input.train)
    if sm.input.get("test") is None:
        train, test = probe.hold_out(train, count)
        return train, test, meta, "from train, no test split"
    test, _, _ = datasets.load(sm.input.test)
    return train, test[datasets.subset(len(test), count)], meta, "test split"


def main(sm) -> None:
    torch.set_num_threads(sm.threads)
    p, r, seed, name = sm.params.probe, sm.params.noise, sm.params.seed, sm.wildcards.dataset
    train, test, meta, held_out = split(sm, p["test_images"])
    m2 = probe.second_moment(train)
    fitted = probe.train_probe(train, r["sigma_min"], r["sigma_max"], p["steps"], p["batch"],
                               sweep.generator(seed, name, "probe", "train"))
    sigmas = probe.sigma_grid(r["sigma_min"], r["sigma_max"], p["sigma_points"])
    path = sm.input.get("spectrum")  # none without a test split: fit the images left after the hold-out
    model = denoisers.GaussianDenoiser.from_spectrum(spectrum.load(path) if path else spectrum.compute(train))
    table = probe.evaluate(fitted, test, m2, sigmas, r["sigma_min"], sweep.generator(seed, name, "probe", "test"),
                           model=model, model_images=p["bayes_images"], sigma_max=r["sigma_max"])
    resolution = meta["resolution"]
    facts = {"dataset": name, "source": f"{meta['label']}, {resolution}x{resolution}", "held_out": held_out,
             "n_train": len(train), "m2": m2, "steps": p["steps"], "batch": p["batch"], "seed": seed}
    table = tables.write_csv(table.assign(**facts)[list(facts) + list(table.columns)], sm.output[0])
    print(table.pivot(index="sigma", columns="estimator", values="rms_log_error").to_string())


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
