"""Paired bootstrap of a sweep cell: coverage of the rank-correlation interval, verdicts, FID / KID formulas."""

import numpy as np
import pytest
import torch
from scipy import linalg, stats
from torch_fidelity.metric_kid import kernel_poly, mmd2

from diffsched.metrics import bootstrap, scores


def plain_fid(x, reference):
    """FID from the two sets' means and covariances, with scipy's matrix square root."""
    s1, s2 = np.cov(x, rowvar=False), np.cov(reference, rowvar=False)
    diff = x.mean(0) - reference.mean(0)
    return diff @ diff + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)


def features(rng, n, d=8, scale=1.0, shift=0.0):
    return shift + scale * rng.standard_normal((n, d)) * np.linspace(0.5, 1.5, d)


def test_vectorised_rank_correlations_are_scipys():
    rng = np.random.default_rng(0)
    criterion = np.array([3.0, 1.0, 1.0, 2.0, 5.0, 0.5])
    values = rng.integers(0, 4, (50, 6)).astype(float)  # many ties
    values[0] = 7.0  # a constant row
    rho, tau = bootstrap.spearman(criterion, values), bootstrap.kendall(criterion, values)
    assert np.isnan(rho[0]) and np.isnan(tau[0])
    for r, row in enumerate(values[1:], 1):
        assert rho[r] == pytest.approx(stats.spearmanr(criterion, row).statistic, abs=1e-12)
        assert tau[r] == pytest.approx(stats.kendalltau(criterion, row).statistic, abs=1e-12)


def test_full_sample_fid_and_kid_are_the_plain_formulas():
    rng = np.random.default_rng(1)
    ref = features(rng, 40)
    cell = {"a": features(rng, 40, scale=1.3), "b": features(rng, 40, shift=0.4)}
    result = bootstrap.scores(cell, ref, replicates=5)
    for j, x in enumerate(cell.values()):
        assert result.point["fid"][j] == pytest.approx(plain_fid(x, ref), rel=1e-9)
        k = mmd2(kernel_poly(x, x), kernel_poly(x, ref), kernel_poly(ref, ref))  # torch-fidelity, one subset of all
        assert result.point["kid"][j] == pytest.approx(k, rel=1e-9)
    # fewer samples than dimensions: scores.frechet_distance's own route
    few = features(rng, 6)
    stats_ref = {"mu": ref.mean(0), "sigma": np.cov(ref, rowvar=False)}
    # both take square roots of a zero eigenvalue (the centring's) known to rounding: 1e-7 each
    assert bootstrap.scores({"x": few}, ref, replicates=1).point["fid"][0] == pytest.approx(
        scores.frechet_distance(torch.from_numpy(few), stats_ref), abs=1e-6)


def test_a_replicate_scores_its_drawn_start_states():
    rng = np.random.default_rng(2)
    ref, x = features(rng, 30), features(rng, 20, scale=1.2)
    result = bootstrap.scores({"x": x}, ref, replicates=3, seed=5)
    counts = bootstrap.resample(20, 3, np.random.default_rng(5))  # the draws of scores(seed=5)
    k_ref = kernel_poly(ref, ref)
    for r, c in enumerate(counts.astype(int)):
        drawn = np.repeat(np.arange(20), c)
        assert result.replicates["fid"][r, 0] == pytest.approx(plain_fid(x[drawn], ref), rel=1e-9)
        k = kernel_poly(x[drawn], x[drawn])
        distinct = drawn[:, None] != drawn[None, :]  # copies of one start state never pair
        expected = (k[distinct].mean() + (k_ref.sum() - np.trace(k_ref)) / (30 * 29)
                    - 2 * kernel_poly(x[drawn], ref).mean())
        assert result.replicates["kid"][r, 0] == pytest.approx(expected, rel=1e-9)


def test_verdicts_and_determinism():
    rng = np.random.default_rng(3)
    ref, x = features(rng, 60), features(rng, 60)
    cell = {"same": x, "copy": x.copy(), "worse": x + 2.0}
    result = bootstrap.scores(cell, ref, replicates=200, seed=7)
    tie = bootstrap.compare(result, "same", "copy")
    assert tie["estimate"] == 0 and tie["interval"] == [0.0, 0.0] and tie["verdict"] == "unresolved"
    apart = bootstrap.compare(result, "same", "worse")
    assert apart["verdict"] == "a better"
    # FID's replicates sit above the estimate (repeated start states); the moved interval holds the estimate
    assert apart["bootstrap_bias"] != 0 and apart["interval"][0] <= apart["estimate"] <= apart["interval"][1]
    assert bootstrap.compare(result, "worse", "copy", "kid")["verdict"] == "b better"
    again = bootstrap.scores(cell, ref, replicates=200, seed=7)
    np.testing.assert_array_equal(again.replicates["fid"], result.replicates["fid"])
    other = bootstrap.scores(cell, ref, replicates=200, seed=8)
    assert not np.array_equal(other.replicates["fid"], result.replicates["fid"])
    summary = bootstrap.summarise(result, {"same": 1.0, "copy": 2.0, "worse": 0.0})
    assert summary["pick"] == "worse" and summary["fid"]["best"] in ("same", "copy")
    assert summary["fid"]["regret"]["estimate"] == pytest.approx(result.point["fid"][2] - result.point["fid"][0])
    assert summary["fid"]["regret"]["interval"][0] > 0


def test_seeds_are_drawn_apart_and_averaged():
    rng = np.random.default_rng(4)
    ref = features(rng, 30)
    seeds = {"a": [features(rng, 20), features(rng, 25)], "b": [features(rng, 20), features(rng, 25)]}
    pooled = bootstrap.scores(seeds, ref, replicates=4)
    for j, per_seed in enumerate(seeds.values()):
        assert pooled.point["fid"][j] == pytest.approx(np.mean([plain_fid(x, ref) for x in per_seed]), rel=1e-9)
    with pytest.raises(ValueError, match="seed 1"):
        bootstrap.scores({"a": seeds["a"], "b": [seeds["b"][0], seeds["b"][1][:5]]}, ref)


# Coverage. Quality of strategy s = mean over start states of q_s + z_i + e_si: z_i the start's effect, shared by
# every strategy (sd 3), e_si its own (sd 1), so its population value is q_s exactly. Strategies 2 and 3 tie in
# the population (q = 2); the other gaps (1) are 7 standard errors of a difference, so the sample Spearman
# with criterion 0..4 is 1 or 0.9 as the pair falls, and the population's (tie ranked 3.5) lies between. The
# interval covers it when both orders fall within its central 90%: with the observed difference d ~ N(0, s^2)
# and a replicate's ~ N(d, s^2), the bootstrap's P(swap) = Phi(-d / s) is uniform, so it is inside (0.05, 0.95)
# 90% of the time. Kendall: 1 or 0.8, the same way. A bootstrap that drew start states apart for each strategy
# would add z's variance to the pair's difference and cover nearly always.
Q = np.array([0.0, 1.0, 2.0, 2.0, 4.0])
CRITERION = dict(zip("abcde", range(5)))
TRIALS, STARTS, REPLICATES = 400, 100, 500


def coverage(paired: bool) -> dict[str, float]:
    rng = np.random.default_rng(11)
    truth = {"spearman": stats.spearmanr(range(5), Q).statistic, "kendall": stats.kendalltau(range(5), Q).statistic}
    hits = {k: 0 for k in truth}
    for _ in range(TRIALS):
        values = Q + 3.0 * rng.standard_normal((STARTS, 1)) + rng.standard_normal((STARTS, 5))
        if paired:
            reps = bootstrap.resample(STARTS, REPLICATES, rng) @ values / STARTS
        else:
            reps = np.stack([bootstrap.resample(STARTS, REPLICATES, rng) @ values[:, s] for s in range(5)], 1) / STARTS
        result = bootstrap.Scores(tuple("abcde"), {"quality": values.mean(0)}, {"quality": reps})
        summary = bootstrap.summarise(result, CRITERION)["quality"]
        for k, true in truth.items():
            lo, hi = summary[k]["interval"]
            hits[k] += lo <= true <= hi
    return {k: v / TRIALS for k, v in hits.items()}


def test_rank_correlation_interval_covers_at_the_nominal_rate():
    # 400 trials: binomial standard error sqrt(0.9 * 0.1 / 400) = 0.015; 3 of them allowed.
    for k, rate in coverage(paired=True).items():
        assert abs(rate - 0.9) <= 0.045, (k, rate)
    assert min(coverage(paired=False).values()) > 0.97
