"""Strategy ranking: budgets, the floor, the best-rho search and the markdown table."""

import numpy as np
import pandas as pd
import pytest
from gaussian_cases import dense_minimum

from diffsched.method import gaussian, schedules, solvers
from diffsched.studies import ranking

LAM = np.geomspace(1e-3, 20.0, 50)
STRATEGIES = {
    "edm": {"schedule": "edm", "params": {"rho": 7}},
    "logsnr": {"schedule": "logsnr"},
    "power_best": {"schedule": "vp_time", "search": {"rho": [0.5, 1.0, 2.0, 3.0]}},
    "tangent_opt": {"schedule": "tangent_opt"},
    "kl_optimal": {"schedule": "optimal"},
}


@pytest.fixture(scope="module")
def table():
    return ranking.kl_table(LAM, STRATEGIES, [3, 4, 6], ["euler", "heun"])


def test_budgets_buy_steps(table):
    heun = table[(table["solver"] == "heun")]
    assert set(zip(heun["nfe_budget"], heun["steps"], heun["nfe"])) == {(3, 2, 3), (4, 2, 3), (6, 3, 5)}
    euler = table[(table["solver"] == "euler")]
    assert (euler["nfe"] == euler["nfe_budget"]).all()


def kl_floor(solver: str, n: int) -> float:
    """The lowest KL of an n-step grid for LAM by a lattice search, independent of the optimum's starts."""
    return dense_minimum(lambda grid: gaussian.kl_divergence(LAM, grid, solver), n)


def test_floor_is_the_brute_force_optimum_and_best_is_marked(table):
    for (solver, budget), block in table.groupby(["solver", "nfe_budget"]):
        floor = block[block["strategy"] == "kl_optimal"]["kl_forward"].item()
        n = solvers.steps_for_nfe(solver, budget)
        if n <= 4:
            assert floor == pytest.approx(kl_floor(solver, n), rel=1e-6)
        best = block[block["best"]]
        assert len(best) >= 1 and "kl_optimal" not in set(best["strategy"])
        assert best["kl_forward"].min() == block[block["strategy"] != "kl_optimal"]["kl_forward"].min()


def test_rho_search_takes_the_lowest_kl(table):
    row = table[(table["solver"] == "euler") & (table["nfe_budget"] == 6) & (table["strategy"] == "power_best")]
    kls = [gaussian.kl_divergence(LAM, schedules.get("vp_time", 6, rho=r)) for r in (0.5, 1.0, 2.0, 3.0)]
    assert row["kl_forward"].item() == pytest.approx(min(kls), rel=1e-12)


def test_grid_column_reproduces_the_kl(table):
    row = table.iloc[7]
    grid = np.array([float(v) for v in row["sigmas"].split()])
    assert gaussian.kl_divergence(LAM, grid, row["solver"]) == pytest.approx(row["kl_forward"], rel=1e-4)


def test_markdown_has_one_block_per_solver(table):
    md = ranking.to_markdown(table, "caption line")
    assert md.startswith("caption line") and md.count("**criterion: kl, solver:") == 2
    assert md.strip().splitlines()[-1].startswith("| kl_optimal |")


def test_bad_strategy_is_named():
    with pytest.raises(ValueError, match="strategy 'x'.*unknown schedule 'karras'"):
        ranking.kl_table(LAM, {"x": {"schedule": "karras"}}, [3], ["euler"])


def test_mark_best_handles_ties():
    t = pd.DataFrame({"strategy": ["a", "b", "c"], "schedule": ["edm", "logsnr", "optimal"],
                      "criterion": "kl", "solver": "heun", "nfe_budget": 3, "value": [1.0, 1.0, 0.5]})
    assert list(ranking.mark_best(t)["best"]) == [True, True, False]


def test_every_criterion_ranks_the_same_grids_by_its_own_value(table):
    with_w2 = {**STRATEGIES, "w2_optimal": {"schedule": "optimal", "params": {"criterion": "w2"}}}
    both = ranking.kl_table(LAM, with_w2, [3, 4, 6], ["euler", "heun"], criteria=("kl", "w2"))
    kl = both[(both["criterion"] == "kl") & (both["strategy"] != "w2_optimal")].reset_index(drop=True)
    pd.testing.assert_frame_equal(kl, table)  # kl unchanged by another criterion's optimum
    assert (both[both["criterion"] == "kl"].groupby(["solver", "nfe_budget"])["sigmas"].apply(list).values
            == both[both["criterion"] == "w2"].groupby(["solver", "nfe_budget"])["sigmas"].apply(list).values).all()
    w2 = both[both["criterion"] == "w2"]
    for row in w2.itertuples():  # value: the W2 of the grid the row lists, closed form sum (sqrt v - sqrt t)^2
        grid = np.array([float(v) for v in row.sigmas.split()])
        log_v, _ = gaussian.output_moments(LAM, grid, row.solver)
        assert row.value == pytest.approx(np.sum((np.exp(log_v / 2) - np.sqrt(LAM)) ** 2), rel=1e-4)
    for (solver, budget), block in w2.groupby(["solver", "nfe_budget"]):
        if (solver, budget) == ("euler", 4):  # the W2 optimum is the W2 floor of a lattice search
            floor = dense_minimum(lambda grid: gaussian.criterion("w2", LAM, grid, "euler"), 4)
            assert block[block["strategy"] == "w2_optimal"]["value"].item() == pytest.approx(floor, rel=1e-6)
        optimised = block["schedule"] == "optimal"
        assert block[block["best"]]["value"].min() == block[~optimised]["value"].min()
    assert ranking.to_markdown(both, "c").count("**criterion: w2, solver:") == 2


def test_unknown_criterion_is_refused():
    with pytest.raises(ValueError, match="unknown criterion 'kld'"):
        ranking.kl_table(LAM, STRATEGIES, [3], ["euler"], criteria=("kl", "kld"))
