"""The Gaussian study's claim checks (diffsched.studies.gaussian_study.monte_carlo, one_eigenvalue) against closed
forms."""

import numpy as np
import pandas as pd
import pytest

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
