"""The noise-level pathway shared by both networks: sinusoidal features of c_noise, then a two-layer MLP.

Three modes, chosen by the network's ``time_embedding`` and ``capacity_matched`` switches:
- conditioned: features of the per-sample ``c_noise`` (Vaswani et al. 2017 frequencies, EDM's positional
  embedding with ``endpoint=True``, Karras et al. 2022);
- capacity matched: the same MLP fed with a fixed buffer, the features of c_noise = 0, for every sample. The MLP
  output is then a learned constant vector (the first layer's bias alone could make it any constant), so every
  downstream layer the conditioned network has is kept, trained and counted, but nothing depends on the noise;
- off: the network builds no embedding at all (``None`` in its place).
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"gelu": nn.GELU, "silu": nn.SiLU}


def activation(name: str) -> nn.Module:
    """A fresh activation module by name ("gelu" or "silu")."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}") from None


def sinusoidal(c_noise: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """(B, dim) features [cos(c f_i), sin(c f_i)], f_i = max_period^(-i / (dim/2 - 1)), i = 0 .. dim/2 - 1."""
    if dim % 2 or dim < 4:
        raise ValueError(f"sinusoidal embedding size must be even and >= 4, got {dim}")
    half = dim // 2
    freqs = max_period ** (-torch.arange(half, dtype=torch.float32, device=c_noise.device) / (half - 1))
    angles = c_noise.float()[:, None] * freqs[None, :]
    return torch.cat([angles.cos(), angles.sin()], dim=1)


class NoiseEmbedding(nn.Module):
    """c_noise (B,) -> (B, out_dim): Linear(freq_dim, out_dim), activation, Linear(out_dim, out_dim)."""

    def __init__(self, freq_dim: int, out_dim: int, act: str = "silu", constant: bool = False):
        super().__init__()
        self.freq_dim, self.constant = freq_dim, constant
        self.mlp = nn.Sequential(nn.Linear(freq_dim, out_dim), activation(act), nn.Linear(out_dim, out_dim))
        if constant:
            self.register_buffer("features", sinusoidal(torch.zeros(1), freq_dim), persistent=False)

    def forward(self, c_noise: torch.Tensor) -> torch.Tensor:
        if self.constant:
            return self.mlp(self.features).expand(c_noise.shape[0], -1)
        return self.mlp(sinusoidal(c_noise, self.freq_dim))


def make(time_embedding: bool, capacity_matched: bool, freq_dim: int, out_dim: int, act: str):
    """The embedding for a network's switches, or None when the network must not have one."""
    if time_embedding and capacity_matched:
        raise ValueError("capacity_matched applies only to time_embedding=False (it replaces the missing "
                         "noise pathway by a constant-driven one)")
    if not time_embedding and not capacity_matched:
        return None
    return NoiseEmbedding(freq_dim, out_dim, act, constant=capacity_matched)


def check_inputs(x: torch.Tensor, c_noise: torch.Tensor, channels: int, resolution: int) -> None:
    """Raise a ValueError unless x is (B, channels, resolution, resolution) and c_noise is (B,)."""
    if x.ndim != 4 or x.shape[1] != channels or x.shape[2] != resolution or x.shape[3] != resolution:
        raise ValueError(f"expected x of shape (B, {channels}, {resolution}, {resolution}), got {tuple(x.shape)}")
    if c_noise.shape != (x.shape[0],):
        raise ValueError(f"expected c_noise of shape ({x.shape[0]},) (one value per sample), "
                         f"got {tuple(c_noise.shape)}")
