"""Training and sampling throughput of each network, with and without the time embedding:
``python benchmarks/bench_train.py``.

Small CPU scale by default (about a minute on a shared 2-core machine): one thread, 32x32 RGB, batch 8, U-Net
width 32 with the protocol's layout (multipliers 1, 2, 4, 8, two blocks per level, attention at every resolution),
DiT depth 6, hidden 128, 4 heads, patch 2.
Training: images/s of full Adam + EMA steps (diffsched.models.training's step, EDM loss); sampling: images/s of Heun
(diffsched.method.solvers) on an EDM grid of ``--steps`` steps (2 steps - 1 network calls). Medians of ``--repeats``.

Reference row ``ddpm-pytorch Unet``: denoising-diffusion-pytorch's ``Unet`` (the ``bench`` extra, installed by
``make bench``) with dim = width, the same multipliers and attention heads, full attention at every level through
scaled_dot_product_attention as ours (flash_attn=True), measured with the same train step and sampler as ours
(through :class:`Reference`); what it does differently is printed under the table.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from functools import partial

import torch
from torch import nn

from diffsched.models import precond
from diffsched.method import schedules, solvers
from diffsched.models.nets import build, count_parameters, unet

MULT = (1, 2, 4, 8)  # channel multipliers of both U-Nets
HEAD_CHANNELS = 64  # our UNet's default: heads = channels // 64 (at least one)
REFERENCE = "ddpm-pytorch Unet"


class Reference(nn.Module):
    """denoising-diffusion-pytorch's ``Unet`` as F(x, c_noise): c_noise (EDM: ln(sigma) / 4) times 1000 goes in as
    its timestep, the scale of the integer DDPM timesteps its sinusoidal embedding is made for."""

    def __init__(self, width: int):
        super().__init__()
        from denoising_diffusion_pytorch import Unet

        heads = tuple(max(1, width * m // HEAD_CHANNELS) for m in MULT)
        self.net = Unet(dim=width, dim_mults=MULT, full_attn=(True,) * len(MULT), attn_heads=heads,
                        attn_dim_head=tuple(width * m // h for m, h in zip(MULT, heads)), flash_attn=True)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        return self.net(x, 1000 * c_noise)


def networks(res: int, width: int) -> dict:
    """label -> constructor, the reference next to our U-Net with the time embedding."""
    unet = partial(build, "unet", img_resolution=res, width=width, channel_mult=MULT, head_channels=HEAD_CHANNELS)
    dit = partial(build, "dit", img_resolution=res, patch=2, hidden=128, depth=6, heads=4)
    return {
        "unet with": partial(unet, time_embedding=True),
        REFERENCE: partial(Reference, width),
        "unet without": partial(unet, time_embedding=False),
        "dit with": partial(dit, time_embedding=True),
        "dit without": partial(dit, time_embedding=False),
    }


def layout(net: nn.Module, block: type, attention: type) -> str:
    """How many residual blocks and self-attention layers ``net`` has."""
    modules = list(net.modules())
    return (f"{sum(isinstance(m, block) for m in modules)} ResNet blocks, "
            f"{sum(isinstance(m, attention) for m in modules)} self-attention layers")


def differences(ours: nn.Module, reference: Reference) -> str:
    """What the reference does differently from our U-Net at the same width and multipliers."""
    from denoising_diffusion_pytorch.denoising_diffusion_pytorch import Attention, ResnetBlock

    return (f"{REFERENCE} vs unet with: {layout(reference, ResnetBlock, Attention)} vs "
            f"{layout(ours, unet.ResBlock, unet.Attention)}. Its own choices: 2 blocks per level up (ours 3) and a "
            "final block; attention once per level after the 2nd block (ours after every block); the down path of "
            "each level at the previous level's width; 7x7 input conv; pixel-unshuffle downsampling; RMSNorm + SiLU "
            "(ours GroupNorm + GELU); scale-shift time conditioning (ours an additive bias); 4 learned memory "
            "key/values per attention.")


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
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--train-steps", type=int, default=1, help="training steps per timed repeat")
    p.add_argument("--steps", type=int, default=3, help="Heun steps per sample")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch threads (more oversubscribe a shared machine)")
    p.add_argument("--only", nargs="*", help=f"networks, e.g. 'unet with' '{REFERENCE}' 'dit without'")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    batch = torch.randn(args.batch, 3, args.resolution, args.resolution, generator=torch.Generator().manual_seed(0))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
          f"{args.resolution}x{args.resolution}, Heun {args.steps} steps ({2 * args.steps - 1} NFE)", flush=True)
    print("\n| network | parameters | train images/s | sample images/s |\n|---|---|---|---|")
    built = {}
    for label, make in networks(args.resolution, args.width).items():
        if args.only and label not in args.only:
            continue
        if label == REFERENCE and importlib.util.find_spec("denoising_diffusion_pytorch") is None:
            print(f"| {label} | skipped: denoising-diffusion-pytorch is not installed (`make bench` installs it) | | |")
            continue
        torch.manual_seed(0)
        net = built[label] = make()
        train = train_rate(net, batch, args.train_steps, args.repeats)
        sample = sample_rate(net, batch, args.steps, args.repeats)
        print(f"| {label} | {count_parameters(net):,} | {train:.1f} | {sample:.1f} |", flush=True)
    if "unet with" in built and REFERENCE in built:
        print(f"\n{differences(built['unet with'], built[REFERENCE])}")


if __name__ == "__main__":
    main()
