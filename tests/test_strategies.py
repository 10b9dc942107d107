"""The strategy registry: every name becomes a grid through strategies.grid, and every config entry through
strategies.entry_grid, taking from one context what its kind declares."""

import numpy as np
import pytest

from diffsched.method import gaussian, optimise, schedules, strategies

LAM = np.geomspace(1e-3, 10.0, 12)
CONTEXT = {"variational": {"eigenvalues": LAM}, "tangent_opt": {"eigenvalues": LAM},
           "optimal": {"eigenvalues": LAM, "criterion": "w2"}}


@pytest.mark.parametrize("name", [k for k in strategies.NAMES if k not in strategies.SEARCH_GRIDS])
@pytest.mark.parametrize("n", [1, 2, 6])
def test_every_strategy_grid_keeps_the_convention(name, n):
    g = strategies.grid(name, n, 0.002, 80.0, **CONTEXT.get(name, {}))
    assert g.shape == (n + 1,) and g[0] == 80.0 and g[-1] == 0.0 and np.all(np.diff(g) < 0)
    if n > 1:
        assert g[n - 1] == 0.002


def test_each_kind_is_computed_where_it_lives():
    np.testing.assert_array_equal(strategies.grid("edm", 6, rho=3.0), schedules.get("edm", 6, rho=3.0))
    np.testing.assert_array_equal(strategies.grid("optimal", 6, **CONTEXT["optimal"]),
                                  optimise.optimal_grid(LAM, 6, criterion="w2"))
    tau = np.linspace(0.0, 1.0, 7)
    np.testing.assert_array_equal(strategies.function("variational", 0.002, 80.0, eigenvalues=LAM)(tau),
                                  optimise.variational_schedule(LAM)(tau))


def test_a_context_field_reaches_only_the_kinds_that_declare_it():
    rich = strategies.Context(LAM, "heun", "edm", "w2", denoiser=print, samples=())
    np.testing.assert_array_equal(strategies.entry_grid({"schedule": "edm", "params": {"rho": 3}}, 6, context=rich),
                                  schedules.get("edm", 6, rho=3.0))
    np.testing.assert_array_equal(strategies.entry_grid({"schedule": "tangent_opt"}, 5, context=rich),
                                  optimise.tangent_opt_grid(LAM, 5, solver="heun", init="edm", criterion="w2"))


def test_an_entry_parameter_overrides_the_context():
    entry = {"schedule": "tangent_opt", "params": {"criterion": "kl"}}
    np.testing.assert_array_equal(strategies.entry_grid(entry, 5, context=strategies.Context(LAM, criterion="w2")),
                                  optimise.tangent_opt_grid(LAM, 5, criterion="kl"))


@pytest.mark.parametrize("criterion", ["kl", "w2"])
def test_a_search_entry_keeps_the_value_with_the_lowest_criterion(criterion):
    rhos = [0.5, 1.0, 2.0, 4.0]
    entry = {"schedule": "vp_time", "search": {"rho": rhos}}
    chosen = strategies.entry_grid(entry, 5, context=strategies.Context(LAM, criterion=criterion))
    values = {r: gaussian.criterion(criterion, LAM, schedules.get("vp_time", 5, rho=r)) for r in rhos}
    np.testing.assert_array_equal(chosen, schedules.get("vp_time", 5, rho=min(values, key=values.get)))


def test_a_search_entry_without_a_spectrum_is_refused():
    with pytest.raises(ValueError, match="needs the context's eigenvalues"):
        strategies.entry_grid({"schedule": "vp_time", "search": {"rho": [1.0, 2.0]}}, 5)


@pytest.mark.parametrize("entry,message", [
    ({"schedule": "edm", "params": {"rh": 3}}, "strategy 'mine': "),
    ({"schedule": "optimal", "params": {"rho": 7}}, "takes no parameter"),
    ({"schedule": "karras"}, "unknown schedule 'karras'"),
])
def test_a_bad_entry_is_refused_with_its_label(entry, message):
    with pytest.raises(ValueError, match=message):
        strategies.check_entry("mine", entry)


def test_the_defaults_are_valid_entries_and_the_context_free_ones_are_closed_forms():
    for label, entry in strategies.DEFAULTS.items():
        strategies.check_entry(label, entry)
    assert sorted(k for k, v in strategies.DEFAULTS.items() if not strategies.needs_context(v)) == [
        "cosine", "edm", "logsnr", "vp_quadratic", "vp_uniform"]
