"""Paired bootstrap over the shared start states of a sweep cell (Efron and Tibshirani 1993, percentile intervals;
metric-valued ones moved by the bootstrap's bias, see :func:`metric_estimate`).

In a cell every strategy samples from the same N start states: sample i of every strategy starts from start i.
Drawing start states with replacement, the same draw for every strategy, keeps that pairing, so the intervals of
FID differences and of rank correlations carry only the variation the strategies do not share. Features are
extracted once; a replicate reweights them by ``counts[i]``, how often start i is drawn. FID (Heusel et al. 2017)
is :func:`diffsched.metrics.scores.frechet_distance` with multiplicities; KID (Binkowski et al. 2018) is the unbiased
MMD^2 with torch-fidelity's polynomial kernel over whole sets (the expectation of torch-fidelity's subset
average). The reference set stays fixed. Several seeds: each is drawn on its own and their scores averaged, as
:func:`diffsched.studies.sweep.rank_correlation` averages seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.9
VERDICTS = ("a better", "b better", "unresolved")


@dataclass(frozen=True)
class Scores:
    """Per metric: ``point`` (S,), the scores of the samples as drawn, and ``replicates`` (R x S)."""

    strategies: tuple[str, ...]
    point: dict[str, np.ndarray]
    replicates: dict[str, np.ndarray]


def _kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """torch-fidelity's KID kernel (x . y / d + 1)^3. Imported at first use: torch-fidelity loads torchvision
    (about 2.5 s), which the many jobs that import this module only to plan or summarise a sweep never need."""
    from torch_fidelity.metric_kid import kernel_poly

    return kernel_poly(x, y)


def resample(n: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """replicates x n counts: how often each of n start states is drawn in n draws with replacement."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=replicates).astype(np.float64)


def _quadratic(counts: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """c^T matrix c for every row c of counts."""
    return ((counts @ matrix) * counts).sum(1)


class _Frechet:
    """FID of reweighted copies of one feature set against fixed reference moments (mu, sigma).

    About mu the mean term is |m|^2. The trace term is that of :func:`metrics.frechet_distance`: with
    z = (features - mu) sigma^(1/2) and A the drawn z centred, rows scaled by sqrt(count / (n - 1)),
    tr (S1 sigma)^(1/2) is the sum of the square roots of the eigenvalues of A A^T (from the Gram matrix z z^T,
    computed once) or, when more start states are drawn than there are features, of A^T A.
    """

    def __init__(self, features: np.ndarray, mu: np.ndarray, sigma_root: np.ndarray):
        y = features - mu
        self.z = y @ sigma_root
        self.gram, self.gram_ref, self.trace_ref = y @ y.T, self.z @ self.z.T, np.sum(sigma_root**2)

    def _root_trace(self, c: np.ndarray, n: float) -> float:
        drawn = np.flatnonzero(c)
        w = np.sqrt(c[drawn] / (n - 1))
        if len(drawn) > self.z.shape[1]:
            a = w[:, None] * (self.z[drawn] - c[drawn] @ self.z[drawn] / n)
            product = a.T @ a
        else:
            g = self.gram_ref[drawn] @ c / n  # z_i . mean z
            s = g @ c[drawn] / n  # |mean z|^2
            product = w[:, None] * (self.gram_ref[np.ix_(drawn, drawn)] - g[:, None] - g[None, :] + s) * w[None, :]
        return np.sqrt(np.clip(np.linalg.eigvalsh(product), 0, None)).sum()

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        n = counts[0].sum()
        mean_sq = _quadratic(counts, self.gram) / n**2
        trace = (counts @ np.diag(self.gram) - n * mean_sq) / (n - 1)
        roots = np.array([self._root_trace(c, n) for c in counts])
        return mean_sq + trace + self.trace_ref - 2 * roots


class _Kernel:
    """KID of reweighted copies of one feature set: pairs of distinct start states within the sample (a drawn
    start never pairs with its own copies), every sample-reference pair, the reference term fixed."""

    def __init__(self, features: np.ndarray, reference: np.ndarray, reference_term: float):
        self.kernel = _kernel(features, features)
        self.cross = _kernel(features, reference).mean(1)
        self.reference_term = reference_term

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        n = counts[0].sum()
        same = (counts**2) @ np.diag(self.kernel)
        within = _quadratic(counts, self.kernel) - same
        return within / (n**2 - (counts**2).sum(1)) + self.reference_term - 2 * counts @ self.cross / n


def _reference_term(reference: np.ndarray, block: int = 1024) -> float:
    """Mean kernel value over pairs of distinct reference features (row blocks bound the memory)."""
    m, total = len(reference), 0.0
    for a in range(0, m, block):
        k = _kernel(reference[a : a + block], reference)
        total += k.sum() - np.trace(k, offset=a)
    return total / (m * (m - 1))


def _by_seed(features: dict) -> tuple[tuple[str, ...], list[list[np.ndarray]]]:
    """Strategies and, per seed, their float64 feature arrays, checked to share the seed's start states."""
    names = tuple(features)
    per_strategy = [v if isinstance(v, (list, tuple)) else [v] for v in features.values()]
    if len({len(v) for v in per_strategy}) != 1:
        raise ValueError("every strategy needs features for the same seeds")
    seeds = [[np.asarray(v[k], dtype=np.float64) for v in per_strategy] for k in range(len(per_strategy[0]))]
    for k, arrays in enumerate(seeds):
        if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 2 or len(arrays[0]) < 2:
            raise ValueError(f"seed {k}: every strategy needs an N x d feature array (N >= 2, row i = start i), "
                             f"got shapes {[a.shape for a in arrays]}")
    return names, seeds


def scores(features: dict, reference, replicates: int = 1000, seed: int = 0) -> Scores:
    """Point and bootstrap FID and KID of every strategy of a cell.

    ``features``: strategy -> N x d Inception features (row i from start i), or a list of such arrays, one per
    seed of the cell; ``reference``: M x d reference features. Deterministic given ``seed``.
    """
    names, seeds = _by_seed(features)
    reference = np.asarray(reference, dtype=np.float64)
    mu, sigma = reference.mean(0), np.cov(reference, rowvar=False)
    eigenvalues, vectors = np.linalg.eigh(sigma)
    sigma_root = (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T
    kernel_ref = _reference_term(reference)
    rng = np.random.default_rng(seed)
    point = {m: np.zeros(len(names)) for m in ("fid", "kid")}
    reps = {m: np.zeros((replicates, len(names))) for m in ("fid", "kid")}
    for arrays in seeds:
        counts = resample(len(arrays[0]), replicates, rng)
        full = np.ones((1, len(arrays[0])))
        for j, x in enumerate(arrays):
            for metric, score in ("fid", _Frechet(x, mu, sigma_root)), ("kid", _Kernel(x, reference, kernel_ref)):
                point[metric][j] += score(full)[0] / len(seeds)
                reps[metric][:, j] += score(counts) / len(seeds)
    return Scores(names, point, reps)


def spearman(criterion, values: np.ndarray) -> np.ndarray:
    """Spearman's rho of ``criterion`` (S,) with each row of ``values`` (R x S), ties ranked by their average
    (scipy.stats.spearmanr); NaN where a row is constant."""
    a = stats.rankdata(np.asarray(criterion, dtype=np.float64))
    b = stats.rankdata(np.atleast_2d(values), axis=1)
    a, b = a - a.mean(), b - b.mean(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return b @ a / np.sqrt((a @ a) * (b * b).sum(1))


def kendall(criterion, values: np.ndarray) -> np.ndarray:
    """Kendall's tau-b (scipy.stats.kendalltau) of ``criterion`` with each row of ``values``; NaN where constant."""
    i, j = np.triu_indices(len(criterion), 1)
    c = np.asarray(criterion, dtype=np.float64)
    v = np.atleast_2d(values)
    sx, sy = np.sign(c[i] - c[j]), np.sign(v[:, i] - v[:, j])
    with np.errstate(invalid="ignore", divide="ignore"):
        return sy @ sx / np.sqrt(np.count_nonzero(sx) * np.count_nonzero(sy, axis=1))


def interval(values: np.ndarray, level: float = LEVEL) -> list[float]:
    """Central percentile interval of the replicates (NaN replicates left out)."""
    tail = 50 * (1 - level)
    if np.isnan(values).all():
        return [float("nan"), float("nan")]
    return [float(v) for v in np.nanpercentile(values, [tail, 100 - tail])]


def _estimate(point, replicates, level: float) -> dict:
    return {"estimate": float(point), "interval": interval(replicates, level)}


def metric_estimate(point, replicates, level: float) -> dict:
    """A metric-valued estimate (a score, a difference, a regret): the percentile interval of the replicates
    moved by their bias, median(replicates) - point (Efron and Tibshirani 1993, ch. 10). FID is biased upwards by
    the repeated start states of a resample (about 63% distinct), so its raw replicates sit above the estimate;
    KID is unbiased and the shift is nil."""
    finite = replicates[~np.isnan(replicates)]
    shift = float(np.median(finite)) - float(point) if finite.size else 0.0
    return {"estimate": float(point), "interval": interval(replicates - shift, level), "bootstrap_bias": shift}


def summarise(result: Scores, criterion: dict, level: float = LEVEL) -> dict:
    """The criterion against every metric of ``result``: Spearman and Kendall with their intervals, the
    criterion's pick (its argmin), the metric's best strategy and the regret metric(pick) - min metric."""
    c = np.array([criterion[s] for s in result.strategies], dtype=np.float64)
    pick = int(np.argmin(c))
    out = {"criterion": dict(zip(result.strategies, c.tolist())), "pick": result.strategies[pick],
           "level": level, "replicates": len(next(iter(result.replicates.values())))}
    for metric, reps in result.replicates.items():
        point = result.point[metric]
        out[metric] = {"values": dict(zip(result.strategies, point.tolist())),
                       "spearman": _estimate(spearman(c, point)[0], spearman(c, reps), level),
                       "kendall": _estimate(kendall(c, point)[0], kendall(c, reps), level),
                       "best": result.strategies[int(np.argmin(point))],
                       "regret": metric_estimate(point[pick] - point.min(), reps[:, pick] - reps.min(1), level)}
    return out


def metric_intervals(result: Scores, level: float = LEVEL) -> dict[str, dict[str, dict]]:
    """Metric -> strategy -> its score with the interval of :func:`metric_estimate` (moved by the bias)."""
    return {metric: {s: metric_estimate(result.point[metric][j], reps[:, j], level)
                     for j, s in enumerate(result.strategies)}
            for metric, reps in result.replicates.items()}


def compare(result: Scores, a: str, b: str, metric: str = "fid", level: float = LEVEL) -> dict:
    """metric(a) - metric(b) with its interval; the verdict is 'a better' or 'b better' when the interval
    excludes 0 (lower is better), else 'unresolved'."""
    i, j = result.strategies.index(a), result.strategies.index(b)
    reps = result.replicates[metric]
    out = {"a": a, "b": b, "metric": metric, "level": level,
           **metric_estimate(result.point[metric][i] - result.point[metric][j], reps[:, i] - reps[:, j], level)}
    lo, hi = out["interval"]
    out["verdict"] = VERDICTS[0] if hi < 0 else VERDICTS[1] if lo > 0 else VERDICTS[2]
    return out
