"""benchmarks/bench_kl_table.py's trace of the finite-N optimum (the evidence for its speed target): on a table
traced against itself, every optimum cell reaches its own KL no later than its last evaluation, and the trace
times the same table the plain run computes."""

import sys
from pathlib import Path

import pandas as pd
import yaml

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench_kl_table  # noqa: E402

from diffsched.method import strategies  # noqa: E402

REPO = BENCH.parent


def test_a_table_traced_against_itself_reaches_every_optimum(tmp_path):
    ours = yaml.safe_load((REPO / "config.yaml").read_text())
    config = {  # the earlier commit's layout, which the benchmark reads: sigma range and start under gaussian
        "strategies": {k: strategies.DEFAULTS[k] for k in ("edm", "logsnr", "kl_optimal")},
        "solvers": ["heun", "ipndm"],
        "gaussian": {"spectra": {"powerlaw": ours["gaussian"]["spectra"]["powerlaw"]}, "solver_nfe": [4, 5, 6],
                     "table_nfe": [3], **ours["noise"]},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    bench_kl_table.run(REPO, path, tmp_path / "table.csv")
    table = pd.read_csv(tmp_path / "table.csv")

    cells, total = bench_kl_table.descent(path, tmp_path / "table.csv")

    optimum = table[table["strategy"] == "kl_optimal"]
    assert len(cells) == len(optimum)  # one line per optimum the table computes (heun 5 and 6 buy the same 3 steps)
    assert set(zip(cells["solver"], cells["steps"])) == set(zip(optimum["solver"], optimum["steps"]))
    for row in cells.itertuples():
        assert row.kl_now == row.kl_before  # deterministic: the traced optimum is the table's
        assert row.evals_to_reach <= row.evals and row.s_to_reach <= row.s
        assert row.evals >= 1 if row.steps >= 3 else row.evals == 0  # n <= 2 has no free point to move
        assert row.evals == 0 or row.evals_to_reach >= 1
    assert cells["s"].sum() < total
