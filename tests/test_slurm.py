"""The SLURM profile: its plan (always, a dry run) and a real one-node cluster (only with DIFFSCHED_SLURM=1)."""

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
pytest.importorskip("snakemake_executor_plugin_slurm")


def merged(base: dict, overlay: dict) -> dict:
    """A --configfile overlay on top of config.yaml (nested mappings merged key by key, as Snakemake does)."""
    out = dict(base)
    for key, value in overlay.items():
        out[key] = merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def plan(overlay: str, out: Path) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(rule, wildcards, resources) of every job a dry run of config.yaml + workflow/configs/<overlay> through
    profiles/slurm plans (results and figures under ``out``): what each job will ask SLURM for."""
    cmd = [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--dry-run", "--configfile",
           str(REPO / "workflow/configs" / overlay), "--config", f"results={out}/results", f"figures={out}/figures"]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    jobs = re.findall(r"^(?:local)?rule (\w+):\n((?:    .*\n)*?)    resources: (.*)$", run.stdout, re.M)

    def pairs(text, sep=", "):
        return dict(item.split("=", 1) for item in text.split(sep))

    return [(rule, pairs(re.search(r"wildcards: (.*)", block)[1]) if "wildcards: " in block else {},
             pairs(resources)) for rule, block, resources in jobs]


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    """plan(overlay), once per configuration."""
    return functools.cache(lambda overlay: plan(overlay, tmp_path_factory.mktemp("plan")))


@pytest.mark.parametrize("overlay", ["smoke.yaml", "paper.yaml"])
def test_jobs_ask_for_what_their_configuration_measured(plans, overlay):
    """Every planned job through the profile asks for its rule's entry under its configuration's resources (not one
    size per rule for every scale), in the profile's partition."""
    config = merged(yaml.safe_load((REPO / "config.yaml").read_text()),
                    yaml.safe_load((REPO / "workflow/configs" / overlay).read_text()))
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    planned = plans(overlay)
    assert {"gaussian_table", "data_cifar10", "spectrum", "train", "sweep_metrics"} <= {rule for rule, _, _ in planned}
    for rule, _, resources in planned:
        if rule == "all":  # the target rule runs locally
            continue
        want = {**config["resources"][rule], "slurm_partition": profile["default-resources"]["slurm_partition"]}
        for key, value in want.items():
            assert resources[key] == str(value), (rule, key, resources)


def test_paper_jobs_that_run_networks_ask_for_a_gpu(plans):
    """paper.yaml (training.gpu: 1) through the profile: training, the trained networks' sampling, the ideal-gap
    oracles and every Inception pass ask for one GPU (the plugin's sbatch --gpus), the oracle-only jobs for none."""
    networks = set(yaml.safe_load((REPO / "workflow/configs/paper.yaml").read_text())["sweep"]["networks"])
    gpu_rules = {"train", "ablation_samples", "ablation_ideal", "ablation_metrics", "sweep_metrics", "blind_metrics"}
    planned = plans("paper.yaml")
    for rule, wildcards, resources in planned:
        network = rule in gpu_rules or rule == "sweep_samples" and wildcards["denoiser"] in networks
        assert resources.get("gpu", "0") == ("1" if network else "0"), (rule, wildcards, resources)
    assert gpu_rules | {"sweep_samples"} <= {rule for rule, _, _ in planned}


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DIFFSCHED_SLURM") != "1",
                    reason="starts a SLURM cluster on localhost (root, ~10 min): DIFFSCHED_SLURM=1 or make test-slurm")
def test_smoke_pipeline_on_slurm_equals_local_run():
    bindir = Path(sys.executable).parent
    env = {**os.environ, "SNAKEMAKE": str(bindir / "snakemake"), "PYTHON": sys.executable}
    run = subprocess.run(["bash", "tests/slurm/run.sh", "full"], cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and "PASSED" in run.stdout, run.stdout[-6000:] + run.stderr[-3000:]
