"""Cluster requests from measured benchmark files, and that every configuration's requests cover every rule."""

import math
import re
from pathlib import Path

import pytest
import yaml

from diffsched.infra import job_resources
from diffsched.interface.cli import main

REPO = Path(__file__).resolve().parents[1]
HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_benchmark(path: Path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{s}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t50\t1\n" for s, rss in rows))


def test_largest_job_of_each_rule_sets_its_request_with_the_stated_margin(tmp_path):
    write_benchmark(tmp_path / "train/cifar10/unet-with.tsv", [(211.0, 812.5)])
    write_benchmark(tmp_path / "train/celeba/dit-with.tsv", [(105.4, 1900.2)])
    write_benchmark(tmp_path / "sweep_outputs.tsv", [(3.2, 300.0)])
    got = job_resources.job_resources(tmp_path)
    # train: longest 211 s, peak 1900.2 MB; sweep_outputs: 3.2 s, 300 MB (margins: 1.5 x + 500 MB, 3 x + 5 min)
    assert got == {
        "sweep_outputs": {"mem_mb": 1000, "runtime": math.ceil(3 * 3.2 / 60 + 5)},
        "train": {"mem_mb": math.ceil((1.5 * 1900.2 + 500) / 100) * 100, "runtime": math.ceil(3 * 211 / 60 + 5)},
    }
    assert got["train"] == {"mem_mb": 3400, "runtime": 16}


def test_cli_prints_a_resources_section_the_schema_accepts(tmp_path, capsys):
    write_benchmark(tmp_path / "spectrum/cifar10.tsv", [(40.0, 2500.0)])
    write_benchmark(tmp_path / "probe/cifar10.tsv", [(600.0, 700.0)])
    assert main(["job-resources", str(tmp_path)]) == 0
    section = yaml.safe_load(capsys.readouterr().out)["resources"]
    assert section == {"default": {"mem_mb": 4300, "runtime": 35}, "probe": {"mem_mb": 1600, "runtime": 35},
                       "spectrum": {"mem_mb": 4300, "runtime": 7}}


def test_a_folder_without_benchmarks_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no benchmark files"):
        job_resources.job_resources(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.tsv").write_text("col\n1\n")
    with pytest.raises(ValueError, match="not a Snakemake benchmark file"):
        job_resources.job_resources(tmp_path)


@pytest.mark.parametrize("overlay", [None, "smoke.yaml", "paper.yaml"])
def test_every_configuration_sizes_every_rule(overlay):
    """Each configuration lists every rule of the workflow under resources (requests follow the configuration)."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())["resources"]
    if overlay:
        config = yaml.safe_load((REPO / "workflow/configs" / overlay).read_text())["resources"]
    rules = {name for f in (REPO / "workflow/rules").glob("*.smk")  # rule X: and use rule Y as X with:
             for name in re.findall(r"^(?:rule|use rule \w+ as) (\w+)", f.read_text(), re.M)}
    assert set(config) - {"default"} == rules
