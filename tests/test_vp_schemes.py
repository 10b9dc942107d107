"""Pierret & Galerne's VP-SDE schemes: the exact variances from running the real schemes against the paper's
eigenvalue recursions (arXiv 2405.14250, eqs. 11, 13, 16, 17) written out here, Monte Carlo, and the published
spectrum's loader."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from diffsched.data import datasets, published_spectra
from diffsched.method import vp_schemes as vp
from diffsched.studies import claims, gaussian_study

LAM = np.array([1e-4, 0.02, 0.5, 3.0, 60.0])


def b(t):
    return 0.05 * t + 9.95 * t * t / 2


def lam_t(t):
    return np.exp(-2 * b(t)) * LAM + 1 - np.exp(-2 * b(t))


def paper_recursion(scheme, n, eps, v):
    """The paper's per-eigenvalue variance recursions, time points t_k = 1 - (1 - eps) k / (N - 1)."""
    t = 1 - (1 - eps) * np.arange(n) / (n - 1)
    for k in range(n - 1):
        dt, beta, beta_next = t[k] - t[k + 1], 0.05 + 9.95 * t[k], 0.05 + 9.95 * t[k + 1]
        if scheme == "em":
            v = (1 + dt * beta * (1 - 2 / lam_t(t[k]))) ** 2 * v + 2 * dt * beta
        elif scheme == "ei":
            g1, g2 = np.exp(b(t[k]) - b(t[k + 1])) - 1, (np.exp(2 * (b(t[k]) - b(t[k + 1]))) - 1) / 2
            v = (1 + g1 * (1 - 2 / lam_t(t[k]))) ** 2 * v + 2 * g2
        elif scheme == "euler":
            v = (1 + dt * beta * (1 - 1 / lam_t(t[k]))) ** 2 * v
        else:
            f, f_next = beta * (1 - 1 / lam_t(t[k])), beta_next * (1 - 1 / lam_t(t[k + 1]))
            v = (1 + dt / 2 * f + dt / 2 * f_next * (1 + dt * f)) ** 2 * v
    return v


@pytest.mark.parametrize("scheme", list(vp.SCHEMES))
@pytest.mark.parametrize("n,eps", [(2, 0.0), (7, 1e-3), (60, 0.01)])
def test_variances_match_the_paper_recursions(scheme, n, eps):
    got = vp.output_variances(LAM, scheme, n, eps)
    np.testing.assert_allclose(got["N0"], paper_recursion(scheme, n, eps, np.ones_like(LAM)), rtol=1e-10)
    np.testing.assert_allclose(got["p_T"], paper_recursion(scheme, n, eps, lam_t(1.0)), rtol=1e-10)


@pytest.mark.parametrize("scheme", ["em", "ei"])
def test_stochastic_schemes_against_monte_carlo(scheme):
    count, n, eps = 200_000, 12, 1e-3
    generator = torch.Generator().manual_seed(4)
    lam = torch.from_numpy(LAM)
    y = torch.randn(count, LAM.size, generator=generator, dtype=torch.float64)  # start N(0, I)
    out = vp.SCHEMES[scheme][0](lambda z, t: -z / vp.marginal_variance(lam, t), y, vp.times(n, eps),
                                noise=lambda z: torch.randn(z.shape, generator=generator, dtype=torch.float64))
    want = vp.output_variances(LAM, scheme, n, eps)["N0"]
    se = want * np.sqrt(2 / count)  # of a Gaussian sample variance
    assert np.all(np.abs(out.var(dim=0).numpy() - want) < 4 * se)


def test_continuous_values_and_convergence():
    # From p_T the exact dynamics end at p_eps: W2(p_eps, p_0) in closed form, 0 at eps = 0.
    assert vp.continuous_w2(LAM, "sde", 0.0, "p_T") == 0.0
    assert vp.continuous_w2(LAM, "ode", 1e-2, "p_T") == pytest.approx(
        np.sqrt(np.sum((np.sqrt(lam_t(1e-2)) - np.sqrt(LAM)) ** 2)), rel=1e-12)
    # A fine Heun grid from p_T approaches the exact ODE value; from N(0, I), the ODE's eq. 8 value.
    for start in vp.STARTS:
        fine = vp.w2(LAM, "heun", 4000, 1e-3)[start]
        assert fine == pytest.approx(vp.continuous_w2(LAM, "ode", 1e-3, start), rel=1e-3)


@pytest.mark.parametrize("call,message", [
    (lambda: vp.w2(LAM, "ddim", 10, 0.0), "unknown VP scheme 'ddim'"),
    (lambda: vp.w2(LAM, "em", 1, 0.0), "N >= 2 time points"),
    (lambda: vp.w2(LAM, "em", 10, 1.0), "epsilon must be in"),
    (lambda: vp.continuous_w2(LAM, "sde", 0.0, "N1"), "unknown start 'N1'"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_published_spectrum_is_checked(tmp_path):
    spec = published_spectra.SPECTRA["cifar10_lossless"]
    fake = tmp_path / spec.file
    np.save(fake, np.geomspace(1e-5, 200.0, 3072).astype(np.float32))
    with pytest.raises(ValueError, match=f"{spec.file}.*has sha256 {hashlib.sha256(fake.read_bytes()).hexdigest()}"):
        published_spectra.load("cifar10_lossless", root=tmp_path)
    with pytest.raises(ValueError, match="not found"):
        published_spectra.load("cifar10_lossless", file=tmp_path / "absent.npy")
    with pytest.raises(ValueError, match="unknown published spectrum 'mnist'"):
        published_spectra.load("mnist")


@pytest.mark.skipif(not (datasets.DEFAULT_ROOT / published_spectra.SPECTRA["cifar10_lossless"].file).is_file(),
                    reason="the published CIFAR-10 spectrum is not in the offline data folder")
def test_reproduces_the_published_table_at_n_50():
    lam, label = published_spectra.load("cifar10_lossless")  # from the offline data folder, checksum verified
    assert lam.shape == (3072,) and np.all(np.diff(lam) >= 0) and "lossless" in label
    table = gaussian_study.vp_scheme_errors(lam, [50], [0.0, 1e-5, 1e-3, 1e-2])
    published = pd.read_csv(Path(__file__).resolve().parents[1] / "workflow" / "published"
                            / "pierret_galerne_2025_table2.csv", dtype={"steps": str, "w2": str})
    claim = claims.vp_schemes_reproduce(table, published)
    assert len(claim.cells) == 4 * 4 * 2 * 2 and claim.row()["verdict"] == claims.REPRODUCED
