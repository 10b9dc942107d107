"""The library's subpackages are layers: a module imports only from its own layer or the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "diffsched"
# Lowest first (docs/architecture.md).
LAYERS = ["infra", "method", "data", "models", "metrics", "studies", "interface"]


def imported_layers(path: Path) -> dict[str, int]:
    """Every diffsched subpackage that ``path`` imports (at any depth of the file), with the first line doing it."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "diffsched":
            parts = node.module.split(".")
            names = [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("diffsched.")]
        for name in names:
            found.setdefault(name, node.lineno)
    return found


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """``file:line imports layer`` for each import that runs up the layers or into no layer."""
    wrong = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if len(rel.parts) == 1:  # the package's own __init__ and __main__
            continue
        own = LAYERS.index(rel.parts[0])
        for name, line in imported_layers(path).items():
            if name == "__version__":
                continue
            if name not in LAYERS or LAYERS.index(name) > own:
                wrong.append(f"{rel}:{line} imports diffsched.{name}")
    return wrong


def test_every_module_lives_in_a_layer():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py", "__main__.py"}]
    assert not loose, f"modules outside the layer subpackages: {loose}"
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(LAYERS)


def test_imports_only_run_downhill():
    assert upward_imports() == []


def imported_modules(path: Path) -> set[str]:
    """The diffsched modules (dotted, below the package) that ``path`` imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("diffsched."):
            module = node.module.removeprefix("diffsched.")
            if module.count(".") == 0:  # from diffsched.<layer> import <module>, ...
                found |= {f"{module}.{a.name}" for a in node.names}
            else:
                found.add(module)
    return found


def test_no_import_circle_among_the_library_modules():
    graph = {".".join(p.relative_to(PACKAGE).with_suffix("").parts): imported_modules(p)
             for p in PACKAGE.rglob("*.py")}
    assert len(graph) > 30
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


@pytest.mark.parametrize("statement", ["from diffsched.studies import sweep", "import diffsched.interface.cli",
                                       "from diffsched import recommend"])
def test_an_upward_import_is_caught(tmp_path, statement):
    """The check itself: a method module importing a study, the CLI or a name outside every layer fails it."""
    (tmp_path / "method").mkdir()
    (tmp_path / "method" / "solvers.py").write_text(f"def f():\n    {statement}\n")
    assert len(upward_imports(tmp_path)) == 1


def test_the_repository_root_of_provenance_is_this_checkout():
    """Provenance records the git commit of the repository that holds the package, wherever its module sits."""
    from diffsched.infra import provenance

    assert provenance.REPO == PACKAGE.parents[1]
    assert (provenance.REPO / "pyproject.toml").is_file()
