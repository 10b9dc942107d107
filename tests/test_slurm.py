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


def merged(base: dict, overlay: dict) -> dict:
    """A --configfile overlay on top of config.yaml (nested mappings merged key by key, as Snakemake does)."""
    out = dict(base)
    for key, value in overlay.items():
        out[key] = merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def test_jobs_ask_for_what_their_configuration_measured(tmp_path):
    """Every planned job of the smoke run through the profile asks for its rule's entry under the smoke
    configuration's resources (not one size per rule for every scale), in the profile's partition."""
    config = merged(yaml.safe_load((REPO / "config.yaml").read_text()), yaml.safe_load(SMOKE.read_text()))
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    cmd = [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--dry-run", "--configfile", str(SMOKE),
           "--config", f"results={tmp_path}/results", f"figures={tmp_path}/figures"]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    planned = re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", run.stdout, re.M)
    assert {"gaussian_table", "data_cifar10", "spectrum", "train", "sweep_metrics"} <= {rule for rule, _ in planned}
    for rule, resources in planned:
        if rule == "all":  # the target rule runs locally
            continue
        want = {**config["resources"][rule], "slurm_partition": profile["default-resources"]["slurm_partition"]}
        for key, value in want.items():
            assert f"{key}={value}" in resources, (rule, key, resources)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DIFFSCHED_SLURM") != "1",
                    reason="starts a SLURM cluster on localhost (root, ~10 min): DIFFSCHED_SLURM=1 or make test-slurm")
def test_smoke_pipeline_on_slurm_equals_local_run():
    bindir = Path(sys.executable).parent
    env = {**os.environ, "SNAKEMAKE": str(bindir / "snakemake"), "PYTHON": sys.executable}
    run = subprocess.run(["bash", "tests/slurm/run.sh", "full"], cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and "PASSED" in run.stdout, run.stdout[-6000:] + run.stderr[-3000:]
