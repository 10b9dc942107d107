"""Export a sigma grid for other samplers: the diffsched sigmas and the matching DDPM training timesteps.

``sigmas`` follows the diffsched convention (n + 1 values, sigma_max first, 0.0 last) and is what
k-diffusion takes directly: ``sample_euler(model, x, torch.tensor(sigmas))``. For a discrete VP model
trained with 1,000 steps and linear betas 1e-4..0.02 (DDPM, Ho et al. 2020; diffusers' default
``DDPMScheduler``), sigma_t = sqrt((1 - alphabar_t) / alphabar_t), and ``timesteps`` holds, for each of the
n positive sigmas, the training timestep nearest in log sigma. In diffusers, pass ``sigmas=`` to a scheduler
that accepts them (``EulerDiscreteScheduler.set_timesteps(sigmas=...)``: exact noise levels, fractional
model timesteps) or ``timesteps=`` to one that takes integer timesteps (``DPMSolverMultistepScheduler``,
``DDPMScheduler``: noise levels rounded to the training grid). See docs/using-grids.md.
"""

from __future__ import annotations

import numpy as np

from diffsched import gaussian, store

DDPM = {"num_train_timesteps": 1000, "beta_schedule": "linear", "beta_start": 1e-4, "beta_end": 0.02}


def ddpm_sigmas(num_train_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """sigma_t = sqrt((1 - alphabar_t) / alphabar_t), t = 0..T-1, for linear betas (DDPM)."""
    betas = np.linspace(beta_start, beta_end, num_train_timesteps, dtype=np.float64)
    alphabar = np.cumprod(1.0 - betas)
    return np.sqrt((1.0 - alphabar) / alphabar)


def nearest_timesteps(sigmas, train_sigmas) -> np.ndarray:
    """Index of the training noise level nearest in log sigma to each (positive) sigma."""
    s = np.asarray(sigmas, dtype=np.float64)
    if np.any(s <= 0):
        raise ValueError("only positive sigmas have a training timestep; drop the final 0.0 first")
    distance = np.abs(np.log(s)[:, None] - np.log(np.asarray(train_sigmas))[None, :])
    return np.argmin(distance, axis=1).astype(np.int64)


def grid_record(sigmas, **info) -> dict:
    """JSON-ready record: ``sigmas``, DDPM ``timesteps`` and their ``timestep_sigmas``, the VP model, notes.

    Extra keyword arguments (schedule name, n, data set, ...) are stored as given.
    """
    s = gaussian.check_grid(sigmas)
    if s[-1] != 0.0:
        raise ValueError(f"an exported grid ends in 0.0 (sigma_max first, 0.0 last); this one ends in {s[-1]!r}")
    train = ddpm_sigmas(DDPM["num_train_timesteps"], DDPM["beta_start"], DDPM["beta_end"])
    t = nearest_timesteps(s[:-1], train)
    notes = []
    if s[0] > train[-1] or s[-2] < train[0]:
        notes.append(f"the grid spans sigma {s[-2]:.4g}..{s[0]:.4g}, the VP model {train[0]:.4g}..{train[-1]:.4g}; "
                     "sigmas outside that range map to timestep 0 or 999")
    repeated = sorted({int(v) for v in t[np.r_[False, t[1:] == t[:-1]]]})
    if repeated:
        notes.append(f"several sigmas map to the same timestep ({', '.join(map(str, repeated))}); integer-timestep "
                     "schedulers need distinct timesteps, so use sigmas= there or a grid with fewer small steps")
    return {**info, "sigmas": s.tolist(), "timesteps": t.tolist(), "timestep_sigmas": train[t].tolist(),
            "vp_model": dict(DDPM), "notes": notes}


def write(path, sigmas, **info) -> dict:
    """Write :func:`grid_record` of ``sigmas`` to ``path`` as JSON (atomically) and return it."""
    record = grid_record(sigmas, **info)
    store.save_json(path, record)
    return record
