"""Training and sampling throughput of each network, with and without the time embedding:
``python benchmarks/bench_train.py``.

Small CPU scale by default: 32x32 RGB, batch 32, U-Net width 32 with the protocol's layout (multipliers
1, 2, 4, 8, two blocks per level, attention at every resolution), DiT depth 6, hidden 128, 4 heads, patch 2.
Training: images/s of full Adam + EMA steps (diffsched.train's step, EDM loss); sampling: images/s of Heun
(diffsched.solvers) on an EDM grid of ``--steps`` steps (2 steps - 1 network calls). Medians of ``--repeats``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from diffsched import precond, schedules, solvers
from diffsched.nets import build, count_parameters


def networks(res: int, width: int) -> dict:
    unet = dict(img_resolution=res, width=width)
    dit = dict(img_resolution=res, patch=2, hidden=128, depth=6, heads=4)
    return {f"{name} {label}": (name, {**kw, "time_embedding": on})
            for name, kw in (("unet", unet), ("dit", dit)) for label, on in (("with", True), ("without", False))}


def train_rate(net, batch: torch.Tensor, steps: int, repeats: int) -> float:
    p, g = precond.EDM(), torch.Generator().manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    ema = [q.detach().clone() for q in net.parameters()]

    def step():
        loss = precond.loss(net, p, batch, g).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema, list(net.parameters()), 1e-4)

    net.train()
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append(time.perf_counter() - start)
    return steps * batch.shape[0] / statistics.median(times)


def sample_rate(net, batch: torch.Tensor, n_steps: int, repeats: int) -> float:
    d = precond.Denoiser(net, precond.EDM())
    grid = schedules.get("edm", n_steps)
    d(batch, 1.0)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        solvers.heun(d, batch * float(grid[0]), grid)
        times.append(time.perf_counter() - start)
    return batch.shape[0] / statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--train-steps", type=int, default=1, help="training steps per timed repeat")
    p.add_argument("--steps", type=int, default=3, help="Heun steps per sample")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--only", nargs="*", help="networks, e.g. 'unet with' 'dit without'")
    args = p.parse_args()
    batch = torch.randn(args.batch, 3, args.resolution, args.resolution, generator=torch.Generator().manual_seed(0))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
          f"{args.resolution}x{args.resolution}, Heun {args.steps} steps ({2 * args.steps - 1} NFE)", flush=True)
    print("\n| network | parameters | train images/s | sample images/s |\n|---|---|---|---|")
    for label, (name, kw) in networks(args.resolution, args.width).items():
        if args.only and label not in args.only:
            continue
        torch.manual_seed(0)
        net = build(name, **kw)
        train = train_rate(net, batch, args.train_steps, args.repeats)
        sample = sample_rate(net, batch, args.steps, args.repeats)
        print(f"| {label} | {count_parameters(net):,} | {train:.1f} | {sample:.1f} |", flush=True)


if __name__ == "__main__":
    main()
