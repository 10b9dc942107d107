"""The criteria of docs/criteria.md against closed forms written out here, Monte Carlo runs of the real samplers,
and central finite differences of their gradients."""

import numpy as np
import pytest
from scipy.stats import ortho_group

from gaussian_cases import COV3, GRID3, LAM3, MU3, U3, dense_minimum, full_kl, sample_3d

from diffsched.method import gaussian, optimise, schedules, solvers, strategies

DELTA_WIDE = 0.5  # a smoothing wide enough to change the KL visibly


def euler_factor(lam, grid):
    """Euler / DDIM per direction: each step multiplies z_i by (lambda_i + s s') / (lambda_i + s^2)."""
    f = np.ones_like(lam)
    for s, s_next in zip(grid[:-1], grid[1:]):
        f *= (lam + s * s_next) / (lam + s * s)
    return f


def heun_factor(lam, grid):
    """Heun (EDM Algorithm 1) per direction, with d = z s / (lambda + s^2); Euler on a final step to 0."""
    f = np.ones_like(lam)
    for s, s_next in zip(grid[:-1], grid[1:]):
        slope = s / (lam + s * s)
        euler = 1.0 + (s_next - s) * slope
        if s_next == 0.0:
            f *= euler
        else:
            f *= 1.0 + 0.5 * (s_next - s) * (slope + euler * s_next / (lam + s_next * s_next))
    return f


FACTORS = {"euler": euler_factor, "heun": heun_factor}


def sym_sqrt(a):
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(w)) @ v.T


def full_w2(mean_p, cov_p, mean_q, cov_q):
    """Squared W2 between Gaussians: |m_p - m_q|^2 + tr(A + B - 2 (A^1/2 B A^1/2)^1/2) (the Frechet distance)."""
    root = sym_sqrt(cov_p)
    cross = sym_sqrt(root @ cov_q @ root)
    return float(np.sum((mean_p - mean_q) ** 2) + np.trace(cov_p + cov_q - 2.0 * cross))


def random_case(seed):
    """A random spectrum, rotation, mean and grid of 2-6 steps (ending in 0 or at sigma_min)."""
    rng = np.random.default_rng(seed)
    d, n = int(rng.integers(3, 7)), int(rng.integers(2, 7))
    lam = np.exp(rng.uniform(np.log(1e-3), np.log(20.0), d))
    interior = np.sort(np.exp(rng.uniform(np.log(0.002), np.log(80.0), n - 1)))[::-1]
    grid = np.concatenate([[80.0], interior, [0.0] if rng.random() < 0.7 else []])
    return lam, ortho_group.rvs(d, random_state=seed), rng.normal(size=d), grid


def closed_form(name, lam, u, mu, grid, solver, init, delta=DELTA_WIDE):
    """The criterion from the written-out factor and the full-matrix Gaussian formulas, in pixel space."""
    if name == "kl_sigma_min" and grid[-1] == 0.0:
        grid = grid[:-1]
    f = FACTORS[solver](lam, grid)
    v0 = {"exact": lam + grid[0] ** 2, "edm": 0 * lam + grid[0] ** 2, "vp": 0 * lam + 1 + grid[0] ** 2}
    offset = np.zeros_like(lam) if init == "exact" else -(u.T @ mu)
    out_mean, out_cov = mu + u @ (offset * f), u @ np.diag(v0[init] * f * f) @ u.T
    target = u @ np.diag(lam + grid[-1] ** 2) @ u.T
    if name == "kl_smoothed":
        blur = delta**2 * np.eye(len(lam))
        return full_kl(mu, target + blur, out_mean, out_cov + blur)
    if name == "kl_reverse":
        return full_kl(out_mean, out_cov, mu, target)
    if name == "w2":
        return full_w2(mu, target, out_mean, out_cov)
    return full_kl(mu, target, out_mean, out_cov)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("init", gaussian.INITS)
@pytest.mark.parametrize("solver", list(FACTORS))
@pytest.mark.parametrize("name", list(gaussian.CRITERIA))
def test_criterion_matches_the_closed_form(name, solver, init, seed):
    lam, u, mu, grid = random_case(seed)
    params = {"delta": DELTA_WIDE} if name == "kl_smoothed" else {}
    got = gaussian.criterion(name, lam, grid, solver, init, mean=u.T @ mu, **params)
    assert got == pytest.approx(closed_form(name, lam, u, mu, grid, solver, init), rel=1e-9)


@pytest.mark.parametrize("solver", list(solvers.SOLVERS))
def test_kl_relations(solver):
    lam, u, mu, grid = random_case(11)
    grid = np.append(grid[:-1], 0.0) if grid[-1] == 0.0 else np.append(grid, 0.0)
    args = (lam, grid, solver, "edm", u.T @ mu)
    kl = gaussian.criterion("kl", *args)
    assert kl == gaussian.kl_divergence(lam, grid, solver, "edm", "forward", u.T @ mu)
    assert gaussian.criterion("kl_smoothed", *args, delta=0.0) == pytest.approx(kl, rel=1e-12)
    assert gaussian.criterion("kl_smoothed", *args) < kl  # data processing
    assert gaussian.criterion("kl_sigma_min", *args) == gaussian.criterion("kl", lam, grid[:-1], solver, "edm",
                                                                           u.T @ mu)
    start_kl = full_kl(0 * lam, np.diag(lam + 80.0**2), -u.T @ mu, np.diag(0 * lam + 80.0**2))
    assert gaussian.criterion("kl_sigma_min", lam, [80.0, 0.0], solver, "edm", u.T @ mu) == pytest.approx(start_kl)


@pytest.mark.parametrize("init", ["exact", "edm"])
@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_w2_and_smoothed_kl_against_monte_carlo(solver, init):
    """200,000 samples through the real sampler with the full-matrix oracle, in 20 batches: the plug-in W2 and
    smoothed KL of the output (output plus N(0, delta^2 I) noise) lie within 5 standard errors of the exact ones,
    while the exact values sit many standard errors away from what an error would give (0, the plain KL)."""
    rng = np.random.default_rng(3)
    d, batches, size, lam, mu, cov, grid = 3, 20, 10_000, LAM3, MU3, COV3, GRID3
    out = sample_3d(solver, init, batches * size, rng)
    blurred = out + DELTA_WIDE * rng.standard_normal(out.shape)
    blur = DELTA_WIDE**2 * np.eye(d)

    def estimates(rows):
        return np.array([full_w2(mu, cov, rows[0].mean(0), np.cov(rows[0], rowvar=False)),
                         full_kl(mu, cov + blur, rows[1].mean(0), np.cov(rows[1], rowvar=False))])

    whole = estimates((out, blurred))
    per_batch = np.array([estimates((out[k::batches], blurred[k::batches])) for k in range(batches)])
    se = per_batch.std(axis=0, ddof=1) / np.sqrt(batches)
    exact = np.array([gaussian.criterion("w2", lam, grid, solver, init, mean=U3.T @ mu),
                      gaussian.criterion("kl_smoothed", lam, grid, solver, init, mean=U3.T @ mu, delta=DELTA_WIDE)])
    assert np.all(np.abs(whole - exact) < 5 * se)
    plain_kl = gaussian.criterion("kl", lam, grid, solver, init, mean=U3.T @ mu)
    assert exact[0] > 20 * se[0] and abs(plain_kl - exact[1]) > 20 * se[1]


@pytest.mark.parametrize("solver", list(solvers.SOLVERS))
@pytest.mark.parametrize("name", list(gaussian.CRITERIA))
def test_gradient_matches_central_differences(name, solver):
    lam, u, mu, grid = random_case(sum(map(ord, name + solver)))
    init = gaussian.INITS[len(name) % 3]
    params = {"delta": DELTA_WIDE} if name == "kl_smoothed" else {}
    _, grad = gaussian.criterion_gradient(name, lam, grid, solver, init, u.T @ mu, **params)
    h = 1e-6  # central differences in log sigma over the positive grid points
    positive = np.flatnonzero(grid > 0)
    fd = []
    for k in positive:
        up, down = grid.copy(), grid.copy()
        up[k], down[k] = grid[k] * np.exp(h), grid[k] * np.exp(-h)
        fd.append((gaussian.criterion(name, lam, up, solver, init, u.T @ mu, **params)
                   - gaussian.criterion(name, lam, down, solver, init, u.T @ mu, **params)) / (2 * h))
    per_log_sigma = grad[positive] * grid[positive]
    np.testing.assert_allclose(per_log_sigma, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(fd)))


def test_logits_gradient_matches_central_differences():
    """The chain rule from the grid to the finite-n optimum's logits (L-BFGS-B's exact gradient)."""
    lam = np.geomspace(1e-3, 10.0, 20)
    logits = np.random.default_rng(5).normal(size=6)

    def value(x):
        return gaussian.criterion("w2", lam, optimise.grid_from_logits(x, 0.002, 80.0), "heun")

    grid = optimise.grid_from_logits(logits, 0.002, 80.0)
    _, grid_gradient = gaussian.criterion_gradient("w2", lam, grid, "heun")
    got = optimise._logits_gradient(logits, grid, grid_gradient, 0.002, 80.0)
    h = 1e-6
    fd = [(value(logits + h * e) - value(logits - h * e)) / (2 * h) for e in np.eye(logits.size)]
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(fd)))


@pytest.mark.parametrize("name", ["w2", "kl_smoothed", "kl_sigma_min"])
def test_finite_n_optimum_reaches_a_brute_force_floor_of_its_criterion(name):
    lam = np.geomspace(1e-3, 10.0, 30)
    floor = dense_minimum(lambda grid: gaussian.criterion(name, lam, grid), 4)
    optimum = optimise.optimal_grid(lam, 4, criterion=name)
    assert gaussian.criterion(name, lam, optimum) == pytest.approx(floor, rel=1e-6)


def test_w2_prefers_another_grid_than_the_kl():
    lam = np.geomspace(1e-3, 10.0, 30)
    by_w2, by_kl = (strategies.grid("optimal", 6, eigenvalues=lam, criterion=c) for c in ("w2", "kl"))
    assert gaussian.criterion("w2", lam, by_w2) < 0.9 * gaussian.criterion("w2", lam, by_kl)
    assert gaussian.criterion("kl", lam, by_kl) < 0.9 * gaussian.criterion("kl", lam, by_w2)


def test_unknown_criteria_and_parameters_are_refused():
    grid = schedules.get("edm", 3)
    with pytest.raises(ValueError, match="valid criteria: kl, kl_reverse, kl_smoothed\\(delta=.*w2"):
        gaussian.criterion("fid", [1.0], grid)
    with pytest.raises(ValueError, match="takes parameter \\['delta'\\]; criterion usage: w2"):
        gaussian.criterion("w2", [1.0], grid, delta=0.1)
    with pytest.raises(ValueError, match="delta must be a finite number >= 0"):
        gaussian.criterion("kl_smoothed", [1.0], grid, delta=-1.0)


def test_spectral_grids_take_every_criterion_parameter():
    names = {k for c in gaussian.CRITERIA.values() for k in c.params}
    assert names <= set(strategies.OPTIMISED_INPUTS)
    lam = np.geomspace(1e-3, 10.0, 10)
    grid = strategies.grid("tangent_opt", 5, eigenvalues=lam, criterion="kl_smoothed", delta=0.1)
    gamma = optimise.gamma_star(lam, 5, criterion="kl_smoothed", delta=0.1)
    np.testing.assert_allclose(grid, schedules.get("tangent", 5, gamma=gamma), rtol=1e-12)
