"""Snakemake script (rule spectrum_published): a published lossless spectrum on a copy's eigenvectors of the same
rank and its mean (diffsched.data.spectrum_sources.on_basis), the Gaussian model the ranking and the sweep's
Gaussian oracle use for the data set without the copy's compression loss."""

import numpy as np

from diffsched.data import published_spectra, spectrum, spectrum_sources
from diffsched.infra import provenance
from diffsched.infra.atomic import atomic_path


def main(sm) -> None:
    lam, label = published_spectra.load(sm.params.eigenvalues, file=sm.input.published)
    basis = spectrum.load(sm.input.basis)
    model = spectrum_sources.on_basis(basis, lam, f"{label}, on the eigenvectors and mean of {basis.meta['label']}")
    spectrum.save(sm.output.spectrum, model)
    with atomic_path(sm.output.eigenvalues) as tmp:
        np.save(tmp, model.eigenvalues)
    ratio = model.eigenvalues / basis.eigenvalues
    print(f"{model.meta['label']}: {lam.size} eigenvalues; published / copy's by rank: median {np.median(ratio):.3g}, "
          f"largest {ratio.max():.3g} (rank {int(ratio.argmax()) + 1})")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
