"""Every choice list of the config schema equals the library registry it names, so a solver, criterion, metric,
oracle, network or data set added to the library cannot be left out of (or misspelt in) the config's validation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from diffsched.data import datasets, published_spectra
from diffsched.method import gaussian, search, solvers, strategies, vp_schemes
from diffsched.metrics import scores
from diffsched.models import nets, precond, training
from diffsched.studies import blind_study, sweep

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
ANY_SOLVER = {**solvers.SOLVERS, **solvers.STOCHASTIC_SOLVERS}
REGISTRIES = {
    "properties/noise/properties/init": gaussian.INITS,
    "properties/criteria/items": gaussian.CRITERIA,
    "properties/gaussian/properties/monte_carlo/properties/inits/items": gaussian.INITS,
    "properties/gaussian/properties/vp_schemes/properties/spectrum": published_spectra.SPECTRA,
    "properties/spectrum/properties/published/additionalProperties/properties/eigenvalues": published_spectra.SPECTRA,
    "properties/gaussian/properties/vp_schemes/properties/schemes/items": vp_schemes.SCHEMES,
    "properties/data/properties/source": datasets.SOURCES,
    "properties/data/properties/datasets/additionalProperties/properties/dataset": datasets.DATASETS,
    "properties/sweep/properties/denoisers/items": sweep.ORACLES,
    "properties/sweep/properties/search/additionalProperties/properties/schedule": search.METHODS,
    "properties/sweep/properties/metrics/items": scores.METRICS,
    "properties/training/properties/networks/additionalProperties/properties/network": nets.NETWORKS,
    "properties/training/properties/precond": precond.PRECONDITIONINGS,
    "properties/training/properties/precision": training.PRECISIONS,
    "properties/training/properties/samplers/additionalProperties/properties/solver": ANY_SOLVER,
    "properties/training/properties/metrics/items": scores.METRICS,
    "properties/blind/properties/samplers/additionalProperties/properties/solver": ANY_SOLVER,
    "properties/blind/properties/oracles/items": blind_study.ORACLES,
    "properties/blind/properties/metrics/items": blind_study.SCORES,
    "$defs/solvers/items": solvers.SOLVERS,
    "$defs/strategies/additionalProperties/properties/schedule": set(strategies.NAMES) - set(strategies.SEARCH_GRIDS),
}


def schema_enums(node, path=()) -> dict[str, list]:
    """Every ``enum`` of the schema by its path."""
    found = {}
    if isinstance(node, dict):
        if "enum" in node:
            found["/".join(path)] = node["enum"]
        for key, value in node.items():
            found.update(schema_enums(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.update(schema_enums(value, (*path, str(i))))
    return found


ENUMS = schema_enums(yaml.safe_load(SCHEMA.read_text()))


def test_every_choice_list_has_its_registry():
    assert sorted(ENUMS) == sorted(REGISTRIES)


@pytest.mark.parametrize("path", sorted(REGISTRIES))
def test_choice_list_equals_the_registry(path):
    assert sorted(ENUMS[path]) == sorted(REGISTRIES[path])
