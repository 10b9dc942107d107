"""Named time discretizations: continuous schedules sigma(tau) and the sigma grids cut from them.

Every strategy is a decreasing function sigma(tau) on tau in [0, 1] with sigma(0) = sigma_max and
sigma(1) = sigma_min. A grid of n steps samples it at tau_k = k / (n - 1), k = 0..n-1, and appends 0.0:
n + 1 values, sigma_max first, sigma_min at index n - 1, 0.0 last (n = 1 gives [sigma_max, 0.0]).
Formulas: gaussian-theory.md, "Discretization strategies"; arXiv 2601.13602 for the tangent law.

Strategies that need a data spectrum (``tangent_opt``, ``variational``, ``kl_optimal``) take
``eigenvalues=`` and are computed by :mod:`diffsched.gaussian`. The search-based baselines (``gits``, ``dmn``)
take ``denoiser=`` and ``samples=`` (start states at sigma_max) and are computed, and cached with
``denoiser_id=`` (and ``cache=`` a JSON path), by :mod:`diffsched.search`; every other strategy stays a pure
function of its parameters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

# Linear-beta VP model of Song et al. (2021), the map behind the ``vp_time`` strategy.
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

    gamma = 1 is the cosine schedule / kl_optimal; gamma = sqrt(lambda) is KL-optimal for one eigenvalue.
    """
    a, b = np.arctan(sigma_max / gamma), np.arctan(sigma_min / gamma)
    return gamma * np.tan((1.0 - tau) * a + tau * b)


def _variational(tau, sigma_min, sigma_max, eigenvalues):
    """Leading-order optimal schedule for many eigenvalues (Beltrami identity, gaussian-theory.md)."""
    from diffsched import gaussian

    return gaussian.variational_schedule(eigenvalues, sigma_min, sigma_max)(tau)


SCHEDULES: dict[str, Callable] = {
    "edm": _edm,
    "logsnr": _logsnr,
    "vp_time": _vp_time,
    "tangent": _tangent,
    "variational": _variational,
}
# Grids that depend on n itself, computed from the exact KL by diffsched.gaussian: the tangent law with
# gamma = gamma* (the coefficient minimising the KL at this n), and the finite-n KL-optimal grid.
SPECTRAL_GRIDS = ("tangent_opt", "kl_optimal")
# Search-based baselines that run a denoiser (diffsched.search): GITS and a DMN-style optimised grid.
SEARCH_GRIDS = ("gits", "dmn")
NAMES = tuple(SCHEDULES) + SPECTRAL_GRIDS + SEARCH_GRIDS
NEEDS_SPECTRUM = ("variational",) + SPECTRAL_GRIDS
SEARCH_INPUTS = ("denoiser", "samples", "denoiser_id", "cache")
# What the spectral grids take: the criterion they minimise (diffsched.gaussian.CRITERIA) and its parameters.
SPECTRAL_INPUTS = ("eigenvalues", "solver", "init", "criterion", "delta")


def _parameters(name: str) -> dict[str, inspect.Parameter]:
    if name in SEARCH_GRIDS:
        from diffsched import search

        params = inspect.signature(search.METHODS[name]).parameters
        return {k: p for k, p in params.items() if k not in ("denoiser", "x_batch", "n", "sigma_min", "sigma_max")}
    params = inspect.signature(SCHEDULES[name]).parameters
    return {k: p for k, p in params.items() if k not in ("tau", "sigma_min", "sigma_max")}


def describe(name: str) -> str:
    """'name(param=default, ...)' for error messages and the CLI."""
    if name in SPECTRAL_GRIDS:
        start = ", start=None" if name == "kl_optimal" else ""
        return f"{name}(eigenvalues, solver='euler', init='exact', criterion='kl', **criterion_params{start})"
    if name in SEARCH_GRIDS:
        parts = [f"{k}={p.default!r}" for k, p in _parameters(name).items()]
        return f"{name}(denoiser, samples, denoiser_id=None, cache=None, {', '.join(parts)})"
    parts = [k if p.default is p.empty else f"{k}={p.default!r}" for k, p in _parameters(name).items()]
    return f"{name}({', '.join(parts)})"


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
    """Reject unknown strategies and parameters with a message listing what is valid."""
    if name not in NAMES:
        valid = ", ".join(describe(k) for k in NAMES)
        raise ValueError(f"unknown schedule {name!r}; valid schedules: {valid}")
    allowed = set(SPECTRAL_INPUTS) if name in SPECTRAL_GRIDS else set(_parameters(name))
    if name == "kl_optimal":
        allowed.add("start")
    if name in SEARCH_GRIDS:
        allowed.update(SEARCH_INPUTS)
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(f"schedule {name!r} takes no parameter {sorted(unknown)}; usage: {describe(name)}")
    if name in NEEDS_SPECTRUM and params.get("eigenvalues") is None:
        raise ValueError(f"schedule {name!r} needs eigenvalues=...; usage: {describe(name)}")
    if name in SEARCH_GRIDS and (params.get("denoiser") is None or params.get("samples") is None):
        raise ValueError(f"schedule {name!r} needs denoiser=... and samples=...; usage: {describe(name)}")
    for key in ("rho", "gamma"):
        if key in params and not (np.isfinite(params[key]) and params[key] > 0):
            raise ValueError(f"schedule {name!r}: {key} must be a finite number > 0, got {params[key]!r}")


def function(name: str, sigma_min: float, sigma_max: float, **params) -> Callable[[np.ndarray], np.ndarray]:
    """The continuous schedule tau -> sigma(tau) of a named strategy (not for the n-dependent grids)."""
    check_params(name, params)
    if name in SPECTRAL_GRIDS + SEARCH_GRIDS:
        raise ValueError(f"schedule {name!r} is a grid optimised for one n, not a continuous schedule")
    check_range(1, sigma_min, sigma_max)
    fn = SCHEDULES[name]
    return lambda tau: fn(np.asarray(tau, dtype=np.float64), sigma_min, sigma_max, **params)


def get(name: str, n: int, sigma_min: float = 0.002, sigma_max: float = 80.0, **params) -> np.ndarray:
    """Sigma grid of n steps: float64, n + 1 values, sigma_max first, sigma_min at n - 1, 0.0 last."""
    check_params(name, params)
    check_range(n, sigma_min, sigma_max)
    if name in SEARCH_GRIDS:
        from diffsched import search

        inputs = {k: params.pop(k) for k in ("denoiser", "samples")}
        return search.cached_grid(name, inputs["denoiser"], inputs["samples"], n, sigma_min, sigma_max, **params)
    if name in SPECTRAL_GRIDS:
        from diffsched import gaussian

        if name == "kl_optimal":
            return gaussian.kl_optimal_grid(n=n, sigma_min=sigma_min, sigma_max=sigma_max, **params)
        gamma = gaussian.gamma_star(n=n, sigma_min=sigma_min, sigma_max=sigma_max, **params) if n > 2 else 1.0
        return get("tangent", n, sigma_min, sigma_max, gamma=gamma)
    return sample(function(name, sigma_min, sigma_max, **params), n, sigma_min, sigma_max)


def sample(sigma_fn: Callable[[np.ndarray], np.ndarray], n: int, sigma_min: float, sigma_max: float) -> np.ndarray:
    """Cut an n-step grid from a continuous schedule: tau_k = k / (n - 1), exact end points, then 0.0."""
    tau = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    sigmas = np.asarray(sigma_fn(tau), dtype=np.float64).copy()
    sigmas[0] = sigma_max
    if n > 1:
        sigmas[-1] = sigma_min
    return np.append(sigmas, 0.0)
