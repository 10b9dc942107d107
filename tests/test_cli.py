"""python -m diffsched as a user calls it."""

import json
import subprocess
import sys

import numpy as np
import pytest

from diffsched.method import gaussian, optimise, schedules


def cli(*args):
    return subprocess.run([sys.executable, "-m", "diffsched", *args], capture_output=True, text=True)


def test_grid_prints_the_schedule():
    out = cli("grid", "--schedule", "edm", "--steps", "5", "--param", "rho=3")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    np.testing.assert_allclose(result["sigmas"], schedules.get("edm", 5, rho=3.0), rtol=1e-15)
    assert result["nfe"] == 5


def test_kl_with_an_nfe_budget(tmp_path):
    lam = np.array([0.1, 1.0, 3.0])
    np.save(tmp_path / "ev.npy", lam)
    out = cli("kl", "--eigenvalues", str(tmp_path / "ev.npy"), "--schedule", "tangent_opt", "--nfe", "7",
              "--solver", "heun")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["steps"] == 4 and result["nfe"] == 7 and len(result["sigmas"]) == 5
    assert result["kl"] == pytest.approx(gaussian.kl_divergence(lam, result["sigmas"], "heun"), rel=1e-12)
    assert result["kl_reverse"] == pytest.approx(gaussian.kl_divergence(lam, result["sigmas"], "heun",
                                                                        direction="reverse"), rel=1e-12)


def test_criterion_reports_the_named_one_and_every_other(tmp_path):
    lam = np.array([0.1, 1.0, 3.0])
    np.save(tmp_path / "ev.npy", lam)
    out = cli("criterion", "--name", "kl_smoothed", "--criterion-param", "delta=0.3", "--eigenvalues",
              str(tmp_path / "ev.npy"), "--schedule", "optimal", "--param", "criterion=w2", "--steps", "4")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    grid = optimise.optimal_grid(lam, 4, criterion="w2")
    np.testing.assert_allclose(result["sigmas"], grid, rtol=1e-12)
    assert result["value"] == pytest.approx(gaussian.criterion("kl_smoothed", lam, grid, delta=0.3), rel=1e-12)
    assert result["criterion_params"] == {"delta": 0.3}
    assert set(result["criteria"]) == set(gaussian.CRITERIA)
    assert result["criteria"]["w2"] == pytest.approx(gaussian.criterion("w2", lam, grid), rel=1e-12)


def test_criterion_of_a_stochastic_solver_takes_its_eta(tmp_path):
    lam = np.array([0.1, 1.0, 3.0])
    np.save(tmp_path / "ev.npy", lam)
    args = ["criterion", "--name", "w2", "--eigenvalues", str(tmp_path / "ev.npy"), "--schedule", "edm", "--steps", "5",
            "--solver", "euler_ancestral"]
    out = cli(*args, "--criterion-param", "eta=0.5")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    grid = schedules.get("edm", 5)
    assert result["solver_params"] == {"eta": 0.5} and result["criterion_params"] == {}
    assert result["value"] == pytest.approx(gaussian.criterion("w2", lam, grid, "euler_ancestral", eta=0.5), rel=1e-12)
    assert result["criteria"]["kl"] == pytest.approx(gaussian.criterion("kl", lam, grid, "euler_ancestral", eta=0.5),
                                                     rel=1e-12)
    out = cli(*args, "--criterion-param", "eta=1.5")
    assert out.returncode == 2 and "eta must be in [0, 1]" in out.stderr
    out = cli(*args, "--criterion-param", "s_noise=1")
    assert out.returncode == 2 and "nor solver 'euler_ancestral' takes parameter ['s_noise']" in out.stderr


@pytest.mark.parametrize("args,message", [
    (["grid", "--schedule", "edm", "--steps", "0"], "n must be an integer >= 1"),
    (["grid", "--schedule", "nope", "--steps", "3"], "valid schedules"),
    (["grid", "--schedule", "edm", "--nfe", "3", "--solver", "rk4"], "valid solvers"),
    (["grid", "--schedule", "edm", "--steps", "3", "--sigma-min", "90"], "sigma_min must be smaller"),
    (["grid", "--schedule", "variational", "--steps", "3"], "needs --eigenvalues"),
    (["kl", "--eigenvalues", "/nonexistent.npy", "--schedule", "edm", "--nfe", "3"], "does not exist"),
    (["criterion", "--eigenvalues", "/nonexistent.npy", "--schedule", "edm", "--nfe", "3", "--name", "fid"],
     "invalid choice: 'fid'"),
])
def test_bad_input_exits_with_a_message(args, message):
    out = cli(*args)
    assert out.returncode == 2 and message in out.stderr


def test_nonpositive_eigenvalues_are_refused(tmp_path):
    np.save(tmp_path / "ev.npy", np.array([1.0, 0.0]))
    out = cli("kl", "--eigenvalues", str(tmp_path / "ev.npy"), "--schedule", "edm", "--nfe", "3")
    assert out.returncode == 2 and "eigenvalues must be finite and > 0" in out.stderr and "ev.npy" in out.stderr
