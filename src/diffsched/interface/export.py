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

Flow-matching (rectified-flow) models (SD3, Flux, Wan) interpolate x_t = (1 - t) x_0 + t noise, so x_t / (1 - t)
= x_0 + sigma noise with t = sigma / (1 + sigma): the same grid in their time is :func:`flow_times`, for diffusers'
``FlowMatchEulerDiscreteScheduler`` (:func:`flow_record`, with the scheduler settings that leave the times as
given) and ComfyUI's manual-sigmas node (whose flow models' sigmas are these times).

The final-sigma convention (:data:`FINALS`): ``zero``, the grid as diffsched makes it, ending in 0 (the last step
returns the denoised estimate); or ``sigma_min``, the grid without that last step, ending at sigma_min (one
denoiser call fewer; the output keeps noise of std sigma_min, the setting of criterion ``kl_sigma_min``).
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


FINALS = ("zero", "sigma_min")


def exported_grid(sigmas, final: str = "zero") -> np.ndarray:
    """The grid checked for export (strictly decreasing, sigma_max first, 0.0 last), in the ``final`` convention:
    as it is (zero), or without its last step (sigma_min)."""
    if final not in FINALS:
        raise ValueError(f"unknown final-sigma convention {final!r}; valid: {', '.join(FINALS)}")
    s = gaussian.check_grid(sigmas)
    if s[-1] != 0.0:
        raise ValueError(f"an exported grid ends in 0.0 (sigma_max first, 0.0 last); this one ends in {s[-1]!r}")
    if final == "sigma_min":
        if s.size < 3:
            raise ValueError("a one-step grid has no sigma_min to stop at; use final 'zero' or more steps")
        return s[:-1]
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


def grid_record(sigmas, vp_model: dict | None = None, final: str = "zero", **info) -> dict:
    """JSON-ready record: ``sigmas`` (in the ``final`` convention), the VP model's ``timesteps``, their
    ``timestep_sigmas`` and ``timestep_rounding`` (:func:`rounding_loss`), the model (default :data:`DDPM`), notes.

    Extra keyword arguments (schedule name, n, data set, ...) are stored as given.
    """
    s = exported_grid(sigmas, final)
    model = check_vp_model(**(vp_model or DDPM))
    train = ddpm_sigmas(model["num_train_timesteps"], model["beta_start"], model["beta_end"], model["beta_schedule"])
    t = nearest_timesteps(s[:-1], train)
    return {**info, "final": final, "sigmas": s.tolist(), "timesteps": t.tolist(), "timestep_sigmas": train[t].tolist(),
            "timestep_rounding": rounding_loss(s[:-1], train[t]), "vp_model": model, "notes": _notes(s, t, train)}


def write(path, sigmas, **info) -> dict:
    """Write :func:`grid_record` of ``sigmas`` to ``path`` as JSON (atomically) and return it."""
    record = grid_record(sigmas, **info)
    store.save_json(path, record)
    return record


def write_k_diffusion(path, sigmas, final: str = "zero") -> None:
    """Save the grid as a float64 tensor with ``torch.save`` (atomically), for ``torch.load`` and k-diffusion."""
    s = torch.tensor(exported_grid(sigmas, final), dtype=torch.float64)
    atomic_write(path, lambda f: torch.save(s, f))


def comfyui(sigmas, final: str = "zero", flow: bool = False) -> str:
    """The comma-separated sigmas that ComfyUI's custom-sigmas nodes take, each exact (shortest round-trip); for a
    flow-matching model (``flow``), its times t = sigma / (1 + sigma)."""
    s = exported_grid(sigmas, final)
    return ", ".join(repr(float(v)) for v in (flow_times(s) if flow else s))


# diffusers' FlowMatchEulerDiscreteScheduler settings under which set_timesteps(sigmas=...) keeps the given times:
# no shift (shift 1 maps t to t), no resolution-dependent shift, no stretch, no Karras/exponential/beta respacing,
# no inversion; and its deterministic Euler step (stochastic_sampling replaces it by re-noising).
FLOW_SCHEDULER = {"shift": 1.0, "use_dynamic_shifting": False, "shift_terminal": None, "use_karras_sigmas": False,
                  "use_exponential_sigmas": False, "use_beta_sigmas": False, "invert_sigmas": False,
                  "stochastic_sampling": False}


def flow_times(sigmas) -> np.ndarray:
    """Rectified-flow time t = sigma / (1 + sigma) of each noise level (0 stays 0)."""
    s = np.asarray(sigmas, dtype=np.float64)
    return s / (1.0 + s)


def flow_scheduler_changes(config: dict) -> list[str]:
    """The settings of a FlowMatchEulerDiscreteScheduler config that would change given sigmas (or its step)."""
    return [f"{key} = {config[key]!r} (keeps the sigmas only at {value!r})" for key, value in FLOW_SCHEDULER.items()
            if key in config and config[key] != value and not (value is None and not config[key])]


def check_flow_scheduler(config: dict) -> dict:
    """``config`` (a FlowMatchEulerDiscreteScheduler's, e.g. ``scheduler.config``) if it keeps given sigmas, else a
    ValueError naming each setting that would shift them and the fix."""
    changes = flow_scheduler_changes(dict(config))
    if changes:
        fix = ", ".join(f"{key}={value!r}" for key, value in FLOW_SCHEDULER.items())
        raise ValueError(f"this scheduler would change the exported sigmas: {'; '.join(changes)}. Load it with "
                         f"FlowMatchEulerDiscreteScheduler.from_config(config, {fix})")
    return config


def flow_record(sigmas, scheduler_config: dict | None = None, num_train_timesteps: int = 1000, **info) -> dict:
    """JSON-ready record for diffusers' ``FlowMatchEulerDiscreteScheduler``: ``flow_sigmas``, the n positive times
    t = sigma / (1 + sigma) to pass as ``set_timesteps(sigmas=...)`` (it appends the final 0 itself, so the
    convention is final 'zero' only), the model ``timesteps`` t * num_train_timesteps, and ``scheduler_kwargs``:
    the model's ``scheduler_config`` with :data:`FLOW_SCHEDULER` over it, for ``from_config``; ``notes`` name each
    model setting that the kwargs override (the model was trained or tuned with it; the grid assumes it off)."""
    s = exported_grid(sigmas)
    t = flow_times(s[:-1])
    model = dict(scheduler_config or {})
    train_steps = model.get("num_train_timesteps", num_train_timesteps)
    notes = [f"the model's {change}: scheduler_kwargs set it so that the sigmas stay as exported"
             for change in flow_scheduler_changes(model)]
    return {**info, "final": "zero", "sigmas": s.tolist(), "flow_sigmas": t.tolist(),
            "timesteps": (t * train_steps).tolist(), "scheduler_kwargs": {**model, **FLOW_SCHEDULER},
            "usage": "FlowMatchEulerDiscreteScheduler.from_config(scheduler_kwargs); "
                     "scheduler.set_timesteps(sigmas=flow_sigmas)", "notes": notes}
