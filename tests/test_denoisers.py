"""Oracle denoisers against independent closed forms, naive computations and the exact Gaussian theory."""

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import softmax
from torch.profiler import ProfilerActivity, profile

from diffsched.models import denoisers
from diffsched.method import gaussian, schedules, solvers
from diffsched.data import spectrum


def random_gaussian(rng, d, scale=1.0):
    """Mean, non-diagonal covariance, and its descending eigen-decomposition."""
    a = rng.standard_normal((d, d))
    cov = scale * (a @ a.T / d + 0.05 * np.eye(d))
    lam, vectors = spectrum.eigen(cov)
    return rng.standard_normal(d), cov, lam, vectors


def posterior_mean(x, mean, cov, sigma):
    """E[x0 | x] for x0 ~ N(mean, cov), x = x0 + sigma eps: mean + cov (cov + sigma^2 I)^-1 (x - mean)."""
    d = mean.size
    return mean + np.linalg.solve(cov + sigma**2 * np.eye(d), (x - mean).T).T @ cov


def generator(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("sigma", [0.01, 0.3, 1.0, 7.0])
def test_gaussian_oracle_is_the_conditional_expectation(sigma):
    rng = np.random.default_rng(0)
    mean, cov, lam, vectors = random_gaussian(rng, 6)
    x = rng.standard_normal((5, 6)) * 2.0
    oracle = denoisers.GaussianDenoiser(mean, lam, vectors)
    np.testing.assert_allclose(oracle(torch.from_numpy(x), sigma).numpy(), posterior_mean(x, mean, cov, sigma),
                               rtol=0, atol=1e-12)


def test_gaussian_oracle_limits_and_float32():
    rng = np.random.default_rng(1)
    mean, _, lam, vectors = random_gaussian(rng, 5)
    oracle = denoisers.GaussianDenoiser(mean, lam, vectors)
    x = torch.from_numpy(rng.standard_normal((4, 5)))
    torch.testing.assert_close(oracle(x, 0.0), x, rtol=0, atol=1e-12)
    torch.testing.assert_close(oracle(x, 1e-7), x, rtol=0, atol=1e-10)
    torch.testing.assert_close(oracle(x, 1e7), torch.from_numpy(mean).expand(4, 5), rtol=0, atol=1e-10)
    single = denoisers.GaussianDenoiser(mean, lam, vectors, dtype=torch.float32)
    out = single(x.float(), 0.5)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), oracle(x, 0.5), rtol=0, atol=1e-5)


def test_gaussian_samples_and_starts_have_the_model_moments():
    rng = np.random.default_rng(2)
    mean, cov, lam, vectors = random_gaussian(rng, 4)
    oracle = denoisers.GaussianDenoiser(mean, lam, vectors)
    n, s = 20_000, 3.0
    for x, want_mean, want_cov in [
        (oracle.sample(n, generator(0)), mean, cov),
        (oracle.start(n, s, "exact", generator(1)), mean, cov + s**2 * np.eye(4)),
        (oracle.start(n, s, "edm", generator(2)), np.zeros(4), s**2 * np.eye(4)),
        (oracle.start(n, s, "vp", generator(3)), np.zeros(4), (1 + s**2) * np.eye(4)),
    ]:
        x = x.numpy()
        scale = np.sqrt(np.diag(want_cov))
        # Standard errors: sd / sqrt(n) for the mean, about sqrt(2 / n) for a correlation-scale covariance entry.
        assert np.all(np.abs(x.mean(axis=0) - want_mean) < 5 * scale / np.sqrt(n))
        assert np.all(np.abs(np.cov(x, rowvar=False) - want_cov) / np.outer(scale, scale) < 5 * np.sqrt(2 / n))
    torch.testing.assert_close(oracle.sample(3, generator(7)), oracle.sample(3, generator(7)), rtol=0, atol=0)


def test_heun_with_the_gaussian_oracle_reproduces_the_exact_output_covariance():
    rng = np.random.default_rng(3)
    mean, _, lam, vectors = random_gaussian(rng, 4, scale=0.3)
    oracle = denoisers.GaussianDenoiser(mean, lam, vectors)
    grid = schedules.get("edm", 3, 0.002, 80.0)  # coarse: heun's output variance is far from lambda
    log_v, _ = gaussian.output_moments(lam, grid, "heun", "exact")
    v = np.exp(log_v)
    assert np.max(np.abs(v / lam - 1.0)) > 0.5
    n = 8_000
    z = (solvers.heun(oracle, oracle.start(n, grid[0], "exact", generator(4)), grid).numpy() - mean) @ vectors
    tol = 5.0 * np.sqrt(2.0 / n)  # relative standard error of a sample variance, 5 sigma
    np.testing.assert_allclose(z.var(axis=0) / v, 1.0, atol=tol)
    corr = np.corrcoef(z, rowvar=False)
    assert np.all(np.abs(corr - np.eye(4)) < 5.0 / np.sqrt(n))
    assert np.all(np.abs(z.mean(axis=0)) < 5.0 * np.sqrt(v / n))


def random_mixture(rng, k, d):
    parts = [random_gaussian(rng, d) for _ in range(k)]
    weights = rng.uniform(0.5, 2.0, k)
    means = np.stack([p[0] for p in parts]) * 1.5
    covs = [p[1] for p in parts]
    return weights / weights.sum(), means, covs, np.stack([p[2] for p in parts]), np.stack([p[3] for p in parts])


@pytest.mark.parametrize("sigma", [0.05, 0.5, 3.0])
def test_mixture_matches_scipy_responsibilities_and_the_direct_posterior_mean(sigma):
    rng = np.random.default_rng(4)
    weights, means, covs, lam, vectors = random_mixture(rng, 3, 4)
    oracle = denoisers.GaussianMixtureDenoiser(weights * 7.0, means, lam, vectors)  # weights get normalised
    x = means[rng.integers(0, 3, 6)] + rng.standard_normal((6, 4))
    log_joint = np.stack([np.log(w) + stats.multivariate_normal(m, c + sigma**2 * np.eye(4)).logpdf(x)
                          for w, m, c in zip(weights, means, covs)], axis=1)
    resp = softmax(log_joint, axis=1)
    got = oracle.responsibilities(torch.from_numpy(x), sigma).numpy()
    np.testing.assert_allclose(got, resp, rtol=1e-9, atol=1e-12)
    want = sum(resp[:, [j]] * posterior_mean(x, means[j], covs[j], sigma) for j in range(3))
    np.testing.assert_allclose(oracle(torch.from_numpy(x), sigma).numpy(), want, rtol=0, atol=1e-11)


def test_mixture_of_one_component_is_the_gaussian_oracle():
    rng = np.random.default_rng(5)
    mean, _, lam, vectors = random_gaussian(rng, 5)
    mixture = denoisers.GaussianMixtureDenoiser([1.0], mean[None], lam[None], vectors[None])
    oracle = denoisers.GaussianDenoiser(mean, lam, vectors)
    x = torch.from_numpy(rng.standard_normal((3, 5)) * 4.0)
    for sigma in (0.0, 0.1, 2.0, 50.0):
        torch.testing.assert_close(mixture(x, sigma), oracle(x, sigma), rtol=0, atol=1e-12)


def test_mixture_is_invariant_to_batching_and_component_order():
    rng = np.random.default_rng(6)
    weights, means, _, lam, vectors = random_mixture(rng, 4, 3)
    oracle = denoisers.GaussianMixtureDenoiser(weights, means, lam, vectors)
    order = [2, 0, 3, 1]
    permuted = denoisers.GaussianMixtureDenoiser(weights[order], means[order], lam[order], vectors[order])
    x = torch.from_numpy(rng.standard_normal((7, 3)) * 30.0)  # far out: responsibilities near 0 / 1
    for sigma in (0.01, 1.0):
        whole = oracle(x, sigma)
        torch.testing.assert_close(torch.cat([oracle(x[i : i + 1], sigma) for i in range(7)]), whole,
                                   rtol=0, atol=1e-12)
        torch.testing.assert_close(permuted(x, sigma), whole, rtol=0, atol=1e-12)
        assert torch.isfinite(whole).all()


def test_mixture_fit_uses_class_moments_and_samples_the_mixture():
    rng = np.random.default_rng(7)
    labels = np.repeat([3, 8], [30, 90])
    images = np.where(labels[:, None, None, None] == 3, 40, 200) + rng.integers(-30, 31, (120, 2, 2, 3))
    images = images.astype(np.uint8)
    oracle = denoisers.GaussianMixtureDenoiser.fit(images, labels, floor=1e-4)
    flat = spectrum.scale(images)
    for k, c in enumerate((3, 8)):
        rows = flat[labels == c]
        cov = oracle.eigenvectors[k] @ torch.diag(oracle.eigenvalues[k]) @ oracle.eigenvectors[k].T
        np.testing.assert_allclose(oracle.means[k].numpy(), rows.mean(axis=0), atol=1e-12)
        np.testing.assert_allclose(cov.numpy(), np.cov(rows, rowvar=False), atol=1e-12)
    np.testing.assert_allclose(oracle.weights.numpy(), [0.25, 0.75])
    n = 4_000
    x = oracle.sample(n, generator(8)).numpy()
    dark = x.mean(axis=1) < 0  # the classes are far apart: the component of each draw is plain
    assert abs(dark.mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / n)
    np.testing.assert_allclose(x[dark].mean(axis=0), oracle.means[0].numpy(), atol=0.02)
    with pytest.raises(ValueError, match="no labels"):
        denoisers.GaussianMixtureDenoiser.fit(images, None)
    with pytest.raises(ValueError, match="needs >= 2"):
        denoisers.GaussianMixtureDenoiser.fit(images, np.r_[labels[:-1], 5])


def naive_empirical(x, points, sigma):
    d2 = ((x[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    return softmax(-d2 / (2 * sigma**2), axis=1) @ points


def test_empirical_with_one_point_returns_it():
    point = np.random.default_rng(8).standard_normal((1, 6))
    oracle = denoisers.EmpiricalDenoiser(point)
    x = torch.randn(4, 6, dtype=torch.float64, generator=generator(9)) * 100
    for sigma in (1e-4, 1.0, 1e4):
        torch.testing.assert_close(oracle(x, sigma), torch.from_numpy(point).expand(4, 6), rtol=0, atol=1e-12)


@pytest.mark.parametrize("chunk", [1, 3, 7, 20, 64])
def test_empirical_matches_the_naive_softmax_for_any_chunk(chunk):
    rng = np.random.default_rng(9)
    points = rng.uniform(-1, 1, (20, 5))
    x = rng.uniform(-1.5, 1.5, (6, 5))
    oracle = denoisers.EmpiricalDenoiser(points, chunk=chunk)
    for sigma in (0.05, 0.3, 2.0):
        np.testing.assert_allclose(oracle(torch.from_numpy(x), sigma).numpy(), naive_empirical(x, points, sigma),
                                   rtol=0, atol=1e-12)


def test_empirical_limits_nearest_point_and_mean():
    rng = np.random.default_rng(10)
    images = rng.integers(0, 256, (30, 2, 2, 3), dtype=np.uint8)
    oracle = denoisers.EmpiricalDenoiser.fit(images, chunk=8)
    points = spectrum.scale(images)
    np.testing.assert_array_equal(oracle.points.numpy(), points)
    x = rng.uniform(-1, 1, (5, 12))
    nearest = points[np.argmin(((x[:, None] - points[None]) ** 2).sum(axis=2), axis=1)]
    np.testing.assert_allclose(oracle(torch.from_numpy(x), 1e-4).numpy(), nearest, rtol=0, atol=1e-12)
    np.testing.assert_allclose(oracle(torch.from_numpy(x), 1e5).numpy(), np.tile(points.mean(axis=0), (5, 1)),
                               rtol=0, atol=1e-8)
    drawn = oracle.sample(50, generator(11)).numpy()
    assert all((points == row).all(axis=1).any() for row in drawn)
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
        oracle(torch.from_numpy(x), 0.0)


def test_empirical_memory_stays_within_one_chunk():
    """N = 20,000 CIFAR-size float32 points (234 MiB): a call of batch 64 with chunk 1024 may allocate a
    (64, 1024) logit block and (64, 3072) accumulators, a few MiB (3.5 measured); one unchunked (64, N)
    block takes 15 MiB, an N x d copy 234 MiB."""
    torch.manual_seed(0)
    n, d, batch = 20_000, 3072, 64
    oracle = denoisers.EmpiricalDenoiser(torch.rand(n, d) * 2 - 1, chunk=1024, dtype=torch.float32)
    x = oracle.sample(batch, generator(12)) + 0.5 * torch.randn(batch, d, generator=generator(13))
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = oracle(x, 0.5)
    extra = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        extra += event.self_cpu_memory_usage
        peak = max(peak, extra)
    assert out.shape == (batch, d) and torch.isfinite(out).all()
    assert peak < 8 * 2**20, f"peak extra allocation {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("channels", [3, 1])
def test_image_helpers_round_trip_in_hwc_order(channels):
    rng = np.random.default_rng(12)
    images = rng.integers(0, 256, (3, 4, 4, channels), dtype=np.uint8)
    rows = torch.from_numpy(spectrum.scale(images))
    nchw = denoisers.to_images(rows, 4)
    assert nchw.shape == (3, channels, 4, 4)
    torch.testing.assert_close(denoisers.to_uint8(nchw), torch.from_numpy(images).permute(0, 3, 1, 2))
    torch.testing.assert_close(denoisers.from_images(nchw), rows, rtol=0, atol=0)
    assert denoisers.image_shape(rows.shape[1]) == (4, channels)
    with pytest.raises(ValueError, match="resolution 5"):
        denoisers.to_images(rows, 5)


def test_image_shape_of_rgb_and_grey_rows():
    assert denoisers.image_shape(3 * 32 * 32) == (32, 3) and denoisers.image_shape(28 * 28) == (28, 1)
    assert denoisers.image_shape(3) == (1, 3) and denoisers.image_shape(1) == (1, 1)
    with pytest.raises(ValueError, match="not a square RGB or grey image"):
        denoisers.image_shape(2 * 8 * 8)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        denoisers.from_images(torch.zeros(2, 2, 4, 4))


def test_bad_inputs_name_the_problem():
    rng = np.random.default_rng(13)
    mean, _, lam, vectors = random_gaussian(rng, 3)
    oracle = denoisers.GaussianDenoiser(mean, lam, vectors)
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        oracle(torch.zeros(2, 4, dtype=torch.float64), 1.0)
    with pytest.raises(ValueError, match="torch tensor .* got a ndarray"):
        oracle(np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match="dtype=torch.float32"):
        oracle(torch.zeros(2, 3, dtype=torch.float32), 1.0)
    with pytest.raises(ValueError, match="sigma"):
        oracle(torch.zeros(2, 3, dtype=torch.float64), float("nan"))
    with pytest.raises(ValueError, match="eigenvectors"):
        denoisers.GaussianDenoiser(mean, lam, vectors[:, :2])
    with pytest.raises(ValueError, match="> 0"):
        denoisers.GaussianDenoiser(mean, -lam, vectors)
    with pytest.raises(ValueError, match="unknown init"):
        oracle.start(2, 80.0, "noise")
    with pytest.raises(ValueError, match="dtype"):
        denoisers.EmpiricalDenoiser(np.zeros((2, 3)), dtype=torch.float16)
    with pytest.raises(ValueError, match="weights"):
        denoisers.GaussianMixtureDenoiser([0.0], mean[None], lam[None], vectors[None])


def test_gaussian_from_spectrum_is_the_model_of_the_images():
    rng = np.random.default_rng(14)
    images = rng.integers(0, 256, (40, 2, 2, 3), dtype=np.uint8)
    spec = spectrum.compute(images, chunk=16)
    oracle = denoisers.GaussianDenoiser.from_spectrum(spec)
    flat = spectrum.scale(images)
    x = rng.uniform(-1, 1, (3, 12))
    np.testing.assert_allclose(oracle(torch.from_numpy(x), 0.2).numpy(),
                               posterior_mean(x, flat.mean(axis=0), np.cov(flat, rowvar=False), 0.2), atol=1e-12)
    spec.eigenvectors = np.empty((0, 0))
    with pytest.raises(ValueError, match="vectors=True"):
        denoisers.GaussianDenoiser.from_spectrum(spec)
