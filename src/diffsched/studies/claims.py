"""The replication's claims and their verdicts, decided by a stated rule from the pipeline's own tables.

Every claim is checked in *cells* (a spectrum and strategy, a data set, NFE and baseline, a dimension and
sampler ...). Each cell has an outcome, by the claim's own cell rule (:data:`Claim.cell_rule`): ``claimed`` when
its 90% interval lies entirely on the claimed side, ``opposite`` when it lies entirely on the other side, else
``unresolved``. The verdict of the claim (:func:`verdict`, :data:`VERDICT_RULE`): reproduced when every cell is
claimed, refuted when more than half are opposite, otherwise not resolved at this scale (also with no cells).

Each claim is a function registered with :func:`claim` in :data:`CLAIMS`, declaring the inputs of the rule claims
it reads (``workflow/rules/claims.smk``) and the shared context it takes; :func:`evaluate` calls them all, and the
claims table has their rows in the order they are defined in this module. Pure functions over DataFrames;
``workflow/scripts/claims.py`` reads the rule's inputs by name and writes the table.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import pandas as pd

from diffsched.metrics import bootstrap
from diffsched.studies import gaussian_study, sweep

REPRODUCED, REFUTED, UNRESOLVED = "reproduced", "refuted", "not resolved at this scale"
CLAIMED, OPPOSITE, OPEN = "claimed", "opposite", "unresolved"
Z = NormalDist().inv_cdf(0.5 + bootstrap.LEVEL / 2)  # 1.645: the normal quantile of the bootstraps' 90% level
TIGHT_NFE = (4, 6, 10)

VERDICT_RULE = (
    "Each claim is checked in cells; a cell is claimed when its 90% interval lies entirely on the claimed side "
    "(of 0, or of the margin its cell rule states), opposite when it lies entirely on the other side, otherwise "
    "unresolved. Verdict: reproduced when every cell is claimed; refuted when more than half of the cells are "
    "opposite; otherwise (or with no cell measured) not resolved at this scale")

PAPERS = {"scheduling": "arXiv 2601.13602", "blind": "arXiv 2606.20416; Sun et al. 2025",
          "probe": "Sun et al. 2025"}


@dataclass
class Claim:
    """One row of the claims table: what is claimed and by whom, the cells it was measured in, and where from."""

    claim: str
    source: str
    cell_rule: str
    cells: pd.DataFrame  # columns: where, value, lo, hi (natural units), outcome, score (higher favours the claim)
    scale: str
    artefact: str
    quantity: str = ""  # what value/lo/hi measure
    signed: bool = True  # values are differences (shown with their sign)

    def row(self) -> dict:
        return {"claim": self.claim, "source": self.source, "measured": measured(self), "scale": self.scale,
                "cells": tally(self.cells["outcome"]) if len(self.cells) else "none",
                "verdict": verdict(self.cells["outcome"]), "cell rule": self.cell_rule,
                "artefact": self.artefact}


def outcome(lo: float, hi: float) -> str:
    """A cell's outcome from the interval of a difference oriented so that positive supports the claim."""
    if lo > 0:
        return CLAIMED
    if hi < 0:
        return OPPOSITE
    return OPEN


def verdict(outcomes) -> str:
    """:data:`VERDICT_RULE` over the cells' outcomes."""
    outcomes = list(outcomes)
    if not outcomes:
        return UNRESOLVED
    if all(o == CLAIMED for o in outcomes):
        return REPRODUCED
    if sum(o == OPPOSITE for o in outcomes) > len(outcomes) / 2:
        return REFUTED
    return UNRESOLVED


def tally(outcomes) -> str:
    """'a claimed, b opposite, c unresolved of n'."""
    outcomes = list(outcomes)
    counts = {k: sum(o == k for o in outcomes) for k in (CLAIMED, OPPOSITE, OPEN)}
    return f"{counts[CLAIMED]} claimed, {counts[OPPOSITE]} opposite, {counts[OPEN]} unresolved of {len(outcomes)}"


def _fmt(v: float, signed: bool = True) -> str:
    return f"{v:+.3g}" if signed and v else f"{v:.3g}"


def measured(claim: Claim) -> str:
    """The least and the most favourable cell: '<quantity>: worst <value> [lo, hi] (<where>); best ...'."""
    cells = claim.cells
    if not len(cells):
        return "not measured"
    order = cells.sort_values("score", kind="stable")
    worst, best = order.iloc[0], order.iloc[-1]

    def show(c) -> str:
        value, lo, hi = (_fmt(c[k], claim.signed) for k in ("value", "lo", "hi"))
        interval = "" if c["lo"] == c["hi"] == c["value"] else f" [{lo}, {hi}]"
        return f"{value}{interval} ({c['where']})"

    text = f"{claim.quantity}: worst {show(worst)}"
    return text if len(cells) == 1 else f"{text}; best {show(best)}"


def _cells(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["where", "value", "lo", "hi", "outcome", "score"])


# The registry: every claim of the replication, in the order of the claims table ---------------------------------


@dataclass(frozen=True)
class Entry:
    """A registered claim: its function, the rule's inputs it reads and the shared context values it takes."""

    function: Callable[..., Claim | list[Claim]]
    inputs: tuple[str, ...]
    context: tuple[str, ...]


CLAIMS: dict[str, Entry] = {}
DTYPES = {"vp_published": {"steps": str, "w2": str}}  # input -> columns read as text (the digits printed matter)


def claim(*inputs: str, context: tuple[str, ...] = ()):
    """Register the decorated claim function in :data:`CLAIMS` under its name. It is called with the tables of
    the rule claims' ``inputs`` (in this order, by position: a table, or {spectrum: table} for a per-spectrum
    input), the ``context`` values by keyword and ``artefact`` (:func:`artefact`), and returns a Claim or a list."""
    def register(function):
        CLAIMS[function.__name__] = Entry(function, inputs, context)
        return function
    return register


def evaluate(tables: dict, files: dict[str, str], roots: dict[str, str], context: dict) -> list[Claim]:
    """Every registered claim, in :data:`CLAIMS`' order: ``tables`` and ``files`` by input name (a per-spectrum
    input's file with ``{spectrum}`` in it), ``roots`` the run's folders (:func:`artefact_name`), ``context`` the
    shared values the claims take (labels, vp_label, stochastic_solvers, stochastic_samplers)."""
    found = []
    for entry in CLAIMS.values():
        made = entry.function(*(tables[k] for k in entry.inputs),
                              artefact=artefact([files[k] for k in entry.inputs], roots),
                              **{k: context[k] for k in entry.context})
        found += made if isinstance(made, list) else [made]
    return found


# Gaussian theory (arXiv 2601.13602) ---------------------------------------------------------------------------


def _exact_cell(where: str, value: float, tolerance: float, far: float) -> dict:
    """A cell of an exact (or z-scored) deviation ``value`` >= 0: claimed within ``tolerance``, opposite beyond
    ``far``, else unresolved."""
    state = CLAIMED if value <= tolerance else OPPOSITE if value > far else OPEN
    return {"where": where, "value": value, "lo": value, "hi": value, "outcome": state, "score": -value}


@claim("monte_carlo")
def closed_form_output(table: pd.DataFrame, threshold: float = 4.5, far: float = 10.0, artefact: str = "") -> Claim:
    """The closed-form output mean and covariance equal the real sampler's: ``gaussian/monte_carlo.csv``
    (:func:`diffsched.studies.gaussian_study.monte_carlo`), one cell per solver, start, strategy and n, its largest |z|
    over the mean and covariance entries. Claimed when below ``threshold`` (4.5: with ~150 z-scores the chance that
    any exceeds it by sampling error alone is ~0.1%), opposite when above ``far``, else unresolved."""
    worst = gaussian_study.max_deviation(table) if len(table) else pd.DataFrame()
    rows = [_exact_cell(f"{r.solver}, start {r.init}, {r.strategy}, n = {r.steps}",
                        max(float(r.max_abs_z_mean), float(r.max_abs_z_covariance)), threshold, far)
            for r in worst.itertuples()]
    d = int((table["moment"] == "mean").sum() / len(worst)) if len(table) else 0
    return Claim(
        claim="The closed-form Gaussian output (mean, covariance) equals the real sampler's output",
        source=PAPERS["scheduling"],
        cell_rule=(f"per solver, start, strategy and n (Monte Carlo): claimed when every |empirical - predicted| / "
                   f"standard error of the output mean and covariance entries is below {threshold:g}, opposite when "
                   f"one exceeds {far:g}"),
        cells=_cells(rows), quantity="largest |z|", signed=False,
        scale=(f"d = {d}; {', '.join(map(str, table['samples'].unique())) if len(table) else '-'} samples per cell; "
               f"{len(table)} z-scores; solvers {', '.join(table['solver'].unique()) if len(table) else '-'}"),
        artefact=artefact)


@claim("em_ratio", context=("labels",))
def euler_maclaurin(tables: dict[str, pd.DataFrame], tolerance: float = 0.1, far: float = 2.0,
                    artefact: str = "", labels: dict | None = None) -> Claim:
    """KL ~ sum_i J_i^2 / (4 N^2): ``em_ratio`` tables (spectrum -> strategy, intervals, ratio), one cell per
    spectrum and strategy at its largest N. Exact numbers (no sampling error): claimed when |ratio - 1| <=
    ``tolerance``, opposite when the ratio is outside [1/far, far], else unresolved."""
    rows, largest = [], []
    for spectrum, t in tables.items():
        for strategy, s in t.groupby("strategy", sort=False):
            last = s.loc[s["intervals"].idxmax()]
            r, n = float(last["ratio"]), int(last["intervals"])
            largest.append(n)
            dev = abs(r - 1)
            state = CLAIMED if dev <= tolerance else OPPOSITE if (r > far or r < 1 / far) else OPEN
            rows.append({"where": f"{spectrum}, {strategy}, N = {n}", "value": r - 1, "lo": r - 1, "hi": r - 1,
                         "outcome": state, "score": -dev})
    spectra = ", ".join((labels or {}).get(s, s) for s in tables)
    return Claim(
        claim="KL of the Euler sampler ~ sum_i J_i^2 / (4 N^2) (the Euler-Maclaurin constant)",
        source=PAPERS["scheduling"],
        cell_rule=(f"per spectrum and strategy at its largest N (exact): claimed when |N^2 KL / constant - 1| <= "
                   f"{tolerance:g}, opposite when the ratio is outside [1/{far:g}, {far:g}]"),
        cells=_cells(rows), quantity="N^2 KL / constant - 1",
        scale=f"{spectra}; N up to {max(largest) if largest else '-'}; exact KL", artefact=artefact)


@claim("one_eigenvalue")
def tangent_one_eigenvalue(table: pd.DataFrame, tolerance: float = 1e-6, gamma_tolerance: float = 1e-3,
                           far: float = 0.01, artefact: str = "") -> Claim:
    """For one eigenvalue the tangent law with gamma = sqrt(lambda) is the KL-optimal grid:
    ``gaussian/one_eigenvalue.csv`` (:func:`diffsched.studies.gaussian_study.one_eigenvalue`). Cells per eigenvalue and
    n: |KL(tangent) / KL(finite-n optimum) - 1| (claimed within ``tolerance``) and, for n >= 3,
    |gamma* / sqrt(lambda) - 1| (claimed within ``gamma_tolerance``, the 1-D search's precision); both opposite
    beyond ``far``."""
    rows = []
    for r in table.itertuples():
        where = f"lambda = {r.eigenvalue:g}, n = {r.steps}"
        rows.append(_exact_cell(f"{where}, KL ratio (max grid difference {r.max_grid_difference:.2g})",
                                abs(float(r.kl_ratio) - 1), tolerance, far))
        if r.steps >= 3:
            rows.append(_exact_cell(f"{where}, gamma* = {r.gamma_star:.4g}", abs(float(r.gamma_star_ratio) - 1),
                                    gamma_tolerance, far))
    lams = ", ".join(f"{v:g}" for v in table["eigenvalue"].unique()) if len(table) else "-"
    steps = ", ".join(map(str, table["steps"].unique())) if len(table) else "-"
    return Claim(
        claim="For one eigenvalue the tangent law with gamma = sqrt(lambda) is the KL-optimal grid",
        source=PAPERS["scheduling"],
        cell_rule=(f"per eigenvalue and n (exact): claimed when |KL(tangent) / KL(finite-n optimum) - 1| <= "
                   f"{tolerance:g}, and, for n >= 3, |gamma* / sqrt(lambda) - 1| <= {gamma_tolerance:g}; opposite "
                   f"when either exceeds {far:g}"),
        cells=_cells(rows), quantity="|KL ratio - 1| or |gamma* / sqrt(lambda) - 1|", signed=False,
        scale=f"lambda = {lams}; n = {steps}; Euler, exact KL", artefact=artefact)


@claim("gamma_sweep", "gamma_star", context=("labels",))
def gamma_star(sweeps: dict[str, pd.DataFrame], stars: dict[str, pd.DataFrame], tolerance: float = 1e-6,
               beaten: float = 0.01, artefact: str = "", labels: dict | None = None) -> Claim:
    """gamma* computed from the spectrum minimises the tangent family's KL: per spectrum and N in both
    ``gamma_sweep`` (steps, gamma, kl_forward) and ``gamma_star`` (steps, gamma_star, kl_forward), the relative
    excess KL(gamma*) / min over the swept gammas - 1. Claimed when <= ``tolerance``, opposite when a swept
    gamma beats gamma* by more than ``beaten`` (relative), else unresolved."""
    rows, stars_seen = [], []
    for spectrum, sw in sweeps.items():
        st = stars[spectrum].set_index("steps")
        for n, s in sw.groupby("steps"):
            if n not in st.index:
                continue
            best = s.loc[s["kl_forward"].idxmin()]
            excess = float(st.loc[n, "kl_forward"]) / float(best["kl_forward"]) - 1
            g = float(st.loc[n, "gamma_star"])
            stars_seen.append(g)
            state = CLAIMED if excess <= tolerance else OPPOSITE if excess > beaten else OPEN
            rows.append({"where": f"{spectrum}, N = {int(n)}, gamma* = {g:.3g}, best swept gamma "
                                  f"{float(best['gamma']):.3g}",
                         "value": excess, "lo": excess, "hi": excess, "outcome": state, "score": -excess})
    spectra = ", ".join((labels or {}).get(s, s) for s in sweeps)
    n_gammas = max((len(s["gamma"].unique()) for s in sweeps.values()), default=0)
    return Claim(
        claim="gamma* from the spectrum is the best tangent law sigma = gamma tan(...) for that spectrum",
        source=PAPERS["scheduling"],
        cell_rule=(f"per spectrum and N (exact): claimed when KL(gamma*) <= (1 + {tolerance:g}) x the least KL over "
                   f"the swept gammas, opposite when a swept gamma is lower by more than {beaten:.0%}"),
        cells=_cells(rows), quantity="KL(gamma*) / min swept KL - 1",
        scale=f"{spectra}; {n_gammas} log-spaced gammas; Euler, exact KL", artefact=artefact)


def rounding_half_unit(printed: str) -> float:
    """Half a unit of the last digit of a number as printed ("0.17" -> 0.005, "6.7E-4" -> 5e-6); 0 for "0", which
    the publication prints for an exact zero only."""
    mantissa, _, exponent = printed.upper().partition("E")
    if "." not in mantissa:
        return 0.0 if float(printed) == 0.0 else 0.5 * 10.0 ** int(exponent or 0)
    return 0.5 * 10.0 ** (int(exponent or 0) - len(mantissa.split(".")[1]))


@claim("vp_schemes", "vp_published", context=("vp_label",))
def vp_schemes_reproduce(table: pd.DataFrame, published: pd.DataFrame, far: float = 4.0, artefact: str = "",
                         vp_label: str = "") -> Claim:
    """The exact W2 of the VP-SDE schemes equals Pierret & Galerne's Table 2 (arXiv 2405.14250) within its
    rounding: ``gaussian/vp_schemes.csv`` (:func:`diffsched.studies.gaussian_study.vp_scheme_errors`) against the
    published values as printed (``published``: scheme, steps, epsilon, start, w2 as text). One cell per published
    value: |ours - published| in half-units of its last printed digit; claimed when <= 1 (plus float rounding),
    opposite beyond ``far``, else unresolved. Published values the table does not cover (a run with fewer N or
    epsilon) are left out, and counted in the scale."""
    ours = table.assign(steps=table["steps"].astype(str), epsilon=table["epsilon"].astype(float))
    ours = ours.set_index(["scheme", "steps", "epsilon", "start"])["w2"]
    rows = []
    for r in published.astype({"steps": str, "epsilon": float, "w2": str}).itertuples():
        key = (r.scheme, r.steps, r.epsilon, r.start)
        where = f"{r.scheme}, N = {r.steps}, epsilon = {r.epsilon:g}, start {r.start}, published {r.w2}"
        if key not in ours.index:
            continue
        half = rounding_half_unit(r.w2)
        diff = abs(float(ours[key]) - float(r.w2))
        units = diff / half if half > 0 else (0.0 if diff <= 1e-12 else math.inf)
        state = CLAIMED if units <= 1 + 1e-9 else OPPOSITE if units > far else OPEN
        rows.append({"where": f"{where}, ours {float(ours[key]):.4g}", "value": units, "lo": units, "hi": units,
                     "outcome": state, "score": -units})
    return Claim(
        claim="The exact W2 errors of four VP-SDE/ODE schemes (EM, EI, Euler, Heun) on CIFAR-10's lossless spectrum "
              "are the published ones",
        source="Pierret & Galerne 2025 (arXiv 2405.14250), Table 2",
        cell_rule=(f"per published value (exact): claimed when |ours - published| is at most half a unit of its last "
                   f"printed digit, opposite beyond {far:g} half-units"),
        cells=_cells(rows), quantity="|ours - published| / half a unit of the printed digit", signed=False,
        scale=f"{vp_label or 'the spectrum'}; {len(rows)} of {len(published)} published values in this run; exact W2",
        artefact=artefact)


EXTREMA = ("largest", "smallest")
KL_DIRECTIONS = {"kl_forward": "KL(source || output)", "kl_reverse": "KL(output || source)"}


@claim("extremal")
def gaussian_extremal(table: pd.DataFrame, tolerance: float = 1e-3, artefact: str = "") -> list[Claim]:
    """The Gaussian is extremal for the KL among unit-variance sources (arXiv 2601.13602 v3; direction not stated):
    ``gaussian/extremal.csv`` (:func:`diffsched.studies.extremal.study`), one claim per direction of the extremum
    (the Gaussian's KL the largest, or the smallest). Cells: strategy x N x KL direction, the exact ratio
    KL(source) / KL(Gaussian) - 1 of the other source least favourable to the claim (the largest ratio for
    "largest", the smallest for "smallest"); claimed when it lies beyond 1 on the claimed side by more than
    ``tolerance`` (the quadrature's error, at most 3.1e-4 relative against twice the start points, with margin),
    opposite when a source lies beyond it on the other side: a counterexample, named in the cell. The scale names
    the strategies and N where the claim holds."""
    others = table[table["source"] != "gaussian"]
    found = []
    for extremum in EXTREMA:
        sign = 1.0 if extremum == "largest" else -1.0  # the worst ratio is the largest / the smallest one
        rows, held = [], {}
        for (strategy, n), g in others.groupby(["strategy", "steps"], sort=False):
            for metric, name in KL_DIRECTIONS.items():
                ratios = g.set_index("source")[f"{metric}_ratio"].astype(float).dropna()
                if not len(ratios):
                    continue
                source = ratios.idxmax() if extremum == "largest" else ratios.idxmin()
                value = float(ratios[source]) - 1.0
                support = -sign * value  # positive: every other source's KL on the claimed side of the Gaussian's
                state = CLAIMED if support > tolerance else OPPOSITE if support < -tolerance else OPEN
                if state == CLAIMED:
                    held.setdefault((strategy, name), []).append(int(n))
                rows.append({"where": f"{strategy}, N = {n}, {name}: {source}", "value": value, "lo": value,
                             "hi": value, "outcome": state, "score": support})
        where = "; ".join(f"{s} {d} N = {_span(ns)}" for (s, d), ns in held.items()) or "no strategy, N and direction"
        found.append(Claim(
            claim=f"The Gaussian has the {extremum} KL among sources of equal variance (1-D, exact denoiser, Euler)",
            source=PAPERS["scheduling"] + " (v3)",
            cell_rule=(f"per strategy, N and KL direction (exact): claimed when every other source's KL(source) / "
                       f"KL(Gaussian) is {'below' if extremum == 'largest' else 'above'} 1 by more than "
                       f"{tolerance:g}, opposite when one is {'above' if extremum == 'largest' else 'below'} 1 by "
                       "more (a counterexample, named)"),
            cells=_cells(rows), quantity=f"{'largest' if extremum == 'largest' else 'smallest'} KL(source) / "
                                         "KL(Gaussian) - 1 over the other sources",
            scale=(f"sources {', '.join(dict.fromkeys(others['source']))}; strategies "
                   f"{', '.join(dict.fromkeys(table['strategy']))}; N = {_span(table['steps'])}; holds at: {where}")
            if len(table) else "-",
            artefact=artefact))
    return found


def _span(values) -> str:
    """'2-5, 8' for a set of integers."""
    v = sorted({int(x) for x in values})
    runs, start = [], None
    for i, x in enumerate(v):
        start = x if start is None else start
        if i + 1 == len(v) or v[i + 1] != x + 1:
            runs.append(f"{start}-{x}" if x > start else f"{x}")
            start = None
    return ", ".join(runs) or "none"


# The low-NFE sweep: the criterion's pick against hand-made and search-based grids --------------------------------


def baselines_of(table: pd.DataFrame) -> list[str]:
    """Baseline names with a verdict column (vs_<b>_verdict) in a bootstrap table."""
    return [c[3:-8] for c in table.columns if c.startswith("vs_") and c.endswith("_verdict")]


@claim("sweep")
def pick_beats_baselines(table: pd.DataFrame, criterion: str = "kl", metric: str = "fid",
                         nfe=TIGHT_NFE, artefact: str = "") -> list[Claim]:
    """One claim per data set (its quality stated) and denoiser of ``sweep/bootstrap.csv``: the ``criterion``'s pick
    has a lower ``metric`` than every baseline at every solver and NFE in ``nfe``. Cells: solver x NFE x baseline,
    the paired bootstrap interval of pick - baseline (claimed when below 0); cells where the baseline is the pick
    are left out (counted in the scale)."""
    verdicts = {"pick better": CLAIMED, "baseline better": OPPOSITE, "unresolved": OPEN}
    t = table[(table["criterion"] == criterion) & (table["metric"] == metric) & table["nfe_budget"].isin(nfe)]
    claims = []
    for (dataset, quality, denoiser), g in t.groupby(["dataset", "quality", "denoiser"], sort=False):
        rows, same, present = [], 0, []
        for b in baselines_of(g):
            for r in g.itertuples(index=False):
                v = getattr(r, f"vs_{b}_verdict")
                if not isinstance(v, str):
                    continue
                present.append(b)
                if v == "is the pick":
                    same += 1
                    continue
                d, lo, hi = (float(getattr(r, f"vs_{b}{k}")) for k in ("", "_lo", "_hi"))
                rows.append({"where": f"vs {b}, {r.solver}, NFE {r.nfe_budget}", "value": d, "lo": lo, "hi": hi,
                             "outcome": verdicts[v], "score": -d})
        present = list(dict.fromkeys(present))
        hand = [b for b in present if b in sweep.BASELINES]
        search = [b for b in present if b not in sweep.BASELINES]
        nfes = ", ".join(map(str, sorted(g["nfe_budget"].unique())))
        claims.append(Claim(
            claim=(f"{dataset} ({quality}), {denoiser} denoiser: the {criterion.upper()}-chosen grid has a lower "
                   f"{metric.upper()} than hand-made ({', '.join(hand) or 'none'}) and search-based "
                   f"({', '.join(search) or 'none'}) grids at tight NFE"),
            source=PAPERS["scheduling"],
            cell_rule=(f"per solver, NFE and baseline: claimed when the 90% paired-bootstrap interval of pick - "
                       f"baseline {metric.upper()} is below 0, opposite when above 0"),
            cells=_cells(rows), quantity=f"pick - baseline {metric.upper()}",
            scale=(f"NFE {nfes}; solver {', '.join(g['solver'].unique())}; {_sweep_counts(g)}"
                   + (f"; {same} cell(s) where the baseline is the pick left out" if same else "")),
            artefact=artefact))
    return claims


@claim("sweep")
def w2_pick_beats_baselines(table: pd.DataFrame, artefact: str = "") -> list[Claim]:
    """:func:`pick_beats_baselines` for W2, the criterion ``recommend`` ranks by default."""
    return pick_beats_baselines(table, criterion="w2", artefact=artefact)


def _sweep_counts(g: pd.DataFrame) -> str:
    """Samples, seeds, reference images and bootstrap replicates of a data set's sweep cells."""
    def one(col):
        return ", ".join(map(str, g[col].unique())) if col in g else "?"
    return (f"{one('n_samples')} samples per strategy (seeds {one('seeds')}) vs {one('n_reference')} reference "
            f"images; {one('replicates')} paired bootstrap replicates")


# Noise-blind denoisers (arXiv 2606.20416; Sun et al. 2025) --------------------------------------------------------


@claim("blind", context=("stochastic_solvers",))
def blind_matches(table: pd.DataFrame, stochastic_solvers, margin: float = 0.1, artefact: str = "") -> Claim:
    """``blind/blind_vs_conditioned.csv``: under the stochastic samplers (``solver`` in ``stochastic_solvers``) the
    noise-blind oracle is not worse than the conditioned one by more than ``margin`` x the conditioned value.
    Cells: oracle pair x data set x d x sampler x measure (w2, kl and, at the scored resolutions, fid, kid);
    claimed when the upper end of blind - conditioned is below the margin, opposite when its lower end is above
    it."""
    t = table[table["solver"].isin(list(stochastic_solvers))]
    rows = []
    for r in t.itertuples(index=False):
        m = margin * float(r.conditioned)
        rows.append({"where": f"{r.oracle} oracles, {r.dataset}, d = {r.dimension}, {r.sampler}, {r.measure}",
                     "value": float(r.difference), "lo": float(r.difference_lo), "hi": float(r.difference_hi),
                     "outcome": outcome(m - float(r.difference_hi), m - float(r.difference_lo)),
                     "score": (m - float(r.difference)) / max(abs(float(r.conditioned)), 1e-300)})
    return Claim(
        claim="A time-agnostic (noise-blind) denoiser matches the conditioned one with a stochastic sampler "
              "(ideal Bayes-optimal oracles of each data set's Gaussian model and empirical distribution)",
        source=PAPERS["blind"],
        cell_rule=(f"per oracle pair, data set, d, sampler and measure: claimed when the 90% interval of "
                   f"blind - conditioned lies below {margin:.0%} of the conditioned value, opposite when it lies "
                   "above it"),
        cells=_cells(rows), quantity="blind - conditioned",
        scale=_blind_scale(t), artefact=artefact)


def _blind_scale(t: pd.DataFrame) -> str:
    if not len(t):
        return "-"
    dims = sorted(t["dimension"].unique())
    return (f"d = {', '.join(map(str, dims))}; {int(t['n'].iloc[0])} shared start states; samplers "
            f"{', '.join(dict.fromkeys(f'{s} (NFE {n})' for s, n in zip(t['sampler'], t['nfe'])))}")


def _kid_pair(a, b) -> tuple[float, float, float]:
    """KID of a - KID of b with an approximate 90% interval from the two KID standard deviations."""
    d = float(a.kid_mean) - float(b.kid_mean)
    half = Z * math.hypot(float(a.kid_std), float(b.kid_std))
    return d, d - half, d + half


def _ablation_pairs(table: pd.DataFrame):
    """(dataset, network, sampler) -> (with row, without row) of the ablation table."""
    for key, g in table.groupby(["dataset", "network", "sampler"], sort=False):
        on = g[g["time_embedding"].astype(bool)]
        off = g[~g["time_embedding"].astype(bool)]
        if len(on) and len(off):
            yield key, on.iloc[0], off.iloc[0]


@claim("ablation", context=("stochastic_samplers",))
def ablation_matches(table: pd.DataFrame, stochastic_samplers, margin: float = 0.1, artefact: str = "") -> Claim:
    """``ablation/ablation_table.csv``: the network without the time embedding is not worse in KID than the
    same network with it by more than ``margin`` x its KID, under the stochastic samplers (sampler labels)."""
    rows = []
    for (dataset, network, sampler), on, off in _ablation_pairs(table):
        if sampler not in stochastic_samplers:
            continue
        d, lo, hi = _kid_pair(off, on)
        m = margin * float(on.kid_mean)
        rows.append({"where": f"{dataset}, {network}, {sampler}", "value": d, "lo": lo, "hi": hi,
                     "outcome": outcome(m - hi, m - lo), "score": m - d})
    return Claim(
        claim="A network trained without the time embedding matches the one with it under a stochastic sampler "
              "(trained ablation)",
        source=PAPERS["blind"],
        cell_rule=(f"per data set, network and stochastic sampler: claimed when the approximate 90% interval of "
                   f"KID(without) - KID(with) (+-1.645 x the root sum of the two KID standard deviations) lies below "
                   f"{margin:.0%} of KID(with), opposite when it lies above it"),
        cells=_cells(rows), quantity="KID(without) - KID(with)",
        scale=_ablation_scale(table), artefact=artefact)


def _ablation_scale(t: pd.DataFrame) -> str:
    if not len(t):
        return "-"
    samplers = ", ".join(dict.fromkeys(f"{s} (NFE {n})" for s, n in zip(t["sampler"], t["nfe"])))
    return (f"{int(t['n_samples'].iloc[0])} samples per model and sampler vs {int(t['n_reference'].iloc[0])} "
            f"reference images; {int(t['train_steps'].iloc[0])} training steps; samplers {samplers}")


@claim("blind", context=("stochastic_solvers",))
def blind_deterministic_worse(table: pd.DataFrame, stochastic_solvers, artefact: str = "") -> Claim:
    """``blind/blind_vs_conditioned.csv``: the blind - conditioned gap of every deterministic sampler exceeds
    that of every stochastic one, per oracle pair, data set, d and measure. Intervals of the two gaps compared (no
    paired interval of their difference): claimed when the deterministic gap's lower end is above the stochastic
    gap's upper end, opposite when its upper end is below the other's lower end."""
    stochastic = list(stochastic_solvers)
    rows = []
    by = ["oracle", "dataset", "dimension", "measure"]
    for (oracle, dataset, d, measure), g in table.groupby(by, sort=False):
        sto = g[g["solver"].isin(stochastic)]
        det = g[~g["solver"].isin(stochastic)]
        for a in det.itertuples(index=False):
            for b in sto.itertuples(index=False):
                lo = float(a.difference_lo) - float(b.difference_hi)
                hi = float(a.difference_hi) - float(b.difference_lo)
                where = f"{oracle} oracles, {dataset}, d = {d}, {measure}, {a.sampler} vs {b.sampler}"
                rows.append({"where": where, "value": float(a.difference) - float(b.difference), "lo": lo, "hi": hi,
                             "outcome": outcome(lo, hi), "score": float(a.difference) - float(b.difference)})
    return Claim(
        claim="Without the noise level a deterministic sampler suffers more than a stochastic one "
              "(ideal noise-blind oracles)",
        source=PAPERS["blind"],
        cell_rule=("per oracle pair, data set, d, measure and (deterministic, stochastic) sampler pair: claimed "
                   "when the deterministic sampler's 90% interval of blind - conditioned lies above the stochastic "
                   "one's, opposite when below (conservative: the two intervals, not a paired one)"),
        cells=_cells(rows), quantity="deterministic gap - stochastic gap",
        scale=_blind_scale(table), artefact=artefact)


@claim("ablation", context=("stochastic_samplers",))
def ablation_deterministic_worse(table: pd.DataFrame, stochastic_samplers, artefact: str = "") -> Claim:
    """``ablation/ablation_table.csv``: removing the time embedding costs a deterministic sampler more KID than a
    stochastic one: per data set, network and (deterministic, stochastic) pair, the difference of the two
    KID gaps with an approximate interval from the four KID standard deviations."""
    pairs = {}
    for (dataset, network, sampler), on, off in _ablation_pairs(table):
        pairs.setdefault((dataset, network), {})[sampler] = (on, off)
    rows = []
    for (dataset, network), by in pairs.items():
        for det, (on_d, off_d) in by.items():
            if det in stochastic_samplers:
                continue
            for sto, (on_s, off_s) in by.items():
                if sto not in stochastic_samplers:
                    continue
                d = (float(off_d.kid_mean) - float(on_d.kid_mean)) - (float(off_s.kid_mean) - float(on_s.kid_mean))
                half = Z * math.sqrt(sum(float(r.kid_std) ** 2 for r in (on_d, off_d, on_s, off_s)))
                rows.append({"where": f"{dataset}, {network}, {det} vs {sto}", "value": d, "lo": d - half,
                             "hi": d + half, "outcome": outcome(d - half, d + half), "score": d})
    return Claim(
        claim="Without the time embedding a deterministic sampler suffers more than a stochastic one "
              "(trained ablation)",
        source=PAPERS["blind"],
        cell_rule=("per data set, network and (deterministic, stochastic) sampler pair: claimed when the approximate "
                   "90% interval of the difference of the two KID gaps (without - with) lies above 0, opposite "
                   "when below"),
        cells=_cells(rows), quantity="deterministic KID gap - stochastic KID gap",
        scale=_ablation_scale(table), artefact=artefact)


# Noise-level inference (Sun et al. 2025) -------------------------------------------------------------------------


@claim("probe")
def noise_level(table: pd.DataFrame, factor: float = 2.0, artefact: str = "") -> Claim:
    """``probe/noise_level.csv``: where the noise dominates the data (sigma^2 >= the data's second moment m2),
    the best estimator's RMS error of log sigma is 1/sqrt(2d) within ``factor``. Cells: data set x sigma; the
    ratio RMS / (1/sqrt(2d)) with an approximate 90% interval RMS x (1 +- 1.645 / sqrt(2 n)) (n held-out images);
    claimed when the interval lies inside [1/factor, factor], opposite when it lies entirely outside."""
    t = table[table["sigma"] ** 2 >= table["m2"]]
    rows = []
    for (dataset, sigma), g in t.groupby(["dataset", "sigma"], sort=False):
        best = g.loc[g["rms_log_error"].idxmin()]
        r = float(best["rms_log_error"]) / float(best["high_dim_prediction"])
        half = Z / math.sqrt(2 * int(best["n_test"]))
        lo, hi = r * (1 - half), r * (1 + half)
        state = CLAIMED if (lo >= 1 / factor and hi <= factor) else OPPOSITE if (lo > factor or hi < 1 / factor) \
            else OPEN
        rows.append({"where": f"{dataset}, sigma = {sigma:.3g}, {best['estimator']}", "value": r, "lo": lo,
                     "hi": hi, "outcome": state, "score": -abs(math.log(r))})
    dims = ", ".join(map(str, sorted(table["dimension"].unique()))) if len(table) else "-"
    n = ", ".join(map(str, sorted(table["n_test"].unique()))) if len(table) else "-"
    sigmas = f"{len(t['sigma'].unique())} of {len(table['sigma'].unique())} noise levels" if len(table) else "-"
    cells = _cells(rows)
    return Claim(
        claim="The noise level can be read from x_t alone with RMS error of log sigma ~ 1/sqrt(2d) "
              "(where the noise dominates the data)",
        source=PAPERS["probe"],
        cell_rule=(f"per data set and sigma with sigma^2 >= the data's second moment, best estimator: claimed when "
                   f"the approximate 90% interval of RMS x sqrt(2d) lies inside [1/{factor:g}, {factor:g}], "
                   "opposite when entirely outside"),
        cells=cells, quantity="RMS x sqrt(2d)", signed=False,
        scale=f"d = {dims}; {n} held-out images per estimator; {sigmas}",
        artefact=artefact)


def _within(path: str, root: str) -> bool:
    return not os.path.relpath(path, root).startswith("..")


def artefact_name(path: str, roots: dict[str, str]) -> str:
    """``path`` with the run folder it lies under written as a placeholder, ``{results}/gaussian/...``, so that
    the claims table does not change when the same run is made elsewhere. ``roots``: {placeholder: folder}."""
    for name, root in roots.items():
        if _within(path, root):
            return f"{{{name}}}/{os.path.relpath(path, root)}"
    raise ValueError(f"{path} lies under none of the run's folders {sorted(roots.values())}")


def artefact(paths: list[str], roots: dict[str, str]) -> str:
    """The artefact column: the :func:`artefact_name` of each of ``paths`` that the run made (lies under one of
    ``roots``), joined by ', ', a file in the folder of the one before it by its file name alone."""
    names = [artefact_name(p, roots) for p in paths if any(_within(p, r) for r in roots.values())]
    return ", ".join(os.path.basename(n) if i and os.path.dirname(n) == os.path.dirname(names[i - 1]) else n
                     for i, n in enumerate(names))


def table(claims: list[Claim]) -> pd.DataFrame:
    """The claims table, one row per claim."""
    return pd.DataFrame([c.row() for c in claims])
