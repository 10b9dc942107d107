"""Solvers against the exact probability-flow solution of a Gaussian and known convergence orders."""

import itertools

import numpy as np
import pytest
import torch

from diffsched.method import schedules, solvers

LAM = np.array([0.05, 0.5, 2.0])


def gaussian_denoiser(z, sigma):
    return LAM / (LAM + sigma**2) * z


def exact_flow(z0, s0, s1):
    """The ODE keeps z / sqrt(lambda + sigma^2) constant."""
    return z0 * np.sqrt((LAM + s1**2) / (LAM + s0**2))


class Counter:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, x, sigma):
        self.calls += 1
        return self.fn(x, sigma)


@pytest.mark.parametrize("name,expected", [("euler", lambda n: n), ("heun", lambda n: 2 * n - 1),
                                           ("dpmpp_2m", lambda n: n), ("ipndm", lambda n: n)])
@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_nfe_counts_denoiser_calls(name, expected, n):
    grid = schedules.get("edm", n)
    d = Counter(gaussian_denoiser)
    solvers.get(name)(d, np.ones(3), grid)
    assert d.calls == expected(n) == solvers.nfe(name, grid)
    assert solvers.steps_for_nfe(name, solvers.nfe(name, grid)) == n


def test_steps_for_nfe():
    assert solvers.steps_for_nfe("heun", 5) == 3 and solvers.steps_for_nfe("heun", 4) == 2
    assert solvers.steps_for_nfe("euler", 4) == 4


def test_euler_is_ddim():
    # DDIM (eta = 0) in sigma space: x' = D + sigma'/sigma (x - D).
    grid = schedules.get("logsnr", 6, 0.01, 10.0)
    x = np.array([3.0, -1.0, 0.5])
    want = x.copy()
    for s, s_next in itertools.pairwise(grid):
        d = gaussian_denoiser(want, s)
        want = d + s_next / s * (want - d)
    np.testing.assert_allclose(solvers.euler(gaussian_denoiser, x, grid), want, rtol=1e-14)


# iPNDM warm-starts with an Euler step whose local O(h^2) error persists, so its global order is 2 too.
@pytest.mark.parametrize("name,order", [("euler", 1), ("heun", 2), ("dpmpp_2m", 2), ("ipndm", 2)])
def test_convergence_order(name, order):
    # Stop at sigma_min (no final jump to 0) so the exact flow is the reference.
    z0 = np.ones(3)
    errors = []
    for n in (40, 80):
        grid = schedules.get("logsnr", n + 1, 0.05, 20.0)[:-1]
        out = solvers.get(name)(gaussian_denoiser, z0, grid)
        errors.append(np.max(np.abs(out - exact_flow(z0, grid[0], grid[-1]))))
    slope = np.log2(errors[0] / errors[1])
    assert slope > order - 0.3, f"{name}: observed order {slope:.2f}"


def test_ipndm_higher_orders_help_on_equal_steps():
    # On an equal-step grid the Adams-Bashforth coefficients are exact for polynomials of their order.
    grid = np.linspace(4.0, 0.5, 31)
    z0 = np.ones(3)
    err = [np.max(np.abs(solvers.ipndm(gaussian_denoiser, z0, grid, max_order=k) - exact_flow(z0, 4.0, 0.5)))
           for k in (1, 2, 3, 4)]
    assert err[0] > 5 * err[1] and err[1] > err[2] > err[3]


@pytest.mark.parametrize("name", list(solvers.SOLVERS))
def test_numpy_and_torch_agree(name):
    grid = schedules.get("edm", 7)
    lam_t = torch.tensor(LAM, dtype=torch.float64)
    out_np = solvers.get(name)(gaussian_denoiser, np.ones(3), grid)
    out_t = solvers.get(name)(lambda z, s: lam_t / (lam_t + s**2) * z, torch.ones(3, dtype=torch.float64), grid)
    np.testing.assert_allclose(out_t.numpy(), out_np, rtol=1e-13)


def test_unknown_solver():
    with pytest.raises(ValueError, match="valid solvers: euler, heun, dpmpp_2m, ipndm"):
        solvers.get("ddpm")


def test_ancestral_with_eta_zero_is_euler():
    grid = schedules.get("edm", 6)
    x = np.linspace(-3, 3, 7)[:, None].repeat(3, axis=1)
    np.testing.assert_array_equal(solvers.euler_ancestral(gaussian_denoiser, x, grid, eta=0.0),
                                  solvers.euler(gaussian_denoiser, x, grid))


def test_ancestral_variance_follows_its_recursion_and_reaches_the_source():
    """Monte Carlo against the closed-form variance recursion of one ancestral step on N(0, lam):
    x' = (1 + (s_down - s) (1 - k) / s) x + s_up eps, k = lam / (lam + s^2); on a fine grid it ends at lam."""
    lam, n = 0.7, 200_000
    g = torch.Generator().manual_seed(0)

    def noise(x):
        return torch.randn(x.shape, generator=g, dtype=x.dtype)

    def oracle(x, s):
        return lam / (lam + s * s) * x

    errors = []
    for steps in (4, 400):
        grid = schedules.get("edm", steps, sigma_max=20.0)
        x0 = (lam + 20.0**2) ** 0.5 * torch.randn(n, generator=g, dtype=torch.float64)
        out = solvers.euler_ancestral(oracle, x0, grid, noise=noise)
        var = lam + 20.0**2
        for s, s_next in zip(grid[:-1], grid[1:]):
            up = s_next * np.sqrt((s**2 - s_next**2) / s**2)
            down = np.sqrt(s_next**2 - up**2)
            var = (1 + (down - s) * (1 - lam / (lam + s**2)) / s) ** 2 * var + up**2
        assert abs(out.var().item() / var - 1) < 5 * np.sqrt(2 / n)
        errors.append(abs(var / lam - 1))
    assert errors[1] < 0.03 and errors[1] < errors[0] / 5  # first order in the step: it converges to lam


def test_ancestral_is_refused_by_the_gaussian_theory_and_counts_its_calls():
    grid = schedules.get("edm", 5)
    assert solvers.nfe("euler_ancestral", grid) == 5 and solvers.steps_for_nfe("euler_ancestral", 5) == 5
    with pytest.raises(ValueError, match="stochastic"):
        solvers.get("euler_ancestral")
    assert solvers.get("euler_ancestral", stochastic=True) is solvers.euler_ancestral
    with pytest.raises(ValueError, match="eta"):
        solvers.euler_ancestral(lambda x, s: x, torch.zeros(2), grid, eta=1.5)
