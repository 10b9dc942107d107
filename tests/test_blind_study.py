"""The blind-vs-conditioned Gaussian study (diffsched.studies.blind_study) against independent expectations."""

import math

import numpy as np
import torch
import pytest

from diffsched.studies import blind_study, sweep
from diffsched.data import spectrum
from diffsched.models import denoisers
from diffsched.models.precond import EDM


def model(eigenvalues, seed=0):
    rng = np.random.default_rng(seed)
    d = len(eigenvalues)
    vectors, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return spectrum.Spectrum(rng.normal(0, 0.3, d), np.asarray(eigenvalues, float), vectors, 1e-6, 0, 1000)


def seeds(*names):
    return sweep.generator(0, "test", *names)


def test_w2_and_kl_on_hand_computed_cases():
    v, lam = np.array([4.0, 1.0]), np.array([1.0, 1.0])
    assert blind_study.w2_per_dim(v, lam) == pytest.approx(((2 - 1) ** 2 + 0) / 2)
    assert blind_study.kl_per_direction(v, lam) == pytest.approx((4 - 1 - math.log(4)) / 2 / 2)
    assert blind_study.w2_per_dim(lam, lam) == 0 and blind_study.kl_per_direction(lam, lam) == 0
    # KL(N(0, 1) || N(0, 4)) = (1/4 - 1 + ln 4) / 2
    assert blind_study.kl_per_direction([1.0], [4.0]) == pytest.approx((0.25 - 1 + math.log(4)) / 2)


def test_identical_arms_give_a_zero_difference_whose_interval_contains_zero():
    z = np.random.default_rng(1).standard_normal((50, 4))
    table = blind_study.measures({"s": {"conditioned": z, "blind": z}}, np.ones(4), 200, np.random.default_rng(2))
    assert (table["difference"] == 0).all()
    assert ((table["difference_lo"] <= 0) & (table["difference_hi"] >= 0)).all()
    assert (table["verdict"] == "no resolved difference").all()
    assert (table["conditioned_lo"] < table["conditioned_hi"]).all()
    wide = blind_study.measures({"s": {"conditioned": z, "blind": 3 * z}}, np.ones(4), 200, np.random.default_rng(2))
    assert (wide["verdict"] == "blind worse").all()


def test_conditioned_heun_with_many_steps_has_the_data_variances():
    lam = [0.05, 0.5, 2.0]
    samples, _ = blind_study.run(model(lam), {"heun": {"solver": "heun", "steps": 50}}, 8000, seeds)
    v = (samples["heun"]["conditioned"] ** 2).mean(axis=0)
    np.testing.assert_allclose(v, lam, rtol=5 * math.sqrt(2 / 8000))  # five standard errors


def test_a_training_sigma_concentrated_at_the_sampled_level_makes_the_arms_agree():
    s0 = 0.7
    precond = EDM(p_mean=math.log(s0), p_std=1e-9)
    samplers = {"euler": {"solver": "euler", "steps": 1}, "ancestral": {"solver": "euler_ancestral", "steps": 1}}
    samples, gap = blind_study.run(model([0.05, 0.5, 2.0, 0.01]), samplers, 200, seeds, sigma_max=s0,
                                   trajectory="euler", precond_kwargs={"precond": precond})
    for arms in samples.values():
        np.testing.assert_allclose(arms["blind"], arms["conditioned"], atol=1e-7)
    assert set(gap["sigma"]) == {s0} and gap["gap"].max() < 1e-12


def test_pooled_points_average_each_block_in_float():
    images = np.zeros((1, 2, 4, 3), dtype=np.uint8)
    images[0, :, :2] = [[0, 51, 255], [1, 51, 255]]  # left block: red 0, 0, 1, 1 -> mean 0.5 (not rounded)
    images[0, :, 2:, 1] = 255
    rows = blind_study.pooled_points(images, 2)
    expected = np.array([[0.5, 51, 255], [0, 255, 0]]).ravel() / 127.5 - 1.0  # HWC: block (0, 0), then (0, 1)
    np.testing.assert_allclose(rows, expected[None], atol=1e-15)


@pytest.mark.parametrize("channels", [3, 1])
def test_pooled_spectrum_is_the_spectrum_of_pooled_images(channels):
    images = np.random.default_rng(3).integers(0, 256, (400, 4, 4, channels), dtype=np.uint8)
    spec = spectrum.compute(images)
    low = blind_study.pooled(spec, 2)
    rows = blind_study.pooled_points(images, 2)
    np.testing.assert_allclose(low.mean, rows.mean(axis=0), atol=1e-12)
    cov = (low.eigenvectors * low.eigenvalues) @ low.eigenvectors.T
    np.testing.assert_allclose(cov, np.cov(rows.T), atol=1e-12)
    assert blind_study.pooled(spec, 1) is spec
    with pytest.raises(ValueError, match="cannot pool"):
        blind_study.pooled(spec, 3)


def test_grey_gaussian_samples_have_the_data_mean_and_variances():
    rng = np.random.default_rng(5)
    images = (rng.uniform(70, 180, (3000, 1, 1, 1)) + rng.uniform(-15, 15, (3000, 4, 4, 1))).round().astype(np.uint8)
    spec = spectrum.compute(images)
    oracle = denoisers.GaussianDenoiser.from_spectrum(spec)
    grid = [80.0 * (0.002 / 80.0) ** (i / 39) for i in range(40)] + [0.0]
    start = 80.0 * torch.randn(4000, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    samples = sweep.sample(oracle, start, grid, "heun", 4)
    assert samples.shape == (4000, 4, 4, 1) and samples.dtype == np.uint8
    x = samples.reshape(4000, 16).astype(np.float64)
    data = images.reshape(3000, 16).astype(np.float64)
    # Monte Carlo: standard error of a mean sqrt(33^2 / 4000) = 0.5 grey levels; of a variance ~2.5%
    np.testing.assert_allclose(x.mean(axis=0), data.mean(axis=0), atol=2.0)
    np.testing.assert_allclose(x.var(axis=0), data.var(axis=0), rtol=0.1)


def two_images():
    """Two 4x4 training images whose 2x2 block means A, B differ: a rank-one pooled spectrum."""
    images = np.random.default_rng(4).integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    return images, blind_study.pooled_points(images, 2)


def test_empirical_samples_are_measured_in_the_pooled_data_eigenbasis():
    # The conditioned empirical oracle with many Heun steps returns training rows A or B (it memorises), so in the
    # eigenbasis of the pooled spectrum only the top direction, (A - B) / |A - B|, carries variance: |A - B|^2 / 4
    # per sample, while the spectrum's eigenvalue there is the unbiased covariance's |A - B|^2 / 2.
    images, (a, b) = two_images()
    spec = blind_study.pooled(spectrum.compute(images), 2)
    samples, _ = blind_study.run(spec, {"heun": {"solver": "heun", "steps": 40}}, 64, seeds, oracle="empirical",
                                 points=np.stack([a, b]))
    z = samples["heun"]["conditioned"]
    top = np.argmax(spec.eigenvalues)
    half = np.sum((a - b) ** 2) / 4
    np.testing.assert_allclose(z[:, top] ** 2, half, rtol=1e-6)
    np.testing.assert_allclose(np.delete(z, top, axis=1), 0, atol=1e-6)
    assert spec.eigenvalues[top] == pytest.approx(2 * half, abs=spec.floor)  # the floored directions, pooled
    table = blind_study.measures(samples, spec.eigenvalues, 50, np.random.default_rng(0))
    w2 = table.set_index("measure").loc["w2", "conditioned"]
    others = np.delete(spec.eigenvalues, top)  # the floor, where the samples have no variance
    expected = ((np.sqrt(half) - np.sqrt(spec.eigenvalues[top])) ** 2 + np.sum(others)) / spec.mean.size
    assert w2 == pytest.approx(expected, rel=1e-5)
    # and the eigenbasis samples turn back into the pooled training images
    pooled = blind_study.sample_images(z, spec)
    assert all(any((im == t).all() for t in blind_study.sample_images((np.stack([a, b]) - spec.mean)
                                                                      @ spec.eigenvectors, spec)) for im in pooled)


def test_the_empirical_study_is_deterministic_given_its_seed():
    images, points = two_images()
    spec = blind_study.pooled(spectrum.compute(images), 2)
    samplers = {"anc": {"solver": "euler_ancestral", "steps": 3}}

    def once(name):
        return blind_study.run(spec, samplers, 8, lambda *n: sweep.generator(0, name, *n), oracle="empirical",
                               points=points, trajectory="anc")

    (first, gap1), (again, gap2), (other, _) = once("a"), once("a"), once("b")
    for arm in blind_study.ARMS:
        np.testing.assert_array_equal(first["anc"][arm], again["anc"][arm])
        assert not np.array_equal(first["anc"][arm], other["anc"][arm])
    assert gap1.equals(gap2)


def test_unknown_oracle_is_refused():
    with pytest.raises(ValueError, match="unknown oracle 'mixture'"):
        blind_study.oracles("mixture", model([1.0, 2.0]))


def test_scores_pair_the_arms_over_the_start_states():
    rng = np.random.default_rng(5)
    reference, x = rng.standard_normal((200, 6)), rng.standard_normal((40, 6))
    table = blind_study.scores({"same": {"conditioned": x, "blind": x}, "shifted": {"conditioned": x, "blind": x + 3}},
                               reference, 100, 0)
    assert list(zip(table["sampler"], table["measure"])) == [("same", "fid"), ("same", "kid"), ("shifted", "fid"),
                                                             ("shifted", "kid")]
    same = table[table["sampler"] == "same"]
    assert (same["difference"] == 0).all() and (same["verdict"] == "no resolved difference").all()
    row = table.iloc[2]
    # a mean shift of 3 in each of 6 features adds |3 * 1|^2 = 54 to the FID (within the samples' own error)
    assert row["difference"] == pytest.approx(54, rel=0.1) and row["verdict"] == "blind worse"
    assert row["conditioned"] == pytest.approx(bootstrap_fid(x, reference))


def bootstrap_fid(x, reference):
    """The Frechet distance from the moments (scipy's matrix square root), independent of
    diffsched.metrics.bootstrap."""
    from scipy import linalg

    m1, m2, s1, s2 = x.mean(0), reference.mean(0), np.cov(x.T), np.cov(reference.T)
    return float(np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real))
