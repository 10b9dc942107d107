"""The recommend entry point: strategy choice, the cached data route, and agreement with config.yaml."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from diffsched import gaussian, recommend

REPO = Path(__file__).resolve().parents[1]


def test_defaults_match_config_yaml():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    assert config["strategies"] == recommend.DEFAULT_STRATEGIES


def test_recommendation_is_the_lowest_kl():
    lam = np.geomspace(1e-3, 30.0, 40)
    result = recommend.recommend(lam, 6, "heun")
    assert result["kl"] == min(result["alternatives"].values())
    assert result["kl"] == pytest.approx(gaussian.kl_divergence(lam, result["sigmas"], "heun"), rel=1e-4)
    assert result["nfe"] == 5 and len(result["sigmas"]) == result["steps"] + 1 and result["sigmas"][-1] == 0.0
    assert result["best_named"] != "kl_optimal"


def test_cli_prepares_and_caches_a_data_set(tmp_path):
    cmd = [sys.executable, "-m", "diffsched", "recommend", "--dataset", "celeba", "--nfe", "4", "--cache",
           str(tmp_path)]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "preparing CelebA" in first.stderr
    result = json.loads(first.stdout)
    assert {"strategy", "sigmas", "kl", "alternatives"} <= set(result)
    assert result["source"] == "CelebA 10k subset (JPEG q75 copy)" and result["dimension"] == 3072
    assert (tmp_path / "spectrum" / "celeba32.npz").is_file()
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert "preparing" not in again.stderr and json.loads(again.stdout)["kl"] == result["kl"]


def test_bad_dataset_resolution():
    with pytest.raises(ValueError, match="CIFAR-10 is 32x32"):
        recommend.dataset_id("cifar10", 64)
