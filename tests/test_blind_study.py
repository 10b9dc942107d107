"""The blind-vs-conditioned Gaussian study (diffsched.blind_study) against independent expectations."""

import math

import numpy as np
import pytest

from diffsched import blind_study, spectrum, sweep
from diffsched.precond import EDM


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


def test_pooled_spectrum_is_the_spectrum_of_pooled_images():
    images = np.random.default_rng(3).integers(0, 256, (400, 4, 4, 3), dtype=np.uint8)
    spec = spectrum.compute(images)
    low = blind_study.pooled(spec, 2)
    rows = spectrum.scale(images).reshape(-1, 2, 2, 2, 2, 3).mean(axis=(2, 4)).reshape(400, -1)
    np.testing.assert_allclose(low.mean, rows.mean(axis=0), atol=1e-12)
    cov = (low.eigenvectors * low.eigenvalues) @ low.eigenvectors.T
    np.testing.assert_allclose(cov, np.cov(rows.T), atol=1e-12)
    assert blind_study.pooled(spec, 1) is spec
    with pytest.raises(ValueError, match="cannot pool"):
        blind_study.pooled(spec, 3)
