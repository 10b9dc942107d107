"""Shared by the Gaussian tests: the textbook KL, a 3-D full-covariance source run through a real sampler, and a
floor found by brute force."""

import itertools

import numpy as np
from scipy import optimize
from scipy.stats import ortho_group

from diffsched.method import schedules, solvers

# The 3-D source: eigenvalues, eigenvectors (rows of U^T), mean; and the grid its samples are run on.
LAM3 = np.array([0.2, 1.0, 3.0])
U3 = ortho_group.rvs(3, random_state=7)
MU3 = np.array([0.5, -1.0, 2.0])
COV3 = U3 @ np.diag(LAM3) @ U3.T
GRID3 = schedules.get("edm", 3, 0.002, 80.0)


def full_kl(mean_p, cov_p, mean_q, cov_q):
    """KL(N_p || N_q) from the textbook formula with full matrices (independent of the eigenbasis code)."""
    d = len(mean_p)
    inv_q = np.linalg.inv(cov_q)
    diff = mean_q - mean_p
    _, logdet_p = np.linalg.slogdet(cov_p)
    _, logdet_q = np.linalg.slogdet(cov_q)
    return 0.5 * (np.trace(inv_q @ cov_p) - d + diff @ inv_q @ diff + logdet_q - logdet_p)


def sample_3d(solver: str, init: str, count: int, rng, grid=GRID3, **solver_params) -> np.ndarray:
    """``count`` sampler outputs (rows) on ``grid`` with the full-matrix oracle D(x) = mu + Sigma (Sigma + sigma^2
    I)^-1 (x - mu), started from N(mu, Sigma + sigma_max^2 I) (init exact) or N(0, sigma_max^2 I) (init edm); a
    stochastic solver draws its noise from ``rng`` too."""
    eye = np.eye(3)

    def oracle(x, sigma):
        gain = COV3 @ np.linalg.inv(COV3 + sigma**2 * eye)
        return MU3 + (x - MU3) @ gain.T

    mean, cov = (MU3, COV3) if init == "exact" else (0 * MU3, 0 * COV3)
    x0 = mean + rng.standard_normal((count, 3)) @ np.linalg.cholesky(cov + grid[0] ** 2 * eye).T
    hook = {"noise": lambda x: rng.standard_normal(x.shape)} if solver in solvers.STOCHASTIC_SOLVERS else {}
    return solvers.get(solver, stochastic=True)(oracle, x0, grid, **solver_params, **hook)


def dense_minimum(value, n: int, sigma_min: float = 0.002, sigma_max: float = 80.0, points: int = 36) -> float:
    """The lowest ``value(grid)`` over n-step grids (n <= 4), found without an optimiser's starts or gradient: every
    placement of the n - 2 free points on a log-spaced lattice, the best refined by Nelder-Mead in log sigma."""
    ends = np.log([sigma_max, sigma_min])

    def objective(log_free):
        if np.any(np.diff(np.concatenate([[ends[0]], log_free, [ends[1]]])) >= 0):
            return np.inf
        return value(np.concatenate([[sigma_max], np.exp(log_free), [sigma_min, 0.0]]))

    lattice = np.linspace(*ends, points)[1:-1]
    placements = [np.array(c) for c in itertools.combinations(lattice, n - 2)]
    values = [objective(x) for x in placements]
    best = placements[int(np.argmin(values))]
    if n == 2:
        return min(values)
    res = optimize.minimize(objective, best, method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-15, "maxiter": 5000})
    return min(float(res.fun), min(values))
