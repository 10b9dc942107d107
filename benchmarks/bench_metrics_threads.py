"""Two Inception jobs on a 2-core machine: one after the other with 2 threads each, or side by side with 1 thread
each (config ``threads.metrics``, which decides how Snakemake packs the metrics jobs onto ``--cores``).

    PYTHONPATH=src python benchmarks/bench_metrics_threads.py [--n 96] [--repeats 3]

Each job is a fresh process of ``bench_fid.py --only diffsched`` (the pipeline's extractor, compilation included,
as each metrics job pays it) over 4 n CIFAR-10 images. Prints the median wall time of the pair per layout and the
images/s it amounts to.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_FID = Path(__file__).with_name("bench_fid.py")


def job(threads: int, features: Path, args) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    command = [sys.executable, str(BENCH_FID), "--only", "diffsched", "--features", str(features),
               "--n", str(args.n), "--data", args.data]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def pair_seconds(threads: int, side_by_side: bool, tmp: Path, args) -> float:
    start = time.perf_counter()
    if side_by_side:
        procs = [job(threads, tmp / f"{k}.pt", args) for k in range(2)]
    else:
        procs = []
        for k in range(2):
            procs.append(job(threads, tmp / f"{k}.pt", args))
            procs[-1].wait()
    if any(p.wait() != 0 for p in procs):
        sys.exit("an extractor process failed")
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=96, help="images per set; each job extracts 4 n images")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--data", default="/work/shared/data/cifar10-jpeg.tar.gz")
    args = p.parse_args()
    layouts = {"one after the other, 2 threads each": (2, False), "side by side, 1 thread each": (1, True)}
    seconds = {name: [] for name in layouts}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for name, (threads, side) in layouts.items():
                seconds[name].append(pair_seconds(threads, side, Path(tmp), args))
    print(f"two metrics jobs of {4 * args.n} images each (compilation included), median of {args.repeats}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:38s} {median:7.1f} s  {8 * args.n / median:6.1f} images/s")


if __name__ == "__main__":
    main()
