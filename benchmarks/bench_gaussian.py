"""Exact-criterion machinery at CelebA 64x64 scale (d = 12,288), n = 10, on one core. Prints medians.

Targets: gamma* under 1 s, the finite-N optimal grid under 2 s for the kl and the w2 criterion (exact
gradients through the solver), under 10 s for heun.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


import numpy as np  # noqa: E402

from timing import median_seconds  # noqa: E402

from diffsched import schedules  # noqa: E402
from diffsched.method import gaussian, optimise

D, N = 12_288, 10
LAM = 50.0 * np.arange(1, D + 1) ** -1.0  # power-law spectrum of image-like data


def kl_of_1000_grids():
    for rho in np.linspace(1.0, 10.0, 1000):
        gaussian.kl_divergence(LAM, schedules.get("edm", N, rho=rho))


rows = [
    ("exact KL, 1000 edm grids (euler)", median_seconds(kl_of_1000_grids, 5), None),
    ("gamma* (euler)", median_seconds(lambda: optimise.gamma_star(LAM, N), 5), 1.0),
    ("variational schedule", median_seconds(lambda: optimise.variational_schedule(LAM), 5), None),
    ("finite-N optimal grid, kl (euler)", median_seconds(lambda: optimise.optimal_grid(LAM, N), 3), 2.0),
    ("finite-N optimal grid, w2 (euler)", median_seconds(lambda: optimise.optimal_grid(LAM, N, criterion="w2"), 3),
     2.0),
    ("finite-N optimal grid (heun, n=5)", median_seconds(lambda: optimise.optimal_grid(LAM, 5, solver="heun"), 3),
     10.0),
]
print(f"d = {D}, n = {N}, one thread")
print(f"{'task':40s} {'median s':>10s} {'target s':>10s}")
for task, seconds, target in rows:
    print(f"{task:40s} {seconds:10.3f} {target if target else '':>10}")
