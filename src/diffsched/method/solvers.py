"""Probability-flow samplers and stochastic (ancestral, SDE) samplers with one signature (k-diffusion style).

``sampler(denoiser, x, sigmas) -> x``: ``denoiser(x, sigma)`` is any D(x; sigma) (an exact oracle or a
trained network) called with a Python float sigma (a 0-d tensor when ``sigmas`` is a torch tensor, so that
autograd reaches the grid: the exact Gaussian criteria's gradients); ``x`` starts at noise level
``sigmas[0]``; ``sigmas`` is a decreasing grid, usually ending in 0 (see :mod:`diffsched.method.schedules`). The
solvers only do arithmetic on ``x``, so the same code samples numpy arrays (the exact Gaussian theory) and
torch tensors (images).
The ODE is dx/dsigma = (x - D(x; sigma)) / sigma (Karras et al. 2022, EDM, eq. 4 with sigma(t) = t).
:data:`SOLVERS` are deterministic; :data:`STOCHASTIC_SOLVERS` draw fresh noise every step through a ``noise(x)``
callable (standard normal shaped like ``x``), torch by default. The exact Gaussian theory covers both
(:mod:`diffsched.method.gaussian` runs them with a noise hook that tracks each draw's coefficient).
"""

from __future__ import annotations

import inspect
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


def _exp(h):
    return torch.exp(h) if isinstance(h, torch.Tensor) else math.exp(h)


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


def _sqrt(v):
    return torch.sqrt(v) if isinstance(v, torch.Tensor) else math.sqrt(v)


def _draw(noise: Callable | None) -> Callable:
    return noise if noise is not None else torch.randn_like


def check_eta(eta: float) -> None:
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must be in [0, 1] (0: deterministic, 1: full ancestral noise), got {eta!r}")


def euler_ancestral(denoiser: Denoiser, x, sigmas, eta: float = 1.0, noise: Callable | None = None):
    """Euler ancestral sampling (k-diffusion's ``sample_euler_ancestral``): a deterministic Euler step down to
    sigma_down, then fresh noise of std sigma_up, sigma_up^2 = eta^2 s_next^2 (s_cur^2 - s_next^2) / s_cur^2 and
    sigma_down^2 = s_next^2 - sigma_up^2. eta = 1 is DDPM's ancestral sampler (DDIM with eta = 1, Song et al.
    2021); eta = 0 is :func:`euler`. ``noise(x)``: standard normal draws shaped like x (torch.randn_like)."""
    check_eta(eta)
    draw = _draw(noise)
    s = _floats(sigmas)
    for s_cur, s_next in itertools.pairwise(s):
        d = (x - denoiser(x, s_cur)) / s_cur
        if s_next == 0.0:
            x = x - s_cur * d
            continue
        keep = 1.0 - (s_next / s_cur) ** 2  # in (0, 1): the square roots below stay differentiable
        sigma_up = eta * s_next * _sqrt(keep)
        sigma_down = s_next * _sqrt(1.0 - eta * eta * keep)
        x = x + (sigma_down - s_cur) * d
        if eta > 0.0:
            x = x + sigma_up * draw(x)
    return x


def ddpm(denoiser: Denoiser, x, sigmas, noise: Callable | None = None):
    """Ancestral DDPM (Ho et al. 2020, eqs. 6-7): sample the posterior q(x_{t-1} | x_t, x_0 = D) with its variance
    beta_tilde, written in VP scaling with alpha_bar = 1 / (1 + sigma^2) and mapped back to sigma space.
    Mathematically it is :func:`euler_ancestral` with eta = 1; the two are written independently."""
    draw = _draw(noise)
    s = _floats(sigmas)
    for s_cur, s_next in itertools.pairwise(s):
        a_cur, a_next = 1.0 / (1.0 + s_cur * s_cur), 1.0 / (1.0 + s_next * s_next)
        beta = 1.0 - a_cur / a_next
        x_t = x * _sqrt(a_cur)  # VP state
        x0 = denoiser(x, s_cur)
        mean = _sqrt(a_next) * beta / (1.0 - a_cur) * x0 + _sqrt(a_cur / a_next) * (1.0 - a_next) / (1.0 - a_cur) * x_t
        x = mean / _sqrt(a_next)
        if s_next != 0.0:
            x = x + _sqrt((1.0 - a_next) / (1.0 - a_cur) * beta / a_next) * draw(x)
    return x


def dpmpp_2m_sde(denoiser: Denoiser, x, sigmas, eta: float = 1.0, noise: Callable | None = None):
    """DPM-Solver++(2M) SDE (Lu et al. 2022), k-diffusion's ``sample_dpmpp_2m_sde`` with its default midpoint
    correction and s_noise = 1: eta = 0 is :func:`dpmpp_2m`. ``noise(x)`` replaces its Brownian-tree draws."""
    check_eta(eta)
    draw = _draw(noise)
    s = _floats(sigmas)
    old_denoised, h_last = None, None
    for s_cur, s_next in itertools.pairwise(s):
        denoised = denoiser(x, s_cur)
        if s_next == 0.0:
            x = denoised
            break
        h = _log(s_cur) - _log(s_next)
        eta_h = eta * h
        gain = -_expm1(-h - eta_h)
        x = (s_next / s_cur) * _exp(-eta_h) * x + gain * denoised
        if old_denoised is not None:
            x = x + 0.5 * gain * (h / h_last) * (denoised - old_denoised)
        if eta > 0.0:
            x = x + s_next * _sqrt(-_expm1(-2.0 * eta_h)) * draw(x)
        old_denoised, h_last = denoised, h
    return x


SOLVERS: dict[str, Callable] = {"euler": euler, "heun": heun, "dpmpp_2m": dpmpp_2m, "ipndm": ipndm}
STOCHASTIC_SOLVERS: dict[str, Callable] = {"euler_ancestral": euler_ancestral, "ddpm": ddpm,
                                           "dpmpp_2m_sde": dpmpp_2m_sde}


def get(name: str, stochastic: bool = False) -> Callable:
    """The deterministic sampler registered under ``name``; with ``stochastic=True`` also the stochastic ones."""
    valid = {**SOLVERS, **STOCHASTIC_SOLVERS} if stochastic else SOLVERS
    try:
        return valid[name]
    except KeyError:
        hint = (f" ({name!r} is stochastic; this use needs a deterministic solver)"
                if name in STOCHASTIC_SOLVERS else "")
        raise ValueError(f"unknown solver {name!r}{hint}; valid solvers: {', '.join(valid)}") from None


def parameters(name: str) -> tuple[str, ...]:
    """The solver's own parameters (``eta``, ``max_order``, ...): its keywords besides the state, grid and noise."""
    signature = inspect.signature(get(name, stochastic=True))
    return tuple(p for p in signature.parameters if p not in ("denoiser", "x", "sigmas", "noise"))


def check_params(name: str, params: dict) -> dict:
    """``params`` if ``name`` takes them all with valid values (the solver itself checks them on a one-step dry
    run), else a ValueError naming the parameter and the valid ones."""
    unknown = sorted(set(params) - set(parameters(name)))
    if unknown:
        valid = ", ".join(parameters(name)) or "none"
        raise ValueError(f"solver {name!r} takes no parameter {unknown}; its parameters: {valid}")
    get(name, stochastic=True)(lambda z, sigma: 0.0 * z, torch.zeros(1), [1.0, 0.0], **params)
    return params


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
