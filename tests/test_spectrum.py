import numpy as np
import pytest

from diffsched.method import gaussian
from diffsched.data import spectrum


def random_covariance(rng, eigenvalues):
    q, _ = np.linalg.qr(rng.standard_normal((eigenvalues.size, eigenvalues.size)))
    return q @ np.diag(eigenvalues) @ q.T


def test_eigenvalues_converge_to_the_true_ones():
    rng = np.random.default_rng(0)
    true = np.geomspace(4.0, 0.01, 8)
    cov = random_covariance(rng, true)
    errors = []
    for n in (300, 3_000, 30_000, 300_000):
        x = rng.multivariate_normal(np.full(8, 0.5), cov, size=n)
        _, est_cov, count = spectrum.moments(np.array_split(x, 7))
        values, _ = spectrum.eigen(est_cov)
        assert count == n
        errors.append(np.max(np.abs(values / true - 1.0)))
    # Sample eigenvalues of a Gaussian have relative standard error sqrt(2 / n).
    assert errors[-1] < 4.0 * np.sqrt(2.0 / 300_000)
    assert errors[-1] < errors[1] < errors[0]


@pytest.mark.parametrize("size", [1, 7, 64, 257, 1000])
def test_streaming_matches_one_shot_np_cov(size):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((257, 12)) * np.linspace(0.1, 3.0, 12) + 3.0
    mean, cov, n = spectrum.moments(x[a : a + size] for a in range(0, len(x), size))
    assert n == 257
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cov, np.cov(x, rowvar=False), rtol=0, atol=1e-12 * np.abs(cov).max())


def test_compute_on_uint8_images_matches_direct_formulas():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(50, 4, 4, 3), dtype=np.uint8)
    flat = images.reshape(50, -1).astype(np.float64) / 127.5 - 1.0
    spec = spectrum.compute(images, chunk=7)
    cov = np.cov(flat, rowvar=False)
    np.testing.assert_allclose(spec.mean, flat.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(spec.eigenvalues, np.sort(np.linalg.eigvalsh(cov))[::-1], atol=1e-12)
    assert np.all(np.diff(spec.eigenvalues) <= 0)
    v = spec.eigenvectors
    np.testing.assert_allclose(v @ np.diag(spec.eigenvalues) @ v.T, cov, atol=1e-12)


def test_scale_is_hwc_and_maps_0_255_to_minus_one_one():
    images = np.zeros((1, 2, 2, 3), dtype=np.uint8)
    images[0, 0, 0] = (255, 0, 255)
    x = spectrum.scale(images)
    assert x.shape == (1, 12)
    np.testing.assert_array_equal(x[0, :4], [1.0, -1.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="uint8"):
        spectrum.scale(images.astype(np.float32))


def test_rank_deficient_estimate_is_floored_and_recorded(tmp_path):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(5, 4, 4, 3), dtype=np.uint8)  # 5 samples in 48 dimensions
    raw = np.linalg.eigvalsh(np.cov(spectrum.scale(images), rowvar=False))
    floor = (2 / 255) ** 2 / 12
    spec = spectrum.compute(images, chunk=2, meta={"label": "synthetic", "checksum": "none"})
    assert spec.floor == pytest.approx(floor, rel=1e-15)
    assert spec.n_floored == int(np.sum(raw < floor)) >= 48 - 4
    assert spec.eigenvalues.min() == floor
    gaussian.check_eigenvalues(spec.eigenvalues)

    spectrum.save(tmp_path / "s.npz", spec)
    back = spectrum.load(tmp_path / "s.npz")
    assert (back.floor, back.n_floored, back.n_samples) == (spec.floor, spec.n_floored, 5)
    assert back.meta == {"label": "synthetic", "checksum": "none"}
    np.testing.assert_array_equal(back.eigenvalues, spec.eigenvalues)
    np.testing.assert_array_equal(back.eigenvectors, spec.eigenvectors)


@pytest.mark.parametrize("n", [2, 9, 48])
def test_few_images_decompose_from_the_rows_as_eigh_of_the_covariance(monkeypatch, n):
    """N <= d images (64x64 CelebA at a toy size): the same mean and spectrum, an orthonormal basis that
    reassembles the covariance, and no d x d eigh (it takes half an hour at d = 12,288 on two cores)."""
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, size=(n, 4, 4, 3), dtype=np.uint8)  # d = 48
    flat = spectrum.scale(images)
    cov = np.cov(flat, rowvar=False)
    floored, _ = spectrum.apply_floor(np.sort(np.linalg.eigvalsh(cov))[::-1])

    def no_eigh(_):
        raise AssertionError("eigh of the d x d covariance")

    monkeypatch.setattr(spectrum, "eigen", no_eigh)
    spec = spectrum.compute(images)
    assert spec.n_samples == n and spec.eigenvectors.shape == (48, 48)
    np.testing.assert_allclose(spec.mean, flat.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(spec.eigenvalues, floored, atol=1e-12)
    v = spec.eigenvectors
    np.testing.assert_allclose(v.T @ v, np.eye(48), atol=1e-12)
    raw = np.where(spec.eigenvalues > spec.floor, spec.eigenvalues, 0.0)  # the floor only lifts the null space
    np.testing.assert_allclose(v @ np.diag(raw) @ v.T, cov, atol=1e-12)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="at least 2 samples"):
        spectrum.moments([np.ones((1, 3))])
    with pytest.raises(ValueError, match="columns"):
        spectrum.moments([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="chunk size"):
        list(spectrum.chunks(np.zeros((2, 1, 1, 3), np.uint8), 0))
