"""Device-agnostic training of a preconditioned denoiser network, with exact resume.

Adam, an exponential moving average (EMA) of the weights, fixed seeds, optional CUDA mixed precision and
torch.compile, a tqdm progress bar and a ``loss.csv`` log. Everything lives in ``out_dir``: ``checkpoint.pt``
(written atomically every ``checkpoint_every`` steps and at the end; only tensors, numbers and strings, so
``torch.load(weights_only=True)`` reads it) and ``loss.csv``. A run whose ``out_dir`` holds a checkpoint resumes
from it; on CPU, a run killed and restarted ends with weights bitwise equal to an uninterrupted one.

Determinism: the data order is a function of the step alone (sample k of the stream is
``perm_e[k mod N]``, e = k // N, with a fresh permutation per epoch from a generator seeded by (seed, e)), and the
noise (sigma and n) comes from one torch.Generator seeded by (seed,) whose state is checkpointed, as is the
global torch RNG (dropout).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from diffsched.models import precond as precond_mod
from diffsched.infra.atomic import atomic_path, write_text

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
CHECKPOINT, LOG = "checkpoint.pt", "loss.csv"
# Settings a resumed run must share with the checkpoint, or its weights would not continue the same run.
_MUST_MATCH = ("batch_size", "lr", "betas", "ema_decay", "seed", "precision")


@dataclass(frozen=True)
class TrainConfig:
    """Training settings. Defaults: EDM-like Adam (lr 1e-4, betas 0.9 / 0.999) with EMA decay 0.9999.

    ``precision``: "fp32", or "bf16" / "fp16" autocast on CUDA (fp16 with a gradient scaler); on CPU training is
    fp32 whatever this says. The log has the mean loss of every ``log_every`` steps (and of the last, partial
interval); ``log_every`` must divide ``checkpoint_every`` so a resumed log matches an uninterrupted one.
    """

    steps: int
    batch_size: int = 128
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    ema_decay: float = 0.9999
    seed: int = 7
    checkpoint_every: int = 1000
    log_every: int = 100
    precision: str = "fp32"
    compile: bool = False

    def __post_init__(self):
        for name in ("steps", "batch_size", "checkpoint_every", "log_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.checkpoint_every % self.log_every:
            raise ValueError(f"log_every ({self.log_every}) must divide checkpoint_every ({self.checkpoint_every})")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))


def ema_decay(half_life_images: float, batch_size: int) -> float:
    """Per-step EMA decay whose half-life is ``half_life_images`` training images (EDM's ema_halflife_kimg)."""
    if half_life_images <= 0:
        raise ValueError(f"EMA half-life must be positive, got {half_life_images}")
    return 0.5 ** (batch_size / half_life_images)


def _seed(*words: int) -> int:
    return int(np.random.SeedSequence(list(words)).generate_state(1, np.uint64)[0])


class EpochSampler:
    """Indices of each step's batch: epoch e is a permutation of range(n) from a generator seeded by (seed, e)."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed, self._perms = n, seed, {}

    def permutation(self, epoch: int) -> torch.Tensor:
        if epoch not in self._perms:
            self._perms = {e: p for e, p in self._perms.items() if e >= epoch - 1}
            g = torch.Generator().manual_seed(_seed(self.seed, 0, epoch))
            self._perms[epoch] = torch.randperm(self.n, generator=g)
        return self._perms[epoch]

    def batch(self, step: int, batch_size: int) -> torch.Tensor:
        """Indices of samples step * batch_size .. (step + 1) * batch_size - 1 of the stream."""
        k = torch.arange(step * batch_size, (step + 1) * batch_size)
        epochs, within = k // self.n, k % self.n
        out = torch.empty_like(k)
        for e in epochs.unique().tolist():
            mask = epochs == e
            out[mask] = self.permutation(e)[within[mask]]
        return out


def to_model_scale(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [-1, 1]."""
    return images.permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _fingerprint(images: np.ndarray) -> str:
    return f"{images.shape}:{hashlib.sha256(np.ascontiguousarray(images).data).hexdigest()[:16]}"


def load_checkpoint(path, map_location="cpu") -> dict:
    """A training checkpoint, read with ``weights_only=True``."""
    if not Path(path).is_file():
        raise ValueError(f"checkpoint {str(path)!r} does not exist")
    return torch.load(path, map_location=map_location, weights_only=True)


def load_weights(net: torch.nn.Module, path, ema: bool = True) -> torch.nn.Module:
    """Load the EMA (default) or raw weights of a checkpoint into ``net``; returns ``net``."""
    net.load_state_dict(load_checkpoint(path)["ema" if ema else "model"])
    return net


def _save(path: Path, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def _restart_log(path: Path, upto: int) -> None:
    """Rewrite the loss log with only the rows of steps <= ``upto`` (the header alone when 0)."""
    rows = []
    if upto and path.is_file():
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f)][1:]
        rows = [r for r in rows if int(r[0]) <= upto]
    write_text(path, "".join(f"{','.join(r)}\n" for r in [["step", "loss"], *rows]))


def _state(step, meta, net, ema, opt, scaler, noise, device) -> dict:
    """Everything a bitwise resume needs, as tensors, numbers and strings only (weights_only loadable)."""
    state = {"step": step, "model": net.state_dict(), "ema": ema.state_dict(), "optimizer": opt.state_dict(),
             "noise_rng": noise.get_state(), "torch_rng": torch.get_rng_state(),
             "meta": json.dumps(meta, sort_keys=True)}
    if scaler is not None:
        state["scaler"] = scaler.state_dict()
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(device)
    return state


def _restore(state, meta, path, net, ema, opt, scaler, noise, device) -> int:
    """Load a checkpoint (read on CPU, where RNG states must stay) into the run; its step."""
    saved = json.loads(state["meta"])
    if saved != meta:
        diff = {k: (saved.get(k), meta.get(k)) for k in meta.keys() | saved.keys() if saved.get(k) != meta.get(k)}
        raise ValueError(f"{path} belongs to a different run (checkpoint vs now: {diff}); use another out_dir "
                         f"or delete it")
    net.load_state_dict(state["model"])
    ema.load_state_dict(state["ema"])
    opt.load_state_dict(state["optimizer"])
    if scaler is not None:
        scaler.load_state_dict(state["scaler"])
    noise.set_state(state["noise_rng"])
    torch.set_rng_state(state["torch_rng"])
    if device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"], device)
    return int(state["step"])


def train(net: torch.nn.Module, precond, images: np.ndarray, out_dir, config: TrainConfig, device="cpu",
          stop_at: int | None = None, progress: bool = True, run: dict | None = None) -> torch.nn.Module:
    """Train ``net`` in place on uint8 ``images`` (N, H, W, 3) with ``precond`` (:mod:`diffsched.models.precond`) and
    return the EMA copy. Resumes from ``out_dir/checkpoint.pt`` when present. ``stop_at``: return after that
    step as if killed (no checkpoint beyond the regular ones), for tests of resume. ``run``: more settings a
    checkpoint must share to be resumed (e.g. the network's constructor arguments)."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3:
        raise ValueError("images must be a uint8 array N x H x W x 3 (the canonical format of diffsched.data.datasets)")
    device = torch.device(device)
    out_dir = Path(out_dir)
    ckpt_path, log_path = out_dir / CHECKPOINT, out_dir / LOG
    amp = PRECISIONS[config.precision] if device.type == "cuda" else None
    if config.precision != "fp32" and device.type != "cuda":
        warnings.warn(f"precision {config.precision!r} needs CUDA; training in fp32 on {device}", stacklevel=2)
    meta = {**{k: asdict(config)[k] for k in _MUST_MATCH}, "betas": list(config.betas),
            "precond": precond.name, "network": type(net).__name__, "data": _fingerprint(images), **(run or {})}
    meta = json.loads(json.dumps(meta))  # as the checkpoint will hold it (tuples become lists)

    net.to(device).train()
    ema = copy.deepcopy(net).eval().requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr, betas=config.betas)
    scaler = torch.amp.GradScaler("cuda") if amp is torch.float16 else None
    noise = torch.Generator(device=device)
    if ckpt_path.is_file():
        start = _restore(load_checkpoint(ckpt_path), meta, ckpt_path, net, ema, opt, scaler, noise, device)
        print(f"resuming from step {start} of {config.steps} ({ckpt_path})", flush=True)
    else:
        start = 0
        noise.manual_seed(_seed(config.seed, 1))
        torch.manual_seed(config.seed)
    _restart_log(log_path, start)

    data = torch.from_numpy(images).to(device)
    sampler = EpochSampler(len(images), config.seed)
    forward = torch.compile(net) if config.compile else net
    end = config.steps if stop_at is None else min(stop_at, config.steps)
    running = torch.zeros((), device=device)
    bar = tqdm(total=config.steps, initial=start, disable=not progress, desc="train", unit="step")
    with open(log_path, "a", newline="") as log:
        for step in range(start, end):
            y = to_model_scale(data[sampler.batch(step, config.batch_size).to(device)])
            with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                loss = precond_mod.loss(forward, precond, y, noise).mean()
            opt.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
                opt.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            with torch.no_grad():
                torch._foreach_lerp_(list(ema.parameters()), list(net.parameters()), 1.0 - config.ema_decay)
                for b_ema, b in zip(ema.buffers(), net.buffers()):
                    b_ema.copy_(b)
            running += loss.detach()
            done = step + 1
            bar.update(1)
            if done % config.log_every == 0 or done == config.steps:
                value = (running / (done - (done - 1) // config.log_every * config.log_every)).item()
                log.write(f"{done},{value!r}\n")
                log.flush()
                bar.set_postfix(loss=f"{value:.4f}")
                running.zero_()
            if done % config.checkpoint_every == 0 or done == config.steps:
                _save(ckpt_path, _state(done, meta, net, ema, opt, scaler, noise, device))
    bar.close()
    return ema
