"""The SLURM profile: its plan (always, a dry run) and a real one-node cluster (only with DIFFSCHED_SLURM=1)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "workflow" / "configs" / "smoke.yaml"
pytest.importorskip("snakemake_executor_plugin_slurm")


def test_profile_gives_every_rule_its_resources(tmp_path):
    """Every planned job carries its rule's set-resources from the profile, or the profile's defaults."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    cmd = [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--dry-run", "--configfile", str(SMOKE),
           "--config", f"results={tmp_path}/results", f"figures={tmp_path}/figures"]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    planned = re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", run.stdout, re.M)
    assert {"gaussian_table", "data_cifar10", "spectrum", "ranking_outputs"} <= {rule for rule, _ in planned}
    for rule, resources in planned:
        want = {**profile["default-resources"], **profile["set-resources"].get(rule, {})}
        for key in ("mem_mb", "runtime", "slurm_partition", "cpus_per_task"):
            assert f"{key}={want[key]}" in resources, (rule, key, resources)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DIFFSCHED_SLURM") != "1",
                    reason="starts a SLURM cluster on localhost (root, ~10 min): DIFFSCHED_SLURM=1 or make test-slurm")
def test_smoke_pipeline_on_slurm_equals_local_run():
    bindir = Path(sys.executable).parent
    env = {**os.environ, "SNAKEMAKE": str(bindir / "snakemake"), "PYTHON": sys.executable}
    run = subprocess.run(["bash", "tests/slurm/run.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and "PASSED" in run.stdout, run.stdout[-6000:] + run.stderr[-3000:]
