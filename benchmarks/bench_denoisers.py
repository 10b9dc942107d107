"""Oracle denoisers at CIFAR-10 size (d = 3072, batch 64), one thread: denoiser calls/s and heun images/s.

Gaussian and 10-class mixture in float64 (the default), the empirical oracle with N = 50,000 float32 points in
chunks of 1024. Synthetic parameters (a power-law spectrum, random orthonormal bases, uniform points): the
cost depends on the shapes only. Sampling: heun from the exact start on the EDM grid at NFE 9 (5 steps).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


import numpy as np  # noqa: E402
import torch  # noqa: E402

from timing import median_seconds  # noqa: E402

from diffsched import solvers  # noqa: E402
from diffsched.models import denoisers
from diffsched.method import schedules

torch.set_num_threads(1)
D, BATCH, CLASSES, POINTS, NFE = 3072, 64, 10, 50_000, 9


def oracles():
    """(name, oracle), each built when the previous one has been measured."""
    rng = np.random.default_rng(0)
    lam = 50.0 * np.arange(1, D + 1) ** -1.0
    basis, _ = np.linalg.qr(rng.standard_normal((D, D)))
    yield "gaussian (float64)", denoisers.GaussianDenoiser(np.zeros(D), lam, basis)
    means = rng.uniform(-0.5, 0.5, (CLASSES, D))
    yield "mixture, 10 classes (float64)", denoisers.GaussianMixtureDenoiser(
        np.ones(CLASSES), means, np.tile(lam, (CLASSES, 1)), np.repeat(basis[None], CLASSES, axis=0))
    points = torch.rand(POINTS, D, generator=torch.Generator().manual_seed(0)) * 2 - 1
    yield "empirical, N = 50k (float32)", denoisers.EmpiricalDenoiser(points, chunk=1024, dtype=torch.float32)


def measure(oracle, grid) -> tuple[float, float]:
    """Denoiser calls/s at sigma = 1 and heun images/s on ``grid``, medians."""
    x = oracle.start(BATCH, 1.0, generator=torch.Generator().manual_seed(1))
    call = median_seconds(lambda: oracle(x, 1.0), 5)
    x0 = oracle.start(BATCH, grid[0], generator=torch.Generator().manual_seed(2))
    sample = median_seconds(lambda: solvers.heun(oracle, x0, grid), 3)
    return 1.0 / call, BATCH / sample


steps = solvers.steps_for_nfe("heun", NFE)
grid = schedules.get("edm", steps, 0.002, 80.0)
print(f"d = {D}, batch {BATCH}, one thread; heun at NFE {NFE} ({steps} steps, edm grid)")
print(f"{'oracle':32s} {'calls/s':>10s} {'images/s':>10s}")
for name, oracle in oracles():
    calls, images = measure(oracle, grid)
    print(f"{name:32s} {calls:10.2f} {images:10.1f}", flush=True)
