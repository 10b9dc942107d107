"""Grids against the published formulas and their defining invariants."""

import numpy as np
import pytest

from diffsched.method import schedules

CLOSED_FORM = [("edm", {}), ("edm", {"rho": 3.0}), ("logsnr", {}), ("vp_time", {}), ("vp_time", {"rho": 2.0}),
               ("tangent", {}), ("tangent", {"gamma": 0.3})]


@pytest.mark.parametrize("name,params", CLOSED_FORM)
@pytest.mark.parametrize("n", [1, 2, 3, 10, 57])
def test_grid_convention(name, params, n):
    g = schedules.get(name, n, 0.002, 80.0, **params)
    assert g.dtype == np.float64 and g.shape == (n + 1,)
    assert g[0] == 80.0 and g[-1] == 0.0
    if n > 1:
        assert g[n - 1] == 0.002
    assert np.all(np.diff(g) < 0)


def test_edm_matches_karras_eq5():
    # Karras et al. 2022, eq. 5, written out for n = 4, rho = 7.
    n, smin, smax, rho = 4, 0.002, 80.0, 7.0
    want = [(smax ** (1 / rho) + i / (n - 1) * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho for i in range(n)]
    np.testing.assert_allclose(schedules.get("edm", n, smin, smax)[:-1], want, rtol=1e-14)


def test_logsnr_is_geometric():
    g = schedules.get("logsnr", 9, 0.01, 100.0)[:-1]
    ratios = g[1:] / g[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)
    np.testing.assert_allclose(ratios[0], (0.01 / 100.0) ** (1 / 8), rtol=1e-12)


def test_vp_time_spacing():
    # With sigma_max = sigma(1) and sigma_min = sigma(1e-3), rho = 1 is uniform in t on [1e-3, 1].
    smax, smin = float(schedules.vp_sigma(1.0)), float(schedules.vp_sigma(1e-3))
    assert smax == pytest.approx(np.sqrt(np.exp(19.9 / 2 + 0.1) - 1))
    t = schedules.vp_time(schedules.get("vp_time", 6, smin, smax)[:-1])
    np.testing.assert_allclose(t, np.linspace(1.0, 1e-3, 6), rtol=1e-10)
    t2 = schedules.vp_time(schedules.get("vp_time", 6, smin, smax, rho=2.0)[:-1])
    np.testing.assert_allclose(np.sqrt(t2), np.linspace(1.0, np.sqrt(1e-3), 6), rtol=1e-10)


def test_vp_time_with_its_own_betas():
    """t^(1/rho) uniform between the VP times of sigma_max and sigma_min, for betas other than the defaults."""
    beta_d, beta_min, rho = 10.0, 1.0, 2.0

    def time(s):  # root of beta_d t^2 / 2 + beta_min t = log(1 + s^2)
        return (np.sqrt(beta_min**2 + 2 * beta_d * np.log(1 + s**2)) - beta_min) / beta_d

    t = np.linspace(time(80.0) ** (1 / rho), time(0.002) ** (1 / rho), 6) ** rho
    want = np.sqrt(np.exp(beta_d * t**2 / 2 + beta_min * t) - 1)
    got = schedules.get("vp_time", 6, 0.002, 80.0, rho=rho, beta_d=beta_d, beta_min=beta_min)[:-1]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_sample_returns_floats_from_an_integer_schedule():
    grid = schedules.sample(lambda tau: np.round(10 * (1 - tau)).astype(int) + 1, 3, 0.5, 11.0)
    assert grid.dtype == np.float64
    np.testing.assert_array_equal(grid, [11.0, 6.0, 0.5, 0.0])


def test_tangent_moves_the_angle_linearly_and_gamma_one_is_cosine():
    g = schedules.get("tangent", 8, 0.002, 80.0, gamma=0.5)[:-1]
    angles = np.arctan(g / 0.5)
    np.testing.assert_allclose(np.diff(angles), np.diff(angles)[0], rtol=1e-10)
    # gamma = 1: alpha = cos(phi), sigma_VP = sin(phi) with phi linear, so sigma = tan(phi).
    phi = np.linspace(np.arctan(80.0), np.arctan(0.002), 8)
    np.testing.assert_allclose(schedules.get("tangent", 8, 0.002, 80.0)[:-1], np.sin(phi) / np.cos(phi), rtol=1e-12)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: schedules.get("karras", 5), "valid schedules: edm"),
        (lambda: schedules.get("edm", 0), "n must be an integer >= 1"),
        (lambda: schedules.get("edm", 2.5), "n must be an integer >= 1"),
        (lambda: schedules.get("edm", 5, 1.0, 1.0), "sigma_min must be smaller than sigma_max"),
        (lambda: schedules.get("edm", 5, 0.0, 1.0), "sigma_min must be a finite number > 0"),
        (lambda: schedules.get("edm", 5, rho=-1.0), "rho must be a finite number > 0"),
        (lambda: schedules.get("edm", 5, rho=0.0), "rho must be a finite number > 0"),
        (lambda: schedules.get("tangent", 5, gamma=-1.0), "gamma must be a finite number > 0"),
        (lambda: schedules.get("edm", 5, 0.002, np.inf), "sigma_min must be a finite number > 0"),
        (lambda: schedules.get("vp_time", 5, beta=1.0), "usage: vp_time(rho=1.0, beta_d=19.9, beta_min=0.1)"),
        (lambda: schedules.get("edm", 5, gamma=1.0), "usage: edm(rho=7.0)"),
        (lambda: schedules.get("variational", 5), "valid schedules: edm(rho=7.0), logsnr(), vp_time"),
    ],
)
def test_bad_input_names_the_problem(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
