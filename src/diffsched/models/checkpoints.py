"""Trained denoiser networks as pipeline artefacts: build one from its config entry, save it, load it back as a
``D(x, sigma)`` denoiser with the oracles' interface (:mod:`diffsched.models.denoisers`).

A model is named ``<network>-<variant>`` (e.g. ``unet-without``): the network entry gives the architecture
(:mod:`diffsched.models.nets`), the variant the time-embedding switches (``time_embedding``, ``capacity_matched``).
The saved model is two files: ``model.pt`` (the EMA weights, a state dict; ``torch.load(weights_only=True)``)
and ``model.json`` (everything needed to rebuild the network and its preconditioning).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from diffsched.models import denoisers, nets, precond
from diffsched.infra.atomic import atomic_path, write_text


def model_name(network: str, variant: str) -> str:
    return f"{network}-{variant}"


def spec(training: dict, model: str, resolution: int) -> dict:
    """The build spec of ``model`` from the config's ``training`` section, for images of ``resolution``."""
    network, _, variant = model.partition("-")
    if network not in training["networks"] or variant not in training["variants"]:
        raise ValueError(f"unknown model {model!r}: networks {sorted(training['networks'])}, "
                         f"variants {sorted(training['variants'])} (model = <network>-<variant>)")
    entry = training["networks"][network]
    return {"model": model, "network": entry["network"], "precond": training["precond"],
            "kwargs": {**entry.get("kwargs", {}), **training["variants"][variant], "img_resolution": resolution}}


def build(model_spec: dict):
    """(network, preconditioning) of a spec; the network's weights are freshly initialised."""
    return nets.build(model_spec["network"], **model_spec["kwargs"]), precond.get(model_spec["precond"])


def save(net: torch.nn.Module, model_spec: dict, weights_path, spec_path, **info) -> None:
    """Write the weights and the spec (with ``info``, e.g. steps and parameter count) atomically."""
    with atomic_path(weights_path) as tmp:
        torch.save(net.state_dict(), tmp)
    write_text(spec_path, json.dumps({**model_spec, **info}, indent=1, sort_keys=True) + "\n")


def load_spec(spec_path) -> dict:
    return json.loads(Path(spec_path).read_text())


class FlatDenoiser:
    """A trained network as ``D(x, sigma)`` on (B, d) rows in flattened HWC order, the oracles' convention;
    computes in the network's dtype and device and returns x's."""

    def __init__(self, net: torch.nn.Module, preconditioning, resolution: int):
        self.images = precond.Denoiser(net, preconditioning)
        self.resolution = resolution

    def __call__(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        return denoisers.from_images(self.images(denoisers.to_images(x, self.resolution), sigma))


def load(weights_path, spec_path, device="cpu") -> FlatDenoiser:
    """The saved model as a :class:`FlatDenoiser` on ``device``."""
    model_spec = load_spec(spec_path)
    net, preconditioning = build(model_spec)
    net.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    return FlatDenoiser(net.to(device), preconditioning, model_spec["kwargs"]["img_resolution"])


def device(name: str) -> torch.device:
    """``auto``: CUDA when available, else the CPU; otherwise the named device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for but CUDA is not available here; use device: auto or cpu")
    return torch.device(name)
