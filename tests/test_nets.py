"""U-Net and DiT shapes, the time_embedding switch, parameter counts, and the preconditioning formulas."""

import math

import pytest
import torch

from diffsched.models import precond
from diffsched.method import schedules, solvers
from diffsched.models.nets import DiT, UNet, build, count_parameters
from diffsched.models.nets.unet import ResBlock

pytestmark = pytest.mark.usefixtures("one_thread")

# Networks small enough for a test: 8x8 images, a few channels.
TINY = {"unet": dict(img_resolution=8, width=8, channel_mult=(1, 2), num_blocks=1, attn_resolutions=(4,)),
        "dit": dict(img_resolution=8, patch=2, hidden=16, depth=2, heads=2, freq_dim=8)}
VARIANTS = {"with": dict(), "without": dict(time_embedding=False),
            "matched": dict(time_embedding=False, capacity_matched=True)}


def tiny(name, variant, seed=0):
    """A tiny network with random (not zero-initialised) weights, so every pathway affects the output."""
    torch.manual_seed(seed)
    net = build(name, **TINY[name], **VARIANTS[variant])
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.3)
    return net.eval()


@pytest.mark.parametrize("name", TINY)
@pytest.mark.parametrize("variant", VARIANTS)
def test_output_shape(name, variant):
    x = torch.randn(3, 3, 8, 8)
    assert tiny(name, variant)(x, torch.randn(3)).shape == x.shape


@pytest.mark.parametrize("name", TINY)
@pytest.mark.parametrize("variant", VARIANTS)
def test_only_the_conditioned_network_reads_c_noise(name, variant):
    net, x = tiny(name, variant), torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        a, b = net(x, torch.full((2,), -1.0)), net(x, torch.full((2,), 2.0))
    if variant == "with":
        assert (a - b).abs().max() > 1e-3
    else:
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", TINY)
def test_bad_inputs_are_refused(name):
    net = tiny(name, "with")
    with pytest.raises(ValueError, match="c_noise of shape"):
        net(torch.randn(2, 3, 8, 8), torch.zeros(1))
    with pytest.raises(ValueError, match="x of shape"):
        net(torch.randn(2, 3, 16, 16), torch.zeros(2))
    with pytest.raises(ValueError, match="capacity_matched applies only"):
        build(name, **TINY[name], capacity_matched=True)


def test_unet_parameter_counts():
    w, counts = 8, {v: count_parameters(tiny("unet", v)) for v in VARIANTS}
    net = tiny("unet", "with")
    per_block = sum(count_parameters(m.emb) for m in net.modules() if isinstance(m, ResBlock))
    mlp = (w * 4 * w + 4 * w) + (4 * w * 4 * w + 4 * w)
    assert counts["with"] - counts["without"] == mlp + per_block
    assert counts["matched"] == counts["with"]


def test_dit_parameter_counts():
    h, f, depth = 16, 8, 2
    counts = {v: count_parameters(tiny("dit", v)) for v in VARIANTS}
    ada = depth * (h * 6 * h + 6 * h) + (h * 2 * h + 2 * h)
    mlp = (f * h + h) + (h * h + h)
    layer_norm_affine = depth * 2 * 2 * h + 2 * h  # only the unconditioned blocks have them
    assert counts["with"] - counts["without"] == ada + mlp - layer_norm_affine
    assert counts["matched"] == counts["with"]


def test_default_sizes():
    """Parameter counts of the protocol's networks (docs/ablation-protocol.md), built on meta."""
    with torch.device("meta"):
        counts = {(cls.__name__, v): count_parameters(cls(**kw)) for cls in (UNet, DiT) for v, kw in VARIANTS.items()}
    assert counts == {("UNet", "with"): 63_566_595, ("UNet", "without"): 61_987_395,
                      ("UNet", "matched"): 63_566_595, ("DiT", "with"): 14_024_568,
                      ("DiT", "without"): 9_190_704, ("DiT", "matched"): 14_024_568}
    assert 0.33 < 1 - counts[("DiT", "without")] / counts[("DiT", "with")] < 0.36  # "about 35%" in the protocol


SIGMAS = torch.tensor([1e-3, 0.02, 0.5, 1.0, 7.0, 80.0], dtype=torch.float64)


def test_edm_scalings_are_table_1():
    p = precond.EDM()
    c_skip, c_out, c_in, c_noise = p.scalings(SIGMAS)
    sd = 0.5
    torch.testing.assert_close(c_in**2 * (SIGMAS**2 + sd**2), torch.ones_like(SIGMAS))  # unit input variance
    # unit variance of the effective target (y - c_skip x) / c_out, with c_skip minimising c_out
    torch.testing.assert_close(c_out**2, (1 - c_skip) ** 2 * sd**2 + c_skip**2 * SIGMAS**2)
    torch.testing.assert_close(c_skip, sd**2 / (SIGMAS**2 + sd**2))
    torch.testing.assert_close(c_noise, SIGMAS.log() / 4)
    torch.testing.assert_close(p.weight(SIGMAS) * c_out**2, torch.ones_like(SIGMAS))  # lambda c_out^2 = 1
    c_skip0, c_out0, _, _ = p.scalings(torch.tensor([1e-12], dtype=torch.float64))
    assert abs(c_skip0.item() - 1) < 1e-20 and c_out0.item() < 1e-11


def test_edm_noise_distribution():
    sigma = precond.EDM().sample_sigma(40_000, torch.Generator().manual_seed(0), "cpu")
    assert abs(sigma.log().mean().item() + 1.2) < 0.03 and abs(sigma.log().std().item() - 1.2) < 0.03


def test_vp_cosine_schedule():
    p = precond.VPCosine()

    def f(t):
        return math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2

    # unclipped steps: abar_t = f(t + 1) / f(0), sigma_t^2 = 1 / abar_t - 1
    expected = torch.tensor([math.sqrt(f(0) / f(t + 1) - 1) for t in range(900)], dtype=torch.float64)
    torch.testing.assert_close(p.sigmas[:900], expected)
    assert torch.all(p.sigmas[1:] > p.sigmas[:-1])
    c_skip, c_out, c_in, c_noise = p.scalings(p.sigmas)
    assert torch.equal(c_noise, torch.arange(1000, dtype=torch.float64))
    torch.testing.assert_close(c_in**2, 1 / (1 + p.sigmas**2))  # = abar_t
    assert torch.equal(c_skip, torch.ones(1000, dtype=torch.float64)) and torch.equal(c_out, -p.sigmas)
    t = p.sample_sigma(5000, torch.Generator().manual_seed(0), "cpu")
    assert torch.isin(t.double(), p.sigmas.float().double()).all()


@pytest.mark.parametrize("kind", ["edm", "vp_cosine"])
def test_loss_on_f_equals_weighted_denoiser_error(kind):
    """lambda c_out^2 |F - (y - c_skip x) / c_out|^2 == lambda |D(x) - y|^2 with x = y + sigma n."""
    p, net = precond.get(kind), tiny("unet", "with")
    y = torch.rand(4, 3, 8, 8) * 2 - 1
    with torch.no_grad():
        on_f = precond.loss(net, p, y, torch.Generator().manual_seed(3))
        g = torch.Generator().manual_seed(3)
        sigma = p.sample_sigma(4, g, "cpu")
        x = y + sigma.reshape(-1, 1, 1, 1) * torch.randn(y.shape, generator=g)
        direct = (p.weight(sigma).reshape(-1, 1, 1, 1) * (precond.denoise(net, p, x, sigma) - y) ** 2)
    torch.testing.assert_close(on_f, direct.mean(dim=(1, 2, 3)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["edm", "vp_cosine"])
def test_denoiser_for_solvers(kind):
    d, x = precond.Denoiser(tiny("dit", "with"), precond.get(kind)), torch.randn(2, 3, 8, 8)
    assert torch.equal(d(x, 0.0), x)  # D(x; 0) = x
    torch.testing.assert_close(d(x, 1e-6), x, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="sigma must be"):
        d(x, -1.0)
    out = solvers.heun(d, 2.0 * x.double(), schedules.get("edm", 3, sigma_max=2.0))
    assert out.shape == x.shape and out.dtype == torch.float64 and torch.isfinite(out).all()
