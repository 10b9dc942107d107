"""The one registry of named discretization strategies; :func:`grid` is the only way a name becomes a grid.

Three kinds. Closed forms (:mod:`diffsched.method.schedules`: edm, logsnr, vp_time, tangent) are pure functions of
their parameters. Spectral strategies need the data spectrum ``eigenvalues=``: the variational schedule (a
continuous schedule) and the n-dependent grids tangent_opt (gamma*) and kl_optimal (the finite-n optimum),
which also take the solver, start and criterion they minimise (:mod:`diffsched.method.optimise`). Search baselines
(gits, dmn; :mod:`diffsched.method.search`) run a denoiser: ``denoiser=`` and ``samples=`` (start states at
sigma_max), cached with ``denoiser_id=`` (and ``cache=`` a JSON path).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from diffsched.method import gaussian, optimise, schedules, search
from diffsched.method.schedules import SIGMA_MAX, SIGMA_MIN

# What the n-dependent spectral grids take besides the spectrum: solver, start, criterion and its parameters.
OPTIMISED_INPUTS = ("solver", "init", "criterion",
                    *sorted({k for c in gaussian.CRITERIA.values() for k in c.params}))
SPECTRAL_GRIDS = ("tangent_opt", "kl_optimal")
SEARCH_GRIDS = tuple(search.METHODS)
SEARCH_INPUTS = ("denoiser", "samples", "denoiser_id", "cache")
CONTINUOUS = schedules.NAMES + ("variational",)
NAMES = CONTINUOUS + SPECTRAL_GRIDS + SEARCH_GRIDS
NEEDS_SPECTRUM = ("variational",) + SPECTRAL_GRIDS


def _search_parameters(name: str) -> dict[str, inspect.Parameter]:
    params = inspect.signature(search.METHODS[name]).parameters
    return {k: p for k, p in params.items() if k not in ("denoiser", "x_batch", "n", "sigma_min", "sigma_max")}


def _allowed(name: str) -> set[str]:
    if name == "variational":
        return {"eigenvalues"}
    if name in SPECTRAL_GRIDS:
        return {"eigenvalues", *OPTIMISED_INPUTS} | ({"start"} if name == "kl_optimal" else set())
    return {*_search_parameters(name), *SEARCH_INPUTS}


def describe(name: str) -> str:
    """'name(param=default, ...)' for error messages and the CLI."""
    if name in schedules.NAMES:
        return schedules.describe(name)
    if name == "variational":
        return "variational(eigenvalues)"
    if name in SPECTRAL_GRIDS:
        start = ", start=None" if name == "kl_optimal" else ""
        return f"{name}(eigenvalues, solver='euler', init='exact', criterion='kl', **criterion_params{start})"
    parts = [f"{k}={p.default!r}" for k, p in _search_parameters(name).items()]
    return f"{name}(denoiser, samples, denoiser_id=None, cache=None, {', '.join(parts)})"


def check_params(name: str, params: dict) -> None:
    """Reject unknown strategies and parameters, and missing context, with a message listing what is valid."""
    if name not in NAMES:
        raise ValueError(f"unknown schedule {name!r}; valid schedules: {', '.join(map(describe, NAMES))}")
    if name in schedules.NAMES:
        schedules.check_params(name, params)
        return
    unknown = set(params) - _allowed(name)
    if unknown:
        raise ValueError(f"schedule {name!r} takes no parameter {sorted(unknown)}; usage: {describe(name)}")
    if name in NEEDS_SPECTRUM and params.get("eigenvalues") is None:
        raise ValueError(f"schedule {name!r} needs eigenvalues=...; usage: {describe(name)}")
    if name in SEARCH_GRIDS and (params.get("denoiser") is None or params.get("samples") is None):
        raise ValueError(f"schedule {name!r} needs denoiser=... and samples=...; usage: {describe(name)}")


def function(name: str, sigma_min: float, sigma_max: float, **params) -> Callable[[np.ndarray], np.ndarray]:
    """The continuous schedule tau -> sigma(tau) of a closed form or of the variational schedule."""
    check_params(name, params)
    if name not in CONTINUOUS:
        raise ValueError(f"schedule {name!r} is a grid optimised for one n, not a continuous schedule")
    if name == "variational":
        schedules.check_range(1, sigma_min, sigma_max)
        return optimise.variational_schedule(params["eigenvalues"], sigma_min, sigma_max)
    return schedules.function(name, sigma_min, sigma_max, **params)


def grid(name: str, n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX, **params) -> np.ndarray:
    """Sigma grid of n steps of strategy ``name``: float64, n + 1 values, sigma_max first, 0.0 last."""
    check_params(name, params)
    schedules.check_range(n, sigma_min, sigma_max)
    if name in SEARCH_GRIDS:
        inputs = {k: params.pop(k) for k in ("denoiser", "samples")}
        return search.cached_grid(name, inputs["denoiser"], inputs["samples"], n, sigma_min, sigma_max, **params)
    if name == "kl_optimal":
        return optimise.kl_optimal_grid(n=n, sigma_min=sigma_min, sigma_max=sigma_max, **params)
    if name == "tangent_opt":
        return optimise.tangent_opt_grid(n=n, sigma_min=sigma_min, sigma_max=sigma_max, **params)
    return schedules.sample(function(name, sigma_min, sigma_max, **params), n, sigma_min, sigma_max)
