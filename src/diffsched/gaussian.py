"""Exact sampler output and KL for a Gaussian source, and the schedules that minimise it.

Source x_0 ~ N(mu, U diag(lambda) U^T). In the eigenbasis the ideal denoiser is diagonal,
D_i(z; sigma) = lambda_i / (lambda_i + sigma^2) z_i, so any deterministic solver that combines the state and
denoiser outputs linearly maps each eigen-coordinate by a scalar factor. Running the *real solver code* once
on z = ones(d) gives those factors exactly (gaussian-theory.md, "Any deterministic solver, exactly";
arXiv 2601.13602). The output is compared with the exact marginal at the grid's last noise level,
N(mu, Sigma + sigma_last^2 I): the source itself when the grid ends in 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

from diffsched import schedules, solvers

INITS = ("exact", "edm", "vp")
DIRECTIONS = ("forward", "reverse")


def check_eigenvalues(eigenvalues) -> np.ndarray:
    """A non-empty 1-D float64 array of finite, strictly positive eigenvalues, or a ValueError saying why."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    bad = ~np.isfinite(lam) | (lam <= 0)
    if bad.any():
        raise ValueError(
            f"eigenvalues must be finite and > 0; {int(bad.sum())} of {lam.size} are not (smallest "
            f"{np.nanmin(lam):.3g}). Floor a rank-deficient covariance estimate before use."
        )
    return lam


def check_grid(sigmas) -> np.ndarray:
    """A strictly decreasing float64 grid with positive entries except possibly a final 0."""
    s = np.asarray(sigmas, dtype=np.float64)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"a sigma grid needs at least 2 values (one step), got shape {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s[:-1] <= 0) or s[-1] < 0:
        raise ValueError("sigmas must be finite and > 0, except a final 0")
    if np.any(np.diff(s) >= 0):
        raise ValueError("sigmas must be strictly decreasing (sigma_max first)")
    return s


def _check_choice(value: str, valid: tuple[str, ...], what: str) -> None:
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")


def output_factor(eigenvalues, sigmas, solver: str = "euler") -> np.ndarray:
    """Per-eigendirection factor by which ``solver`` maps its start to its output on this grid."""
    lam = check_eigenvalues(eigenvalues)
    s = check_grid(sigmas)
    return solvers.get(solver)(lambda z, sigma: lam / (lam + sigma * sigma) * z, np.ones_like(lam), s)


def start_moments(eigenvalues, sigma_max: float, init: str = "exact", mean=None) -> tuple[np.ndarray, np.ndarray]:
    """Variance and mean offset (from mu, in the eigenbasis) of the sampler's start.

    exact: N(mu, Sigma + sigma_max^2 I); edm: N(0, sigma_max^2 I); vp: x_T ~ N(0, I) in VP space, i.e.
    N(0, (1 + sigma_max^2) I) in sigma space. ``mean`` is U^T mu; the edm and vp starts are offset by -mean.
    """
    _check_choice(init, INITS, "init")
    lam = check_eigenvalues(eigenvalues)
    offset = np.zeros_like(lam) if mean is None else -np.broadcast_to(np.asarray(mean, dtype=np.float64), lam.shape)
    s2 = float(sigma_max) ** 2
    if init == "exact":
        return lam + s2, np.zeros_like(lam)
    return np.full_like(lam, s2 if init == "edm" else 1.0 + s2), offset


def output_moments(eigenvalues, sigmas, solver: str = "euler", init: str = "exact", mean=None):
    """Log-variance and mean offset of the sampler output along each eigenvector (exact)."""
    s = check_grid(sigmas)
    v0, m0 = start_moments(eigenvalues, s[0], init, mean)
    f = output_factor(eigenvalues, s, solver)
    with np.errstate(divide="ignore"):
        return np.log(v0) + 2.0 * np.log(np.abs(f)), m0 * f


def kl_divergence(eigenvalues, sigmas, solver: str = "euler", init: str = "exact", direction: str = "forward",
                  mean=None) -> float:
    """Exact KL in nats between the target N(mu, Sigma + sigma_last^2 I) and the sampler output.

    forward = KL(target || output), reverse = KL(output || target). Written with u = ln(v / lambda) and
    expm1 so that tiny divergences (large n) keep full relative precision.
    """
    _check_choice(direction, DIRECTIONS, "direction")
    lam = check_eigenvalues(eigenvalues)
    s = check_grid(sigmas)
    log_v, m = output_moments(lam, s, solver, init, mean)
    target = lam + s[-1] ** 2
    u = log_v - np.log(target)
    if direction == "forward":
        terms = np.expm1(-u) + u + m * m * np.exp(-log_v)
    else:
        terms = np.expm1(u) - u + m * m / target
    return float(0.5 * np.sum(terms))


def euler_variance_ratio(eigenvalues, sigmas) -> np.ndarray:
    """Closed form for Euler / DDIM: c_i = prod_k cos^2(theta_ik - theta_i,k+1), theta = arctan(sigma/sqrt(lambda)).

    From the exact start, the output variance is (lambda_i + sigma_last^2) c_i.
    """
    lam = check_eigenvalues(eigenvalues)
    theta = np.arctan(check_grid(sigmas)[None, :] / np.sqrt(lam)[:, None])
    return np.prod(np.cos(np.diff(theta, axis=1)) ** 2, axis=1)


def path_energy(eigenvalues, sigma_fn: Callable, m: int = 16384) -> np.ndarray:
    """J_i = int_0^1 (d theta_i / d tau)^2 dtau for a continuous schedule sigma(tau).

    Discrete sums m sum (Delta theta)^2 converge as J + O(m^-2); one Richardson step (m, 2m) gives O(m^-4)
    for smooth schedules (schedules as steep as VP time-uniform near sigma_min converge more slowly: 1e-4
    relative at the default m).
    """
    lam = check_eigenvalues(eigenvalues)
    chunk = max(1, 2**22 // m)  # rows per block: about 32 MB of float64

    def energy(steps: int) -> np.ndarray:
        sig = sigma_fn(np.linspace(0.0, 1.0, steps + 1))
        out = np.empty_like(lam)
        for a in range(0, lam.size, chunk):
            theta = np.arctan(sig[None, :] / np.sqrt(lam[a : a + chunk])[:, None])
            out[a : a + chunk] = steps * np.sum(np.diff(theta, axis=1) ** 2, axis=1)
        return out

    return (4.0 * energy(2 * m) - energy(m)) / 3.0


def leading_term(eigenvalues, sigma_fn: Callable, intervals: int) -> float:
    """Euler-Maclaurin leading term of the Euler KL, sum_i J_i^2 / (4 N^2), for N intervals of sigma(tau).

    It describes grids whose last point lies on the schedule (N + 1 points, ending at sigma(1)); the extra
    final jump sigma_min -> 0 of a sampler grid adds an n-independent term of order (sigma_min^2 / lambda)^2.
    """
    j = path_energy(eigenvalues, sigma_fn)
    return float(np.sum(j**2) / (4.0 * intervals**2))


def gamma_star(eigenvalues, n: int, sigma_min: float = 0.002, sigma_max: float = 80.0, solver: str = "euler",
               init: str = "exact") -> float:
    """Tangent-law coefficient gamma minimising the exact KL of the n-step grid (1-D search in log gamma).

    Needs n >= 3: the grids [sigma_max, 0] and [sigma_max, sigma_min, 0] do not depend on gamma.
    """
    lam = check_eigenvalues(eigenvalues)
    schedules.check_range(n, sigma_min, sigma_max)
    if n < 3:
        raise ValueError(f"gamma* is undefined for n = {n}: grids of fewer than 3 steps do not depend on gamma")

    def objective(log_gamma: float) -> float:
        grid = schedules.get("tangent", n, sigma_min, sigma_max, gamma=float(np.exp(log_gamma)))
        return kl_divergence(lam, grid, solver, init)

    lo = np.log(min(sigma_min, np.sqrt(lam.min()))) - 1.0
    hi = np.log(max(sigma_max, np.sqrt(lam.max()))) + 1.0
    coarse = np.linspace(lo, hi, 49)
    values = [objective(g) for g in coarse]
    k = int(np.argmin(values))
    bounds = (coarse[max(k - 1, 0)], coarse[min(k + 1, len(coarse) - 1)])
    res = optimize.minimize_scalar(objective, bounds=bounds, method="bounded", options={"xatol": 1e-9})
    best = res.x if res.fun <= values[k] else coarse[k]
    return float(np.exp(best))


def variational_schedule(eigenvalues, sigma_min: float = 0.002, sigma_max: float = 80.0, points: int = 2000,
                         iterations: int = 100, tol: float = 1e-10) -> Callable:
    """Leading-order optimum for many eigenvalues: minimise sum_i J_i^2 (gaussian-theory.md).

    With weights w_i = J_i, G(s) = sum_i w_i lambda_i / (lambda_i + s^2)^2 and Phi(s) = int_{sigma_min}^s sqrt(G):
    Phi(sigma(tau)) moves linearly in tau (Beltrami). w <- J(w) is iterated to its fixed point; for such a
    schedule J_i = Phi(sigma_max) int lambda_i / (lambda_i + s^2)^2 / sqrt(G(s)) ds. Both integrals use the
    trapezoid rule on a log-spaced sigma grid, so each iteration is two matrix-vector products.
    Returns tau -> sigma(tau).
    """
    lam = check_eigenvalues(eigenvalues)
    schedules.check_range(1, sigma_min, sigma_max)
    s = np.geomspace(sigma_min, sigma_max, points)
    weights = np.zeros_like(s)  # trapezoid weights for int f(s) ds
    weights[1:] += 0.5 * np.diff(s)
    weights[:-1] += 0.5 * np.diff(s)
    kernel = lam[:, None] / (lam[:, None] + s[None, :] ** 2) ** 2
    w = np.ones_like(lam)
    for _ in range(iterations):
        root_g = np.sqrt(w @ kernel)
        j = np.sum(weights * root_g) * (kernel @ (weights / root_g))
        j /= j.max()
        converged = np.max(np.abs(j - w)) < tol
        w = j
        if converged:
            break
    root_g = np.sqrt(w @ kernel)
    phi = np.concatenate([[0.0], np.cumsum(0.5 * (root_g[1:] + root_g[:-1]) * np.diff(s))])
    log_s = np.log(s)

    def sigma(tau):
        target = (1.0 - np.asarray(tau, dtype=np.float64)) * phi[-1]
        return np.exp(np.interp(target, phi, log_s))

    return sigma


def _grid_from_logits(logits: np.ndarray, sigma_min: float, sigma_max: float) -> np.ndarray:
    """Ordered grid: log-sigma decrements are softmax([0, logits]) of the whole log range, then 0.0."""
    a = np.concatenate([[0.0], logits])
    p = np.exp(a - a.max())
    p /= p.sum()
    span = np.log(sigma_max) - np.log(sigma_min)
    log_s = np.log(sigma_max) - span * np.concatenate([[0.0], np.cumsum(p)])
    grid = np.exp(log_s)
    grid[0], grid[-1] = sigma_max, sigma_min
    return np.append(grid, 0.0)


def _logits_from_grid(grid: np.ndarray) -> np.ndarray:
    dec = -np.diff(np.log(grid[:-1]))
    a = np.log(dec)
    return a[1:] - a[0]


LOGIT_BOUND = 15.0
# Where the finite-n optimum stops: a KL this small is exact for every purpose (a high-order solver on a few
# eigenvalues can reach 0, and log KL would be chased towards -inf until the evaluation budget runs out).
KL_EXACT = 1e-12


def _candidate_starts(lam, n, sigma_min, sigma_max, solver, init) -> list[np.ndarray]:
    """The closed-form grids the finite-n optimum may start from (it takes the best of them)."""
    spectral = {"tangent_opt": {"eigenvalues": lam, "solver": solver, "init": init},
                "variational": {"eigenvalues": lam}}
    return [schedules.get(name, n, sigma_min, sigma_max, **spectral.get(name, {}))
            for name in ("edm", "logsnr", "tangent", "tangent_opt", "variational")]


def kl_optimal_grid(eigenvalues, n: int, sigma_min: float = 0.002, sigma_max: float = 80.0, solver: str = "euler",
                    init: str = "exact", start=None) -> np.ndarray:
    """Finite-n optimum: minimise the exact KL over the n - 2 free interior points of an n-step grid.

    sigma_max, sigma_min and the final 0 stay fixed. Starts from ``start`` (a grid) or from the best of the
    closed-form strategies, so the result is never worse than its start. L-BFGS on log KL.
    """
    lam = check_eigenvalues(eigenvalues)
    schedules.check_range(n, sigma_min, sigma_max)
    if start is None:
        starts = _candidate_starts(lam, n, sigma_min, sigma_max, solver, init)
        start = min(starts, key=lambda g: kl_divergence(lam, g, solver, init))
    start = check_grid(start)
    if n <= 2:
        return start

    def objective(logits: np.ndarray) -> float:
        kl = kl_divergence(lam, _grid_from_logits(logits, sigma_min, sigma_max), solver, init)
        return float(np.log(max(kl, KL_EXACT)))

    # Bounded logits keep every decrement above e^-30 of the log range: the grid stays strictly decreasing.
    x0 = np.clip(_logits_from_grid(start), -LOGIT_BOUND, LOGIT_BOUND)
    res = optimize.minimize(objective, x0, method="L-BFGS-B", jac="3-point",
                            bounds=[(-LOGIT_BOUND, LOGIT_BOUND)] * x0.size,
                            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-11})
    best = _grid_from_logits(res.x, sigma_min, sigma_max)
    return best if objective(res.x) <= objective(x0) else start
