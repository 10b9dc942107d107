"""The strategy registry: every name becomes a grid through strategies.grid, the config schema names exactly the
registry's strategies, and the library's modules import each other without a circle."""

import ast
from pathlib import Path

import numpy as np
import pytest
import yaml

from diffsched.method import optimise, schedules, search, strategies

ROOT = Path(__file__).resolve().parents[1]
LAM = np.geomspace(1e-3, 10.0, 12)
CONTEXT = {"variational": {"eigenvalues": LAM}, "tangent_opt": {"eigenvalues": LAM},
           "kl_optimal": {"eigenvalues": LAM, "criterion": "w2"}}


@pytest.mark.parametrize("name", [k for k in strategies.NAMES if k not in strategies.SEARCH_GRIDS])
@pytest.mark.parametrize("n", [1, 2, 6])
def test_every_strategy_grid_keeps_the_convention(name, n):
    g = strategies.grid(name, n, 0.002, 80.0, **CONTEXT.get(name, {}))
    assert g.shape == (n + 1,) and g[0] == 80.0 and g[-1] == 0.0 and np.all(np.diff(g) < 0)
    if n > 1:
        assert g[n - 1] == 0.002


def test_each_kind_is_computed_where_it_lives():
    np.testing.assert_array_equal(strategies.grid("edm", 6, rho=3.0), schedules.get("edm", 6, rho=3.0))
    np.testing.assert_array_equal(strategies.grid("kl_optimal", 6, **CONTEXT["kl_optimal"]),
                                  optimise.kl_optimal_grid(LAM, 6, criterion="w2"))
    tau = np.linspace(0.0, 1.0, 7)
    np.testing.assert_array_equal(strategies.function("variational", 0.002, 80.0, eigenvalues=LAM)(tau),
                                  optimise.variational_schedule(LAM)(tau))


def test_the_config_schema_names_the_registry():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    props = schema["properties"]
    named = schema["$defs"]["strategies"]["additionalProperties"]["properties"]["schedule"]["enum"]
    searched = props["sweep"]["properties"]["search"]["additionalProperties"]["properties"]["schedule"]["enum"]
    assert set(named) == set(strategies.NAMES) - set(strategies.SEARCH_GRIDS)
    assert set(searched) == set(strategies.SEARCH_GRIDS) == set(search.METHODS)


def _imports(path: Path) -> set[str]:
    """The diffsched modules a file imports, at any depth (function-local imports included)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "diffsched":
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("diffsched."):
            out.add(node.module.split(".")[1])
    return out


def test_no_import_circle_among_the_library_modules():
    src = ROOT / "src" / "diffsched"
    graph = {p.stem: _imports(p) for p in src.glob("*.py")}
    done, active = set(), []

    def visit(module):
        if module in active:
            raise AssertionError(f"import circle: {' -> '.join(active[active.index(module):] + [module])}")
        if module in done or module not in graph:
            return
        active.append(module)
        for dep in graph[module]:
            visit(dep)
        active.pop()
        done.add(module)

    for module in graph:
        visit(module)
