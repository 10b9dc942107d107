import json

import numpy as np
import pytest
import torch
from diffusers import DDPMScheduler, DPMSolverMultistepScheduler

from diffsched.interface import export
from diffsched.method import schedules, solvers

DDPM_CONFIG = {"num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02, "beta_schedule": "linear"}
LAM = torch.linspace(0.01, 0.5, 16, dtype=torch.float64)  # a diagonal Gaussian source N(0, diag(LAM))


def denoiser(x, sigma):
    """Exact D(x; sigma) for the Gaussian source."""
    return LAM / (LAM + sigma**2) * x


SD_BETAS = {"beta_start": 0.00085, "beta_end": 0.012}  # Stable Diffusion's scaled_linear range


@pytest.mark.parametrize("config", [
    {"beta_schedule": "linear"},
    {"beta_schedule": "linear", "num_train_timesteps": 500, "beta_start": 3e-4, "beta_end": 0.03},
    {"beta_schedule": "scaled_linear", **SD_BETAS},
    {"beta_schedule": "scaled_linear"},
    {"beta_schedule": "squaredcos_cap_v2"},
    {"beta_schedule": "squaredcos_cap_v2", "num_train_timesteps": 250},
])
def test_betas_and_sigmas_match_diffusers_ddpm_scheduler(config):
    reference = DDPMScheduler(**config)
    model = {**export.DDPM, **config}
    betas = export.betas(model["num_train_timesteps"], model["beta_start"], model["beta_end"], model["beta_schedule"])
    # diffusers builds the betas and their cumulative product in float32: agreement to its round-off
    np.testing.assert_allclose(betas, reference.betas.double().numpy(), rtol=3e-7)
    alphabar = reference.alphas_cumprod.double().numpy()
    np.testing.assert_allclose(np.cumprod(1 - betas), alphabar, rtol=2e-5)
    sigmas = export.ddpm_sigmas(model["num_train_timesteps"], model["beta_start"], model["beta_end"],
                                model["beta_schedule"])
    # compared as alphabar = 1 / (1 + sigma^2): 1 - alphabar of a float32 alphabar near 1 keeps few digits
    np.testing.assert_allclose(1 / (1 + sigmas**2), alphabar, rtol=2e-5)


@pytest.mark.parametrize("config,message", [
    ({"beta_schedule": "sigmoid"}, "unknown beta schedule 'sigmoid'; valid: linear, scaled_linear"),
    ({"num_train_timesteps": 1}, "integer >= 2"),
    ({"beta_start": 0.03}, "0 < beta_start <= beta_end < 1"),
    ({"beta_end": 1.0}, "0 < beta_start <= beta_end < 1"),
])
def test_bad_vp_models_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        export.check_vp_model(**{**export.DDPM, **config})


@pytest.mark.parametrize("config", [{}, {"beta_schedule": "scaled_linear", **SD_BETAS},
                                    {"beta_schedule": "squaredcos_cap_v2"}])
def test_rounding_loss_against_the_schedulers_own_noise_levels(config):
    sigmas = schedules.get("edm", 12, 0.03, 14.0)
    record = export.grid_record(sigmas, {**export.DDPM, **config})
    alphabar = DDPMScheduler(**config).alphas_cumprod.double().numpy()
    log_train = np.log(np.sqrt((1 - alphabar) / alphabar))
    error = np.min(np.abs(log_train[None, :] - np.log(sigmas[:-1])[:, None]), axis=1)
    assert record["vp_model"] == {**export.DDPM, **config}
    assert record["timestep_rounding"]["max_abs_log_sigma"] == pytest.approx(error.max(), abs=1e-4)
    assert record["timestep_rounding"]["rms_abs_log_sigma"] == pytest.approx(np.sqrt(np.mean(error**2)), abs=1e-4)


@pytest.mark.parametrize("name", ["edm", "logsnr", "tangent"])
@pytest.mark.parametrize("n", [1, 6, 50])
def test_timesteps_are_monotone_in_range_and_nearest(name, n):
    record = export.grid_record(schedules.get(name, n, 0.002, 80.0))
    t = np.array(record["timesteps"])
    assert len(record["sigmas"]) == n + 1 and record["sigmas"][-1] == 0.0 and len(t) == n
    assert np.all(np.diff(t) <= 0) and t.min() >= 0 and t.max() <= 999
    log_train = np.log(export.ddpm_sigmas())
    for s, k in zip(record["sigmas"][:-1], t):
        assert abs(log_train[k] - np.log(s)) <= np.min(np.abs(log_train - np.log(s))) + 1e-12


def test_repeated_timesteps_are_noted(tmp_path):
    record = export.write(tmp_path / "g.json", schedules.get("edm", 50, 0.002, 80.0), schedule="edm", n=50)
    assert any("same timestep (0)" in note for note in record["notes"])
    assert json.loads((tmp_path / "g.json").read_text()) == record
    clean = export.grid_record(schedules.get("edm", 10, 0.02, 80.0))
    assert clean["notes"] == [] and len(set(clean["timesteps"])) == 10


def test_grid_must_end_in_zero():
    with pytest.raises(ValueError, match="ends in 0.0"):
        export.grid_record([80.0, 1.0, 0.002])


def test_dpm_solver_takes_the_integer_timesteps():
    record = export.grid_record(schedules.get("edm", 10, 0.02, 80.0))
    scheduler = DPMSolverMultistepScheduler(**DDPM_CONFIG)
    scheduler.set_timesteps(timesteps=record["timesteps"])
    assert scheduler.timesteps.tolist() == record["timesteps"]
    alphabar = scheduler.alphas_cumprod.double()
    x0 = torch.randn(16, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * record["timestep_sigmas"][0]
    sample = (x0 * alphabar[record["timesteps"][0]].sqrt()).float()  # VP scaling of the same start
    for t in scheduler.timesteps:
        a = alphabar[int(t)].sqrt()
        sigma = float(((1 - alphabar[int(t)]) / alphabar[int(t)]).sqrt())
        x = sample.double() / a
        eps = (x - denoiser(x, sigma)) / sigma
        sample = scheduler.step(eps.float(), t, sample).prev_sample
    expected = solvers.dpmpp_2m(denoiser, x0, record["timestep_sigmas"] + [0.0])
    np.testing.assert_allclose(sample.double().numpy(), expected.numpy(), rtol=1e-3, atol=1e-4)
