"""Export a sigma grid for other samplers: diffusers (sigmas and integer timesteps of a discrete VP model),
k-diffusion (a sigmas tensor file) and ComfyUI (a comma-separated sigma string).

``sigmas`` follows the diffsched convention (n + 1 values, sigma_max first, 0.0 last) and is what
k-diffusion takes directly: ``sample_euler(model, x, torch.tensor(sigmas))``. A discrete VP model (DDPM, Ho et al.
2020) is given by diffusers' scheduler arguments ``num_train_timesteps``, ``beta_schedule`` (linear,
scaled_linear or squaredcos_cap_v2), ``beta_start`` and ``beta_end``, default 1,000 linear betas 1e-4..0.02;
its noise levels are sigma_t = sqrt((1 - alphabar_t) / alphabar_t), with the betas built as diffusers builds
them (in float64 here, float32 there). ``timesteps`` holds, for each of the n positive sigmas, the training
timestep nearest in log sigma. In diffusers, pass ``sigmas=`` to a scheduler that accepts them
(``EulerDiscreteScheduler.set_timesteps(sigmas=...)``: exact noise levels, fractional model timesteps) or
``timesteps=`` to one that takes integer timesteps (``DPMSolverMultistepScheduler``, ``DDPMScheduler``: noise
levels rounded to the training grid, by ``timestep_rounding``). See docs/recommend.md.
"""

from __future__ import annotations

import numpy as np
import torch

from diffsched.method import gaussian
from diffsched.infra import store
from diffsched.infra.atomic import atomic_write

BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")
DDPM = {"num_train_timesteps": 1000, "beta_schedule": "linear", "beta_start": 1e-4, "beta_end": 0.02}
COSINE_MAX_BETA = 0.999  # diffusers' cap on the squaredcos_cap_v2 betas


def check_vp_model(num_train_timesteps: int = 1000, beta_schedule: str = "linear", beta_start: float = 1e-4,
             beta_end: float = 0.02) -> dict:
    """A checked discrete VP model: the keyword arguments of a diffusers scheduler's constructor."""
    if beta_schedule not in BETA_SCHEDULES:
        raise ValueError(f"unknown beta schedule {beta_schedule!r}; valid: {', '.join(BETA_SCHEDULES)}")
    if isinstance(num_train_timesteps, bool) or not isinstance(num_train_timesteps, int) or num_train_timesteps < 2:
        raise ValueError(f"the number of training timesteps must be an integer >= 2, got {num_train_timesteps!r}")
    if not 0 < beta_start <= beta_end < 1:
        raise ValueError(f"betas must satisfy 0 < beta_start <= beta_end < 1, got {beta_start!r} and {beta_end!r}")
    return {"num_train_timesteps": num_train_timesteps, "beta_schedule": beta_schedule, "beta_start": beta_start,
            "beta_end": beta_end}


def betas(num_train_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02,
          beta_schedule: str = "linear") -> np.ndarray:
    """The T betas of diffusers' ``DDPMScheduler`` for this schedule (squaredcos_cap_v2 ignores the beta range)."""
    t = check_vp_model(num_train_timesteps, beta_schedule, beta_start, beta_end)["num_train_timesteps"]
    if beta_schedule == "linear":
        return np.linspace(beta_start, beta_end, t, dtype=np.float64)
    if beta_schedule == "scaled_linear":
        return np.linspace(beta_start**0.5, beta_end**0.5, t, dtype=np.float64) ** 2
    alphabar = np.cos((np.arange(t + 1) / t + 0.008) / 1.008 * np.pi / 2) ** 2  # Nichol & Dhariwal 2021, eq. 17
    return np.minimum(1 - alphabar[1:] / alphabar[:-1], COSINE_MAX_BETA)


def ddpm_sigmas(num_train_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02,
                beta_schedule: str = "linear") -> np.ndarray:
    """sigma_t = sqrt((1 - alphabar_t) / alphabar_t), t = 0..T-1, alphabar_t = prod_{s <= t} (1 - beta_s)."""
    alphabar = np.cumprod(1.0 - betas(num_train_timesteps, beta_start, beta_end, beta_schedule))
    return np.sqrt((1.0 - alphabar) / alphabar)


def nearest_timesteps(sigmas, train_sigmas) -> np.ndarray:
    """Index of the training noise level nearest in log sigma to each (positive) sigma."""
    s = np.asarray(sigmas, dtype=np.float64)
    if np.any(s <= 0):
        raise ValueError("only positive sigmas have a training timestep; drop the final 0.0 first")
    distance = np.abs(np.log(s)[:, None] - np.log(np.asarray(train_sigmas))[None, :])
    return np.argmin(distance, axis=1).astype(np.int64)


def rounding_loss(sigmas, rounded) -> dict:
    """Max and RMS over the grid of |log rounded - log sigma|: how far integer timesteps move the noise levels."""
    err = np.abs(np.log(np.asarray(rounded, dtype=np.float64)) - np.log(np.asarray(sigmas, dtype=np.float64)))
    return {"max_abs_log_sigma": float(err.max()), "rms_abs_log_sigma": float(np.sqrt(np.mean(err**2)))}


def exported_grid(sigmas) -> np.ndarray:
    """The grid checked for export: strictly decreasing, sigma_max first, 0.0 last."""
    s = gaussian.check_grid(sigmas)
    if s[-1] != 0.0:
        raise ValueError(f"an exported grid ends in 0.0 (sigma_max first, 0.0 last); this one ends in {s[-1]!r}")
    return s


def _notes(s: np.ndarray, t: np.ndarray, train: np.ndarray) -> list[str]:
    notes = []
    if s[0] > train[-1] or s[-2] < train[0]:
        notes.append(f"the grid spans sigma {s[-2]:.4g}..{s[0]:.4g}, the VP model {train[0]:.4g}..{train[-1]:.4g}; "
                     f"sigmas outside that range map to timestep 0 or {train.size - 1}")
    repeated = sorted({int(v) for v in t[np.r_[False, t[1:] == t[:-1]]]})
    if repeated:
        notes.append(f"several sigmas map to the same timestep ({', '.join(map(str, repeated))}); integer-timestep "
                     "schedulers need distinct timesteps, so use sigmas= there or a grid with fewer small steps")
    return notes


def grid_record(sigmas, vp_model: dict | None = None, **info) -> dict:
    """JSON-ready record: ``sigmas``, the VP model's ``timesteps``, their ``timestep_sigmas`` and
    ``timestep_rounding`` (:func:`rounding_loss`), the model (default :data:`DDPM`), notes.

    Extra keyword arguments (schedule name, n, data set, ...) are stored as given.
    """
    s = exported_grid(sigmas)
    model = check_vp_model(**(vp_model or DDPM))
    train = ddpm_sigmas(model["num_train_timesteps"], model["beta_start"], model["beta_end"], model["beta_schedule"])
    t = nearest_timesteps(s[:-1], train)
    return {**info, "sigmas": s.tolist(), "timesteps": t.tolist(), "timestep_sigmas": train[t].tolist(),
            "timestep_rounding": rounding_loss(s[:-1], train[t]), "vp_model": model, "notes": _notes(s, t, train)}


def write(path, sigmas, **info) -> dict:
    """Write :func:`grid_record` of ``sigmas`` to ``path`` as JSON (atomically) and return it."""
    record = grid_record(sigmas, **info)
    store.save_json(path, record)
    return record


def write_k_diffusion(path, sigmas) -> None:
    """Save the grid as a float64 tensor with ``torch.save`` (atomically), for ``torch.load`` and k-diffusion."""
    s = torch.tensor(exported_grid(sigmas), dtype=torch.float64)
    atomic_write(path, lambda f: torch.save(s, f))


def comfyui(sigmas) -> str:
    """The comma-separated sigmas that ComfyUI's custom-sigmas nodes take, each exact (shortest round-trip)."""
    return ", ".join(repr(float(v)) for v in exported_grid(sigmas))
