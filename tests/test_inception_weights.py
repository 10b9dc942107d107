import shutil

import pytest
import torch
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

from diffsched.metrics import inception_weights
from diffsched.infra.atomic import file_digest


def test_converted_weights_load_strictly_and_match_the_torchscript_original(converted, cache_dir):
    state_dict = torch.load(converted, weights_only=True)
    module = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(converted))
    module.load_state_dict(state_dict, strict=True)
    original = inception_weights.load_torchscript(inception_weights.fetch_torchscript(cache_dir))
    images = torch.randint(0, 256, (3, 3, 40, 24), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        (ours,) = module(images)
        # The TorchScript network starts at the first convolution: resize to 299 the TF way, scale to [-1, 1).
        x = interpolate_bilinear_2d_like_tensorflow1x(images.float(), size=(299, 299), align_corners=False)
        theirs = original((x - 128) / 128)
    assert ours.shape == theirs.shape == (3, 2048)
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-5 * theirs.abs().max().item())


def test_batch_norm_scale_is_one_and_logits_layer_is_absent(converted):
    state_dict = torch.load(converted, weights_only=True)
    bn_weights = [v for k, v in state_dict.items() if k.endswith(".bn.weight")]
    assert len(bn_weights) == inception_weights.N_CONV
    assert all(torch.equal(w, torch.ones_like(w)) for w in bn_weights)
    assert torch.isnan(state_dict["fc.weight"]).all() and torch.isnan(state_dict["fc.bias"]).all()


def test_tampered_torchscript_is_refused_before_loading(cache_dir, tmp_path):
    tampered = tmp_path / "default_1.pt"
    shutil.copyfile(inception_weights.fetch_torchscript(cache_dir), tampered)
    with open(tampered, "r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    actual = file_digest(tampered)
    with pytest.raises(RuntimeError) as err:
        inception_weights.load_torchscript(tampered)
    message = str(err.value)
    assert str(tampered) in message and inception_weights.WHEEL_MEMBER_SHA256 in message and actual in message


def test_resolution_order_caller_path_first(converted, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    path, sha256 = inception_weights.inception_weights(converted)
    assert path == converted and sha256 == file_digest(converted)
    with pytest.raises(ValueError, match="do not exist"):
        inception_weights.inception_weights(tmp_path / "missing.pth")


def test_resolution_falls_back_to_the_converted_wheel(converted, cache_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setenv("DIFFSCHED_CACHE", str(cache_dir))
    path, sha256 = inception_weights.inception_weights()
    assert path == converted and len(sha256) == 64


def test_hub_cache_file_is_used_and_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    hub = inception_weights.hub_weights()
    hub.parent.mkdir(parents=True)
    hub.write_bytes(b"not the weights")
    with pytest.raises(RuntimeError, match="6726825d"):
        inception_weights.inception_weights(cache=tmp_path / "unused")


def test_converted_cache_is_checked_against_its_recorded_sha256(converted, tmp_path):
    copy = tmp_path / "weights" / converted.name
    copy.parent.mkdir()
    shutil.copyfile(converted, copy)
    record = converted.with_name(converted.name + ".sha256")
    shutil.copyfile(record, copy.with_name(record.name))
    assert inception_weights.converted_weights(tmp_path) == copy
    with open(copy, "ab") as f:
        f.write(b"x")
    with pytest.raises(RuntimeError, match=f"checksum mismatch for {copy}"):
        inception_weights.converted_weights(tmp_path)
