"""The Gaussian study's 3072-D exact-KL table (rule gaussian_table, table kl_table, spectrum powerlaw), timed
in this tree and in a `git worktree` of an earlier commit, on one thread, same workload. Prints medians, and how
far the two trees' tables differ: every KL equal to 1e-9 relative except the finite-N optimum's, which may only
go down.

The workload is the earlier commit's: its config.yaml's strategies, solvers, NFEs and powerlaw spectrum, so both
trees compute the same table (the strategies added since, such as the other criteria's optima, are left out).
Target (issue: exact gradients): at least 10x faster than c66d290, the last commit before them.

With ``--descent`` it also asks how fast this tree's finite-N optimum could be while keeping that rule: each
optimum cell is run again with every criterion evaluation recorded, and the script prints the evaluations and
seconds until the KL first reaches the earlier tree's optimum (an oracle stopping rule no library can use, so a
lower bound on any legitimate one), beside those of the whole run.

    python benchmarks/bench_kl_table.py [--against c66d290] [--repeats 3] [--descent]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]

# Run inside a tree (its src on PYTHONPATH): time ranking.kl_table on the config's powerlaw spectrum.
# Either tree: the library before or after its layer subpackages, and the finite-N optimum under either name.
IMPORTS = """
import sys, time, yaml, numpy as np, pandas as pd
try:
    from diffsched.studies import gaussian_study, ranking
except ImportError:
    from diffsched import gaussian_study, ranking
cfg = yaml.safe_load(open(sys.argv[1]))
g = cfg["gaussian"]
lam = gaussian_study.eigenvalues(g["spectra"]["powerlaw"])
nfes = sorted(set(g["solver_nfe"]) | set(g["table_nfe"]))
floor = {"kl_optimal": getattr(ranking, "FLOOR", "kl_optimal")}
specs = {k: {**v, "schedule": floor.get(v["schedule"], v["schedule"])} for k, v in cfg["strategies"].items()}
"""

CHILD = IMPORTS + """
start = time.perf_counter()
table = ranking.kl_table(lam, specs, nfes, cfg["solvers"], g["sigma_min"], g["sigma_max"], g["init"])
table.to_csv(sys.argv[2], index=False)
print(time.perf_counter() - start, lam.size)
"""

# Run in this tree: the same table, with every finite-N optimum call and criterion evaluation recorded
# (argv: config, the earlier tree's csv). Prints one line per optimum cell, then the table's total seconds.
DESCENT = IMPORTS + """
from diffsched.method import gaussian, optimise
old = pd.read_csv(sys.argv[2]).query("strategy == 'kl_optimal'").drop_duplicates(["solver", "steps"])
old = old.set_index(["solver", "steps"])["kl_forward"]  # heun: two budgets buy the same steps, the same grid
exact_gradient, optimum = gaussian.criterion_gradient, optimise.optimal_grid
calls = []
def recording_gradient(*args, **kwargs):
    value, gradient = exact_gradient(*args, **kwargs)
    calls.append((time.perf_counter(), value))
    return value, gradient
def traced_optimum(eigenvalues, n, *args, solver="euler", **kwargs):
    calls.clear()
    start = time.perf_counter()
    grid = optimum(eigenvalues, n, *args, solver=solver, **kwargs)
    total = time.perf_counter() - start
    before = old[(solver, n)]
    hit = [k for k, (_, v) in enumerate(calls) if v <= before]
    first = (hit[0] + 1, calls[hit[0]][0] - start) if hit else (len(calls), total)
    now = gaussian.criterion("kl", eigenvalues, grid, solver, kwargs.get("init", "exact"))
    print(solver, n, before, now, *first, len(calls), total)
    return grid
gaussian.criterion_gradient, optimise.optimal_grid = recording_gradient, traced_optimum
start = time.perf_counter()
ranking.kl_table(lam, specs, nfes, cfg["solvers"], g["sigma_min"], g["sigma_max"], g["init"])
print(time.perf_counter() - start)
"""


def descent(config: Path, old_table: Path) -> tuple[pd.DataFrame, float]:
    """Per finite-N optimum cell: evaluations and seconds until the earlier tree's KL is reached, and in all;
    and the traced table's total seconds."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    *lines, total = subprocess.run([sys.executable, "-c", DESCENT, str(config), str(old_table)], env=env,
                                   capture_output=True, text=True, check=True).stdout.splitlines()
    columns = ["solver", "steps", "kl_before", "kl_now", "evals_to_reach", "s_to_reach", "evals", "s"]
    table = pd.DataFrame([line.split() for line in lines], columns=columns)
    return table.astype({"steps": int, **{c: float for c in columns[2:]}}), float(total)


def run(tree: Path, config: Path, out: Path) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    printed = subprocess.run([sys.executable, "-c", CHILD, str(config), str(out)], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
    return float(printed[0]), int(printed[1])


def compare(new: pd.DataFrame, old: pd.DataFrame, floor: str = "kl_optimal",
            tolerance: float = 1e-9) -> tuple[float, int, int]:
    """Largest relative difference of kl_forward outside the floor; floor rows lower and higher in ``new`` by
    more than ``tolerance`` relative (within it, both trees found the same optimum up to rounding)."""
    keys = ["strategy", "solver", "nfe_budget"]
    both = new.merge(old, on=keys, suffixes=("", "_old"))
    if len(both) != len(old):
        raise SystemExit(f"the trees' tables do not have the same rows ({len(both)} shared of {len(old)})")
    rel = (both["kl_forward"] - both["kl_forward_old"]).abs() / both["kl_forward_old"].abs()
    is_floor = both["strategy"] == floor
    change = (both["kl_forward"] - both["kl_forward_old"]) / both["kl_forward_old"].abs()
    return (float(rel[~is_floor].max()), int((change[is_floor] < -tolerance).sum()),
            int((change[is_floor] > tolerance).sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="c66d290", help="the earlier commit (default: before exact gradients)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--descent", action="store_true", help="also time the optimum against an oracle stop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(old), args.against], check=True,
                       capture_output=True)
        try:
            config = old / "config.yaml"
            times = {"this tree": [], args.against: []}
            for _ in range(args.repeats):  # alternate, so a change in the host's load hits both alike
                for label, tree in (("this tree", REPO), (args.against, old)):
                    seconds, d = run(tree, config, Path(tmp) / f"{tree == REPO}.csv")
                    times[label].append(seconds)
            tables = [pd.read_csv(Path(tmp) / f"{flag}.csv") for flag in (True, False)]
            traced = descent(config, Path(tmp) / "False.csv") if args.descent else None
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)], check=True)
    new, before = (statistics.median(times[k]) for k in ("this tree", args.against))
    worst, lower, higher = compare(*tables)
    print(f"kl_table: d = {d}, {len(tables[0])} rows (strategies, solvers and NFEs of {args.against}'s config.yaml), "
          f"one thread, median of {args.repeats}")
    print(f"{'tree':12s} {'median s':>10s}  runs")
    for label, values in times.items():
        print(f"{label:12s} {statistics.median(values):10.2f}  {', '.join(f'{v:.2f}' for v in values)}")
    print(f"speed-up {before / new:.1f}x (target 10x)")
    print(f"kl_forward outside the finite-N optimum: largest relative difference {worst:.2e} (allowed 1e-9); "
          f"the optimum lower in {lower} rows, higher in {higher} (allowed 0; both beyond 1e-9 relative)")
    if traced is not None:
        print_descent(traced, before)


def print_descent(traced: tuple[pd.DataFrame, float], before: float) -> None:
    """The optimum's share of the table, and the least it could cost with the earlier tree's KL as its stop."""
    cells, total = traced
    print("\nfinite-N optimum, traced (evaluations and seconds until the KL first reaches the earlier tree's)")
    print(cells.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    rest = total - cells["s"].sum()
    oracle = rest + cells["s_to_reach"].sum()
    print(f"traced table {total:.1f} s, of which the optimum {cells['s'].sum():.1f} s and the rest {rest:.1f} s; "
          f"to the earlier KL the optimum needs {cells['s_to_reach'].sum():.1f} s; "
          f"so an oracle stop gives {oracle:.1f} s, "
          f"{before / oracle:.1f}x (target 10x: {before / 10:.1f} s)")


if __name__ == "__main__":
    main()
