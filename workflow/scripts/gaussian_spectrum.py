"""Snakemake script (rule gaussian_spectrum): the eigenvalues of one synthetic Gaussian spectrum."""

import numpy as np

from diffsched import gaussian_study, provenance
from diffsched.atomic import atomic_path


def main(spec: dict, out: str) -> None:
    eigenvalues = gaussian_study.eigenvalues(spec)
    with atomic_path(out) as tmp:
        np.save(tmp, eigenvalues)
    print(f"{eigenvalues.size} eigenvalues in [{eigenvalues.min():.4g}, {eigenvalues.max():.4g}]")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm.params.spec, sm.output[0])
