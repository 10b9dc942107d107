"""The stationary (Fourier) spectrum against exact linear algebra and a circulant Gaussian model."""

import numpy as np
import pytest

from diffsched.data import stationary


def stationary_eigenvalues(x, shape, blocks=5):
    _, power, n = stationary.moments(np.array_split(x.reshape(len(x), -1), blocks), *shape)
    assert n == len(x)
    return stationary.eigenvalues(power, shape[1])


def full_eigenvalues(x):
    return np.sort(np.linalg.eigvalsh(np.cov(x.reshape(len(x), -1), rowvar=False)))[::-1]


def test_trace_is_kept_and_the_spectrum_is_majorised_by_the_full_one():
    rng = np.random.default_rng(0)
    h, w, c = 4, 6, 3
    # Not stationary: a structured mean, per-pixel scales, and correlations across distant pixels.
    x = rng.standard_normal((400, h * w * c)) @ rng.standard_normal((h * w * c, h * w * c)) * 0.1
    x = (x * rng.uniform(0.2, 2.0, h * w * c) + np.linspace(-1, 1, h * w * c)).reshape(-1, h, w, c)
    approx, full = stationary_eigenvalues(x, (h, w, c)), full_eigenvalues(x)
    assert approx.shape == full.shape == (h * w * c,)
    assert np.all(np.diff(approx) <= 0)
    assert approx.sum() == pytest.approx(full.sum(), rel=1e-12)
    assert np.all(np.cumsum(approx) <= np.cumsum(full) + 1e-10 * full.sum())
    assert not np.allclose(approx, full, rtol=1e-3)  # the data is far from stationary


@pytest.mark.parametrize("h,w,c", [(4, 6, 3), (5, 3, 2), (3, 1, 4)])
def test_exact_for_a_shift_invariant_sample_covariance(h, w, c):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((10, h, w, c)) * rng.uniform(0.1, 3.0, (h, w, c))
    # Every cyclic shift of every image: the per-pixel mean is constant and the covariance block-circulant.
    x = np.concatenate([np.roll(base, (i, j), axis=(1, 2)) for i in range(h) for j in range(w)])
    np.testing.assert_allclose(stationary_eigenvalues(x, (h, w, c)), full_eigenvalues(x), rtol=0, atol=1e-12)


def circulant_model(rng, h, w, c):
    """Kernels of a stationary Gaussian field x_c = sum_c' k_cc' (*) z_c' (circular convolution, z white)."""
    di = np.minimum(np.arange(h), h - np.arange(h))[:, None]
    dj = np.minimum(np.arange(w), w - np.arange(w))[None, :]
    kernels = rng.standard_normal((c, c, h, w)) * np.exp(-(di + dj))  # correlations decay with distance
    return np.fft.fft2(kernels).transpose(2, 3, 0, 1)  # K(f): h x w x c x c


def sample(transfer, z):
    """x = IDFT(K(f) DFT(z)(f)) for white z (n x h x w x c)."""
    zf = np.fft.fft2(z, axes=(1, 2))
    return np.fft.ifft2(np.einsum("ijcd,nijd->nijc", transfer, zf), axes=(1, 2)).real


def model_eigenvalues(transfer):
    """Closed form: the covariance's eigenvalues are those of K(f) K(f)^H over all frequencies."""
    c = transfer.shape[-1]
    blocks = transfer.reshape(-1, c, c)
    return np.sort(np.linalg.eigvalsh(blocks @ blocks.conj().transpose(0, 2, 1)).ravel())[::-1]


def test_the_circulant_model_has_the_closed_form_spectrum():
    rng = np.random.default_rng(2)
    h, w, c = 4, 5, 2
    transfer = circulant_model(rng, h, w, c)
    linear_map = sample(transfer, np.eye(h * w * c).reshape(-1, h, w, c)).reshape(h * w * c, -1).T
    cov = linear_map @ linear_map.T
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(cov))[::-1], model_eigenvalues(transfer), atol=1e-12)


def test_stationary_and_full_estimates_converge_to_the_circulant_model():
    rng = np.random.default_rng(3)
    h, w, c, n = 8, 8, 2, 20_000
    transfer = circulant_model(rng, h, w, c)
    x = sample(transfer, rng.standard_normal((n, h, w, c))) + 0.5
    true = model_eigenvalues(transfer)
    approx_error = np.max(np.abs(stationary_eigenvalues(x, (h, w, c), blocks=9) / true - 1))
    full_error = np.max(np.abs(full_eigenvalues(x) / true - 1))
    # Each P(f) averages n outer products: relative standard error about sqrt(2 / n) (0.01 here).
    assert approx_error < 5 * np.sqrt(2 / n)
    # The full estimate spreads as Marchenko-Pastur, up to about 2 sqrt(d / n) (0.16 here).
    assert full_error < 3 * np.sqrt(h * w * c / n)
    assert approx_error < full_error
