"""Snakemake script (rule spectrum): mean, floored eigenvalues and eigenvectors of a data set's train split
(diffsched.data.spectrum_sources.write_dataset_spectrum, the function the command line uses too)."""

from diffsched.data import spectrum_sources
from diffsched.infra import provenance


def main(source: str, chunk: int, out_spectrum: str) -> None:
    spec = spectrum_sources.write_dataset_spectrum(source, out_spectrum, chunk)
    print(f"{spec.meta['label']}: {spec.n_samples} images, {spec.eigenvalues.size} eigenvalues, "
          f"{spec.n_floored} raised to the floor {spec.floor:.3g}")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm.input[0], sm.params.chunk, sm.output.spectrum)
