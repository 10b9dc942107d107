"""Rank named discretization strategies by an exact Gaussian criterion of a spectrum (arXiv 2601.13602's recipe
uses the KL; docs/criteria.md lists the others).

A *strategy* is a labelled schedule with parameters, as written in the config:
``{"schedule": "vp_time", "params": {"rho": 2}}``, optionally with ``"search": {"rho": [0.5, 1, ...]}`` to take
the value with the lowest KL at each NFE (the "power-uniform with its best rho" strategy).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from diffsched.method import gaussian, solvers
from diffsched.method import strategies as registry
from diffsched.method.schedules import SIGMA_MAX, SIGMA_MIN

FLOOR = "optimal"


def strategy_grids(eigenvalues, strategies: dict[str, dict], n: int, sigma_min: float = SIGMA_MIN,
                   sigma_max: float = SIGMA_MAX, solver: str = "euler", init: str = "exact", criterion: str = "kl",
                   mean=None) -> dict[str, np.ndarray]:
    """Every strategy's n-step grid (:func:`diffsched.method.strategies.entry_grid`). Each floor, the finite-n optimum
    of the criterion its parameters name (else ``criterion``), is optimised last, started from the best of the other
    grids under that criterion, so none of them can beat it."""
    floors = {k: v for k, v in strategies.items() if v["schedule"] == FLOOR}
    context = registry.Context(eigenvalues, solver, init, criterion)
    grids = {label: registry.entry_grid(spec, n, sigma_min, sigma_max, context)
             for label, spec in strategies.items() if label not in floors}
    for label, spec in floors.items():
        own = spec.get("params", {}).get("criterion", criterion)
        start = min(grids.values(), default=None,
                    key=lambda g: gaussian.criterion(own, eigenvalues, g, solver, init, mean))
        params = {**spec.get("params", {}), **({"start": start} if start is not None else {})}
        grids[label] = registry.entry_grid({**spec, "params": params}, n, sigma_min, sigma_max, context)
    return {label: grids[label] for label in strategies}


def kl_table(eigenvalues, strategies: dict[str, dict], nfes, solver_names, sigma_min: float = SIGMA_MIN,
             sigma_max: float = SIGMA_MAX, init: str = "exact", mean=None, criteria=("kl",)) -> pd.DataFrame:
    """Every strategy's grid for every solver and NFE budget, and the exact value of each criterion
    (docs/criteria.md) of that grid, one row per criterion: ``value`` (arXiv 2601.13602's criterion is ``kl``),
    with the exact KL in both directions beside it.

    The grids are built once, as the strategies define them (a spectral grid optimises the criterion its
    parameters name, else the KL; each criterion's own optimum is a strategy of its own, e.g. ``{"schedule":
    "optimal", "params": {"criterion": "w2"}}``), so every criterion ranks the same grids, as in the sweep. One
    long table (a ``criterion`` column) rather than one per criterion: every row has the same columns, so a figure
    facets, and a pick groups, by criterion. A budget buys the most steps that fit (heun: 2n - 1 <= NFE); ``nfe``
    is what the grid really costs.
    """
    lam = gaussian.check_eigenvalues(eigenvalues)
    for label, spec in strategies.items():
        registry.check_entry(label, spec)
    for name in criteria:
        gaussian.criterion_params(name, {})
    rows = []
    for solver, budget in itertools.product(solver_names, nfes):
        n = solvers.steps_for_nfe(solver, int(budget))
        grids = strategy_grids(lam, strategies, n, sigma_min, sigma_max, solver, init, mean=mean)
        for label, grid in grids.items():
            kl = {d: gaussian.kl_divergence(lam, grid, solver, init, d, mean) for d in gaussian.DIRECTIONS}
            common = {"strategy": label, "schedule": strategies[label]["schedule"], "solver": solver,
                      "nfe_budget": int(budget), "steps": n, "nfe": solvers.nfe(solver, grid)}
            rows += [{**common, "criterion": name, "value": gaussian.criterion(name, lam, grid, solver, init, mean),
                      "kl_forward": kl["forward"], "kl_reverse": kl["reverse"],
                      "sigmas": " ".join(f"{s:.6g}" for s in grid)} for name in criteria]
    table = pd.DataFrame(rows)
    order = {name: i for i, name in enumerate(criteria)}
    table = table.sort_values("criterion", key=lambda c: c.map(order), kind="stable", ignore_index=True)
    return mark_best(table[["strategy", "schedule", "criterion", *[c for c in table.columns if c not in
                                                                   ("strategy", "schedule", "criterion")]]])


def mark_best(table: pd.DataFrame, column: str = "value") -> pd.DataFrame:
    """Flag, per criterion, solver and budget, the lowest ``column`` among the non-optimised strategies (the floor
    excluded; ties within 1e-12 relative all count as best)."""
    table = table.copy()
    candidates = table[table["schedule"] != FLOOR]
    lowest = candidates.groupby(["criterion", "solver", "nfe_budget"])[column].transform("min")
    table["best"] = False
    table.loc[candidates.index, "best"] = candidates[column] <= lowest * (1 + 1e-12)
    return table


def to_markdown(table: pd.DataFrame, caption: str) -> str:
    """Wide table per criterion and solver: strategies as rows, NFE as columns, the best in bold, the floor last."""
    parts = [caption, ""]
    for (criterion, solver), block in table.groupby(["criterion", "solver"], sort=False):
        wide = block.pivot(index="strategy", columns="nfe_budget", values="value")
        best = block.pivot(index="strategy", columns="nfe_budget", values="best")
        order = [s for s in dict.fromkeys(block["strategy"]) if s != FLOOR] + [s for s in wide.index if s == FLOOR]
        header = "| strategy | " + " | ".join(f"NFE {c}" for c in wide.columns) + " |"
        parts += [f"**criterion: {criterion}, solver: {solver}** ({gaussian.CRITERIA[criterion].summary}; bold = "
                  f"best, {FLOOR} = finite-N optimum, the floor)", "", header,
                  "|" + "---|" * (len(wide.columns) + 1)]
        for strategy in order:
            cells = [f"**{v:.4g}**" if best.loc[strategy, c] else f"{v:.4g}" for c, v in wide.loc[strategy].items()]
            parts.append(f"| {strategy} | " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)


def picks(table: pd.DataFrame) -> pd.DataFrame:
    """Per data set, criterion, solver and NFE: the strategy with the lowest criterion value (floor excluded), the
    runner-up and the floor's value, with the pick's KL."""
    rows = []
    keys = ["dataset", "criterion", "solver", "nfe_budget"]
    for (name, criterion, solver, budget), block in table.groupby(keys, sort=False):
        others = block[block["schedule"] != FLOOR].sort_values("value", kind="stable")
        floor = block[block["schedule"] == FLOOR]
        best = others.iloc[0]
        rows.append({"dataset": name, "source": best["source"], "criterion": criterion, "solver": solver,
                     "nfe_budget": budget, "nfe": best["nfe"], "picked": best["strategy"], "value": best["value"],
                     "kl_forward": best["kl_forward"],
                     "runner_up": others.iloc[1]["strategy"] if len(others) > 1 else "",
                     "runner_up_value": others.iloc[1]["value"] if len(others) > 1 else np.nan,
                     "floor_value": floor["value"].min() if len(floor) else np.nan, "sigmas": best["sigmas"]})
    return pd.DataFrame(rows)
