"""Snakemake script (rule gaussian_spectrum): the eigenvalues of one synthetic Gaussian spectrum."""

import numpy as np

from diffsched.studies import gaussian_study
from diffsched.infra import provenance
from diffsched.infra.atomic import atomic_path


def main(spec: dict, out: str) -> None:
    eigenvalues = gaussian_study.eigenvalues(spec)
    with atomic_path(out) as tmp:
        np.save(tmp, eigenvalues)
    print(f"{eigenvalues.size} eigenvalues in [{eigenvalues.min():.4g}, {eigenvalues.max():.4g}]")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm.params.spec, sm.output[0])
