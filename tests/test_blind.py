"""Noise-blind oracles against brute-force sums written here, their limits, and their quadrature error."""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp, softmax

from diffsched.models import denoisers
from diffsched.data import spectrum
from diffsched.models.precond import EDM, VPCosine
from test_denoisers import random_gaussian

SD = 0.5  # EDM's sigma_data


def edm_scalings(s):
    """EDM Table 1 re-typed: c_skip, c_out, c_in, loss weight lambda."""
    root = np.sqrt(s**2 + SD**2)
    return SD**2 / root**2, s * SD / root, 1 / root, root**2 / (s * SD) ** 2


def vp_scalings(s):
    """Epsilon prediction in the sigma scale: c_skip = 1, c_out = -s, c_in = 1 / sqrt(1 + s^2), lambda = 1 / s^2."""
    return np.ones_like(s), -s, 1 / np.sqrt(1 + s**2), 1 / s**2


def training_noise(kind, p_mean=-1.2, p_std=1.2):
    """A fine quadrature of the training density of s: nodes and log weights, with its scalings."""
    if kind == "vp":
        s = VPCosine().sigmas.numpy()
        return s, np.zeros_like(s), vp_scalings
    t = np.linspace(p_mean - 11 * p_std, p_mean + 11 * p_std, 6001)
    return np.exp(t), -0.5 * ((t - p_mean) / p_std) ** 2, edm_scalings


def brute_blind(x, sigma, kind, log_lik_and_mean):
    """D_blind(x; sigma) = c_skip x + c_out F*(c_in x), F*(u) = sum_j q_j p(u | s_j) w_j T_j / sum_j (...), with
    p(u | s) = c_in(s)^-d p(x' | s), T_j = (E[y | x', s_j] - c_skip x') / c_out, x' = u / c_in(s_j), w = lambda c_out^2.
    ``log_lik_and_mean(xp, s)`` gives log p(x' | s) (B, J) and E[y | x', s] (B, J, d) for x' (B, J, d)."""
    s, log_q, scalings = training_noise(kind)
    c_skip, c_out, c_in, lam = scalings(s)
    cs, co, ci, _ = scalings(np.array(sigma))
    u = ci * x
    xp = u[:, None, :] / c_in[None, :, None]
    log_lik, ey = log_lik_and_mean(xp, s)
    logits = log_q + log_lik - x.shape[1] * np.log(c_in) + np.log(lam * c_out**2)
    target = (ey - c_skip[:, None] * xp) / c_out[:, None]
    return cs * x + co * np.einsum("bj,bjd->bd", softmax(logits, axis=1), target)


def gaussian_terms(mean, cov):
    def log_lik_and_mean(xp, s):
        d = mean.size
        covs = cov + s[:, None, None] ** 2 * np.eye(d)
        inv, logdet = np.linalg.inv(covs), np.linalg.slogdet(covs)[1]
        r = xp - mean
        log_lik = -0.5 * (np.einsum("bjd,jde,bje->bj", r, inv, r) + logdet + d * np.log(2 * np.pi))
        return log_lik, mean + np.einsum("de,jef,bjf->bjd", cov, inv, r)
    return log_lik_and_mean


def empirical_terms(points):
    def log_lik_and_mean(xp, s):
        d = points.shape[1]
        d2 = ((xp[:, :, None, :] - points) ** 2).sum(axis=3)  # (B, J, N)
        log_k = -d2 / (2 * s[:, None] ** 2) - d * np.log(s[:, None]) - 0.5 * d * np.log(2 * np.pi)
        return logsumexp(log_k, axis=2) - np.log(len(points)), np.einsum("bjn,nd->bjd", softmax(log_k, axis=2), points)
    return log_lik_and_mean


def noisy(rng, rows, sigma):
    return torch.from_numpy(rows + sigma * rng.standard_normal(rows.shape))


@pytest.mark.parametrize("kind, precond", [("edm", EDM()), ("vp", VPCosine())])
def test_blind_gaussian_is_the_brute_force_posterior_sum(kind, precond):
    rng = np.random.default_rng(0)
    mean, cov, lam, vectors = random_gaussian(rng, 3, scale=0.3)
    oracle = denoisers.BlindGaussianDenoiser(mean, lam, vectors, precond)
    want = gaussian_terms(mean, cov)
    for sigma in (0.01, 0.2, 1.0, 7.0, 60.0):
        x = noisy(rng, mean + rng.standard_normal((4, 3)) @ np.linalg.cholesky(cov).T, sigma)
        np.testing.assert_allclose(oracle(x, sigma).numpy(), brute_blind(x.numpy(), sigma, kind, want),
                                   rtol=0, atol=1e-9)


@pytest.mark.parametrize("kind, precond", [("edm", EDM()), ("vp", VPCosine())])
def test_blind_empirical_is_the_brute_force_double_sum(kind, precond):
    rng = np.random.default_rng(1)
    points = rng.uniform(-1, 1, (5, 3))
    oracles = [denoisers.BlindEmpiricalDenoiser(points, precond, chunk=c) for c in (1, 2, 1024)]
    want = empirical_terms(points)
    for sigma in (0.02, 0.3, 2.0, 40.0):
        x = noisy(rng, points[rng.integers(0, 5, 4)], sigma)
        expected = brute_blind(x.numpy(), sigma, kind, want)
        # 1e-8: the default quadrature's error in d = 3 (test_quadrature_error_is_below_1e-6)
        np.testing.assert_allclose(oracles[-1](x, sigma).numpy(), expected, rtol=0, atol=1e-8)
        for chunked in oracles[:-1]:  # chunked == unchunked
            torch.testing.assert_close(chunked(x, sigma), oracles[-1](x, sigma), rtol=0, atol=1e-13)


def quadrature_error(make, draw, dim):
    """Largest |D| difference between the default quadrature and one 12 times finer over +- 12 prior deviations,
    at sigma over the sampler range, x drawn at sigma."""
    coarse, fine = make(), make(span=12.0, step=min(1.2, 1 / math.sqrt(2 * dim)) / 12)
    return max((coarse(x, sigma) - fine(x, sigma)).abs().max().item()
               for sigma in (0.002, 0.01, 0.05, 0.2, 1.0, 5.0, 80.0) for x in [draw(sigma)])


@pytest.mark.parametrize("dim", [2, 12, 64])
def test_quadrature_error_is_below_1e_6(dim):
    """Measured (docs/blind-oracles.md): Gaussian <= 3e-14, empirical <= 8e-9 (the largest at dim 2)."""
    rng = np.random.default_rng(2)
    lam = np.maximum(0.3 * np.arange(1, dim + 1) ** -1.5, spectrum.QUANTISATION_FLOOR)  # an image-like decay
    mean, vectors = rng.uniform(-0.3, 0.3, dim), np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    points = rng.uniform(-1, 1, (100, dim)) * np.linspace(1, 0.05, dim)

    def gaussian_draw(sigma):
        return noisy(rng, mean + (rng.standard_normal((4, dim)) * np.sqrt(lam)) @ vectors.T, sigma)

    errors = [
        quadrature_error(lambda **kw: denoisers.BlindGaussianDenoiser(mean, lam, vectors, **kw), gaussian_draw, dim),
        quadrature_error(lambda **kw: denoisers.BlindEmpiricalDenoiser(points, chunk=32, **kw),
                         lambda sigma: noisy(rng, points[rng.integers(0, 100, 4)], sigma), dim),
    ]
    assert max(errors) < 1e-6, errors


def test_a_concentrated_training_sigma_gives_the_conditioned_oracles():
    """Limit 1: ln s ~ N(ln s0, tiny^2) makes the blind oracle the conditioned one at s0, and its posterior s0."""
    rng = np.random.default_rng(3)
    mean, _, lam, vectors = random_gaussian(rng, 4)
    points = rng.uniform(-1, 1, (6, 4))
    for s0 in (0.05, 0.7, 9.0):
        precond = EDM(p_mean=math.log(s0), p_std=1e-9)
        pairs = [(denoisers.BlindGaussianDenoiser(mean, lam, vectors, precond),
                  denoisers.GaussianDenoiser(mean, lam, vectors), mean),
                 (denoisers.BlindEmpiricalDenoiser(points, precond), denoisers.EmpiricalDenoiser(points), points[0])]
        for blind, conditioned, centre in pairs:
            x = noisy(rng, np.tile(centre, (5, 1)), s0)
            torch.testing.assert_close(blind(x, s0), conditioned(x, s0), rtol=0, atol=1e-7)
            np.testing.assert_allclose(blind.sigma_posterior(x, s0).mean_log.numpy(), math.log(s0), atol=1e-8)


def test_sigma_posterior_is_the_brute_force_posterior():
    rng = np.random.default_rng(4)
    mean, cov, lam, vectors = random_gaussian(rng, 3, scale=0.3)
    oracle = denoisers.BlindGaussianDenoiser(mean, lam, vectors)
    s, log_q, scalings = training_noise("edm")
    for sigma in (0.05, 1.0):
        x = noisy(rng, mean + rng.standard_normal((3, 3)) @ np.linalg.cholesky(cov).T, sigma)
        c_in = scalings(s)[2]
        xp = scalings(np.array(sigma))[2] * x.numpy()[:, None, :] / c_in[None, :, None]
        log_post = log_q + gaussian_terms(mean, cov)(xp, s)[0] - 3 * np.log(c_in)
        want = softmax(log_post, axis=1) @ np.log(s)
        got = oracle.sigma_posterior(x, sigma)
        assert got.weights.shape == (3, got.sigmas.numel())
        torch.testing.assert_close(got.weights.sum(dim=1), torch.ones(3, dtype=torch.float64), rtol=0, atol=1e-12)
        np.testing.assert_allclose(got.mean_log.numpy(), want, rtol=0, atol=1e-9)


def test_the_sigma_posterior_narrows_to_one_over_sqrt_2d():
    """Limit 2: x at sigma with lambda << sigma^2 << sigma_data^2 is nearly N(0, sigma^2 I) and u = c_in x keeps
    its scale; ln sigma_hat (posterior mean) then errs by ~ 1/2 ln(chi^2_d / d), of RMS -> 1 / sqrt(2 d).
    (At sigma >~ sigma_data, c_in sigma -> 1 hides the scale and the posterior widens, so this limit is taken
    below.) The same draws serve every d; RMS * sqrt(2 d) is 1.07, 1.02, 1.01 here, Monte Carlo
    error 2-3%."""
    rng = np.random.default_rng(5)
    sigma, top = 0.02, 256
    noise = rng.standard_normal((2000, top))
    ratios = []
    for d, n in ((16, 2000), (64, 1500), (256, 600)):
        lam = 1e-6 * (1 + np.arange(d) / d)  # a fixed shape
        oracle = denoisers.BlindGaussianDenoiser(np.zeros(d), lam, np.eye(d))
        x = torch.from_numpy(noise[:n, :d] * np.sqrt(lam + sigma**2))
        error = oracle.sigma_posterior(x, sigma).mean_log.numpy() - math.log(sigma)
        ratios.append(np.sqrt(np.mean(error**2) * 2 * d))
    assert all(0.95 < r < 1.12 for r in ratios), ratios
    assert abs(ratios[-1] - 1) < 0.05 and abs(ratios[-1] - 1) < abs(ratios[0] - 1), ratios


def test_blind_oracles_share_the_conditioned_ones_constructors_and_samplers():
    rng = np.random.default_rng(6)
    images = rng.integers(0, 256, (30, 2, 2, 3), dtype=np.uint8)
    spec = spectrum.compute(images, chunk=16)
    blind = denoisers.BlindGaussianDenoiser.from_spectrum(spec, precond=VPCosine())
    conditioned = denoisers.GaussianDenoiser.from_spectrum(spec)
    assert isinstance(blind.precond, VPCosine) and blind.sigmas.numel() == 1000
    torch.testing.assert_close(blind.sample(4, torch.Generator().manual_seed(0)),
                               conditioned.sample(4, torch.Generator().manual_seed(0)), rtol=0, atol=0)
    empirical = denoisers.BlindEmpiricalDenoiser.fit(images, chunk=8, precond=EDM(p_std=1.0))
    np.testing.assert_array_equal(empirical.points.numpy(), spectrum.scale(images))
    assert empirical.chunk == 8 and empirical.precond.p_std == 1.0
    x = empirical.start(3, 80.0, "edm", torch.Generator().manual_seed(1))
    assert x.shape == (3, 12) and torch.isfinite(empirical(x, 80.0)).all()


def test_float32_agrees_with_float64():
    rng = np.random.default_rng(7)
    mean, _, lam, vectors = random_gaussian(rng, 5, scale=0.3)
    points = rng.uniform(-1, 1, (20, 5))
    for make in (lambda dtype: denoisers.BlindGaussianDenoiser(mean, lam, vectors, dtype=dtype),
                 lambda dtype: denoisers.BlindEmpiricalDenoiser(points, dtype=dtype)):
        single, double = make(torch.float32), make(torch.float64)
        for sigma in (0.05, 1.0, 20.0):
            x = noisy(rng, points[:4], sigma)
            out = single(x.float(), sigma)
            assert out.dtype == torch.float32
            torch.testing.assert_close(out.double(), double(x, sigma), rtol=0, atol=1e-4 * max(1.0, sigma))


def test_bad_inputs_are_refused_with_clear_messages():
    rng = np.random.default_rng(8)
    mean, _, lam, vectors = random_gaussian(rng, 3)
    oracle = denoisers.BlindGaussianDenoiser(mean, lam, vectors)
    empirical = denoisers.BlindEmpiricalDenoiser(rng.uniform(-1, 1, (4, 3)))
    x = torch.zeros(2, 3, dtype=torch.float64)
    for blind in (oracle, empirical):
        with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
            blind(torch.zeros(2, 4, dtype=torch.float64), 1.0)
        with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
            blind.sigma_posterior(torch.zeros(3, dtype=torch.float64), 1.0)
        with pytest.raises(ValueError, match="dtype=torch.float32"):
            blind.network(x.float())
        for sigma in (0.0, -1.0, float("inf")):
            with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
                blind(x, sigma)
            with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
                blind.sigma_posterior(x, sigma)
    for precond in ("edm", object()):
        with pytest.raises(ValueError, match=r"unknown preconditioning .*EDM or VPCosine object \(.*get\(name\)"):
            denoisers.BlindGaussianDenoiser(mean, lam, vectors, precond)
    with pytest.raises(ValueError, match="unknown preconditioning"):
        denoisers.BlindEmpiricalDenoiser(np.zeros((2, 3)), precond=None)
    with pytest.raises(ValueError, match="span and step"):
        denoisers.BlindGaussianDenoiser(mean, lam, vectors, step=0.0)
    with pytest.raises(ValueError, match="span and step"):
        denoisers.BlindEmpiricalDenoiser(np.zeros((2, 3)), span=-1.0)
    with pytest.raises(ValueError, match="eigenvectors"):
        denoisers.BlindGaussianDenoiser(mean, lam, vectors[:, :2])
