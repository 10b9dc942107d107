"""The exact 1-D study of the Gaussian's extremal property (diffsched.studies.extremal): its closed forms against
quadrature, its Gaussian rows against the closed-form Gaussian criteria, its output density against the real Euler
sampler with the real mixture denoiser, and the monotone map."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from diffsched.method import solvers, strategies
from diffsched.models.denoisers import GaussianMixtureDenoiser
from diffsched.studies import extremal

ENTRIES = {
    "edm": strategies.DEFAULTS["edm"],
    "logsnr": strategies.DEFAULTS["logsnr"],
    "kl_optimal": strategies.DEFAULTS["kl_optimal"],
}
SMIN, SMAX = strategies.SIGMA_MIN, strategies.SIGMA_MAX


def some_values(n=200, seed=0):
    """A skewed, bimodal sample standing in for a data marginal."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(-1.0, 0.5, n // 2), rng.gamma(2.0, 0.7, n - n // 2) + 0.5])


SOURCES, _ = extremal.build_sources([0.5, 0.95], some_values())


@pytest.mark.parametrize("init", ["exact", "edm"])
def test_gaussian_source_equals_the_closed_form(init):
    # The independent expectation: for a Gaussian source the output is Gaussian, and method/gaussian.py has its KL
    # both ways and W2^2 in closed form. The quadrature's own error is far below the tolerance: the trapezoid rule
    # on smooth, Gaussian-tailed integrands converges faster than any power of the spacing (measured: 1e-13
    # relative, 4e-7 at N = 2, where the start range widens 640-fold and the spacing is coarsest); 1e-5 leaves room
    # for that and would still catch any error in the map, its derivative or the densities (each changes the KL at
    # the 1e-2 level or more).
    grid_set = extremal.grids(ENTRIES, [2, 3, 6, 15], SMIN, SMAX, init)
    table = extremal.study({"gaussian": SOURCES["gaussian"]}, grid_set, SMAX, init)
    for metric in extremal.METRICS:
        np.testing.assert_allclose(table[metric], table[f"closed_{metric}"], rtol=1e-5)
    assert (table["source_missed"] < 1e-12).all()
    # a wrong grid is not within that tolerance: the closed form of N = 6 against the quadrature of N = 15
    edm = table[table["strategy"] == "edm"].set_index("steps")
    assert abs(edm.loc[15, "kl_forward"] / edm.loc[6, "closed_kl_forward"] - 1) > 0.5


@pytest.mark.parametrize("name", ["two_gaussians_0.95", "laplace", "uniform", "data_pc1"])
@pytest.mark.parametrize("sigma", [0.03, 0.4, 3.0, 80.0])
def test_closed_form_posteriors_equal_quadrature(name, sigma):
    source = SOURCES[name]
    x = np.linspace(-4.0, 4.0, 41)
    lo, hi = (-source.a, source.a) if name == "uniform" else (-14.0, 14.0)  # the uniform's edges are nodes
    # the Laplace kink at 0 a node too; the uniform's posterior outside it hugs the edge within sigma^2 / distance
    grid = np.linspace(lo, hi, 400001 if name == "uniform" else 100001)
    mean, var = source.posterior(x, sigma)
    q_mean, q_var = extremal.posterior_by_quadrature(source.log_density, x, sigma, grid)
    np.testing.assert_allclose(mean, q_mean, atol=1e-7)
    np.testing.assert_allclose(var, q_var, atol=1e-7, rtol=1e-6)
    # the marginal density and CDF of x = x0 + sigma z, by the same quadrature
    h = grid[1] - grid[0]
    w = np.exp(source.log_density(grid)) * h
    w[[0, -1]] *= 0.5
    p = (w * stats.norm.pdf(x[:, None], grid, sigma)).sum(axis=1)
    cdf = (w * stats.norm.cdf(x[:, None], grid, sigma)).sum(axis=1)
    np.testing.assert_allclose(np.exp(source.log_marginal(x, sigma)), p, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(source.cdf(x, sigma), cdf, atol=1e-7)
    np.testing.assert_allclose(source.cdf(x, sigma) + source.sf(x, sigma), 1.0, atol=1e-12)


def test_every_source_has_mean_zero_and_variance_one():
    y = np.linspace(-40, 40, 800001)
    for name, source in SOURCES.items():
        lo, hi = max(y[0], source.support[0]), min(y[-1], source.support[1])
        g = np.linspace(lo, hi, 200001)
        p = np.exp(source.log_density(g)) * (g[1] - g[0])
        p[[0, -1]] *= 0.5
        assert abs(p.sum() - 1) < 1e-6, name
        assert abs(p @ g) < 1e-6, name
        assert abs(p @ g**2 - 1) < 1e-6, name


def test_the_derivative_is_the_maps_slope():
    # T' from the tangent carried through solvers.euler (D' = Var / sigma^2) against central differences of T
    sigmas = strategies.grid("edm", 5, SMIN, SMAX)
    x = np.linspace(-150, 150, 31)
    for name, source in SOURCES.items():
        y, slope = extremal.push(source, x, sigmas)
        h = 1e-3
        numeric = (extremal.push(source, x + h, sigmas)[0] - extremal.push(source, x - h, sigmas)[0]) / (2 * h)
        np.testing.assert_allclose(slope, numeric, rtol=1e-5, atol=1e-12, err_msg=name)


def test_the_map_is_monotone_for_every_source_and_grid():
    grid_set = extremal.grids(ENTRIES, [2, 3, 5, 10, 20], SMIN, SMAX, "exact")
    x = np.linspace(-1000.0, 1000.0, 4001)
    for name, source in SOURCES.items():
        for key, sigmas in grid_set.items():
            y, slope = extremal.push(source, x, sigmas)
            assert np.all(slope > 0), (name, key)
            assert np.all(np.diff(y) >= 0), (name, key)


def mixture_denoiser(m: float) -> GaussianMixtureDenoiser:
    return GaussianMixtureDenoiser([0.5, 0.5], [[-m], [m]], [[1 - m * m], [1 - m * m]], [[[1.0]], [[1.0]]])


def chi_square(samples: np.ndarray, source, sigmas, bins: int = 50) -> float:
    """p-value of the binned chi-square test of ``samples`` against the output distribution the study predicts for
    ``sigmas``: bins of equal predicted probability, their edges the images of the start's quantiles k / bins."""
    start = extremal.start_grid(source, SMAX, "exact", 10.0 * extremal.start_std(SMAX, "exact"), 40001)
    y, _ = extremal.push(source, start.x, sigmas)
    edges = np.interp(np.arange(1, bins) / bins, start.cdf, y)  # output CDF at T(x) is the start CDF at x
    counts = np.bincount(np.searchsorted(edges, samples), minlength=bins)
    return float(stats.chisquare(counts).pvalue)


ALPHA = 1e-3  # significance level: a correct density is rejected once in a thousand runs (the seed is fixed)


def test_output_density_agrees_with_the_real_sampler():
    # 200,000 draws of the exact start through the real solvers.euler with the real GaussianMixtureDenoiser (1-D)
    m, n = 0.8, 200_000
    oracle = mixture_denoiser(m)
    source = extremal.two_gaussians(m)
    generator = torch.Generator().manual_seed(0)
    x = oracle.start(n, SMAX, "exact", generator)
    for steps in (3, 4):
        sigmas = strategies.grid("edm", steps, SMIN, SMAX)
        samples = solvers.euler(oracle, x, sigmas).numpy().ravel()
        assert chi_square(samples, source, sigmas) > ALPHA, steps
    # ... and the test rejects a density computed for another grid: N = 3's density against N = 4's samples
    samples4 = solvers.euler(oracle, x, strategies.grid("edm", 4, SMIN, SMAX)).numpy().ravel()
    assert chi_square(samples4, source, strategies.grid("edm", 3, SMIN, SMAX)) < ALPHA
    # ... and one computed for another source: the closer mixture m = 0.5
    assert chi_square(samples4, extremal.two_gaussians(0.5), strategies.grid("edm", 4, SMIN, SMAX)) < ALPHA


def test_bounded_source_has_infinite_forward_kl_and_finite_rest():
    grid_set = extremal.grids({"edm": ENTRIES["edm"]}, [5], SMIN, SMAX, "exact")
    table = extremal.study({"gaussian": SOURCES["gaussian"], "uniform": SOURCES["uniform"]}, grid_set, SMAX, "exact")
    u = table[table["source"] == "uniform"].iloc[0]
    assert u["kl_forward"] == math.inf and u["kl_forward_ratio"] == math.inf
    assert np.isfinite(u[["kl_forward_covered", "kl_reverse", "w2"]].astype(float)).all()
    # the covered part grows as the start range widens: the source mass near the edges the output misses
    wider = extremal.study({"uniform": SOURCES["uniform"]}, grid_set, SMAX, "exact", span=20.0).iloc[0]
    assert wider["kl_forward_covered"] > u["kl_forward_covered"]
    assert wider["source_missed"] < u["source_missed"]


def test_kernel_density_is_standardised():
    mix, h = extremal.kernel_density(some_values(500))
    assert abs(mix.weights @ mix.means) < 1e-12
    assert abs(mix.weights @ (mix.means**2 + mix.variances) - 1) < 1e-12
    assert h == pytest.approx(
        extremal.silverman_bandwidth((some_values(500) - some_values(500).mean()) / some_values(500).std())
    )


def synthetic(ratios: dict[str, float], steps=(2, 3)) -> pd.DataFrame:
    """An extremal table: the Gaussian's KL 1 on every row, each other source's the given ratio."""
    rows = []
    for n in steps:
        for name, r in {"gaussian": 1.0, **ratios}.items():
            rows.append({"source": name, "strategy": "edm", "steps": n, "kl_forward": r, "kl_reverse": r, "w2": r})
    return extremal.with_ratios(pd.DataFrame(rows))


def test_extremes_name_the_gaussians_place():
    found = extremal.extremes(synthetic({"a": 1.2, "b": 0.5}))
    assert set(found["gaussian_is"]) == {"neither"}
    assert found.iloc[0][["smallest_other", "largest_other"]].tolist() == ["b", "a"]
    assert set(extremal.extremes(synthetic({"a": 1.2, "b": 1.5}))["gaussian_is"]) == {"smallest"}
