"""Snakemake script (rule spectrum): mean, floored eigenvalues and eigenvectors of a data set's train split (RGB or
grey; the channel count is recorded)."""

import numpy as np

from diffsched.data import datasets, spectrum
from diffsched.infra import provenance
from diffsched.infra.atomic import atomic_path

KEEP = ("dataset", "split", "label", "archive", "checksum", "resolution", "count")


def main(source: str, chunk: int, out_spectrum: str, out_eigenvalues: str) -> None:
    images, _, meta = datasets.load(source)
    keep = {k: meta[k] for k in KEEP}
    spec = spectrum.compute(images, chunk=chunk, meta=dict(keep, channels=int(images.shape[-1])))
    spectrum.save(out_spectrum, spec)
    with atomic_path(out_eigenvalues) as tmp:  # for `python -m diffsched grid --eigenvalues`
        np.save(tmp, spec.eigenvalues)
    print(f"{meta['label']}: {spec.n_samples} images, {spec.eigenvalues.size} eigenvalues, "
          f"{spec.n_floored} raised to the floor {spec.floor:.3g}")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm.input[0], sm.params.chunk, sm.output.spectrum, sm.output.eigenvalues)
