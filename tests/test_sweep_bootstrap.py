"""The sweep's bootstrap table (diffsched.studies.sweep.bootstrap_rows, score_rows) against hand-computed values, and
which cells run every seed (sweep.cell_seeds)."""

import numpy as np
import pandas as pd
import pytest

from diffsched.metrics import bootstrap
from diffsched.studies import sweep

# Three strategies; only b's FID varies across the 4 replicates, by -1.5, -0.5, 0.5, 1.5 (median 0: no bias shift).
RESULT = bootstrap.Scores(("edm", "a", "b"), {"fid": np.array([3.0, 1.0, 2.0])},
                          {"fid": np.array([[3.0, 1.0, 2.0 + d] for d in (-1.5, -0.5, 0.5, 1.5)])})
CRITERIA = {"picks_b": {"edm": 2.0, "a": 3.0, "b": 0.1}, "picks_a": {"edm": 2.0, "a": 0.5, "b": 1.0},
            "picks_edm": {"edm": 0.0, "a": 1.0, "b": 2.0}}


def test_rows_hold_correlations_regret_and_verdicts_with_intervals():
    rows = {r["criterion"]: r for r in sweep.bootstrap_rows(RESULT, CRITERIA, ["edm", "logsnr"])}
    b = rows["picks_b"]
    assert (b["metric"], b["pick"], b["best"]) == ("fid", "b", "a")
    # ranks (2, 3, 1) vs (3, 1, 2): rho = 1 - 6 * 6 / 24; replicates 0.5, -0.5, -0.5, -1 -> 5% and 95% points
    assert [b["spearman"], b["spearman_lo"], b["spearman_hi"]] == pytest.approx([-0.5, -0.925, 0.35])
    assert b["kendall"] == pytest.approx(-1 / 3)
    assert b["spearman_resolved"] is False  # 1.275 wide, more than 2 x 0.3
    # regret 2 - 1; replicates 0, 0.5, 1.5, 2.5 (median 1: no shift)
    assert [b["regret"], b["regret_lo"], b["regret_hi"]] == pytest.approx([1.0, 0.075, 2.35])
    # b - edm: -1 + d, i.e. -2.5 ... 0.5: the interval holds 0
    assert [b["vs_edm"], b["vs_edm_lo"], b["vs_edm_hi"]] == pytest.approx([-1.0, -2.35, 0.35])
    assert b["vs_edm_verdict"] == "unresolved" and "vs_logsnr" not in b  # logsnr is not in the cell
    a = rows["picks_a"]
    assert [a["vs_edm"], a["vs_edm_lo"], a["vs_edm_hi"], a["vs_edm_verdict"]] == [-2.0, -2.0, -2.0, "pick better"]
    assert [a["regret"], a["spearman"]] == pytest.approx([0.0, 1.0])
    assert a["spearman_resolved"] is True  # a and edm never move: every replicate ranks alike
    assert rows["picks_edm"]["vs_edm_verdict"] == "is the pick" and rows["picks_edm"]["vs_edm"] == 0.0


def test_score_rows_give_every_strategy_its_interval():
    rows = sweep.score_rows(RESULT)
    assert [(r["strategy"], r["metric"]) for r in rows] == [("edm", "fid"), ("a", "fid"), ("b", "fid")]
    assert [rows[0]["value"], rows[0]["value_lo"], rows[0]["value_hi"]] == [3.0, 3.0, 3.0]
    assert [rows[2]["value"], rows[2]["value_lo"], rows[2]["value_hi"]] == pytest.approx([2.0, 0.65, 3.35])


def test_display_joins_each_estimate_with_its_interval_and_verdict():
    table = pd.DataFrame([{"dataset": "d", "denoiser": "gaussian", "solver": "euler", "nfe_budget": 4, **row}
                          for row in sweep.bootstrap_rows(RESULT, CRITERIA, ["edm"])])
    shown = sweep.bootstrap_display(table)
    assert list(shown.columns) == ["dataset", "denoiser", "solver", "nfe_budget", "criterion", "metric", "pick",
                                   "best", "spearman_resolved", "spearman", "kendall", "regret", "vs_edm"]
    b = shown.iloc[0]
    assert b["spearman"] == "-0.5 [-0.925, 0.35]" and b["vs_edm"] == "-1 [-2.35, 0.35] unresolved"
    assert shown.iloc[2]["vs_edm"] == "0 [0, 0] is the pick"
    assert list(shown["spearman_resolved"]) == ["no (interval > +-0.3)", "yes", "no (interval > +-0.3)"]


def test_every_seed_names_denoisers_or_single_pairs():
    config = {"seeds": [0, 1, 2], "every_seed": ["empirical", "cifar10/gaussian"]}
    assert sweep.cell_seeds(config, "cifar10", "gaussian") == [0, 1, 2]
    assert sweep.cell_seeds(config, "celeba32", "gaussian") == [0]  # the pair names cifar10 only
    assert sweep.cell_seeds(config, "celeba32", "empirical") == [0, 1, 2]  # a bare denoiser: every data set
    assert sweep.cell_seeds(config, "cifar10", "unet-with") == [0]


def seeded_table() -> pd.DataFrame:
    """Two cells of four strategies and two seeds, with a KL and a FID that disagree on the order of a and b."""
    rows = []
    for budget, shift in ((4, 0.0), (8, -5.0)):
        for strategy, kl, fids in (("edm", 0.4, (10.0, 12.0)), ("a", 0.1, (9.0, 9.5)), ("b", 0.2, (8.0, 8.2)),
                                   ("c", 0.9, (20.0, 26.0))):
            rows += [{"dataset": "d", "denoiser": "n", "solver": "heun", "nfe_budget": budget, "strategy": strategy,
                      "seed": seed, "kl_forward": kl, "fid": fid + shift} for seed, fid in enumerate(fids)]
    return pd.DataFrame(rows)


def test_rank_correlation_is_scipys_on_seed_means():
    from scipy import stats

    table = seeded_table()
    out = sweep.rank_correlation(table)
    assert list(out["nfe_budget"]) == [4, 8] and (out["strategies"] == 4).all()
    cell = table[table["nfe_budget"] == 4].groupby("strategy")[["kl_forward", "fid"]].mean()
    assert out["spearman"].iloc[0] == pytest.approx(stats.spearmanr(cell["kl_forward"], cell["fid"]).statistic)
    # KL ranks (edm 3, a 1, b 2, c 4) against FID means (11, 9.25, 8.1, 23): ranks (3, 2, 1, 4)
    assert out["spearman"].iloc[0] == pytest.approx(1 - 6 * (0 + 1 + 1 + 0) / (4 * 15))
    assert out["kendall"].iloc[0] == pytest.approx((5 - 1) / 6)
    assert list(out["kl_pick"]) == ["a", "a"] and list(out["fid_pick"]) == ["b", "b"]


def test_seed_spread_is_the_mean_and_sample_std_over_seeds():
    out = sweep.seed_spread(seeded_table()).set_index(["nfe_budget", "strategy"])
    assert len(out) == 8 and (out["seeds"] == 2).all()
    assert out.loc[(4, "c"), "fid_mean"] == pytest.approx(23.0)
    assert out.loc[(4, "c"), "fid_std"] == pytest.approx(np.sqrt(18.0))  # (20 - 23)^2 + (26 - 23)^2 over n - 1 = 1
    assert out.loc[(8, "edm"), "fid_mean"] == pytest.approx(6.0) and out.loc[(8, "edm"), "fid_std"] == pytest.approx(
        np.sqrt(2.0))
