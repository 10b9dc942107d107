"""The SLURM profile: its plan (always, a dry run) and a real one-node cluster (only with DIFFSCHED_SLURM=1)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "workflow" / "configs" / "smoke.yaml"
pytest.importorskip("snakemake_executor_plugin_slurm")


def test_profile_gives_every_rule_its_resources(tmp_path):
    cmd = [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--dry-run", "--configfile", str(SMOKE),
           "--config", f"results={tmp_path}/results", f"figures={tmp_path}/figures"]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    expected = {"gaussian_spectrum": (1000, 10), "gaussian_table": (2000, 60), "gaussian_figure": (2000, 15),
                "gaussian_kl_table": (1000, 10), "all": (2000, 30)}
    seen = set()
    for rule, resources in re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", run.stdout, re.M):
        mem_mb, runtime = expected[rule]
        assert f"mem_mb={mem_mb}," in resources and f"runtime={runtime}," in resources, (rule, resources)
        assert "slurm_partition=debug" in resources and "cpus_per_task=1" in resources, (rule, resources)
        seen.add(rule)
    assert seen == set(expected)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DIFFSCHED_SLURM") != "1",
                    reason="starts a SLURM cluster on localhost (root, ~5 min): DIFFSCHED_SLURM=1 or make test-slurm")
def test_smoke_pipeline_on_slurm_equals_local_run():
    bindir = Path(sys.executable).parent
    env = {**os.environ, "SNAKEMAKE": str(bindir / "snakemake"), "PYTHON": sys.executable}
    run = subprocess.run(["bash", "tests/slurm/run.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and "PASSED" in run.stdout, run.stdout[-6000:] + run.stderr[-3000:]
