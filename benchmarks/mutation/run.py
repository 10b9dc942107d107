"""Mutation testing of one module against the fast tests that cover it (mutmut 3): ``make mutation MODULE=...``.

MODULE is dotted below the package (``method.schedules``), fully dotted (``diffsched.method.schedules``) or a path
(``src/diffsched/method/schedules.py``). The run happens in results/mutation/<module>/, on a fresh copy of src/ and
tests/, and ends with the diff of every surviving mutant, the names of those no selected test runs, and the score
(caught / checked).
"""

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each mutated module and the fast test files that cover it.
TESTS = {
    "method.schedules": ["test_schedules.py", "test_solvers.py"],
    "method.solvers": ["test_solvers.py", "test_stochastic.py"],
    "method.gaussian": ["test_gaussian.py", "test_criteria.py", "test_stochastic.py"],
    "method.optimise": ["test_gaussian.py", "test_criteria.py", "test_strategies.py"],
    "method.strategies": ["test_strategies.py", "test_criteria.py"],
    "metrics.bootstrap": ["test_bootstrap.py", "test_sweep_bootstrap.py"],
    "studies.sweep": ["test_sweep_bootstrap.py", "test_bootstrap.py"],
    "studies.ranking": ["test_ranking.py"],
    "studies.gaussian_study": ["test_gaussian_study.py"],
    "studies.claims": ["test_claims.py"],
    "interface.export": ["test_export.py"],
}
# What the tests read besides src/ and tests/.
ALSO_COPY = ["tests", "config.yaml", "workflow", "pyproject.toml"]
# A mutant whose tests fail or hang is caught; one they pass survives; one no selected test runs is untested.
CAUGHT = {"killed", "timeout", "caught by type checker"}


def module_name(arg: str) -> str:
    """``method.schedules`` from any of the accepted spellings of MODULE."""
    name = arg.removesuffix(".py").replace("/", ".").removeprefix("src.").removeprefix("diffsched.")
    if name not in TESTS:
        sys.exit(f"mutation: no tests mapped for {arg!r}; mapped modules: {', '.join(TESTS)}")
    return name


def prepare(work: Path, module: str) -> None:
    """A fresh work directory: copies of what the tests need, and the mutmut configuration for ``module``."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copytree(ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ALSO_COPY:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, work / name)
    path = "src/diffsched/" + module.replace(".", "/") + ".py"
    tests = "\n    ".join(f"tests/{t}" for t in TESTS[module])
    (work / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = src\n"
        f"only_mutate = {path}\n"
        f"pytest_add_cli_args_test_selection =\n    {tests}\n"
        "pytest_add_cli_args = -p no:cacheprovider -m \"not slow\"\n"
        "also_copy =\n    " + "\n    ".join(ALSO_COPY) + "\n"
        "process_isolation = forkserver\n"
    )


def results(work: Path) -> dict[str, str]:
    """Each mutant's name and status, from ``mutmut results --all``."""
    out = subprocess.run([mutmut(), "results", "--all", "true"], cwd=work, capture_output=True, text=True, check=True)
    pairs = (line.strip().rsplit(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    return dict(pairs)


def mutmut() -> str:
    """The mutmut beside this Python (the project's environment)."""
    return str(Path(sys.executable).with_name("mutmut"))


def main(arg: str) -> int:
    module = module_name(arg)
    work = ROOT / "results" / "mutation" / module
    prepare(work, module)
    subprocess.run([mutmut(), "run", "--max-children", "2"], cwd=work, check=True)
    status = results(work)
    counts = Counter(status.values())
    caught = sum(counts[s] for s in CAUGHT)
    checked = caught + counts["survived"] + counts["no tests"]
    for name in (name for name, state in status.items() if state == "survived"):
        subprocess.run([mutmut(), "show", name], cwd=work, check=True)
    untested = [name for name, state in status.items() if state == "no tests"]
    if untested:
        print("no selected test runs these mutants:\n    " + "\n    ".join(untested))
    print(f"{module}: {caught}/{checked} caught ({100 * caught / max(checked, 1):.1f}%); "
          + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]) if len(sys.argv) == 2 else "usage: run.py MODULE")
