"""GITS and DMN-style grids against the exact Gaussian oracle, brute force and the tangent law."""

import itertools
import re

import numpy as np
import pytest
import torch

from diffsched.method import gaussian, schedules, search, solvers, strategies

LAM = np.geomspace(1e-3, 10.0, 8)
SMIN, SMAX = 0.002, 80.0


class Oracle:
    """Ideal denoiser of N(0, diag(lam)), D(x; sigma) = lam / (lam + sigma^2) x on x of shape (B, d); counts calls."""

    def __init__(self, lam):
        self.lam, self.calls = lam, 0

    def __call__(self, x, sigma):
        self.calls += 1
        return self.lam / (self.lam + sigma * sigma) * x


def start(lam, batch=32, seed=0):
    """Start states from the exact marginal N(0, lam + sigma_max^2) at sigma_max."""
    return np.sqrt(lam + SMAX**2) * search.start_noise((batch, lam.size), 1.0, seed)


def is_valid(grid, n):
    return (grid.shape == (n + 1,) and grid[0] == SMAX and (n == 1 or grid[n - 1] == SMIN) and grid[-1] == 0.0
            and bool(np.all(np.diff(grid) < 0)))


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_gits_grid_is_valid_and_on_the_teacher_grid(n):
    grid = search.gits_grid(Oracle(LAM), start(LAM), n, SMIN, SMAX, teacher_steps=40)
    assert is_valid(grid, n)
    assert np.all(np.isin(grid[:-1], schedules.get("edm", 40, SMIN, SMAX)[:-1]))


@pytest.mark.parametrize("t", [2, 5, 7])
def test_shortest_path_equals_brute_force(t):
    cost = np.random.default_rng(t).exponential(size=(t, t))
    for jumps in range(1, t):
        paths = [(0, *mid, t - 1) for mid in itertools.combinations(range(1, t - 1), jumps - 1)]
        best = min(paths, key=lambda p: sum(cost[a, b] for a, b in itertools.pairwise(p)))
        assert tuple(search.shortest_path(cost, jumps)) == best


def errors(grid, oracle, x, teacher):
    return (gaussian.kl_divergence(LAM, grid), search.distance(solvers.euler(oracle, x, grid), teacher))


@pytest.mark.parametrize("method,params", [("gits", {}), ("gits", {"solver": "heun", "metric": "l2"}),
                                           ("dmn", {})])
def test_search_grids_beat_uniform_in_sigma(method, params):
    oracle, x, n = Oracle(LAM), start(LAM), 5
    teacher = search.teacher_trajectory(oracle, x, schedules.get("edm", 100, SMIN, SMAX))[-1]
    grid = search.METHODS[method](oracle, x, n, SMIN, SMAX, **params)
    assert is_valid(grid, n)
    bad = schedules.get("edm", n, SMIN, SMAX, rho=1.0)  # uniform in sigma
    kl, err = errors(grid, oracle, x, teacher)
    kl_bad, err_bad = errors(bad, oracle, x, teacher)
    assert kl < kl_bad and err < err_bad


def test_dmn_approaches_the_tangent_law_for_one_eigenvalue():
    # One eigenvalue: the KL optimum (and the grid that keeps Euler closest to the flow) is the tangent law
    # with gamma = sqrt(lambda), the final step sigma_min -> 0 being shared.
    lam, n = np.array([0.37]), 6
    grid = search.dmn_grid(Oracle(lam), start(lam, 16), n, SMIN, SMAX)
    tangent = np.log(schedules.get("tangent", n, SMIN, SMAX, gamma=np.sqrt(0.37))[:-1])
    gap = np.abs(np.log(grid[:-1]) - tangent).max()
    assert gap < 1e-3 < np.abs(np.log(schedules.get("edm", n, SMIN, SMAX)[:-1]) - tangent).max()


def test_torch_tensors_give_the_numpy_grid():
    lam_t = torch.from_numpy(LAM)
    grid_t = search.gits_grid(lambda x, s: lam_t / (lam_t + s * s) * x, torch.from_numpy(start(LAM)), 4, SMIN, SMAX,
                              teacher_steps=30)
    np.testing.assert_array_equal(grid_t, search.gits_grid(Oracle(LAM), start(LAM), 4, SMIN, SMAX, teacher_steps=30))


@pytest.mark.parametrize("method", ["gits", "dmn"])
def test_cache_returns_identical_grids_without_recomputation(method, tmp_path):
    search.clear_memo()
    oracle, x, path = Oracle(LAM), start(LAM), tmp_path / "grids.json"
    kwargs = {"denoiser": oracle, "samples": x, "denoiser_id": "gauss8", "cache": path, "teacher_steps": 30}
    first = strategies.grid(method, 4, SMIN, SMAX, **kwargs)
    assert oracle.calls > 0 and path.is_file()
    oracle.calls = 0
    np.testing.assert_array_equal(strategies.grid(method, 4, SMIN, SMAX, **kwargs, solver="euler"), first)  # memo
    search.clear_memo()
    np.testing.assert_array_equal(strategies.grid(method, 4, SMIN, SMAX, **kwargs), first)  # from disk
    assert oracle.calls == 0
    strategies.grid(method, 4, SMIN, SMAX, **{**kwargs, "samples": start(LAM, seed=1)})  # other samples: recomputed
    assert oracle.calls > 0
    np.testing.assert_array_equal(search.METHODS[method](Oracle(LAM), x, 4, SMIN, SMAX, teacher_steps=30), first)


def test_a_broken_cache_file_is_named(tmp_path):
    path = tmp_path / "grids.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="grids.json' is not a JSON object"):
        search.cached_grid("gits", Oracle(LAM), start(LAM), 3, denoiser_id="g", cache=path, teacher_steps=10)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: strategies.grid("karras", 5), "gits(denoiser, samples"),
        (lambda: strategies.grid("dmn", 5), "needs denoiser=... and samples="),
        (lambda: strategies.grid("gits", 5, denoiser=Oracle(LAM), samples=start(LAM), rho=7.0), "takes no parameter"),
        (lambda: strategies.function("dmn", SMIN, SMAX, denoiser=Oracle(LAM), samples=start(LAM)), "for one n"),
        (lambda: search.gits_grid(Oracle(LAM), start(LAM), 5, teacher_steps=4), "teacher_steps must be"),
        (lambda: search.gits_grid(Oracle(LAM), start(LAM), 5, teacher="tangent"), "valid: edm, logsnr"),
        (lambda: search.gits_grid(Oracle(LAM), start(LAM), 5, metric="lpips"), "valid: mse, l2"),
        (lambda: search.dmn_grid(Oracle(LAM), np.zeros((0, 8)), 5), "non-empty batch"),
        (lambda: search.dmn_grid(Oracle(LAM), start(LAM), 5, solver="rk4"), "valid solvers"),
        (lambda: search.cached_grid("gits", Oracle(LAM), start(LAM), 5, cache="c.json"), "needs denoiser_id"),
        (lambda: search.shortest_path(np.ones((4, 4)), 4), "jumps must be an integer in [1, 3]"),
        (lambda: search.shortest_path(np.ones((3, 4)), 1), "square matrix"),
    ],
)
def test_bad_input_names_the_problem(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
