"""`recommend` from a ready spectrum, on one thread: d = 12,288 (CelebA 64x64) and a 256x256x3 stationary spectrum
(d = 196,608), euler at NFE 6, the forward KL and W2. Prints medians of 3.

Targets: under 2 s at d = 12,288 and under 5 s at d = 196,608, the CLI's start-up excluded (the library call).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from timing import median_seconds  # noqa: E402

from diffsched import recommend  # noqa: E402


def power_law(d: int) -> np.ndarray:
    """An image-like spectrum: 50 i^-1, floored at 8-bit quantisation noise."""
    return np.maximum(50.0 * np.arange(1, d + 1) ** -1.0, (2 / 255) ** 2 / 12)


rows = []
for d, target in ((12_288, 2.0), (256 * 256 * 3, 5.0)):
    lam = power_law(d)
    for criterion in ("kl", "w2"):
        seconds = median_seconds(lambda lam=lam, c=criterion: recommend.recommend(lam, 6, "euler", criterion=c), 3)
        rows.append((f"d = {d:,}, {criterion}", seconds, target))
print("recommend (library call), euler, NFE 6, one thread, median of 3")
print(f"{'case':28s} {'median s':>10s} {'target s':>10s}")
for case, seconds, target in rows:
    print(f"{case:28s} {seconds:10.2f} {target:10.1f}")
