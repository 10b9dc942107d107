"""The exact Gaussian theory against closed forms, Monte Carlo and the reference values of docs/theory.md."""

import numpy as np
import pytest
from scipy.stats import ortho_group

from gaussian_cases import COV3, GRID3, LAM3, MU3, U3, dense_minimum, full_kl, sample_3d

from diffsched.method import gaussian, optimise, schedules, solvers

LOWDIM = np.array([0.05, 0.37, 1.0, 4.0])


@pytest.mark.parametrize("n,kl,lead", [(10, 1.622e-2, 1.480e-2), (20, 3.863e-3, 3.701e-3),
                                       (40, 9.447e-4, 9.252e-4), (80, 2.337e-4, 2.313e-4)])
def test_reference_values_of_the_design_note(n, kl, lead):
    # One eigenvalue 0.37, tangent grid with gamma = sqrt(lambda) on [0.002, 80], N intervals ending at sigma_min.
    lam = np.array([0.37])
    grid = schedules.get("tangent", n + 1, 0.002, 80.0, gamma=np.sqrt(0.37))[:-1]
    assert gaussian.kl_divergence(lam, grid) == pytest.approx(kl, rel=5e-4)
    fn = schedules.function("tangent", 0.002, 80.0, gamma=np.sqrt(0.37))
    assert gaussian.leading_term(lam, fn, n) == pytest.approx(lead, rel=5e-4)


@pytest.mark.parametrize("name", ["edm", "logsnr", "tangent"])
def test_euler_factor_matches_the_cosine_product(name):
    grid = schedules.get(name, 7, 0.002, 80.0)
    log_v, _ = gaussian.output_moments(LOWDIM, grid, "euler", "exact")
    np.testing.assert_allclose(np.exp(log_v), LOWDIM * gaussian.euler_variance_ratio(LOWDIM, grid), rtol=1e-12)


@pytest.mark.parametrize("init", gaussian.INITS)
@pytest.mark.parametrize("direction", gaussian.DIRECTIONS)
def test_kl_matches_full_matrix_formula(init, direction):
    rng = np.random.default_rng(0)
    u = ortho_group.rvs(4, random_state=1)
    mu = rng.normal(size=4)
    grid = schedules.get("edm", 5, 0.002, 80.0)
    log_v, m = gaussian.output_moments(LOWDIM, grid, "heun", init, mean=u.T @ mu)
    out_mean, out_cov = mu + u @ m, u @ np.diag(np.exp(log_v)) @ u.T
    src_cov = u @ np.diag(LOWDIM) @ u.T
    pair = (mu, src_cov, out_mean, out_cov) if direction == "forward" else (out_mean, out_cov, mu, src_cov)
    got = gaussian.kl_divergence(LOWDIM, grid, "heun", init, direction, mean=u.T @ mu)
    assert got == pytest.approx(full_kl(*pair), rel=1e-9)


@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_monte_carlo_output_covariance(solver):
    # 200,000 samples of N(mu, Sigma) in d = 3 pushed through the real sampler with the full-matrix oracle.
    count, lam, u, cov, grid = 200_000, LAM3, U3, COV3, GRID3
    out = sample_3d(solver, "exact", count, np.random.default_rng(42))
    empirical = np.cov(out, rowvar=False)
    log_v, _ = gaussian.output_moments(lam, grid, solver, "exact")
    predicted = u @ np.diag(np.exp(log_v)) @ u.T
    # Standard error of a sample covariance entry: sqrt((S_ii S_jj + S_ij^2) / N).
    se = np.sqrt((np.outer(np.diag(predicted), np.diag(predicted)) + predicted**2) / count)
    assert np.all(np.abs(empirical - predicted) < 5 * se)
    assert np.max(np.abs(cov - predicted) / se) > 20  # the prediction differs visibly from the source
    np.testing.assert_allclose(out.mean(axis=0), MU3, atol=5 * np.sqrt(np.diag(predicted).max() / count))


@pytest.mark.parametrize("name", ["tangent", "edm"])
def test_leading_term_at_n_1000(name):
    fn = schedules.function(name, 0.002, 80.0)
    grid = schedules.get(name, 1001, 0.002, 80.0)[:-1]  # N = 1000 intervals on the schedule
    ratio = gaussian.kl_divergence(LOWDIM, grid) / gaussian.leading_term(LOWDIM, fn, 1000)
    assert abs(ratio - 1) < 0.01


def test_path_energy_of_the_tangent_law():
    lam = np.array([0.37, 2.0])
    fn = schedules.function("tangent", 0.002, 80.0, gamma=np.sqrt(0.37))
    j = gaussian.path_energy(lam, fn)
    assert j[0] == pytest.approx((np.arctan(80 / np.sqrt(0.37)) - np.arctan(0.002 / np.sqrt(0.37))) ** 2, rel=1e-9)
    assert j[1] > j[0]  # the tangent law for 0.37 is not geodesic for 2.0


@pytest.mark.parametrize("lam", [0.01, 0.37, 5.0])
@pytest.mark.parametrize("n", [3, 6, 10])
def test_gamma_star_of_one_eigenvalue_is_its_root(lam, n):
    assert optimise.gamma_star(np.array([lam]), n) == pytest.approx(np.sqrt(lam), rel=1e-3)


@pytest.mark.parametrize("n", [2, 3, 4, 6, 9, 12])
def test_tangent_is_the_finite_n_optimum_for_one_eigenvalue(n):
    lam = np.array([0.37])
    tangent = schedules.get("tangent", n, gamma=np.sqrt(0.37))
    optimum = optimise.optimal_grid(lam, n, start=schedules.get("logsnr", n))
    np.testing.assert_allclose(optimum, tangent, rtol=1e-4)
    assert gaussian.kl_divergence(lam, optimum) == pytest.approx(gaussian.kl_divergence(lam, tangent), rel=1e-8)


def test_variational_of_one_eigenvalue_is_the_tangent_law():
    tau = np.linspace(0, 1, 11)
    got = optimise.variational_schedule(np.array([0.37]))(tau)
    want = schedules.function("tangent", 0.002, 80.0, gamma=np.sqrt(0.37))(tau)
    np.testing.assert_allclose(got, want, rtol=1e-4)


def test_merged_spectrum_keeps_small_spectra_and_counts_every_eigenvalue():
    lam = np.geomspace(1e-4, 50.0, 300)
    values, counts = optimise.merged_spectrum(lam, bins=1000)
    np.testing.assert_array_equal(values, lam)
    np.testing.assert_array_equal(counts, 1.0)
    values, counts = optimise.merged_spectrum(lam, bins=30)
    assert counts.sum() == 300 and len(values) == 30
    assert lam.min() <= values.min() and values.max() <= lam.max()
    assert np.all(np.abs(np.diff(np.log(values))) < 2 * np.log(50.0 / 1e-4) / 30)  # one value per narrow bin


def test_variational_of_a_large_spectrum_merged_matches_it_eigenvalue_by_eigenvalue():
    """The bins move the schedule far less than its own 2,000-point quadrature (~1e-5 relative)."""
    lam = np.maximum(50.0 * np.arange(1, 20_001) ** -1.0, 1e-5)
    tau = np.linspace(0, 1, 51)
    merged = optimise.variational_schedule(lam)(tau)
    exact = optimise.variational_schedule(lam, bins=lam.size)(tau)
    np.testing.assert_allclose(merged, exact, rtol=2e-6)
    values, counts = optimise.merged_spectrum(lam)
    assert values.size < 4096 < lam.size and counts.sum() == lam.size  # the spectrum was merged
    assert np.max(np.abs(merged / exact - 1)) > 1e-9  # and moved the schedule by more than rounding


def test_variational_lowers_the_leading_term():
    lam = np.geomspace(1e-3, 10.0, 40)
    best = gaussian.leading_term(lam, optimise.variational_schedule(lam), 10)
    for name, params in [("edm", {}), ("logsnr", {}), ("tangent", {}), ("tangent", {"gamma": 0.1})]:
        assert best < gaussian.leading_term(lam, schedules.function(name, 0.002, 80.0, **params), 10)


@pytest.mark.parametrize("solver", list(solvers.SOLVERS))
def test_the_optimum_reaches_a_brute_force_floor(solver):
    """The floor is found by a lattice search and Nelder-Mead, not from the closed-form grids the optimum starts at."""
    lam = np.geomspace(1e-3, 10.0, 30)
    floor = dense_minimum(lambda grid: gaussian.kl_divergence(lam, grid, solver), 4)
    assert gaussian.kl_divergence(lam, optimise.optimal_grid(lam, 4, solver=solver), solver) == pytest.approx(
        floor, rel=1e-6)


def test_the_optimum_stops_where_the_kl_is_exact(monkeypatch):
    """Four eigenvalues, DPM-Solver++(2M) with 18 free points: the KL can reach 0. The search stops at
    CRITERION_EXACT instead of chasing log KL towards -inf until L-BFGS-B's 15,000 evaluations run out."""
    lam = np.array([0.05, 0.37, 1.0, 4.0])
    exact, calls = gaussian.criterion_gradient, []
    monkeypatch.setattr(gaussian, "criterion_gradient", lambda *args, **kw: calls.append(args) or exact(*args, **kw))
    grid = optimise.optimal_grid(lam, 20, solver="dpmpp_2m")
    assert gaussian.kl_divergence(lam, grid, "dpmpp_2m") <= optimise.CRITERION_EXACT
    assert len(calls) < 1000


def test_kl_decreases_with_n_and_vanishes_at_slope_minus_two():
    fn_grid = [schedules.get("edm", n + 1)[:-1] for n in (100, 200)]
    kls = [gaussian.kl_divergence(LOWDIM, g) for g in fn_grid]
    assert np.log2(kls[0] / kls[1]) == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: gaussian.kl_divergence([1.0, 0.0], schedules.get("edm", 3)), "eigenvalues must be finite and > 0"),
        (lambda: gaussian.kl_divergence([1.0, -2.0], schedules.get("edm", 3)), "eigenvalues must be finite and > 0"),
        (lambda: gaussian.kl_divergence([], schedules.get("edm", 3)), "non-empty 1-D"),
        (lambda: gaussian.kl_divergence([1.0], [1.0, 2.0, 0.0]), "strictly decreasing"),
        (lambda: gaussian.kl_divergence([1.0], schedules.get("edm", 3), solver="rk4"), "valid solvers"),
        (lambda: gaussian.kl_divergence([1.0], schedules.get("edm", 3), init="zero"), "valid: exact, edm, vp"),
        (lambda: gaussian.kl_divergence([1.0], schedules.get("edm", 3), direction="js"), "forward, reverse"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
