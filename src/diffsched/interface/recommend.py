"""Recommend a sigma grid for a data set and an NFE budget by an exact Gaussian criterion (arXiv 2601.13602): W2
by default (the criterion whose ranking agreed best with FID in this project's sweep; :data:`CAVEAT`), any of
:data:`diffsched.method.gaussian.CRITERIA` on request.

Where the eigenvalues come from (a data set, images, a spectrum or an eigenvalue file) is resolved by
:mod:`diffsched.data.spectrum_sources`, the path the workflow uses too.
"""

from __future__ import annotations

from diffsched.method import gaussian, solvers
from diffsched.method import strategies as registry
from diffsched.studies import ranking
from diffsched.method.schedules import SIGMA_MAX, SIGMA_MIN


CAVEAT = ("An exact criterion ranks grids for the Gaussian model of the data, not for a trained network. Which "
          "criterion agrees with FID, and whether its grid beats hand-made ones, is measured by this project's "
          "low-NFE sweep: see docs/studies.md (Results of the default run) and figures/claims.md. best_named is the "
          "best closed-form grid under the criterion.")


def recommend(eigenvalues, nfe: int, solver: str = "euler", sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX,
              init: str = "exact", strategies: dict | None = None, criterion: str = "w2") -> dict:
    """The grid with the lowest exact ``criterion`` at this budget among the strategies, the criterion's finite-n
    optimum included, with every strategy's value and grid, and the KLs of the chosen grid."""
    gaussian.criterion_params(criterion, {})  # an unknown name is refused before any grid is computed
    lam = gaussian.check_eigenvalues(eigenvalues)
    specs = strategies or registry.DEFAULTS
    for label, spec in specs.items():
        registry.check_entry(label, spec)
    n = solvers.steps_for_nfe(solver, nfe)
    grids = ranking.strategy_grids(lam, specs, n, sigma_min, sigma_max, solver, init, criterion)
    values = {label: gaussian.criterion(criterion, lam, grid, solver, init) for label, grid in grids.items()}
    best = min(values, key=values.get)  # the floor comes last: a closed form that ties it is named
    named = [label for label in values if specs[label]["schedule"] != ranking.FLOOR]
    grid = grids[best]
    return {"criterion": criterion, "strategy": best, "sigmas": grid.tolist(), "value": values[best],
            "kl": gaussian.kl_divergence(lam, grid, solver, init),
            "kl_reverse": gaussian.kl_divergence(lam, grid, solver, init, "reverse"), "nfe": solvers.nfe(solver, grid),
            "steps": n, "solver": solver, "init": init, "sigma_min": sigma_min, "sigma_max": sigma_max,
            "best_named": min(named, key=values.get) if named else None, "alternatives": values,
            "grids": {label: g.tolist() for label, g in grids.items()}, "caveat": CAVEAT}
