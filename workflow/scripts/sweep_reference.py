"""Snakemake script (rule sweep_reference): the images an oracle's samples are scored against. The Gaussian
oracle: exact samples of N(mu, Sigma) (isolating the discretization error completely); the mixture and the
empirical optimum: evenly spaced training images of the data set."""

import numpy as np

from diffsched import data, denoisers, provenance, spectrum, sweep
from diffsched.atomic import atomic_path


def main(sm) -> None:
    w, count = sm.wildcards, sm.params.images
    if w.denoiser == "gaussian":
        spec = spectrum.load(sm.input.spectrum)
        gauss = denoisers.GaussianDenoiser.from_spectrum(spec)
        x = gauss.sample(count, sweep.generator(sm.params.seed, w.dataset, "reference"))
        images = denoisers.to_uint8(denoisers.to_images(x, int(spec.meta["resolution"]))).permute(0, 2, 3, 1)
        images, what = images.numpy(), f"exact samples of N(mu, Sigma) of {spec.meta['label']}"
    else:
        train, _, meta = data.load(sm.input.train)
        images, what = train[data.subset(len(train), count)], f"training images of {meta['label']}"
    with atomic_path(sm.output[0]) as tmp:
        np.savez(tmp, images=images, what=np.array(what))
    print(f"{len(images)} reference images: {what}")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
