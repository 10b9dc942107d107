"""DDPM++-style U-Net (Ho et al. 2020; Song et al. 2021; Karras et al. 2022) with a ``time_embedding`` switch.

Defaults are the U-Net of Chavez (arXiv 2606.20416) as released (docs/ablation-protocol.md): width
64, multipliers (1, 2, 4, 8), GroupNorm with 8 groups, GELU, self-attention at every resolution, and the noise
embedding added as a per-channel bias after the first conv of each block; two ResNet blocks per level (DDPM's
choice; the protocol does not fix it).
Layout as DDPM: the encoder keeps every block's output as a skip, the middle is block-attention-block, the
decoder has one block more per level than the encoder and concatenates the skips. Down: 3x3 conv with stride
2; up: nearest neighbour then 3x3 conv. The second conv of each block and each attention projection start at
zero, so every residual branch starts as the identity (DDPM's init_scale = 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from diffsched.models.nets import embedding
from diffsched.models.nets.embedding import activation


def _zero(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class Attention(nn.Module):
    """Multi-head self-attention over the pixels of a feature map, residual, pre-GroupNorm."""

    def __init__(self, channels: int, groups: int, head_channels: int):
        super().__init__()
        self.heads = max(1, channels // head_channels)
        if channels % self.heads:
            raise ValueError(f"{channels} channels do not split into {self.heads} attention heads")
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = _zero(nn.Conv2d(channels, channels, 1))

    def forward(self, x):
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).transpose(-1, -2)
        q, k, v = qkv.contiguous().unbind(1)  # contiguous: CPU attention on strided views is ~3x slower
        y = F.scaled_dot_product_attention(q, k, v)  # (b, heads, hw, c / heads)
        return x + self.proj(y.transpose(-1, -2).reshape(b, c, h, w))


class ResBlock(nn.Module):
    """GroupNorm, act, conv, + per-channel noise bias, GroupNorm, act, dropout, conv; 1x1 skip on a width change;
    optionally followed by self-attention."""

    def __init__(self, cin: int, cout: int, emb_dim: int | None, act: str, groups: int, dropout: float,
                 attention: bool, head_channels: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Sequential(activation(act), nn.Linear(emb_dim, cout)) if emb_dim is not None else None
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = _zero(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.act = activation(act)
        self.attn = Attention(cout, groups, head_channels) if attention else None

    def forward(self, x, emb):
        h = self.conv1(self.act(self.norm1(x)))
        if self.emb is not None:
            h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(self.dropout(self.act(self.norm2(h))))
        x = self.skip(x) + h
        return self.attn(x) if self.attn is not None else x


class UNet(nn.Module):
    """U-Net denoiser F(x, c_noise) -> tensor shaped like x.

    ``attn_resolutions``: feature-map sizes with self-attention after each block (None: every resolution, the
    protocol; (): none; the middle always has one). ``time_embedding=False``: no embedding MLP and no per-block
    bias, ``c_noise`` is never read. ``capacity_matched=True`` (with time_embedding=False): the same pathway
    driven by a constant (see :mod:`diffsched.models.nets.embedding`), same parameter count as the conditioned net.
    """

    def __init__(self, img_resolution: int = 32, in_channels: int = 3, width: int = 64,
                 channel_mult: Sequence[int] = (1, 2, 4, 8), num_blocks: int = 2,
                 attn_resolutions: Sequence[int] | None = None, act: str = "gelu", groups: int = 8,
                 dropout: float = 0.0, head_channels: int = 64, time_embedding: bool = True,
                 capacity_matched: bool = False):
        super().__init__()
        levels = len(channel_mult)
        if levels < 1 or img_resolution % 2 ** (levels - 1):
            raise ValueError(f"img_resolution {img_resolution} must be divisible by 2^(levels - 1) = "
                             f"{2 ** (levels - 1)} for channel_mult {tuple(channel_mult)}")
        if any(width * m % groups for m in channel_mult):
            raise ValueError(f"every level's width ({[width * m for m in channel_mult]}) must be divisible by "
                             f"groups = {groups}")
        resolutions = [img_resolution >> i for i in range(levels)]
        attn = set(resolutions if attn_resolutions is None else attn_resolutions)
        if not attn <= set(resolutions):
            raise ValueError(f"attn_resolutions {sorted(attn)} not among the U-Net's resolutions {resolutions}")
        self.img_resolution, self.in_channels, self.time_embedding = img_resolution, in_channels, time_embedding
        emb_dim = 4 * width
        self.embedding = embedding.make(time_embedding, capacity_matched, width, emb_dim, act)
        block_emb = emb_dim if self.embedding is not None else None

        def block(cin, cout, res):
            return ResBlock(cin, cout, block_emb, act, groups, dropout, res in attn, head_channels)

        self.conv_in = nn.Conv2d(in_channels, width, 3, padding=1)
        self.down = nn.ModuleList()
        skips, c = [width], width
        for i, (m, res) in enumerate(zip(channel_mult, resolutions)):
            for _ in range(num_blocks):
                self.down.append(block(c, width * m, res))
                c = width * m
                skips.append(c)
            if i < levels - 1:
                self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skips.append(c)
        self.mid = nn.ModuleList([ResBlock(c, c, block_emb, act, groups, dropout, True, head_channels),
                                  ResBlock(c, c, block_emb, act, groups, dropout, False, head_channels)])
        self.up = nn.ModuleList()
        for i in reversed(range(levels)):
            for _ in range(num_blocks + 1):
                self.up.append(block(c + skips.pop(), width * channel_mult[i], resolutions[i]))
                c = width * channel_mult[i]
            if i > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                             nn.Conv2d(c, c, 3, padding=1)))
        self.norm_out = nn.GroupNorm(groups, c, eps=1e-6)
        self.act_out = activation(act)
        self.conv_out = nn.Conv2d(c, in_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        embedding.check_inputs(x, c_noise, self.in_channels, self.img_resolution)
        emb = self.embedding(c_noise) if self.embedding is not None else None
        h = self.conv_in(x)
        skips = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            skips.append(h)
        for layer in self.mid:
            h = layer(h, emb)
        for layer in self.up:
            h = layer(torch.cat([h, skips.pop()], dim=1), emb) if isinstance(layer, ResBlock) else layer(h)
        return self.conv_out(self.act_out(self.norm_out(h)))
