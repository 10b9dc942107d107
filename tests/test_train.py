"""Training: bitwise resume on CPU, weights-only checkpoints, EMA definition, and a loss that goes down."""

import numpy as np
import pytest
import torch

from diffsched.models import precond, training
from diffsched.models.nets import build
from test_nets import TINY

pytestmark = pytest.mark.usefixtures("one_thread")


def net(name="unet", seed=0, **kw):
    torch.manual_seed(seed)
    return build(name, **TINY[name], **kw)


def images(n=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)


def config(**kw):
    return training.TrainConfig(**{"steps": 6, "batch_size": 4, "lr": 1e-3, "ema_decay": 0.9, "checkpoint_every": 2,
                                "log_every": 1, **kw})


def run(out, model, kind="edm", **kw):
    return training.train(model, precond.get(kind), images(), out, config(**kw.pop("cfg", {})), progress=False, **kw)


@pytest.mark.parametrize("name,kind", [("unet", "edm"), ("dit", "vp_cosine")])
def test_killed_and_restarted_run_equals_uninterrupted(tmp_path, name, kind):
    straight = net(name)
    run(tmp_path / "a", straight, kind)
    run(tmp_path / "b", net(name), kind, stop_at=3)  # "killed" after step 3; last checkpoint at step 2
    assert training.load_checkpoint(tmp_path / "b" / "checkpoint.pt")["step"] == 2
    resumed = net(name, seed=1)  # a restart builds a fresh network; the checkpoint supplies the weights
    run(tmp_path / "b", resumed, kind)
    a, b = (training.load_checkpoint(tmp_path / d / "checkpoint.pt") for d in "ab")
    assert a["step"] == b["step"] == 6
    for part in ("model", "ema"):
        assert a[part].keys() == b[part].keys()
        assert all(torch.equal(a[part][k], b[part][k]) for k in a[part])
    assert all(torch.equal(straight.state_dict()[k], v) for k, v in resumed.state_dict().items())
    for s_a, s_b in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        assert all(torch.equal(s_a[k], s_b[k]) for k in s_a)
    assert torch.equal(a["noise_rng"], b["noise_rng"]) and torch.equal(a["torch_rng"], b["torch_rng"])
    log_a, log_b = ((tmp_path / d / "loss.csv").read_text() for d in "ab")
    assert log_a == log_b and len(log_a.splitlines()) == 7


def test_checkpoint_loads_weights_only_and_refuses_another_run(tmp_path):
    run(tmp_path, net(), cfg={"steps": 2})
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert {"step", "model", "ema", "optimizer", "noise_rng", "torch_rng", "meta"} <= state.keys()
    assert isinstance(state["noise_rng"], torch.Tensor) and isinstance(state["torch_rng"], torch.Tensor)
    with pytest.raises(ValueError, match="different run.*batch_size"):
        run(tmp_path, net(), cfg={"steps": 4, "batch_size": 8})
    model = training.load_weights(net(seed=5), tmp_path / "checkpoint.pt")
    assert all(torch.equal(v, state["ema"][k]) for k, v in model.state_dict().items())


def test_ema_follows_its_definition(tmp_path):
    """ema_0 = w_0 and ema_k = d ema_(k-1) + (1 - d) w_k after each optimiser step."""
    model = net()
    w0 = {k: v.clone() for k, v in model.state_dict().items()}
    run(tmp_path, model, cfg={"steps": 2, "checkpoint_every": 1}, stop_at=1)
    first = training.load_checkpoint(tmp_path / "checkpoint.pt")
    run(tmp_path, net(), cfg={"steps": 2, "checkpoint_every": 1})
    second = training.load_checkpoint(tmp_path / "checkpoint.pt")
    d = 0.9
    for k in w0:
        torch.testing.assert_close(first["ema"][k], d * w0[k] + (1 - d) * first["model"][k])
        torch.testing.assert_close(second["ema"][k], d * first["ema"][k] + (1 - d) * second["model"][k])
    assert any(not torch.equal(second["ema"][k], second["model"][k]) for k in w0)


def test_loss_decreases_on_a_trivial_data_set(tmp_path):
    data = np.repeat(images(2), 32, axis=0)  # 64 copies of 2 images
    cfg = training.TrainConfig(steps=100, batch_size=16, lr=5e-3, ema_decay=0.95, checkpoint_every=50, log_every=25)
    ema = training.train(net(), precond.EDM(), data, tmp_path, cfg, progress=False)
    rows = np.loadtxt(tmp_path / "loss.csv", delimiter=",", skiprows=1)
    assert rows[:, 0].tolist() == [25, 50, 75, 100]
    assert rows[-1, 1] < 0.75 * rows[0, 1]
    assert isinstance(ema, torch.nn.Module)


def test_config_errors():
    with pytest.raises(ValueError, match="must divide"):
        training.TrainConfig(steps=10, checkpoint_every=10, log_every=3)
    with pytest.raises(ValueError, match="unknown precision"):
        training.TrainConfig(steps=10, precision="fp8")
    with pytest.raises(ValueError, match="uint8"):
        training.train(net(), precond.EDM(), images().astype(np.float32), "unused", config(), progress=False)
    assert training.ema_decay(500_000, 128) == pytest.approx(0.5 ** (128 / 500_000))


def test_every_epoch_is_a_seeded_permutation():
    sampler = training.EpochSampler(10, seed=7)
    stream = torch.cat([sampler.batch(step, 4) for step in range(5)])  # 20 samples: two epochs
    assert sorted(stream[:10].tolist()) == sorted(stream[10:].tolist()) == list(range(10))
    assert not torch.equal(stream[:10], stream[10:])
    assert torch.equal(training.EpochSampler(10, seed=7).batch(3, 4), stream[12:16])  # a function of the step alone


def test_mixed_precision_is_off_on_cpu(tmp_path):
    with pytest.warns(UserWarning, match="needs CUDA; training in fp32"):
        run(tmp_path, net(), cfg={"steps": 1, "precision": "bf16"})
    assert all(v.dtype == torch.float32 for v in training.load_checkpoint(tmp_path / "checkpoint.pt")["model"].values())


def test_compiled_training_follows_the_eager_run(tmp_path):
    """``compile: true`` (the paper configuration's setting) trains the same network as eager mode on the CPU."""
    eager, compiled = net("dit"), net("dit")
    run(tmp_path / "eager", eager, cfg={"steps": 3})
    run(tmp_path / "compiled", compiled, cfg={"steps": 3, "compile": True})
    losses = [np.loadtxt(tmp_path / d / "loss.csv", delimiter=",", skiprows=1)[:, 1] for d in ("eager", "compiled")]
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    for k, v in eager.state_dict().items():
        torch.testing.assert_close(compiled.state_dict()[k], v, rtol=1e-4, atol=1e-5)
    saved = training.load_checkpoint(tmp_path / "compiled" / "checkpoint.pt")["model"]
    assert not any(k.startswith("_orig_mod") for k in saved)
