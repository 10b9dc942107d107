"""Trained models as pipeline artefacts: spec from the config, save and load, the oracles' interface."""

import numpy as np
import pytest
import torch

from diffsched.models import checkpoints, denoisers, precond
from diffsched.method import solvers
from diffsched.models.nets import count_parameters

TRAINING = {
    "precond": "edm",
    "networks": {"unet": {"network": "unet", "kwargs": {"width": 8, "channel_mult": [1, 2], "num_blocks": 1,
                                                        "attn_resolutions": [4]}},
                 "dit": {"network": "dit", "kwargs": {"patch": 4, "hidden": 32, "depth": 1, "heads": 2}}},
    "variants": {"with": {"time_embedding": True}, "without": {"time_embedding": False}},
}


@pytest.mark.parametrize("model", ["unet-with", "unet-without", "dit-with", "dit-without"])
def test_saved_model_loads_as_the_same_denoiser_on_flat_rows(tmp_path, model):
    spec = checkpoints.spec(TRAINING, model, 8)
    torch.manual_seed(0)
    net, pre = checkpoints.build(spec)
    for p in net.parameters():  # zero-initialised output layers would make every model the identity
        p.data.normal_(0, 0.05)
    checkpoints.save(net, spec, tmp_path / "model.pt", tmp_path / "model.json", parameters=count_parameters(net))
    loaded = checkpoints.load(tmp_path / "model.pt", tmp_path / "model.json")
    assert checkpoints.load_spec(tmp_path / "model.json")["parameters"] == count_parameters(net)
    images = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    want = precond.Denoiser(net, pre)(images, 0.7)
    got = loaded(denoisers.from_images(images).double(), 0.7)
    assert got.dtype == torch.float64 and got.shape == (3, 192)
    np.testing.assert_allclose(denoisers.to_images(got, 8).float(), want, rtol=1e-5, atol=1e-6)
    out = solvers.heun(loaded, 80.0 * denoisers.from_images(images).double(), [80.0, 1.0, 0.0])
    assert torch.isfinite(out).all()


def test_time_agnostic_model_ignores_sigma_but_its_denoiser_does_not():
    """The network of a "without" model never sees sigma, yet D(x; sigma) depends on it via the preconditioning."""
    torch.manual_seed(0)
    nets = {}
    for model in ("unet-with", "unet-without"):
        nets[model], _ = checkpoints.build(checkpoints.spec(TRAINING, model, 8))
        for p in nets[model].parameters():
            p.data.normal_(0, 0.05)
    x = torch.randn(2, 3, 8, 8)
    for model, net in nets.items():
        with torch.no_grad():
            a, b = net(x, torch.full((2,), -1.0)), net(x, torch.full((2,), 0.8))
        assert torch.equal(a, b) == (model == "unet-without")
    d = checkpoints.FlatDenoiser(nets["unet-without"], precond.EDM(), 8)
    flat = denoisers.from_images(x)
    assert not torch.allclose(d(flat, 0.1), d(flat, 5.0))


def test_bad_model_names_and_devices_are_refused():
    with pytest.raises(ValueError, match="unknown model 'unet-maybe'"):
        checkpoints.spec(TRAINING, "unet-maybe", 32)
    with pytest.raises(ValueError, match="unknown model 'vit-with'"):
        checkpoints.spec(TRAINING, "vit-with", 32)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            checkpoints.device("cuda")
    assert checkpoints.device("cpu").type == "cpu"
