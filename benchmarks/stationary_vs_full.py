"""The stationary approximation against the full covariance of one data set: eigenvalue quantiles, and the grid
``recommend`` picks from each spectrum, scored by the exact KL under the full one.

    python benchmarks/stationary_vs_full.py FULL.npz STATIONARY.npz [--nfe 4 6 10 20] [--solvers euler heun]

FULL.npz and STATIONARY.npz are written by ``python -m diffsched spectrum --method full|stationary`` from the same
data. Prints markdown tables.
"""

import argparse

import numpy as np

from diffsched.method import gaussian
from diffsched.interface import recommend
from diffsched.data import spectrum

QUANTILES = (0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("full")
    p.add_argument("stationary")
    p.add_argument("--nfe", type=int, nargs="+", default=[4, 6, 10, 20])
    p.add_argument("--solvers", nargs="+", default=["euler", "heun"])
    args = p.parse_args()
    full = spectrum.load(args.full, vectors=False)
    approx = spectrum.load(args.stationary, vectors=False)
    a, b = full.eigenvalues, approx.eigenvalues
    if a.shape != b.shape:
        raise SystemExit(f"the spectra differ in dimension: {a.size} and {b.size}")
    print(f"d = {a.size}, N = {full.n_samples}; trace {a.sum():.6g} (full), {b.sum():.6g} (stationary); "
          f"floored {full.n_floored} and {approx.n_floored}\n")
    print("| rank k (quantile) | full | stationary | ratio |\n|---|---|---|---|")
    for q in QUANTILES:
        i = round(q * (a.size - 1))
        print(f"| {i + 1} ({q:g}) | {a[i]:.4g} | {b[i]:.4g} | {b[i] / a[i]:.3g} |")
    print(f"\nmedian |log ratio| {np.median(np.abs(np.log(b / a))):.3f}\n")
    print("| solver | NFE | pick (full) | pick (stationary) | KL of full's pick | KL of stationary's pick |\n"
          "|---|---|---|---|---|---|")
    for solver in args.solvers:
        for nfe in args.nfe:
            picks = [recommend.recommend(lam, nfe, solver) for lam in (a, b)]
            kl = [gaussian.kl_divergence(a, pick["sigmas"], solver) for pick in picks]
            print(f"| {solver} | {nfe} | {picks[0]['strategy']} | {picks[1]['strategy']} | {kl[0]:.4g} | "
                  f"{kl[1]:.4g} ({kl[1] / kl[0] - 1:+.1%}) |")


if __name__ == "__main__":
    main()
