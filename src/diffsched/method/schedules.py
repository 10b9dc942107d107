"""Named time discretizations: continuous schedules sigma(tau) and the sigma grids cut from them.

Every strategy is a decreasing function sigma(tau) on tau in [0, 1] with sigma(0) = sigma_max and
sigma(1) = sigma_min. A grid of n steps samples it at tau_k = k / (n - 1), k = 0..n-1, and appends 0.0:
n + 1 values, sigma_max first, sigma_min at index n - 1, 0.0 last (n = 1 gives [sigma_max, 0.0]).
Formulas: docs/theory.md, "Discretization strategies"; arXiv 2601.13602 for the tangent law.

This module is a leaf, like k-diffusion's ``get_sigmas_*``: the closed forms only. The strategies that need a
data spectrum or a denoiser, and the one way any named strategy becomes a grid, are in
:mod:`diffsched.method.strategies`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

# Linear-beta VP model of Song et al. (2021), the map behind the ``vp_time`` strategy.
SIGMA_MIN, SIGMA_MAX = 0.002, 80.0  # EDM's noise range (Karras et al. 2022): every noise-range default
VP_BETA_D = 19.9
VP_BETA_MIN = 0.1


def vp_sigma(t, beta_d: float = VP_BETA_D, beta_min: float = VP_BETA_MIN):
    """sigma(t) = sqrt(exp(beta_d t^2 / 2 + beta_min t) - 1) of the linear-beta VP SDE."""
    return np.sqrt(np.expm1(0.5 * beta_d * np.asarray(t, dtype=np.float64) ** 2 + beta_min * np.asarray(t)))


def vp_time(sigma, beta_d: float = VP_BETA_D, beta_min: float = VP_BETA_MIN):
    """Inverse of :func:`vp_sigma`: the VP time t at which the noise level is sigma."""
    log1p_s2 = np.log1p(np.asarray(sigma, dtype=np.float64) ** 2)
    return (np.sqrt(beta_min**2 + 2.0 * beta_d * log1p_s2) - beta_min) / beta_d


def _edm(tau, sigma_min, sigma_max, rho: float = 7.0):
    """Karras et al. 2022 (EDM), eq. 5: linear in sigma^(1/rho)."""
    a, b = sigma_max ** (1.0 / rho), sigma_min ** (1.0 / rho)
    return (a + tau * (b - a)) ** rho


def _logsnr(tau, sigma_min, sigma_max):
    """Uniform in log sigma (uniform logSNR), i.e. geometric in sigma."""
    return np.exp(np.log(sigma_max) + tau * (np.log(sigma_min) - np.log(sigma_max)))


def _vp_time(tau, sigma_min, sigma_max, rho: float = 1.0, beta_d: float = VP_BETA_D, beta_min: float = VP_BETA_MIN):
    """Power-uniform VP time: t = (t_max^(1/rho) + tau (t_min^(1/rho) - t_max^(1/rho)))^rho mapped to sigma.

    rho = 1 is time-uniform, rho = 2 time-quadratic. t_min, t_max are the VP times of sigma_min, sigma_max
    (t_max = 1, t_min = 1e-3 for the usual sigma_max = 152, sigma_min = 0.0064).
    """
    t_min, t_max = vp_time(sigma_min, beta_d, beta_min), vp_time(sigma_max, beta_d, beta_min)
    a, b = t_max ** (1.0 / rho), t_min ** (1.0 / rho)
    return vp_sigma((a + tau * (b - a)) ** rho, beta_d, beta_min)


def _tangent(tau, sigma_min, sigma_max, gamma: float = 1.0):
    """Tangent law (arXiv 2601.13602): sigma = gamma tan of an angle moving linearly in tau.

    gamma = 1 is the cosine schedule (the scheduler some libraries call "kl_optimal"); gamma = sqrt(lambda) is
    KL-optimal for one eigenvalue.
    """
    a, b = np.arctan(sigma_max / gamma), np.arctan(sigma_min / gamma)
    return gamma * np.tan((1.0 - tau) * a + tau * b)


SCHEDULES: dict[str, Callable] = {
    "edm": _edm,
    "logsnr": _logsnr,
    "vp_time": _vp_time,
    "tangent": _tangent,
}
NAMES = tuple(SCHEDULES)


def _parameters(name: str) -> dict[str, inspect.Parameter]:
    params = inspect.signature(SCHEDULES[name]).parameters
    return {k: p for k, p in params.items() if k not in ("tau", "sigma_min", "sigma_max")}


def describe(name: str) -> str:
    """'name(param=default, ...)' for error messages and the CLI."""
    return f"{name}({', '.join(f'{k}={p.default!r}' for k, p in _parameters(name).items())})"


def check_range(n: int, sigma_min: float, sigma_max: float) -> None:
    """Reject step counts and noise ranges that define no grid."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1 (number of steps), got {n!r}")
    if not (np.isfinite(sigma_min) and np.isfinite(sigma_max)) or sigma_min <= 0:
        raise ValueError(f"sigma_min must be a finite number > 0, got {sigma_min!r}")
    if sigma_min >= sigma_max:
        raise ValueError(
            f"sigma_min must be smaller than sigma_max, got sigma_min={sigma_min!r} >= sigma_max={sigma_max!r}"
        )


def check_params(name: str, params: dict) -> None:
    """Reject unknown closed forms and parameters with a message listing what is valid."""
    if name not in NAMES:
        raise ValueError(f"unknown schedule {name!r}; valid schedules: {', '.join(map(describe, NAMES))}")
    unknown = set(params) - set(_parameters(name))
    if unknown:
        raise ValueError(f"schedule {name!r} takes no parameter {sorted(unknown)}; usage: {describe(name)}")
    for key in ("rho", "gamma"):
        if key in params and not (np.isfinite(params[key]) and params[key] > 0):
            raise ValueError(f"schedule {name!r}: {key} must be a finite number > 0, got {params[key]!r}")


def function(name: str, sigma_min: float, sigma_max: float, **params) -> Callable[[np.ndarray], np.ndarray]:
    """The continuous schedule tau -> sigma(tau) of a closed form."""
    check_params(name, params)
    check_range(1, sigma_min, sigma_max)
    fn = SCHEDULES[name]
    return lambda tau: fn(np.asarray(tau, dtype=np.float64), sigma_min, sigma_max, **params)


def get(name: str, n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX, **params) -> np.ndarray:
    """Sigma grid of n steps: float64, n + 1 values, sigma_max first, sigma_min at n - 1, 0.0 last."""
    check_params(name, params)
    check_range(n, sigma_min, sigma_max)
    return sample(function(name, sigma_min, sigma_max, **params), n, sigma_min, sigma_max)


def sample(sigma_fn: Callable[[np.ndarray], np.ndarray], n: int, sigma_min: float, sigma_max: float) -> np.ndarray:
    """Cut an n-step grid from a continuous schedule: tau_k = k / (n - 1), exact end points, then 0.0."""
    tau = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    sigmas = np.asarray(sigma_fn(tau), dtype=np.float64).copy()
    sigmas[0] = sigma_max
    if n > 1:
        sigmas[-1] = sigma_min
    return np.append(sigmas, 0.0)
