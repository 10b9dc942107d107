"""Stochastic samplers: their exact Gaussian moments against Monte Carlo runs of the real samplers, the samplers
against k-diffusion with the same noise draws, and their criteria's gradients against finite differences."""

import numpy as np
import pytest
import torch
from gaussian_cases import LAM3, MU3, U3, sample_3d
from k_diffusion import sampling

from diffsched.method import gaussian, schedules, solvers

GRIDS = {"edm3": schedules.get("edm", 3, 0.002, 80.0), "logsnr5": schedules.get("logsnr", 5, 0.01, 20.0),
         "tangent8_to_sigma_min": schedules.get("tangent", 8, 0.05, 10.0)[:-1]}
CASES = [("euler_ancestral", {}), ("euler_ancestral", {"eta": 0.5}), ("ddpm", {}), ("dpmpp_2m_sde", {}),
         ("dpmpp_2m_sde", {"eta": 0.3})]


@pytest.mark.parametrize("grid", list(GRIDS))
@pytest.mark.parametrize("solver,params", CASES)
def test_monte_carlo_mean_and_covariance(solver, params, grid):
    # 100,000 runs of the real sampler in d = 3, a random basis, from N(0, sigma_max^2 I) (so the mean is off too).
    count, sigmas = 100_000, GRIDS[grid]
    out = sample_3d(solver, "edm", count, np.random.default_rng(3), sigmas, **params)
    log_v, m = gaussian.output_moments(LAM3, sigmas, solver, "edm", mean=U3.T @ MU3, **params)
    mean, cov = MU3 + U3 @ m, U3 @ np.diag(np.exp(log_v)) @ U3.T
    se_mean = np.sqrt(np.diag(cov) / count)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / count)  # of a sample covariance entry
    assert np.all(np.abs(out.mean(axis=0) - mean) < 4 * se_mean)
    assert np.all(np.abs(np.cov(out, rowvar=False) - cov) < 4 * se_cov)
    # the noise matters: the deterministic factor a alone (variance a^2 sigma_max^2) is far from the output variance
    a = gaussian.output_factor(LAM3, sigmas, solver, **params)
    assert np.max((np.exp(log_v) - a**2 * sigmas[0] ** 2) / np.sqrt(2 * np.exp(2 * log_v) / count)) > 20


def _draws(count: int, shape) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(11)
    return [torch.randn(shape, generator=generator, dtype=torch.float64) for _ in range(count)]


def _oracle(x, sigma):
    """D(x) = mu + Sigma (Sigma + sigma^2 I)^-1 (x - mu) for the 3-D source, on torch batches."""
    cov = torch.from_numpy(U3 @ np.diag(LAM3) @ U3.T)
    mu = torch.from_numpy(MU3)
    gain = cov @ torch.linalg.inv(cov + float(sigma) ** 2 * torch.eye(3, dtype=torch.float64))
    return mu + (x - mu) @ gain.T


@pytest.mark.parametrize("grid", list(GRIDS))
@pytest.mark.parametrize("solver,k_sampler,params", [
    ("euler_ancestral", sampling.sample_euler_ancestral, {"eta": 1.0}),
    ("euler_ancestral", sampling.sample_euler_ancestral, {"eta": 0.4}),
    ("dpmpp_2m_sde", sampling.sample_dpmpp_2m_sde, {"eta": 1.0}),
    ("dpmpp_2m_sde", sampling.sample_dpmpp_2m_sde, {"eta": 0.6}),
])
def test_same_noise_as_k_diffusion(solver, k_sampler, params, grid):
    sigmas = torch.from_numpy(GRIDS[grid])
    x0 = torch.randn(16, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * sigmas[0]
    theirs_draws, ours_draws = _draws(len(sigmas), x0.shape), _draws(len(sigmas), x0.shape)
    theirs = k_sampler(lambda x, s: _oracle(x, s[0]), x0, sigmas, disable=True,
                       noise_sampler=lambda s, s_next: theirs_draws.pop(0), **params)
    ours = solvers.get(solver, stochastic=True)(_oracle, x0, GRIDS[grid], noise=lambda x: ours_draws.pop(0), **params)
    assert len(ours_draws) == len(theirs_draws)  # as many draws, in the same order
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=1e-11)


@pytest.mark.parametrize("grid", list(GRIDS))
def test_ddpm_posterior_sampling_equals_euler_ancestral_at_eta_one(grid):
    x0 = torch.randn(16, 3, generator=torch.Generator().manual_seed(6), dtype=torch.float64) * GRIDS[grid][0]
    ddpm_draws, ancestral_draws = _draws(len(GRIDS[grid]), x0.shape), _draws(len(GRIDS[grid]), x0.shape)
    ddpm = solvers.ddpm(_oracle, x0, GRIDS[grid], noise=lambda x: ddpm_draws.pop(0))
    ancestral = solvers.euler_ancestral(_oracle, x0, GRIDS[grid], noise=lambda x: ancestral_draws.pop(0))
    np.testing.assert_allclose(ddpm.numpy(), ancestral.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ["kl", "w2", "kl_reverse"])
@pytest.mark.parametrize("solver,params", CASES)
def test_gradient_matches_central_differences(name, solver, params):
    lam, grid = np.geomspace(0.01, 3.0, 6), GRIDS["logsnr5"]
    _, grad = gaussian.criterion_gradient(name, lam, grid, solver, **params)
    for k in range(1, len(grid) - 1):
        h = 1e-4 * grid[k]  # ddpm forms 1 - alpha_bar: rounding spoils smaller steps
        up, down = grid.copy(), grid.copy()
        up[k] += h
        down[k] -= h
        fd = (gaussian.criterion(name, lam, up, solver, **params)
              - gaussian.criterion(name, lam, down, solver, **params)) / (2 * h)
        assert grad[k] == pytest.approx(fd, rel=1e-5, abs=1e-10)


def test_eta_zero_is_the_deterministic_solver():
    lam, grid = np.geomspace(0.01, 3.0, 6), GRIDS["logsnr5"]
    for stochastic, deterministic in (("euler_ancestral", "euler"), ("dpmpp_2m_sde", "dpmpp_2m")):
        assert gaussian.criterion("kl", lam, grid, stochastic, eta=0.0) == pytest.approx(
            gaussian.criterion("kl", lam, grid, deterministic), rel=1e-12)


@pytest.mark.parametrize("params,message", [
    ({"eta": 1.5}, "eta must be in [0, 1]"), ({"eta": -0.1}, "eta must be in [0, 1]"),
    ({"s_noise": 1.0}, "takes parameter ['s_noise']"), ({"delta": 0.1}, "takes parameter ['delta']"),
])
def test_bad_solver_parameters_are_refused(params, message):
    with pytest.raises(ValueError) as error:
        gaussian.criterion("kl", LAM3, GRIDS["edm3"], "euler_ancestral", **params)
    assert message in str(error.value)
    with pytest.raises(ValueError, match="solver parameters: none"):
        gaussian.criterion("kl", LAM3, GRIDS["edm3"], "ddpm", eta=0.5)
