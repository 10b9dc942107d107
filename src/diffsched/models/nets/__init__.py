"""Denoiser networks for the timestep-embedding ablation (Chavez, arXiv 2606.20416; Sun et al. 2025).

Every network maps ``(x, c_noise)`` to a tensor shaped like ``x``: ``x`` is (B, C, H, W), ``c_noise`` a
per-sample (B,) tensor from the preconditioning (:mod:`diffsched.models.precond`). ``time_embedding=False`` gives the
same network without any pathway that reads ``c_noise``; ``capacity_matched=True`` keeps that pathway but drives
it from a constant, so the parameter count equals the conditioned network's (see :mod:`.embedding`).
"""

from diffsched.models.nets.dit import DiT
from diffsched.models.nets.unet import UNet

NETWORKS = {"unet": UNet, "dit": DiT}


def build(name: str, **kwargs):
    """The network registered under ``name`` ("unet" or "dit"), constructed with ``kwargs``."""
    try:
        cls = NETWORKS[name]
    except KeyError:
        raise ValueError(f"unknown network {name!r}; valid networks: {', '.join(NETWORKS)}") from None
    return cls(**kwargs)


def count_parameters(model) -> int:
    """Number of trainable parameters (buffers such as fixed positional tables are not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["DiT", "NETWORKS", "UNet", "build", "count_parameters"]
