"""The synthetic Gaussian study of arXiv 2601.13602: each function returns one tidy table of exact KLs (the Monte
Carlo check, :func:`monte_carlo`, compares them with the real sampler on random draws).

Two grid conventions appear. *Sampler grids* (``schedules.get``) end with a final step to sigma = 0 and
are compared with the source. *Schedule grids* stop at sigma_min after N intervals of sigma(tau) and are
compared with the marginal at sigma_min: the setting of the Euler-Maclaurin expansion, where
KL ~ sum_i J_i^2 / (4 N^2) (docs/theory.md). The sampler grid's last jump sigma_min -> 0 adds a term
that does not shrink with N, so its KL levels off once that jump dominates.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import torch

from diffsched.models import denoisers
from diffsched.method import strategies as registry
from diffsched.method import gaussian, optimise, schedules, solvers, vp_schemes as vp
from diffsched.studies import ranking


def eigenvalues(spec: dict) -> np.ndarray:
    """A synthetic spectrum from the config: ``eigenvalues``, or ``power_law`` {dimension, largest, exponent}."""
    if "eigenvalues" in spec:
        return gaussian.check_eigenvalues(spec["eigenvalues"])
    law = spec["power_law"]
    index = np.arange(1, int(law["dimension"]) + 1, dtype=np.float64)
    return gaussian.check_eigenvalues(float(law["largest"]) * index ** (-float(law["exponent"])))


def _continuous(specs: dict) -> dict:
    return {k: v for k, v in specs.items() if v["schedule"] in registry.CONTINUOUS and not v.get("search")}


def kl_vs_steps(lam, strategies: dict, steps, sigma_min, sigma_max, max_steps_optimal: int,
                init: str = "exact") -> pd.DataFrame:
    """Euler KL against the number of steps: sampler grids for every strategy (the finite-N optimum up to
    ``max_steps_optimal``), and schedule grids (terminal sigma_min) for the continuous ones."""
    rows = []
    for label, spec in strategies.items():
        for n in steps:
            if spec["schedule"] == ranking.FLOOR and n > max_steps_optimal:
                continue
            grid = registry.entry_grid(spec, int(n), sigma_min, sigma_max, registry.Context(lam, "euler", init))
            rows.append({"strategy": label, "steps": int(n), "terminal": "zero",
                         "kl_forward": gaussian.kl_divergence(lam, grid, "euler", init, "forward"),
                         "kl_reverse": gaussian.kl_divergence(lam, grid, "euler", init, "reverse")})
    for label, spec in _continuous(strategies).items():
        fn = registry.entry_function(spec, sigma_min, sigma_max, registry.Context(lam))
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
        fn = registry.entry_function(spec, sigma_min, sigma_max, registry.Context(lam))
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
        grid = registry.entry_grid(spec, int(n), sigma_min, sigma_max, registry.Context(lam, "euler", init))
        rows += [{"strategy": label, "index": k, "sigma": s} for k, s in enumerate(grid)]
    return pd.DataFrame(rows)


def _rotation(d: int, rng) -> np.ndarray:
    """A random orthonormal basis (QR of a Gaussian matrix, signs fixed by R's diagonal)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _standardised(name: str, empirical, predicted, se) -> list[dict]:
    """One row per entry (upper triangle of a matrix): the deviation in standard errors."""
    index = np.triu_indices(predicted.shape[0]) if predicted.ndim == 2 else (np.arange(predicted.size),)
    return [{"moment": name, "entry": ",".join(map(str, k)), "predicted": predicted[k], "empirical": empirical[k],
             "standard_error": se[k], "z": (empirical[k] - predicted[k]) / se[k]} for k in zip(*index)]


def monte_carlo(lam, mean, strategies: dict, steps, solver_names, inits, samples: int, sigma_min, sigma_max,
                seed: int) -> pd.DataFrame:
    """The closed-form output N(mu + U m, U diag(v) U^T) (gaussian.output_moments) against the real solver run on
    ``samples`` draws with the full-matrix oracle :class:`~diffsched.models.denoisers.GaussianDenoiser`, in a random
    basis U (arXiv 2601.13602; docs/theory.md, "Any deterministic solver, exactly").

    One row per solver, start, strategy, n and moment entry: z = (empirical - predicted) / standard error, with
    se(mean_i) = sqrt(C_ii / N) and se(C_ij) = sqrt((C_ii C_jj + C_ij^2) / N), C the predicted covariance.
    """
    lam, mean = gaussian.check_eigenvalues(lam), np.asarray(mean, dtype=np.float64)
    rng = np.random.default_rng(seed)
    u = _rotation(lam.size, rng)
    oracle = denoisers.GaussianDenoiser(mean, lam, u)
    rows = []
    for solver, init, (label, spec), n in itertools.product(solver_names, inits, strategies.items(), steps):
        grid = registry.entry_grid(spec, int(n), sigma_min, sigma_max, registry.Context(lam, solver, init))
        v0, m0 = gaussian.start_moments(lam, sigma_max, init, u.T @ mean)
        start = mean + (m0 + np.sqrt(v0) * rng.standard_normal((samples, lam.size))) @ u.T
        out = solvers.get(solver)(oracle, torch.from_numpy(start), grid).numpy()
        log_v, m = gaussian.output_moments(lam, grid, solver, init, u.T @ mean)
        cov = u @ np.diag(np.exp(log_v)) @ u.T
        var = np.diag(cov)
        cell = {"solver": solver, "init": init, "strategy": label, "steps": int(n), "samples": samples}
        rows += [cell | r for r in _standardised("mean", out.mean(axis=0), mean + u @ m, np.sqrt(var / samples))]
        rows += [cell | r for r in _standardised("covariance", np.cov(out, rowvar=False), cov,
                                                 np.sqrt((np.outer(var, var) + cov**2) / samples))]
    return pd.DataFrame(rows)


def one_eigenvalue(eigenvalues, steps, sigma_min, sigma_max, solver: str = "euler", init: str = "exact"):
    """For each single eigenvalue lambda and n: the tangent law with gamma = sqrt(lambda) against the finite-n
    optimum (started from the log-SNR grid, not from the tangent law) and gamma* (n >= 3), the claim of arXiv
    2601.13602 that the tangent law is the optimum for one eigenvalue (docs/theory.md, "Optimal schedules").

    ``kl_ratio`` = KL(tangent) / KL(optimum); ``max_grid_difference`` = max |sigma_opt / sigma_tangent - 1| over the
    positive grid points; ``gamma_star_ratio`` = gamma* / sqrt(lambda)."""
    rows = []
    for lam, n in itertools.product(gaussian.check_eigenvalues(eigenvalues), steps):
        tangent = schedules.get("tangent", int(n), sigma_min, sigma_max, gamma=np.sqrt(lam))
        optimum = optimise.optimal_grid([lam], int(n), sigma_min, sigma_max, solver, init,
                                           start=schedules.get("logsnr", int(n), sigma_min, sigma_max))
        kl_tangent, kl_optimum = (gaussian.kl_divergence([lam], g, solver, init) for g in (tangent, optimum))
        positive = tangent > 0
        g = optimise.gamma_star([lam], int(n), sigma_min, sigma_max, solver, init) if n >= 3 else np.nan
        rows.append({"eigenvalue": lam, "steps": int(n), "kl_tangent": kl_tangent, "kl_optimum": kl_optimum,
                     "kl_ratio": kl_tangent / kl_optimum,
                     "max_grid_difference": float(np.max(np.abs(optimum[positive] / tangent[positive] - 1))),
                     "gamma_star": g, "gamma_star_ratio": g / np.sqrt(lam)})
    return pd.DataFrame(rows)


MC_CELL = ["solver", "init", "strategy", "steps", "samples"]


def max_deviation(table: pd.DataFrame) -> pd.DataFrame:
    """Per cell of a :func:`monte_carlo` table: the largest |z| of the mean and of the covariance entries."""
    worst = table.assign(abs_z=table["z"].abs()).pivot_table(index=MC_CELL, columns="moment", values="abs_z",
                                                             aggfunc="max", sort=False)
    return worst.rename(columns=lambda m: f"max_abs_z_{m}").reset_index()


def vp_scheme_errors(eigenvalues, steps, epsilons, schemes=tuple(vp.SCHEMES)) -> pd.DataFrame:
    """The VP-SDE schemes of Pierret & Galerne (arXiv 2405.14250, Table 2): W2 (not squared) between p_0 and the
    exact output of each scheme, per number of time points N (``steps``), truncation time and start, and of the
    continuous dynamics it discretises (steps ``continuous``: the reverse SDE for em and ei, the probability-flow
    ODE for euler and heun)."""
    rows = []
    for scheme in schemes:
        dynamics = "sde" if vp.SCHEMES[scheme][1] else "ode"
        for epsilon in epsilons:
            for start in vp.STARTS:
                rows.append({"scheme": scheme, "steps": "continuous", "epsilon": float(epsilon), "start": start,
                             "w2": vp.continuous_w2(eigenvalues, dynamics, float(epsilon), start)})
            for n in steps:
                for start, value in vp.w2(eigenvalues, scheme, int(n), float(epsilon)).items():
                    rows.append({"scheme": scheme, "steps": str(n), "epsilon": float(epsilon), "start": start,
                                 "w2": value})
    return pd.DataFrame(rows)
