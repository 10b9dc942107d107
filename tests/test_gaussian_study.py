"""The Gaussian study's claim checks (diffsched.studies.gaussian_study.monte_carlo, one_eigenvalue) against closed
forms."""

import numpy as np
import pandas as pd
import pytest
from gaussian_cases import dense_minimum

from diffsched.method import gaussian, schedules
from diffsched.studies import gaussian_study

LAM, MU = np.array([0.2, 1.0, 3.0]), np.array([0.5, -1.0, 2.0])
EDM = {"edm": {"schedule": "edm"}}


def matrix(cell: pd.DataFrame, column: str) -> np.ndarray:
    """The symmetric covariance of one cell from its upper-triangle rows."""
    out = np.zeros((LAM.size, LAM.size))
    for entry, value in zip(cell["entry"], cell[column]):
        i, j = map(int, entry.split(","))
        out[i, j] = out[j, i] = value
    return out


@pytest.fixture(scope="module")
def table():
    return gaussian_study.monte_carlo(LAM, MU, EDM, [3], ["euler", "heun"], ["exact", "edm"], 20_000, 0.002, 80.0,
                                      seed=1)


def test_monte_carlo_z_scores_are_standard(table):
    assert len(table) == 4 * (3 + 6) and table["z"].abs().max() < 5
    cov = table[table["moment"] == "covariance"]
    var = {(r.solver, r.init, r.entry): r.predicted for r in cov.itertuples() if r.entry in ("0,0", "1,1", "2,2")}
    for r in cov.itertuples():  # se(C_ij) = sqrt((C_ii C_jj + C_ij^2) / N), for a Gaussian output
        i, j = r.entry.split(",")
        want = np.sqrt((var[r.solver, r.init, f"{i},{i}"] * var[r.solver, r.init, f"{j},{j}"] + r.predicted**2) / 2e4)
        assert r.standard_error == pytest.approx(want, rel=1e-12)


def test_monte_carlo_predicts_the_cosine_product_in_a_rotated_basis(table):
    grid = schedules.get("edm", 3, 0.002, 80.0)
    cell = table[(table["solver"] == "euler") & (table["init"] == "exact")]
    cov = matrix(cell[cell["moment"] == "covariance"], "predicted")
    # Euler from the exact start: eigenvalues lambda_i c_i (docs/theory.md), whatever the basis
    np.testing.assert_allclose(np.linalg.eigvalsh(cov), LAM * gaussian.euler_variance_ratio(LAM, grid), rtol=1e-10)
    assert np.abs(cov - np.diag(np.diag(cov))).max() > 0.01  # a rotated basis: off-diagonal covariance
    np.testing.assert_allclose(cell[cell["moment"] == "mean"]["predicted"], MU, rtol=1e-12)  # exact start: mean kept
    # the check has power: the empirical covariance is many standard errors away from the source's eigenvalues
    empirical = matrix(cell[cell["moment"] == "covariance"], "empirical")
    assert np.abs(np.linalg.eigvalsh(empirical) - LAM).max() > 0.1


def test_monte_carlo_edm_start_offsets_the_mean(table):
    # edm start N(0, sigma_max^2 I): offset -mu scaled by the factors F = U diag(f) U^T, and covariance
    # sigma_max^2 F^2, so the predicted mean is mu - sqrt(covariance) mu / sigma_max (Euler: f > 0)
    cell = table[(table["solver"] == "euler") & (table["init"] == "edm")]
    w, v = np.linalg.eigh(matrix(cell[cell["moment"] == "covariance"], "predicted"))
    want = MU - (v * np.sqrt(w)) @ v.T @ MU / 80.0
    mean = cell[cell["moment"] == "mean"]
    np.testing.assert_allclose(mean["predicted"], want, rtol=1e-9)
    assert np.abs(want - MU).max() > 0.01 and mean["z"].abs().max() < 5


def test_one_eigenvalue_matches_the_closed_form():
    t = gaussian_study.one_eigenvalue([0.37], [2, 3, 6], 0.002, 80.0)
    c = gaussian.euler_variance_ratio([0.37], schedules.get("tangent", 6, gamma=np.sqrt(0.37)))[0]
    six = t[t["steps"] == 6].iloc[0]
    assert six["kl_tangent"] == pytest.approx(0.5 * (1 / c - 1 + np.log(c)), rel=1e-10)  # KL(N(0,l) || N(0,l c))
    assert abs(t["kl_ratio"] - 1).max() < 1e-6 and t["max_grid_difference"].max() < 1e-4
    assert np.isnan(t["gamma_star"].iloc[0]) and abs(t["gamma_star_ratio"].iloc[1:] - 1).max() < 1e-3


# The tables behind the Euler-Maclaurin and gamma* claims, against grids written out by hand and an Euler KL computed
# eigenvalue by eigenvalue from the scalar recursion (independent of diffsched.method.gaussian's propagation).
SPEC = np.array([0.05, 0.5, 4.0])
SMIN, SMAX = 0.002, 50.0  # not the default sigma_max: a dropped argument shows


def euler_kl(lam, grid, direction="forward"):
    """Euler on N(0, lam) from the exact start: x <- x (1 + (t - s) s / (lam + s^2)) per step; then
    KL(target || output) (forward) or KL(output || target) (reverse), target N(0, lam + sigma_last^2)."""
    lam = np.asarray(lam, dtype=np.float64)
    v = lam + grid[0] ** 2
    for s, t in zip(grid[:-1], grid[1:]):
        v = v * (1 + (t - s) * s / (lam + s**2)) ** 2
    r = (lam + grid[-1] ** 2) / v if direction == "forward" else v / (lam + grid[-1] ** 2)
    return float(np.sum(0.5 * (r - 1 - np.log(r))))


def karras(points, rho=7.0):
    """EDM eq. 5 at ``points`` evenly spaced tau from sigma_max to sigma_min."""
    a, b = SMAX ** (1 / rho), SMIN ** (1 / rho)
    return (a + np.linspace(0, 1, points) * (b - a)) ** rho


def tangent(points, gamma):
    return gamma * np.tan(np.linspace(np.arctan(SMAX / gamma), np.arctan(SMIN / gamma), points))


def vp_power(points, rho):
    """Power-uniform VP time: t^(1/rho) linear between the VP times of sigma_max and sigma_min (quadratic root)."""
    def time(s):
        return (np.sqrt(0.1**2 + 2 * 19.9 * np.log(1 + s**2)) - 0.1) / 19.9
    t = np.linspace(time(SMAX) ** (1 / rho), time(SMIN) ** (1 / rho), points) ** rho
    return np.sqrt(np.exp(19.9 / 2 * t**2 + 0.1 * t) - 1)


def test_kl_vs_steps_lists_sampler_and_schedule_grids():
    specs = {"edm": {"schedule": "edm"}, "opt": {"schedule": "optimal"},
             "searched": {"schedule": "edm", "search": {"rho": [7.0]}}}
    t = gaussian_study.kl_vs_steps(SPEC, specs, [4, 2], SMIN, SMAX, max_steps_optimal=2)
    keys = list(zip(t["strategy"], t["steps"], t["terminal"]))
    assert keys == [("edm", 4, "zero"), ("edm", 2, "zero"), ("opt", 2, "zero"), ("searched", 4, "zero"),
                    ("searched", 2, "zero"), ("edm", 4, "sigma_min"), ("edm", 2, "sigma_min")]
    for row in t[t["strategy"] != "opt"].itertuples():
        grid = np.append(karras(row.steps), 0.0) if row.terminal == "zero" else karras(row.steps + 1)
        assert row.kl_forward == pytest.approx(euler_kl(SPEC, grid), rel=1e-9)
        assert row.kl_reverse == pytest.approx(euler_kl(SPEC, grid, "reverse"), rel=1e-9)
    opt = t[t["strategy"] == "opt"].iloc[0]  # two steps leave no free point: [sigma_max, sigma_min, 0]
    assert opt["kl_forward"] == pytest.approx(euler_kl(SPEC, np.array([SMAX, SMIN, 0.0])), rel=1e-9)


def test_em_ratio_tends_to_one():
    """N^2 KL -> sum_i J_i^2 / 4 with J_i = int (d theta_i / d tau)^2, theta_i = arctan(sigma / sqrt(lambda_i))."""
    from scipy import integrate

    t = gaussian_study.em_ratio(SPEC, {"edm": {"schedule": "edm"}}, [8, 2000], SMIN, SMAX)
    a, b = SMAX ** (1 / 7), SMIN ** (1 / 7)

    def speed(tau, lam):
        s = (a + tau * (b - a)) ** 7
        return np.sqrt(lam) * 7 * (b - a) * (a + tau * (b - a)) ** 6 / (lam + s**2)

    j = [integrate.quad(lambda tau, lam: speed(tau, lam) ** 2, 0, 1, args=(lam,), limit=500, epsabs=0,
                        epsrel=1e-11)[0] for lam in SPEC]
    np.testing.assert_allclose(t["em_constant"], np.sum(np.square(j)) / 4, rtol=1e-6)
    assert list(t["strategy"]) == ["edm", "edm"] and list(t["intervals"]) == [8, 2000]
    for row in t.itertuples():
        assert row.kl_forward == pytest.approx(euler_kl(SPEC, karras(row.intervals + 1)), rel=1e-9)
    coarse, fine = t["ratio"]
    assert abs(fine - 1) < 0.01 and abs(coarse - 1) > 5 * abs(fine - 1)


def test_gamma_sweep_and_gamma_star_against_a_dense_scan():
    gammas = [0.1, 1.0]
    sweep = gaussian_study.gamma_sweep(SPEC, [3, 5], gammas, SMIN, SMAX)
    assert list(zip(sweep["steps"], sweep["gamma"])) == [(3, 0.1), (3, 1.0), (5, 0.1), (5, 1.0)]
    for row in sweep.itertuples():
        grid = np.append(tangent(row.steps, row.gamma), 0.0)
        assert row.kl_forward == pytest.approx(euler_kl(SPEC, grid), rel=1e-9)
    star = gaussian_study.gamma_star(SPEC, [2, 3, 4], SMIN, SMAX).iloc[1:]
    assert list(star["steps"]) == [4]  # two steps do not depend on gamma; three do
    scan = np.geomspace(1e-3, 1e3, 6001)
    kls = [euler_kl(SPEC, np.append(tangent(4, g), 0.0)) for g in scan]
    best = scan[int(np.argmin(kls))]
    g = star["gamma_star"].item()
    assert abs(np.log(g / best)) < 2 * np.log(scan[1] / scan[0])
    assert star["kl_forward"].item() == pytest.approx(euler_kl(SPEC, np.append(tangent(4, g), 0.0)), rel=1e-9)
    assert star["kl_forward"].item() <= min(kls) * (1 + 1e-9)


def test_rho_sweep_and_grids_table():
    t = gaussian_study.rho_sweep(SPEC, [3, 6], [1.0, 2.0], SMIN, SMAX)
    assert list(zip(t["steps"], t["rho"])) == [(3, 1.0), (3, 2.0), (6, 1.0), (6, 2.0)]
    for row in t.itertuples():
        grid = np.append(vp_power(row.steps, row.rho), 0.0)
        assert row.kl_forward == pytest.approx(euler_kl(SPEC, grid), rel=1e-7)
    specs = {"edm": {"schedule": "edm"}, "tan": {"schedule": "tangent", "params": {"gamma": 0.5}},
             "opt": {"schedule": "optimal"}}
    g = gaussian_study.grids(SPEC, specs, 4, SMIN, SMAX)
    assert list(g["strategy"]) == ["edm"] * 5 + ["tan"] * 5 + ["opt"] * 5 and list(g["index"]) == [0, 1, 2, 3, 4] * 3
    np.testing.assert_allclose(g["sigma"][:10], np.concatenate([karras(4), [0.0], tangent(4, 0.5), [0.0]]), rtol=1e-12)
    floor = dense_minimum(lambda grid: euler_kl(SPEC, grid), 4, SMIN, SMAX)  # the Euler optimum of the exact start
    assert euler_kl(SPEC, g["sigma"][10:].to_numpy()) == pytest.approx(floor, rel=1e-6)
