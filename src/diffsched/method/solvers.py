"""Probability-flow samplers with one signature (k-diffusion style), and one stochastic (ancestral) sampler.

``sampler(denoiser, x, sigmas) -> x``: ``denoiser(x, sigma)`` is any D(x; sigma) (an exact oracle or a
trained network) called with a Python float sigma (a 0-d tensor when ``sigmas`` is a torch tensor, so that
autograd reaches the grid: the exact Gaussian criteria's gradients); ``x`` starts at noise level
``sigmas[0]``; ``sigmas`` is a decreasing grid, usually ending in 0 (see :mod:`diffsched.method.schedules`). The
solvers only do arithmetic on ``x``, so the same code samples numpy arrays (the exact Gaussian theory) and
torch tensors (images).
The ODE is dx/dsigma = (x - D(x; sigma)) / sigma (Karras et al. 2022, EDM, eq. 4 with sigma(t) = t).
:data:`SOLVERS` are deterministic (the exact Gaussian theory covers them); :data:`STOCHASTIC_SOLVERS` draw
fresh noise every step through a ``noise(x)`` callable (standard normal shaped like ``x``), torch by default.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch

Denoiser = Callable[[object, float], object]


def _floats(sigmas: Sequence[float]) -> list:
    """The grid as Python floats, or as 0-d tensors (still on the autograd graph) when it is a torch tensor."""
    if isinstance(sigmas, torch.Tensor):
        return list(sigmas.unbind())
    return [float(s) for s in sigmas]


def _log(s):
    return torch.log(s) if isinstance(s, torch.Tensor) else math.log(s)


def _expm1(h):
    return torch.expm1(h) if isinstance(h, torch.Tensor) else math.expm1(h)


def euler(denoiser: Denoiser, x, sigmas):
    """Euler on the probability-flow ODE; identical to DDIM with eta = 0 (Song et al. 2021)."""
    s = _floats(sigmas)
    for s_cur, s_next in itertools.pairwise(s):
        d = (x - denoiser(x, s_cur)) / s_cur
        x = x + (s_next - s_cur) * d
    return x


def heun(denoiser: Denoiser, x, sigmas):
    """Heun's second-order method, EDM Algorithm 1 without churn; Euler on the final step to sigma = 0."""
    s = _floats(sigmas)
    for s_cur, s_next in itertools.pairwise(s):
        d = (x - denoiser(x, s_cur)) / s_cur
        x_euler = x + (s_next - s_cur) * d
        if s_next == 0.0:
            x = x_euler
        else:
            d_next = (x_euler - denoiser(x_euler, s_next)) / s_next
            x = x + (s_next - s_cur) * 0.5 * (d + d_next)
    return x


def dpmpp_2m(denoiser: Denoiser, x, sigmas):
    """DPM-Solver++(2M), Lu et al. 2022, Algorithm 2, in k-diffusion's sigma parametrisation."""
    s = _floats(sigmas)
    old_denoised, h_last = None, None
    for s_cur, s_next in itertools.pairwise(s):
        denoised = denoiser(x, s_cur)
        if s_next == 0.0:
            x = denoised
            break
        h = _log(s_cur) - _log(s_next)
        if old_denoised is None:
            d = denoised
        else:
            r = h_last / h
            d = (1.0 + 1.0 / (2.0 * r)) * denoised - (1.0 / (2.0 * r)) * old_denoised
        x = (s_next / s_cur) * x - _expm1(-h) * d
        old_denoised, h_last = denoised, h
    return x


# Adams-Bashforth coefficients for equal steps, newest derivative first (Zhang & Chen 2023, DEIS, iPNDM).
_AB = {1: (1.0,), 2: (3 / 2, -1 / 2), 3: (23 / 12, -16 / 12, 5 / 12), 4: (55 / 24, -59 / 24, 37 / 24, -9 / 24)}


def ipndm(denoiser: Denoiser, x, sigmas, max_order: int = 4):
    """Improved PNDM (Zhang & Chen 2023, DEIS): Adams-Bashforth on d = (x - D) / sigma, warm-started at
    lower order, one denoiser call per step."""
    if max_order not in _AB:
        raise ValueError(f"ipndm max_order must be 1, 2, 3 or 4, got {max_order!r}")
    s = _floats(sigmas)
    history: list = []
    for i, (s_cur, s_next) in enumerate(itertools.pairwise(s)):
        history.insert(0, (x - denoiser(x, s_cur)) / s_cur)
        coefs = _AB[min(max_order, i + 1)]
        slope = sum(c * d for c, d in zip(coefs, history))
        x = x + (s_next - s_cur) * slope
        del history[max_order - 1 :]
    return x


def euler_ancestral(denoiser: Denoiser, x, sigmas, eta: float = 1.0, noise: Callable | None = None):
    """Euler ancestral sampling (k-diffusion's ``sample_euler_ancestral``): a deterministic Euler step down to
    sigma_down, then fresh noise of std sigma_up, sigma_up^2 = eta^2 s_next^2 (s_cur^2 - s_next^2) / s_cur^2 and
    sigma_down^2 = s_next^2 - sigma_up^2. eta = 1 is DDPM's ancestral sampler (DDIM with eta = 1, Song et al.
    2021); eta = 0 is :func:`euler`. ``noise(x)``: standard normal draws shaped like x (torch.randn_like)."""
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must be in [0, 1], got {eta!r}")
    draw = noise if noise is not None else torch.randn_like
    s = _floats(sigmas)
    for s_cur, s_next in itertools.pairwise(s):
        sigma_up = min(s_next, eta * math.sqrt(s_next**2 * (s_cur**2 - s_next**2) / s_cur**2))
        sigma_down = math.sqrt(s_next**2 - sigma_up**2)
        d = (x - denoiser(x, s_cur)) / s_cur
        x = x + (sigma_down - s_cur) * d
        if sigma_up > 0.0:
            x = x + sigma_up * draw(x)
    return x


SOLVERS: dict[str, Callable] = {"euler": euler, "heun": heun, "dpmpp_2m": dpmpp_2m, "ipndm": ipndm}
STOCHASTIC_SOLVERS: dict[str, Callable] = {"euler_ancestral": euler_ancestral}


def get(name: str, stochastic: bool = False) -> Callable:
    """The deterministic sampler registered under ``name``; with ``stochastic=True`` also the stochastic ones."""
    valid = {**SOLVERS, **STOCHASTIC_SOLVERS} if stochastic else SOLVERS
    try:
        return valid[name]
    except KeyError:
        hint = (f" ({name!r} is stochastic: the exact Gaussian theory covers deterministic solvers only)"
                if name in STOCHASTIC_SOLVERS else "")
        raise ValueError(f"unknown solver {name!r}{hint}; valid solvers: {', '.join(valid)}") from None


def nfe(name: str, sigmas: Sequence[float]) -> int:
    """Number of denoiser calls the solver makes on this grid."""
    get(name, stochastic=True)
    steps = len(sigmas) - 1
    if name == "heun":
        return 2 * steps - (1 if float(sigmas[-1]) == 0.0 else 0)
    return steps


def steps_for_nfe(name: str, budget: int) -> int:
    """Largest number of steps n of a grid ending in 0 whose NFE fits the budget (heun: 2n - 1 <= budget)."""
    get(name, stochastic=True)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError(f"NFE budget must be an integer >= 1, got {budget!r}")
    return (budget + 1) // 2 if name == "heun" else budget
