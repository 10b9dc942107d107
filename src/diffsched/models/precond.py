"""Preconditioning: how a raw network F(x, c_noise) becomes a denoiser D(x; sigma), and how it is trained.

D(x; sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x, c_noise(sigma)), with x = y + sigma n in the EDM
variance-exploding scale (Karras et al. 2022, Table 1). Training minimises E lambda(sigma) |D(y + sigma n) - y|^2;
here it is written on F, lambda c_out^2 |F - (y - c_skip x) / c_out|^2, the same number (EDM eq. 8).

- :class:`EDM` (default): c_skip = sd^2 / (sigma^2 + sd^2), c_out = sigma sd / sqrt(sigma^2 + sd^2),
  c_in = 1 / sqrt(sigma^2 + sd^2), c_noise = ln(sigma) / 4, sd = sigma_data = 0.5; ln sigma ~ N(P_mean, P_std^2)
  with P_mean = -1.2, P_std = 1.2; lambda = (sigma^2 + sd^2) / (sigma sd)^2, so lambda c_out^2 = 1.
- :class:`VPCosine` (the ablation paper's setup): epsilon prediction on the cosine schedule (Nichol & Dhariwal
  2021) with T = 1000 discrete steps, t uniform, plain MSE on epsilon. In the EDM scale sigma_t =
  sqrt((1 - abar_t) / abar_t) and x = x_t / sqrt(abar_t), so c_skip = 1, c_out = -sigma, c_in = 1 / sqrt(1 + sigma^2)
  (= sqrt(abar_t)), c_noise = t, lambda = 1 / sigma^2 (EDM Table 1, VP / iDDPM columns); off the training grid,
  t is the index of the nearest sigma_t, as EDM does for discrete-time models.
"""

from __future__ import annotations

import math

import torch


class EDM:
    """Karras et al. 2022 (EDM) preconditioning, noise distribution and loss weight; the paper's defaults."""

    name = "edm"

    def __init__(self, sigma_data: float = 0.5, p_mean: float = -1.2, p_std: float = 1.2):
        if sigma_data <= 0 or p_std <= 0:
            raise ValueError(f"sigma_data and p_std must be positive, got {sigma_data}, {p_std}")
        self.sigma_data, self.p_mean, self.p_std = sigma_data, p_mean, p_std

    def scalings(self, sigma: torch.Tensor):
        """(c_skip, c_out, c_in, c_noise) for sigma > 0, each shaped like sigma."""
        sd2 = self.sigma_data**2
        root = (sigma**2 + sd2).sqrt()
        return sd2 / (sigma**2 + sd2), sigma * self.sigma_data / root, 1 / root, sigma.log() / 4

    def weight(self, sigma: torch.Tensor) -> torch.Tensor:
        """lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2."""
        return (sigma**2 + self.sigma_data**2) / (sigma * self.sigma_data) ** 2

    def sample_sigma(self, n: int, generator: torch.Generator, device) -> torch.Tensor:
        """n training noise levels, ln sigma ~ N(P_mean, P_std^2)."""
        z = torch.randn(n, generator=generator, device=device)
        return (self.p_mean + self.p_std * z).exp()


class VPCosine:
    """Epsilon prediction on the discrete cosine schedule (Nichol & Dhariwal 2021), in the EDM sigma scale."""

    name = "vp_cosine"

    def __init__(self, steps: int = 1000, s: float = 0.008, max_beta: float = 0.999):
        if steps < 2:
            raise ValueError(f"steps must be >= 2, got {steps}")
        self.steps = steps

        def f(t):
            return math.cos((t / steps + s) / (1 + s) * math.pi / 2) ** 2

        betas = torch.tensor([min(1 - f(i + 1) / f(i), max_beta) for i in range(steps)], dtype=torch.float64)
        abar = torch.cumprod(1 - betas, 0)
        self.sigmas = ((1 - abar) / abar).sqrt()  # sigma_t for t = 0 .. T - 1, increasing, float64

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """Index t of the training sigma_t nearest to each sigma (float, shaped like sigma)."""
        table = self.sigmas.to(sigma.device)
        return (sigma.double()[..., None] - table).abs().argmin(-1).to(sigma.dtype)

    def scalings(self, sigma: torch.Tensor):
        """(c_skip, c_out, c_in, c_noise) for sigma > 0, each shaped like sigma."""
        return torch.ones_like(sigma), -sigma, 1 / (1 + sigma**2).sqrt(), self.timestep(sigma)

    def weight(self, sigma: torch.Tensor) -> torch.Tensor:
        """lambda(sigma) = 1 / sigma^2: plain MSE on epsilon."""
        return 1 / sigma**2

    def sample_sigma(self, n: int, generator: torch.Generator, device) -> torch.Tensor:
        """n training noise levels sigma_t, t uniform on 0 .. T - 1."""
        t = torch.randint(0, self.steps, (n,), generator=generator, device=device)
        return self.sigmas.to(device=device, dtype=torch.float32)[t]


PRECONDITIONINGS = {"edm": EDM, "vp_cosine": VPCosine}


def get(name: str, **kwargs):
    """The preconditioning registered under ``name``, constructed with ``kwargs``."""
    try:
        return PRECONDITIONINGS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown preconditioning {name!r}; valid: {', '.join(PRECONDITIONINGS)}") from None


def _column(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, 1, 1, 1)


def denoise(net, precond, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """D(x; sigma) for a batch x (B, C, H, W) and per-sample sigma (B,) > 0."""
    c_skip, c_out, c_in, c_noise = precond.scalings(sigma)
    f = net(_column(c_in) * x, c_noise).to(x.dtype)
    return _column(c_skip) * x + _column(c_out) * f


def loss(net, precond, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-sample training loss lambda |D(y + sigma n) - y|^2 (mean over pixels), written on F; (B,)."""
    sigma = precond.sample_sigma(y.shape[0], generator, y.device)
    n = torch.randn(y.shape, generator=generator, device=y.device, dtype=y.dtype)
    c_skip, c_out, c_in, c_noise = precond.scalings(sigma)
    x = y + _column(sigma) * n
    target = (y - _column(c_skip) * x) / _column(c_out)
    f = net(_column(c_in) * x, c_noise).float()
    return (_column(precond.weight(sigma) * c_out**2) * (f - target) ** 2).mean(dim=(1, 2, 3))


class Denoiser:
    """D(x, sigma) with a Python float sigma, for :mod:`diffsched.method.solvers`: batched (B, C, H, W) tensors in the
    [-1, 1] data scale, returned in x's dtype and device. Puts ``net`` in eval mode; no gradients. At sigma = 0
    it returns x (c_skip -> 1 and c_out -> 0 in both preconditionings)."""

    def __init__(self, net, precond):
        self.net, self.precond = net.eval(), precond

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        sigma = float(sigma)
        if sigma < 0 or not math.isfinite(sigma):
            raise ValueError(f"sigma must be finite and >= 0, got {sigma}")
        if sigma == 0.0:
            return x
        param = next(self.net.parameters())
        xf = x.to(device=param.device, dtype=param.dtype)
        s = torch.full((x.shape[0],), sigma, dtype=param.dtype, device=param.device)
        return denoise(self.net, self.precond, xf, s).to(dtype=x.dtype, device=x.device)
