"""Data preparation and spectrum time and peak memory per data set: ``python benchmarks/bench_data.py``.

Each step runs in a fresh process so its peak resident memory (``ru_maxrss``) is its own. Uses the archives
chosen by ``source`` (default ``auto``: the offline copies in ../shared/data when present).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

CASES = [("cifar10", "cifar10", 32), ("celeba32", "celeba", 32), ("celeba64", "celeba", 64)]


def _prepare(queue, dataset, resolution, source, out_dir):
    from diffsched.data import datasets

    start = time.perf_counter()
    paths = datasets.prepare(datasets.resolve(dataset, source), out_dir, resolution=resolution)
    elapsed = time.perf_counter() - start
    counts = {split: datasets.load(p)[2]["count"] for split, p in paths.items()}
    queue.put((elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, counts))


def _spectrum(queue, path, chunk):
    from diffsched.data import datasets, spectrum

    start = time.perf_counter()
    images, _, _ = datasets.load(path)
    spec = spectrum.compute(images, chunk=chunk)
    elapsed = time.perf_counter() - start
    queue.put((elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, spec.n_floored))


def _run(target, *args):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(queue, *args))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--source", default="auto")
    p.add_argument("--chunk", type=int, default=1024)
    p.add_argument("--only", nargs="*", help="case names, e.g. cifar10 celeba32")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, dataset, res in CASES:
            if args.only and name not in args.only:
                continue
            out = Path(tmp) / name
            prep_s, prep_mb, counts = _run(_prepare, dataset, res, args.source, out)
            spec_s, spec_mb, floored = _run(_spectrum, out / "train.npz", args.chunk)
            rows.append((name, res, counts, 3 * res * res, prep_s, prep_mb, spec_s, spec_mb, floored))
            print(f"done {name}", flush=True)
    print("\n| data set | res | images | dim | prepare s | prepare peak MiB | spectrum s (train) | spectrum peak MiB "
          "| floored |\n|---|---|---|---|---|---|---|---|---|")
    for name, res, counts, dim, ps, pm, ss, sm, fl in rows:
        images = " + ".join(f"{n} {s}" for s, n in counts.items())
        print(f"| {name} | {res} | {images} | {dim} | {ps:.1f} | {pm:.0f} | {ss:.1f} | {sm:.0f} | {fl} |")


if __name__ == "__main__":
    main()
