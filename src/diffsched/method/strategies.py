"""The one registry of named discretization strategies; :func:`grid` is the only way a name becomes a grid, and
:func:`entry_grid` the only way a config entry does.

Three kinds. Closed forms (:mod:`diffsched.method.schedules`: edm, logsnr, vp_time, tangent) are pure functions of
their parameters. Spectral strategies need the data spectrum ``eigenvalues=``: the variational schedule (a
continuous schedule) and the n-dependent grids tangent_opt (gamma*) and optimal (the finite-n optimum under
``criterion=``), which also take the solver, start and criterion they minimise (:mod:`diffsched.method.optimise`).
Search baselines (gits, dmn; :mod:`diffsched.method.search`) run a denoiser: ``denoiser=`` and ``samples=`` (start
states at sigma_max), cached with ``denoiser_id=`` (and ``cache=`` a JSON path).

A config entry is ``{"schedule": name, "params": {...}, "search": {param: [values]}}``. Its caller hands over one
:class:`Context`; each kind takes from it only the fields it declares (:func:`needs`), under the entry's own
parameters, so no caller branches on a strategy's kind.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from diffsched.method import gaussian, optimise, schedules, search
from diffsched.method.schedules import SIGMA_MAX, SIGMA_MIN

# What the n-dependent spectral grids take besides the spectrum: solver, start, criterion and its parameters.
OPTIMISED_INPUTS = ("solver", "init", "criterion",
                    *sorted({k for c in gaussian.CRITERIA.values() for k in c.params}))
SPECTRAL_GRIDS = ("tangent_opt", "optimal")
SEARCH_GRIDS = tuple(search.METHODS)
SEARCH_INPUTS = ("denoiser", "samples", "denoiser_id", "cache")
CONTINUOUS = schedules.NAMES + ("variational",)
NAMES = CONTINUOUS + SPECTRAL_GRIDS + SEARCH_GRIDS
NEEDS_SPECTRUM = ("variational",) + SPECTRAL_GRIDS

# The strategies every study compares (and ``recommend`` ranks) unless told otherwise, by label: hand-made grids,
# the best power-uniform VP grid under the criterion, the tangent family, and the spectral optima. The finite-n
# optimum minimises the criterion of its caller; the workflow adds its config's own entries to these.
DEFAULTS = {
    "edm": {"schedule": "edm", "params": {"rho": 7}},
    "logsnr": {"schedule": "logsnr"},
    "vp_uniform": {"schedule": "vp_time", "params": {"rho": 1}},
    "vp_quadratic": {"schedule": "vp_time", "params": {"rho": 2}},
    "power_best": {"schedule": "vp_time", "search": {"rho": [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0]}},
    "cosine": {"schedule": "tangent", "params": {"gamma": 1.0}},
    "tangent_opt": {"schedule": "tangent_opt"},
    "variational": {"schedule": "variational"},
    "kl_optimal": {"schedule": "optimal"},
}


@dataclass(frozen=True)
class Context:
    """What strategies may use besides their own parameters: the data spectrum, the solver and start a grid is for,
    the criterion an optimised or searched grid minimises, and a denoiser with its start states for the search
    baselines."""

    eigenvalues: np.ndarray | None = None
    solver: str = "euler"
    init: str = "exact"
    criterion: str = "kl"
    denoiser: Callable | None = None
    samples: object | None = None
    denoiser_id: str | None = None
    cache: object | None = None


def needs(name: str) -> tuple[str, ...]:
    """The :class:`Context` fields strategy ``name`` takes."""
    if name == "variational":
        return ("eigenvalues",)
    if name in SPECTRAL_GRIDS:
        return ("eigenvalues", "solver", "init", "criterion")
    if name in SEARCH_GRIDS:
        return ("solver", *SEARCH_INPUTS)
    return ()


def needs_context(entry: dict) -> bool:
    """Whether a config entry's grid depends on a :class:`Context` (its kind's needs, or a criterion search)."""
    return bool(needs(entry.get("schedule")) or entry.get("search"))


def _search_parameters(name: str) -> dict[str, inspect.Parameter]:
    params = inspect.signature(search.METHODS[name]).parameters
    return {k: p for k, p in params.items() if k not in ("denoiser", "x_batch", "n", "sigma_min", "sigma_max")}


def _allowed(name: str) -> set[str]:
    if name == "variational":
        return {"eigenvalues"}
    if name in SPECTRAL_GRIDS:
        return {"eigenvalues", *OPTIMISED_INPUTS} | ({"start"} if name == "optimal" else set())
    return {*_search_parameters(name), *SEARCH_INPUTS}


def describe(name: str) -> str:
    """'name(param=default, ...)' for error messages and the CLI."""
    if name in schedules.NAMES:
        return schedules.describe(name)
    if name == "variational":
        return "variational(eigenvalues)"
    if name in SPECTRAL_GRIDS:
        start = ", start=None" if name == "optimal" else ""
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
    if name == "optimal":
        return optimise.optimal_grid(n=n, sigma_min=sigma_min, sigma_max=sigma_max, **params)
    if name == "tangent_opt":
        return optimise.tangent_opt_grid(n=n, sigma_min=sigma_min, sigma_max=sigma_max, **params)
    return schedules.sample(function(name, sigma_min, sigma_max, **params), n, sigma_min, sigma_max)


def _entry_params(entry: dict, context: Context) -> dict:
    given = {k: getattr(context, k) for k in needs(entry["schedule"]) if getattr(context, k) is not None}
    return {**given, **entry.get("params", {})}


def check_entry(label: str, entry: dict) -> None:
    """Fail early, naming the entry, if its schedule or parameters are invalid (the context is not checked)."""
    name = entry.get("schedule")
    required = {k: np.ones(1) for k in needs(name) if k in ("eigenvalues", "denoiser", "samples")}  # stand-ins
    params = {**required, **entry.get("params", {}), **{k: v[0] for k, v in entry.get("search", {}).items()}}
    try:
        check_params(name, params)
    except ValueError as err:
        raise ValueError(f"strategy {label!r}: {err}") from None


def entry_grid(entry: dict, n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX,
               context: Context = Context()) -> np.ndarray:
    """The n-step grid of a config entry. A ``search`` entry keeps the parameter values whose grid has the lowest
    ``context.criterion`` for ``context.eigenvalues`` (arXiv 2601.13602's use of the exact criterion)."""
    name, params = entry["schedule"], _entry_params(entry, context)
    search = entry.get("search", {})
    if not search:
        return grid(name, n, sigma_min, sigma_max, **params)
    if context.eigenvalues is None:
        raise ValueError(f"strategy {name!r} with search {sorted(search)} needs the context's eigenvalues")
    keys = list(search)
    grids = [grid(name, n, sigma_min, sigma_max, **params, **dict(zip(keys, values)))
             for values in itertools.product(*(search[k] for k in keys))]
    return min(grids, key=lambda g: gaussian.criterion(context.criterion, context.eigenvalues, g, context.solver,
                                                       context.init))


def entry_function(entry: dict, sigma_min: float, sigma_max: float,
                   context: Context = Context()) -> Callable[[np.ndarray], np.ndarray]:
    """The continuous schedule of a config entry (closed forms and the variational schedule)."""
    return function(entry["schedule"], sigma_min, sigma_max, **_entry_params(entry, context))
