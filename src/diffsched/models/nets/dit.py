"""Diffusion Transformer (Peebles & Xie 2023, DiT) with a ``time_embedding`` switch, no class labels.

Defaults are the DiT-S/2-like model of Chavez (arXiv 2606.20416) as released: depth 12, hidden 252, 6 heads,
patch 2, MLP ratio 4, fixed 2-D sin-cos positions, adaLN-Zero blocks. Conditioned, each block and the final
layer get (shift, scale, gate) from SiLU + Linear of the noise embedding, initialised to zero.

``time_embedding=False`` (without labels, as Chavez on CelebA): the adaLN pathway disappears entirely. Blocks
become pre-LayerNorm transformer blocks (learned LayerNorm affine, no gates) and the final layer a LayerNorm and a
linear map; about a third of the parameters go with it, a capacity confound. ``capacity_matched=True`` keeps the
conditioned architecture unchanged, embedding MLP and every adaLN-Zero modulation included, but feeds the
embedding MLP a constant (the features of c_noise = 0) for every sample: the modulation becomes a learned,
input-independent shift / scale / gate per block, and the parameter count equals the conditioned DiT's exactly.
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from diffsched.models.nets import embedding


def sincos_2d(dim: int, grid: int) -> torch.Tensor:
    """(grid^2, dim) fixed 2-D sin-cos positions (MAE / DiT): half the channels for rows, half for columns."""
    if dim % 4:
        raise ValueError(f"DiT hidden size must be divisible by 4 for 2-D sin-cos positions, got {dim}")
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim / 4.0))
    coords = torch.arange(grid, dtype=torch.float64)
    rows, cols = torch.meshgrid(coords, coords, indexing="ij")

    def one(pos):
        angles = pos.reshape(-1, 1) * omega[None, :]
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    return torch.cat([one(cols), one(rows)], dim=1).float()  # column (w) half first, as DiT's reference code


def _modulate(x, shift, scale):
    return x * (1 + scale[:, None, :]) + shift[:, None, :]


def _ada(hidden: int, chunks: int) -> nn.Sequential:
    return nn.Sequential(nn.SiLU(), nn.Linear(hidden, chunks * hidden))


class Block(nn.Module):
    """Pre-norm attention + MLP block; adaLN-Zero modulation when ``conditioned``, plain LayerNorm otherwise."""

    def __init__(self, hidden: int, heads: int, mlp_ratio: float, conditioned: bool):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(hidden, elementwise_affine=not conditioned, eps=1e-6)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.norm2 = nn.LayerNorm(hidden, elementwise_affine=not conditioned, eps=1e-6)
        inner = int(hidden * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(hidden, inner), nn.GELU(approximate="tanh"), nn.Linear(inner, hidden))
        self.ada = _ada(hidden, 6) if conditioned else None

    def attention(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c))

    def forward(self, x, cond):
        if self.ada is None:
            x = x + self.attention(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(cond).chunk(6, dim=1)
        x = x + gate1[:, None, :] * self.attention(_modulate(self.norm1(x), shift1, scale1))
        return x + gate2[:, None, :] * self.mlp(_modulate(self.norm2(x), shift2, scale2))


class DiT(nn.Module):
    """DiT denoiser F(x, c_noise) -> tensor shaped like x; see the module docstring for the switches."""

    def __init__(self, img_resolution: int = 32, in_channels: int = 3, patch: int = 2, hidden: int = 252,
                 depth: int = 12, heads: int = 6, mlp_ratio: float = 4.0, freq_dim: int = 256,
                 time_embedding: bool = True, capacity_matched: bool = False):
        super().__init__()
        if img_resolution % patch:
            raise ValueError(f"img_resolution {img_resolution} is not divisible by patch {patch}")
        if hidden % heads:
            raise ValueError(f"hidden {hidden} is not divisible by heads {heads}")
        self.img_resolution, self.in_channels, self.patch = img_resolution, in_channels, patch
        self.time_embedding = time_embedding
        self.embedding = embedding.make(time_embedding, capacity_matched, freq_dim, hidden, "silu")
        conditioned = self.embedding is not None
        self.patchify = nn.Conv2d(in_channels, hidden, patch, stride=patch)
        grid = img_resolution // patch
        self.register_buffer("pos", sincos_2d(hidden, grid)[None], persistent=False)
        self.blocks = nn.ModuleList([Block(hidden, heads, mlp_ratio, conditioned) for _ in range(depth)])
        self.norm_out = nn.LayerNorm(hidden, elementwise_affine=not conditioned, eps=1e-6)
        self.ada_out = _ada(hidden, 2) if conditioned else None
        self.linear_out = nn.Linear(hidden, patch * patch * in_channels)
        self._init_weights()

    def _init_weights(self):
        """DiT's initialisation: Xavier-uniform linears and patch projection, N(0, 0.02) embedding MLP, zero
        adaLN modulations and output layer (adaLN-Zero)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        if self.embedding is not None:
            for layer in self.embedding.mlp[0], self.embedding.mlp[2]:
                nn.init.normal_(layer.weight, std=0.02)
        w = self.patchify.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.patchify.bias)
        zero = [self.linear_out] + [m.ada[1] for m in self.blocks if m.ada is not None]
        zero += [self.ada_out[1]] if self.ada_out is not None else []
        for layer in zero:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        embedding.check_inputs(x, c_noise, self.in_channels, self.img_resolution)
        cond = self.embedding(c_noise) if self.embedding is not None else None
        h = self.patchify(x).flatten(2).transpose(1, 2) + self.pos  # (B, grid^2, hidden)
        for block in self.blocks:
            h = block(h, cond)
        h = self.norm_out(h)
        if self.ada_out is not None:
            shift, scale = self.ada_out(cond).chunk(2, dim=1)
            h = _modulate(h, shift, scale)
        h = self.linear_out(h)  # (B, grid^2, p * p * C)
        b, g, p, c = x.shape[0], self.img_resolution // self.patch, self.patch, self.in_channels
        return h.reshape(b, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(b, c, g * p, g * p)
