"""Snakemake script (rule reference): the real images samples are scored against. ``train``: evenly spaced
training images of the data set (trained models, the mixture and the empirical optimum); ``gaussian``: exact
samples of N(mu, Sigma) of its Gaussian model (the Gaussian oracle: isolates the discretization error)."""

import numpy as np

from diffsched.data import datasets, spectrum
from diffsched.models import denoisers
from diffsched.infra import provenance
from diffsched.studies import sweep
from diffsched.infra.atomic import atomic_path


def main(sm) -> None:
    w, count = sm.wildcards, int(sm.wildcards.images)
    if w.source == "gaussian":
        spec = spectrum.load(sm.input.spectrum)
        gauss = denoisers.GaussianDenoiser.from_spectrum(spec)
        x = gauss.sample(count, sweep.generator(sm.params.seed, w.dataset, "reference"))
        images = denoisers.to_uint8(denoisers.to_images(x, int(spec.meta["resolution"]))).permute(0, 2, 3, 1)
        images, what = images.numpy(), f"exact samples of N(mu, Sigma) of {spec.meta['label']}"
    else:
        train, _, meta = datasets.load(sm.input.train)
        images, what = train[datasets.subset(len(train), count)], f"training images of {meta['label']}"
    with atomic_path(sm.output[0]) as tmp:
        np.savez(tmp, images=images, what=np.array(what))
    print(f"{len(images)} reference images: {what}")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
