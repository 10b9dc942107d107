"""The synthetic Gaussian study of arXiv 2601.13602: each function returns one tidy table of exact KLs.

Two grid conventions appear. *Sampler grids* (``schedules.get``) end with a final step to sigma = 0 and
are compared with the source. *Schedule grids* stop at sigma_min after N intervals of sigma(tau) and are
compared with the marginal at sigma_min: the setting of the Euler-Maclaurin expansion, where
KL ~ sum_i J_i^2 / (4 N^2) (gaussian-theory.md). The sampler grid's last jump sigma_min -> 0 adds a term
that does not shrink with N, so its KL levels off once that jump dominates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diffsched import gaussian, optimise, ranking, schedules, strategies


def eigenvalues(spec: dict) -> np.ndarray:
    """A synthetic spectrum from the config: ``eigenvalues``, or ``power_law`` {dimension, largest, exponent}."""
    if "eigenvalues" in spec:
        return gaussian.check_eigenvalues(spec["eigenvalues"])
    law = spec["power_law"]
    index = np.arange(1, int(law["dimension"]) + 1, dtype=np.float64)
    return gaussian.check_eigenvalues(float(law["largest"]) * index ** (-float(law["exponent"])))


def _continuous(specs: dict) -> dict:
    return {k: v for k, v in specs.items() if v["schedule"] in strategies.CONTINUOUS and not v.get("search")}


def _schedule_fn(spec: dict, lam, sigma_min, sigma_max):
    params = dict(spec.get("params", {}))
    if spec["schedule"] in strategies.NEEDS_SPECTRUM:
        params["eigenvalues"] = lam
    return strategies.function(spec["schedule"], sigma_min, sigma_max, **params)


def kl_vs_steps(lam, strategies: dict, steps, sigma_min, sigma_max, max_steps_optimal: int,
                init: str = "exact") -> pd.DataFrame:
    """Euler KL against the number of steps: sampler grids for every strategy (the finite-N optimum up to
    ``max_steps_optimal``), and schedule grids (terminal sigma_min) for the continuous ones."""
    rows = []
    for label, spec in strategies.items():
        for n in steps:
            if spec["schedule"] == ranking.FLOOR and n > max_steps_optimal:
                continue
            grid = ranking.strategy_grid(spec, int(n), sigma_min, sigma_max, lam, "euler", init)
            rows.append({"strategy": label, "steps": int(n), "terminal": "zero",
                         "kl_forward": gaussian.kl_divergence(lam, grid, "euler", init, "forward"),
                         "kl_reverse": gaussian.kl_divergence(lam, grid, "euler", init, "reverse")})
    for label, spec in _continuous(strategies).items():
        fn = _schedule_fn(spec, lam, sigma_min, sigma_max)
        for n in steps:
            grid = schedules.sample(fn, int(n) + 1, sigma_min, sigma_max)[:-1]
            rows.append({"strategy": label, "steps": int(n), "terminal": "sigma_min",
                         "kl_forward": gaussian.kl_divergence(lam, grid, "euler", init, "forward"),
                         "kl_reverse": gaussian.kl_divergence(lam, grid, "euler", init, "reverse")})
    return pd.DataFrame(rows)


def em_ratio(lam, strategies: dict, steps, sigma_min, sigma_max) -> pd.DataFrame:
    """N^2 KL over the Euler-Maclaurin constant sum_i J_i^2 / 4, on schedule grids of N intervals."""
    rows = []
    for label, spec in _continuous(strategies).items():
        fn = _schedule_fn(spec, lam, sigma_min, sigma_max)
        constant = float(np.sum(gaussian.path_energy(lam, fn) ** 2) / 4.0)
        for n in steps:
            kl = gaussian.kl_divergence(lam, schedules.sample(fn, int(n) + 1, sigma_min, sigma_max)[:-1])
            rows.append({"strategy": label, "intervals": int(n), "kl_forward": kl, "em_constant": constant,
                         "ratio": n**2 * kl / constant})
    return pd.DataFrame(rows)


def gamma_sweep(lam, steps, gammas, sigma_min, sigma_max, solver: str = "euler", init: str = "exact"):
    """KL of the tangent law against its coefficient gamma at several n, and gamma* at every n."""
    sweep = [{"steps": int(n), "gamma": float(g),
              "kl_forward": gaussian.kl_divergence(lam, schedules.get("tangent", int(n), sigma_min, sigma_max,
                                                                      gamma=float(g)), solver, init)}
             for n in steps for g in gammas]
    return pd.DataFrame(sweep)


def gamma_star(lam, steps, sigma_min, sigma_max, solver: str = "euler", init: str = "exact") -> pd.DataFrame:
    """gamma* (the KL-minimising tangent coefficient) and its KL at each n >= 3 (smaller grids ignore gamma)."""
    rows = []
    for n in [n for n in steps if n >= 3]:
        g = optimise.gamma_star(lam, int(n), sigma_min, sigma_max, solver, init)
        grid = schedules.get("tangent", int(n), sigma_min, sigma_max, gamma=g)
        rows.append({"steps": int(n), "gamma_star": g, "kl_forward": gaussian.kl_divergence(lam, grid, solver, init)})
    return pd.DataFrame(rows)


def rho_sweep(lam, steps, rhos, sigma_min, sigma_max, solver: str = "euler", init: str = "exact") -> pd.DataFrame:
    """KL of the power-uniform VP-time grids against rho at several n."""
    return pd.DataFrame([{"steps": int(n), "rho": float(r),
                          "kl_forward": gaussian.kl_divergence(
                              lam, schedules.get("vp_time", int(n), sigma_min, sigma_max, rho=float(r)), solver, init)}
                         for n in steps for r in rhos])


def grids(lam, strategies: dict, n: int, sigma_min, sigma_max, init: str = "exact") -> pd.DataFrame:
    """The Euler grids of every strategy at one n, long format (strategy, index, sigma)."""
    rows = []
    for label, spec in strategies.items():
        grid = ranking.strategy_grid(spec, int(n), sigma_min, sigma_max, lam, "euler", init)
        rows += [{"strategy": label, "index": k, "sigma": s} for k, s in enumerate(grid)]
    return pd.DataFrame(rows)
