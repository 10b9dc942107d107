import json

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler, EulerDiscreteScheduler

from diffsched import export, schedules, solvers

DDPM_CONFIG = {"num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02, "beta_schedule": "linear"}
LAM = torch.linspace(0.01, 0.5, 16, dtype=torch.float64)  # a diagonal Gaussian source N(0, diag(LAM))


def denoiser(x, sigma):
    """Exact D(x; sigma) for the Gaussian source."""
    return LAM / (LAM + sigma**2) * x


def test_ddpm_sigmas_match_diffusers():
    alphabar = EulerDiscreteScheduler(**DDPM_CONFIG).alphas_cumprod.double().numpy()
    # diffusers builds its betas in float32: agreement to float32 round-off of the cumulative product
    np.testing.assert_allclose(export.ddpm_sigmas(), np.sqrt((1 - alphabar) / alphabar), rtol=2e-4)


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


def test_euler_discrete_scheduler_steps_through_the_sigmas():
    sigmas = schedules.get("tangent", 8, 0.002, 80.0, gamma=0.3)
    record = export.grid_record(sigmas)
    scheduler = EulerDiscreteScheduler(**DDPM_CONFIG)
    scheduler.set_timesteps(sigmas=record["sigmas"])
    np.testing.assert_allclose(scheduler.sigmas.numpy(), sigmas, rtol=1e-6)
    x0 = torch.randn(16, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 80.0
    x = x0.float()
    for i, t in enumerate(scheduler.timesteps):
        sigma = float(scheduler.sigmas[i])
        scheduler.scale_model_input(x, t)  # what a network would see; the exact model needs the raw x
        eps = (x.double() - denoiser(x.double(), sigma)) / sigma
        x = scheduler.step(eps.float(), t, x).prev_sample
    expected = solvers.euler(denoiser, x0, sigmas)
    np.testing.assert_allclose(x.double().numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


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
