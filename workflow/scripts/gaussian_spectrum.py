"""Write the eigenvalues of one synthetic Gaussian spectrum."""

import sys

import numpy as np

from diffsched import gaussian_study
from diffsched.atomic import atomic_path

sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
eigenvalues = gaussian_study.eigenvalues(snakemake.params.spec)  # noqa: F821
with atomic_path(snakemake.output[0]) as tmp:  # noqa: F821
    np.save(tmp, eigenvalues)
print(f"{eigenvalues.size} eigenvalues in [{eigenvalues.min():.4g}, {eigenvalues.max():.4g}]")
