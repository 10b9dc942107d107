"""Deterministic probability-flow samplers with one signature (k-diffusion style).

``sampler(denoiser, x, sigmas) -> x``: ``denoiser(x, sigma)`` is any D(x; sigma) (an exact oracle or a
trained network) called with a Python float sigma; ``x`` starts at noise level ``sigmas[0]``; ``sigmas``
is a decreasing grid, usually ending in 0 (see :mod:`diffsched.schedules`). The solvers only do arithmetic
on ``x``, so the same code samples numpy arrays (the exact Gaussian theory) and torch tensors (images).
The ODE is dx/dsigma = (x - D(x; sigma)) / sigma (Karras et al. 2022, EDM, eq. 4 with sigma(t) = t).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

Denoiser = Callable[[object, float], object]


def _floats(sigmas: Sequence[float]) -> list[float]:
    return [float(s) for s in sigmas]


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
        h = math.log(s_cur) - math.log(s_next)
        if old_denoised is None:
            d = denoised
        else:
            r = h_last / h
            d = (1.0 + 1.0 / (2.0 * r)) * denoised - (1.0 / (2.0 * r)) * old_denoised
        x = (s_next / s_cur) * x - math.expm1(-h) * d
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


SOLVERS: dict[str, Callable] = {"euler": euler, "heun": heun, "dpmpp_2m": dpmpp_2m, "ipndm": ipndm}


def get(name: str) -> Callable:
    """The sampler registered under ``name``."""
    try:
        return SOLVERS[name]
    except KeyError:
        raise ValueError(f"unknown solver {name!r}; valid solvers: {', '.join(SOLVERS)}") from None


def nfe(name: str, sigmas: Sequence[float]) -> int:
    """Number of denoiser calls the solver makes on this grid."""
    get(name)
    steps = len(sigmas) - 1
    if name == "heun":
        return 2 * steps - (1 if float(sigmas[-1]) == 0.0 else 0)
    return steps


def steps_for_nfe(name: str, budget: int) -> int:
    """Largest number of steps n of a grid ending in 0 whose NFE fits the budget (heun: 2n - 1 <= budget)."""
    get(name)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError(f"NFE budget must be an integer >= 1, got {budget!r}")
    return (budget + 1) // 2 if name == "heun" else budget
