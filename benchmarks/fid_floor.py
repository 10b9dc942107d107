"""FID and KID of real training images at the noise-blind study's sample count, against the study's reference:
the floor that a perfect sampler reaches with so few samples. The conditioned empirical oracle memorises the
images it holds, so its samples are (near) copies of them, drawn with repeats (docs/studies.md, noise-blind study).

Needs the data and reference images of a finished default run (``make run``):

    PYTHONPATH=src python benchmarks/fid_floor.py [--results results] [--dataset cifar10] [--n 48] [--held 100]

Prints FID and KID of: n of the held images, n draws with replacement from them, and n other training images.
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from diffsched.data import datasets
from diffsched.metrics import scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--n", type=int, default=48, help="samples per set (blind.samples)")
    parser.add_argument("--held", type=int, default=100,
                        help="images the empirical oracle holds (blind.empirical_images)")
    parser.add_argument("--reference", type=int, default=1000, help="reference images (sweep.reference)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train, _, _ = datasets.load(args.results / "data" / args.dataset / "train.npz")
    reference = np.load(args.results / "reference" / args.dataset / f"train-{args.reference}.npz")["images"]
    held = train[datasets.subset(len(train), args.held)]
    rng = np.random.default_rng(args.seed)
    sets = {f"{args.n} of the {args.held} held images": held[: args.n],
            f"{args.n} draws with replacement from the {args.held} held": held[rng.integers(0, args.held, args.n)],
            f"{args.n} other training images": train[rng.choice(len(train), args.n, replace=False)]}
    scored, _, _ = scores.score_sets(sets, reference, args.dataset, ("fid", "kid"), args.results / "cache")
    print(f"{args.dataset}: {args.reference} reference images (the noise-blind study's empirical reference)")
    for label, s in scored.items():
        print(f"{label:55s} FID {s['fid']:7.1f}  KID {s['kid_mean']:+.4f}")


if __name__ == "__main__":
    main()
