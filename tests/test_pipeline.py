"""The smoke configuration end to end through Snakemake, the way a user runs it."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "workflow" / "configs" / "smoke.yaml"
pytestmark = pytest.mark.slow


def snakemake(tmp, *args, overlays=(), check=True):
    # Targets first: --configfile, --config and --quiet each swallow the words that follow them.
    cmd = [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--configfile", str(SMOKE), *map(str, overlays),
           "--config", f"results={tmp}/results", f"figures={tmp}/figures"]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if check and run.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}")
    return run


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("smoke")
    snakemake(tmp)
    return tmp


def expected_outputs(tmp):
    figures = ["kl_vs_steps", "em_ratio", "gamma", "grids", "rho_sweep", "solvers"]
    paths = [f"gaussian/{f}.{e}" for f in figures for e in ("pdf", "png")]
    paths += [f"gaussian/kl_table_{s}.{e}" for s in ("lowdim", "powerlaw") for e in ("csv", "md")]
    return [tmp / "figures" / p for p in paths]


def test_every_figure_and_table_is_made(smoke_run):
    for path in expected_outputs(smoke_run):
        assert path.is_file() and path.stat().st_size > 0, path
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (smoke_run / "figures/gaussian/kl_table_powerlaw.md").read_text()
    assert "source: synthetic Gaussian" in table and "**" in table and "kl_optimal" in table


def test_second_run_has_nothing_to_do(smoke_run):
    assert "Nothing to be done" in snakemake(smoke_run, "--dry-run").stdout


def test_deleting_one_figure_rebuilds_only_that_branch(smoke_run):
    target = smoke_run / "figures/gaussian/em_ratio.pdf"
    others = {p: p.stat().st_mtime_ns for p in expected_outputs(smoke_run) if p.stem != "em_ratio"}
    target.unlink()
    plan = snakemake(smoke_run, str(target), "--dry-run", "--quiet", "rules").stdout
    assert "gaussian_figure" in plan and "gaussian_table" not in plan
    snakemake(smoke_run, str(target))
    assert target.is_file()
    assert {p: p.stat().st_mtime_ns for p in others} == others


@pytest.mark.parametrize("overlay,message", [
    ("gaussian:\n  sigma_min: small\n", "sigma_min"),
    ("gaussian:\n  solvers: [euler, rk45]\n", "rk45"),
    ("seed: -3\n", "seed"),
    ("gaussian:\n  sigma_min: 100.0\n", "sigma_min must be smaller than sigma_max"),
    ("gaussian:\n  strategies:\n    mine: {schedule: edm, params: {rh: 3}}\n", "strategy 'mine'"),
])
def test_bad_config_fails_before_any_job(tmp_path, overlay, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(overlay)
    run = snakemake(tmp_path, "--dry-run", overlays=[bad], check=False)
    assert run.returncode != 0
    assert message in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()
