"""Shared by the benchmarks: the median wall time of repeated calls."""

import statistics
import time


def median_seconds(fn, repeats: int) -> float:
    """Median over ``repeats`` calls of ``fn()``, in seconds (perf_counter)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
