"""`make env` refuses to start the environment build on a disk too full to hold it, and says why."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_env_build_stops_before_installing_when_disk_is_short(tmp_path):
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["make", "-C", str(ROOT), "env", f"VENV={venv}", "ENV_MIN_FREE_GB=1e12"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "GB free on the disk of" in result.stderr
    assert "Free space" in result.stderr
    assert not venv.exists()
