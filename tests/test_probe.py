"""Noise-level inference (diffsched.studies.probe) against independent expectations: chi-square Monte Carlo for the norm
estimator, a constant predictor for the learned probe."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from diffsched.models import denoisers
from diffsched.studies import probe
from diffsched.data import spectrum

SIGMA_MIN, SIGMA_MAX = 0.002, 80.0


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def images():
    """Smooth random 8x8 RGB images (d = 192): a random colour plus a random horizontal ramp, uint8."""
    rng = np.random.default_rng(0)
    colour = rng.uniform(30, 220, (700, 1, 1, 3))
    ramp = rng.uniform(-30, 30, (700, 1, 1, 3)) * np.linspace(-1, 1, 8)[None, None, :, None]
    return np.broadcast_to(colour + ramp, (700, 8, 8, 3)).round().astype(np.uint8)


def test_second_moment_of_uint8_images_is_exact():
    values = np.arange(256, dtype=np.uint8)
    images = np.tile(values, 12).reshape(64, 4, 4, 3)  # every value 12 times
    expected = np.mean((np.arange(256) / 127.5 - 1.0) ** 2)
    assert probe.second_moment(images, chunk=5) == pytest.approx(expected, rel=1e-12)


def test_norm_estimator_spread_at_large_sigma_is_one_over_sqrt_2d():
    d, draws, s, sigma = 192, 4000, 0.5, 1000.0
    y = s * torch.randn(draws, d, generator=generator(1), dtype=torch.float64)
    x = probe.add_noise(y, torch.full((draws,), sigma, dtype=torch.float64), generator(2))
    ratio = probe.norm_estimate(x, s**2, SIGMA_MIN) / sigma
    # std(chi2_d / d)^(1/2) ~ sqrt(2/d) / 2 = 1/sqrt(2d) = 0.051; 1/sqrt(d) would be 0.072, sqrt(2/d) 0.102.
    assert ratio.std().item() == pytest.approx(1 / math.sqrt(2 * d), rel=0.06)
    assert probe.high_dim_prediction(d) == pytest.approx(1 / math.sqrt(2 * d))
    assert abs(ratio.mean().item() - 1.0) < 0.005  # unbiased to O(1/d) and Monte Carlo error 0.0008


def test_norm_estimator_is_floored_below_the_data_spread():
    x = torch.zeros(3, 12, dtype=torch.float64)  # ||x||^2 / d = 0 < m2
    assert torch.equal(probe.norm_estimate(x, 0.3, SIGMA_MIN), torch.full((3,), SIGMA_MIN, dtype=torch.float64))


def test_held_out_evaluation_norm_meets_the_prediction_and_the_probe_beats_a_constant(images, one_thread):
    train, test = probe.hold_out(images, 200)
    fitted = probe.train_probe(train, SIGMA_MIN, SIGMA_MAX, steps=300, batch=32, generator=generator())
    sigmas = probe.sigma_grid(SIGMA_MIN, SIGMA_MAX, 9)
    table = probe.evaluate(fitted, test, probe.second_moment(train), sigmas, SIGMA_MIN, generator(1))
    assert len(table) == 2 * len(sigmas) and set(table["estimator"]) == set(probe.ESTIMATORS)
    assert (table["n_test"] == 200).all() and (table["dimension"] == 192).all()

    top = table[(table["sigma"] == sigmas[-1]) & (table["estimator"] == "norm")].iloc[0]
    assert top["rms_log_error"] == pytest.approx(1 / math.sqrt(2 * 192), rel=0.2)  # 200 images: ~5% error
    assert abs(top["mean_log_error"]) < 0.02

    learned = table[table["estimator"] == "learned"]["rms_log_error"].to_numpy()
    constant = np.log(sigmas).std()  # the best constant over this grid predicts its mean log sigma: 3.4
    assert np.sqrt(np.mean(learned**2)) < 0.25 * constant  # 0.56 vs 3.42 at this seed


def test_grey_images_train_and_evaluate_a_one_channel_probe(images, one_thread):
    grey = np.ascontiguousarray(images[..., :1])  # 8 x 8 x 1: d = 64
    train, test = probe.hold_out(grey, 200)
    fitted = probe.train_probe(train, SIGMA_MIN, SIGMA_MAX, steps=300, batch=32, generator=generator())
    assert fitted.convs[0].in_channels == 1
    sigmas = probe.sigma_grid(SIGMA_MIN, SIGMA_MAX, 9)
    table = probe.evaluate(fitted, test, probe.second_moment(train), sigmas, SIGMA_MIN, generator(1))
    assert (table["dimension"] == 64).all()
    top = table[(table["sigma"] == sigmas[-1]) & (table["estimator"] == "norm")].iloc[0]
    assert top["rms_log_error"] == pytest.approx(1 / math.sqrt(2 * 64), rel=0.2)
    learned = table[table["estimator"] == "learned"]["rms_log_error"].to_numpy()
    assert np.sqrt(np.mean(learned**2)) < 0.25 * np.log(sigmas).std()


def test_same_seed_same_numbers(images, one_thread):
    def run(seed):
        train, test = probe.hold_out(images, 50)
        fitted = probe.train_probe(train, SIGMA_MIN, SIGMA_MAX, steps=20, batch=16, generator=generator(seed))
        return probe.evaluate(fitted, test, 0.3, [0.01, 1.0], SIGMA_MIN, generator(seed))

    pd.testing.assert_frame_equal(run(0), run(0), check_exact=True)
    assert not run(0).equals(run(1))


def test_hold_out_is_a_disjoint_split(images):
    train, test = probe.hold_out(images, 70)
    assert len(train) == 630 and len(test) == 70
    assert {t.tobytes() for t in test}.isdisjoint(t.tobytes() for t in train)


@pytest.mark.parametrize("call,message", [
    (lambda im: probe.second_moment(im[:0]), "no images"),
    (lambda im: probe.train_probe(im[:0], SIGMA_MIN, SIGMA_MAX, 5, 4, generator()), "no images"),
    (lambda im: probe.train_probe(im, 1.0, 0.5, 5, 4, generator()), "sigma_min < sigma_max"),
    (lambda im: probe.train_probe(im, -1.0, 1.0, 5, 4, generator()), "sigma_min < sigma_max"),
    (lambda im: probe.train_probe(im, SIGMA_MIN, SIGMA_MAX, 0, 4, generator()), "steps and batch"),
    (lambda im: probe.sigma_grid(0.0, 1.0, 5), "sigma_min < sigma_max"),
    (lambda im: probe.add_noise(torch.zeros(2, 3), torch.tensor([1.0, 0.0]), generator()), "positive"),
    (lambda im: probe.evaluate(None, im, 0.3, [1.0, -2.0], SIGMA_MIN, generator()), "positive"),
    (lambda im: probe.evaluate(None, im[:0], 0.3, [1.0], SIGMA_MIN, generator()), "no images"),
    (lambda im: probe.hold_out(im, len(im)), "cannot hold out"),
])
def test_bad_input_raises_a_clear_error(images, call, message):
    with pytest.raises(ValueError, match=message):
        call(images)


def test_bayes_estimator_under_the_gaussian_model_runs_on_the_first_images():
    images = np.random.default_rng(4).integers(0, 256, (120, 4, 4, 3), dtype=np.uint8)
    model = denoisers.GaussianDenoiser.from_spectrum(spectrum.compute(images))
    table = probe.evaluate(probe.Probe(generator()).eval(), images[:60], 0.3, [0.03, 0.3, 3.0], SIGMA_MIN, generator(),
                           model=model, model_images=40, sigma_max=SIGMA_MAX)
    bayes = table[table["estimator"] == probe.BAYES]
    assert len(bayes) == 3 and (bayes["n_test"] == 40).all() and np.isfinite(bayes["rms_log_error"]).all()


@pytest.mark.parametrize("sigma", [0.05, 1.0, 20.0])
def test_bayes_log_sigma_on_gaussian_data_has_the_posterior_width_one_over_sqrt_2d(sigma):
    # lambda << sigma^2: x ~ N(mu, ~sigma^2 I), the Fisher information about ln s is 2 per coordinate, so the
    # posterior mean's RMS log error tends to 1 / sqrt(2 d); and its mean error to 0
    d, n = 256, 400
    lam = np.full(d, 1e-3 * sigma**2)
    model = denoisers.GaussianDenoiser(np.linspace(-0.5, 0.5, d), lam, np.eye(d))
    x = model.sample(n, generator(1)) + sigma * torch.randn(n, d, generator=generator(2), dtype=torch.float64)
    error = probe.bayes_log_sigma(model, x, SIGMA_MIN, SIGMA_MAX) - math.log(sigma)
    rms = error.square().mean().sqrt().item()
    assert rms == pytest.approx(probe.high_dim_prediction(d), rel=0.15)
    assert abs(error.mean().item()) < 4 * rms / math.sqrt(n)  # the same draws at every sigma (lambda scales too)
