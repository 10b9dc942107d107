"""Schedules that minimise the exact Gaussian criteria (docs/theory.md, "Optimal schedules"; arXiv 2601.13602).

gamma* of the tangent law, the leading-order variational schedule, and the finite-n optimum, plus the grid
parametrisation (softmax of the log-sigma decrements) the optimum shares with the DMN-style search baseline.
Criteria and their gradients come from :mod:`diffsched.method.gaussian`, closed-form grids from
:mod:`diffsched.method.schedules`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

from diffsched.method import gaussian, schedules
from diffsched.method.schedules import SIGMA_MAX, SIGMA_MIN


def gamma_star(eigenvalues, n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX, solver: str = "euler",
               init: str = "exact", criterion: str = "kl", **params) -> float:
    """Tangent-law coefficient gamma minimising the exact criterion of the n-step grid (1-D search in log gamma).

    Needs n >= 3: the grids [sigma_max, 0] and [sigma_max, sigma_min, 0] do not depend on gamma.
    """
    lam = gaussian.check_eigenvalues(eigenvalues)
    schedules.check_range(n, sigma_min, sigma_max)
    gaussian.check_params(criterion, solver, params)
    if n < 3:
        raise ValueError(f"gamma* is undefined for n = {n}: grids of fewer than 3 steps do not depend on gamma")

    def objective(log_gamma: float) -> float:
        grid = schedules.get("tangent", n, sigma_min, sigma_max, gamma=float(np.exp(log_gamma)))
        return gaussian.criterion(criterion, lam, grid, solver, init, **params)

    lo = np.log(min(sigma_min, np.sqrt(lam.min()))) - 1.0
    hi = np.log(max(sigma_max, np.sqrt(lam.max()))) + 1.0
    coarse = np.linspace(lo, hi, 49)
    values = [objective(g) for g in coarse]
    k = int(np.argmin(values))
    bounds = (coarse[max(k - 1, 0)], coarse[min(k + 1, len(coarse) - 1)])
    res = optimize.minimize_scalar(objective, bounds=bounds, method="bounded", options={"xatol": 1e-9})
    best = res.x if res.fun <= values[k] else coarse[k]
    return float(np.exp(best))


# Eigenvalues the variational schedule treats one by one; above this many it merges them into as many log-spaced
# bins (weighted by their counts). A bin is 1/4096 of the log-eigenvalue range (under 0.01 for any image spectrum),
# so merging moves the schedule by far less than its 2,000-point quadrature does, and d = 196,608 takes a second.
VARIATIONAL_BINS = 4096


def merged_spectrum(eigenvalues: np.ndarray, bins: int = VARIATIONAL_BINS) -> tuple[np.ndarray, np.ndarray]:
    """(values, counts): ``eigenvalues`` as they are (counts 1) when there are at most ``bins`` of them, else
    the geometric mean of each occupied log-spaced bin and how many eigenvalues it holds."""
    if eigenvalues.size <= bins:
        return eigenvalues, np.ones_like(eigenvalues)
    log_lam = np.log(eigenvalues)
    edges = np.linspace(log_lam.min(), log_lam.max(), bins + 1)
    index = np.clip(np.searchsorted(edges, log_lam, side="right") - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins).astype(np.float64)
    occupied = counts > 0
    mean_log = np.bincount(index, weights=log_lam, minlength=bins)[occupied] / counts[occupied]
    return np.exp(mean_log), counts[occupied]


def variational_schedule(eigenvalues, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX, points: int = 2000,
                         iterations: int = 100, tol: float = 1e-10, bins: int = VARIATIONAL_BINS) -> Callable:
    """Leading-order optimum for many eigenvalues: minimise sum_i J_i^2 (docs/theory.md).

    With weights w_i = J_i, G(s) = sum_i w_i lambda_i / (lambda_i + s^2)^2 and Phi(s) = int_{sigma_min}^s sqrt(G):
    Phi(sigma(tau)) moves linearly in tau (Beltrami). w <- J(w) is iterated to its fixed point; for such a
    schedule J_i = Phi(sigma_max) int lambda_i / (lambda_i + s^2)^2 / sqrt(G(s)) ds. Both integrals use the
    trapezoid rule on a log-spaced sigma grid, so each iteration is two matrix-vector products; more than
    ``bins`` eigenvalues are merged first (:func:`merged_spectrum`).
    Returns tau -> sigma(tau).
    """
    lam, counts = merged_spectrum(gaussian.check_eigenvalues(eigenvalues), bins)
    schedules.check_range(1, sigma_min, sigma_max)
    s = np.geomspace(sigma_min, sigma_max, points)
    weights = np.zeros_like(s)  # trapezoid weights for int f(s) ds
    weights[1:] += 0.5 * np.diff(s)
    weights[:-1] += 0.5 * np.diff(s)
    kernel = lam[:, None] / (lam[:, None] + s[None, :] ** 2) ** 2
    w = np.ones_like(lam)
    for _ in range(iterations):
        root_g = np.sqrt((counts * w) @ kernel)
        j = np.sum(weights * root_g) * (kernel @ (weights / root_g))
        j /= j.max()
        converged = np.max(np.abs(j - w)) < tol
        w = j
        if converged:
            break
    root_g = np.sqrt((counts * w) @ kernel)
    phi = np.concatenate([[0.0], np.cumsum(0.5 * (root_g[1:] + root_g[:-1]) * np.diff(s))])
    log_s = np.log(s)

    def sigma(tau):
        target = (1.0 - np.asarray(tau, dtype=np.float64)) * phi[-1]
        return np.exp(np.interp(target, phi, log_s))

    return sigma


def grid_from_logits(logits: np.ndarray, sigma_min: float, sigma_max: float) -> np.ndarray:
    """Ordered grid: log-sigma decrements are softmax([0, logits]) of the whole log range, then 0.0."""
    a = np.concatenate([[0.0], logits])
    p = np.exp(a - a.max())
    p /= p.sum()
    span = np.log(sigma_max) - np.log(sigma_min)
    log_s = np.log(sigma_max) - span * np.concatenate([[0.0], np.cumsum(p)])
    grid = np.exp(log_s)
    grid[0], grid[-1] = sigma_max, sigma_min
    return np.append(grid, 0.0)


def logits_from_grid(grid: np.ndarray) -> np.ndarray:
    dec = -np.diff(np.log(grid[:-1]))
    a = np.log(dec)
    return a[1:] - a[0]


def _logits_gradient(logits: np.ndarray, grid: np.ndarray, grid_gradient: np.ndarray, sigma_min: float,
                     sigma_max: float) -> np.ndarray:
    """Chain rule through :func:`grid_from_logits`: the gradient in the logits from the one in the grid.

    Only the interior points sigma_1..sigma_{n-2} move: ln sigma_k = ln sigma_max - span sum_{j<k} p_j, so
    d/dp_j = -span sum_{k>j} sigma_k d/dsigma_k, and the softmax gives d/da = p (d/dp - p . d/dp).
    """
    a = np.concatenate([[0.0], logits])
    p = np.exp(a - a.max())
    p /= p.sum()
    span = np.log(sigma_max) - np.log(sigma_min)
    per_log_sigma = (grid_gradient * grid)[1:-2]
    dp = -span * np.append(np.cumsum(per_log_sigma[::-1])[::-1], 0.0)
    return (p * (dp - p @ dp))[1:]


LOGIT_BOUND = 15.0
# Where the finite-n optimum stops: a criterion this small is exact for every purpose (a high-order solver on a
# few eigenvalues can reach KL 0, and log KL would be chased towards -inf until the evaluation budget runs out).
CRITERION_EXACT = 1e-12
# L-BFGS iterations of the finite-n optimum. The multistep solvers at high NFE (dpmpp_2m, ipndm, n >= 15 at d = 3,072)
# are ill-conditioned there: 1,000 iterations bring their KL below 1e-6 nats (10-40 s each), 5,000 to ~2e-9 (90 s).
MAXITER = 1000


def tangent_opt_grid(eigenvalues, n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX,
                     solver: str = "euler", init: str = "exact", criterion: str = "kl", **params) -> np.ndarray:
    """The tangent law with gamma = gamma* for this n (gamma = 1 for n <= 2, where no gamma matters)."""
    gamma = gamma_star(eigenvalues, n, sigma_min, sigma_max, solver, init, criterion, **params) if n > 2 else 1.0
    return schedules.get("tangent", n, sigma_min, sigma_max, gamma=gamma)


def _candidate_starts(lam, n, sigma_min, sigma_max, solver, init, criterion, params) -> list[np.ndarray]:
    """The closed-form grids the finite-n optimum may start from (it takes the best of them)."""
    closed = [schedules.get(name, n, sigma_min, sigma_max) for name in ("edm", "logsnr", "tangent")]
    variational = schedules.sample(variational_schedule(lam, sigma_min, sigma_max), n, sigma_min, sigma_max)
    return closed + [tangent_opt_grid(lam, n, sigma_min, sigma_max, solver, init, criterion, **params), variational]


def optimal_grid(eigenvalues, n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX,
                    solver: str = "euler", init: str = "exact", start=None, criterion: str = "kl",
                    **params) -> np.ndarray:
    """Finite-n optimum: minimise the exact criterion (``kl`` by default) over the n - 2 free interior points.

    sigma_max, sigma_min and the final 0 stay fixed. Starts from ``start`` (a grid) or from the best of the
    closed-form strategies, so the result is never worse than its start. L-BFGS-B on the log criterion with
    its exact gradient (autograd through the real solver, :func:`gaussian.criterion_gradient`).
    """
    lam = gaussian.check_eigenvalues(eigenvalues)
    schedules.check_range(n, sigma_min, sigma_max)
    gaussian.check_params(criterion, solver, params)
    if start is None:
        starts = _candidate_starts(lam, n, sigma_min, sigma_max, solver, init, criterion, params)
        start = min(starts, key=lambda g: gaussian.criterion(criterion, lam, g, solver, init, **params))
    start = gaussian.check_grid(start)
    if n <= 2:
        return start

    def objective(logits: np.ndarray) -> tuple[float, np.ndarray]:
        grid = grid_from_logits(logits, sigma_min, sigma_max)
        value, grid_gradient = gaussian.criterion_gradient(criterion, lam, grid, solver, init, **params)
        if value <= CRITERION_EXACT:
            return float(np.log(CRITERION_EXACT)), np.zeros_like(logits)
        return float(np.log(value)), _logits_gradient(logits, grid, grid_gradient / value, sigma_min, sigma_max)

    # Bounded logits keep every decrement above e^-30 of the log range: the grid stays strictly decreasing.
    x0 = np.clip(logits_from_grid(start), -LOGIT_BOUND, LOGIT_BOUND)
    res = optimize.minimize(objective, x0, method="L-BFGS-B", jac=True, bounds=[(-LOGIT_BOUND, LOGIT_BOUND)] * x0.size,
                            options={"maxiter": MAXITER, "ftol": 1e-15, "gtol": 1e-11})
    best = grid_from_logits(res.x, sigma_min, sigma_max)
    return best if objective(res.x)[0] <= objective(x0)[0] else start
