"""The recommend entry point: strategy choice, the cached data route, and agreement with config.yaml."""

import gzip
import inspect
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from diffsched.method import gaussian, schedules, solvers, strategies
from diffsched.data import published_spectra, spectrum_sources
from diffsched.interface import recommend

REPO = Path(__file__).resolve().parents[1]


def test_defaults_match_config_yaml():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    assert not set(config["strategies"]) & set(strategies.DEFAULTS), "config.yaml re-spells a default strategy"
    defaults = inspect.signature(recommend.recommend).parameters
    assert config["noise"] == {k: defaults[k].default for k in ("sigma_min", "sigma_max", "init")}
    assert (defaults["sigma_min"].default, defaults["sigma_max"].default) == (schedules.SIGMA_MIN, schedules.SIGMA_MAX)


def heun_kl(lam, grid):
    """KL(N(0, lam) || Heun's output) from the exact start, by the scalar recursion of dx/dsigma = x sigma /
    (lam + sigma^2) (a Heun step, or an Euler step into sigma = 0): independent of diffsched.method.gaussian."""
    v = lam + grid[0] ** 2
    for s, t in zip(grid[:-1], grid[1:]):
        d, h = s / (lam + s**2), t - s
        factor = 1 + h * d if t == 0 else 1 + h / 2 * (d + t / (lam + t**2) * (1 + h * d))
        v = v * factor**2
    return float(np.sum(0.5 * (lam / v - 1 + np.log(v / lam))))


def test_recommendation_is_the_lowest_kl():
    lam = np.geomspace(1e-3, 30.0, 40)
    result = recommend.recommend(lam, 6, "heun", criterion="kl")
    values = {label: heun_kl(lam, np.array(grid)) for label, grid in result["grids"].items()}
    assert result["alternatives"] == pytest.approx(values, rel=1e-9)
    assert result["strategy"] == min(values, key=values.get) and result["kl"] == pytest.approx(min(values.values()))
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


FASHION_TRAIN = Path("/work/shared/data/fashion-mnist/train-images-idx3-ubyte.gz")


@pytest.mark.skipif(not FASHION_TRAIN.is_file(), reason=f"{FASHION_TRAIN} is not on this machine")
def test_cli_spectrum_and_recommend_for_fashion_mnist(tmp_path):
    run = [sys.executable, "-m", "diffsched"]
    cache, out = ["--cache", str(tmp_path)], tmp_path / "fashion.npz"
    spec = subprocess.run(run + ["spectrum", "--dataset", "fashion_mnist", "--out", str(out)] + cache,
                          capture_output=True, text=True, cwd=tmp_path)
    assert spec.returncode == 0, spec.stderr
    summary = json.loads(spec.stdout)
    assert summary["channels"] == 1 and summary["dimension"] == 784 and summary["n_samples"] == 60000
    # the covariance of the raw IDX pixels, read here by the format's definition, scaled as x / 127.5 - 1
    with gzip.open(FASHION_TRAIN) as f:
        assert struct.unpack(">4i", f.read(16)) == (2051, 60000, 28, 28)
        x = np.frombuffer(f.read(), dtype=np.uint8).reshape(60000, 784) / 127.5 - 1
    centred = x - x.mean(axis=0)
    expected = np.linalg.eigvalsh(centred.T @ centred / 59999)[::-1]
    lam = np.load(out)["eigenvalues"]
    np.testing.assert_allclose(lam[:700], expected[:700], rtol=1e-9)
    assert summary["trace"] == pytest.approx(np.maximum(expected, summary["floor"]).sum(), rel=1e-12)

    rec = subprocess.run(run + ["recommend", "--dataset", "fashion_mnist", "--nfe", "6"] + cache,
                         capture_output=True, text=True, cwd=tmp_path)
    assert rec.returncode == 0, rec.stderr
    result = json.loads(rec.stdout)
    assert result["source"] == "Fashion-MNIST (lossless, Debian gzip repack)" and result["dimension"] == 784
    assert result["spectrum"] == str(tmp_path / "spectrum" / "fashion_mnist.npz")
    assert result["value"] == pytest.approx(gaussian.criterion("w2", expected.clip(summary["floor"]),
                                                               result["sigmas"]), rel=1e-6)


def test_bad_dataset_resolution():
    with pytest.raises(ValueError, match="CIFAR-10 is 32x32"):
        spectrum_sources.dataset_id("cifar10", 64)
    with pytest.raises(ValueError, match="Fashion-MNIST is 28x28"):
        spectrum_sources.dataset_id("fashion_mnist", 32)


@pytest.fixture(scope="module")
def spectrum_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("spectrum") / "lam.npy"
    np.save(path, np.geomspace(1e-3, 30.0, 40))
    return path


@pytest.mark.parametrize("name", list(gaussian.CRITERIA))
def test_every_criterion_recommends_its_own_argmin(name, spectrum_file, capsys):
    from diffsched.interface import cli

    assert cli.main(["recommend", "--eigenvalues", str(spectrum_file), "--nfe", "4", "--criterion", name]) == 0
    result = json.loads(capsys.readouterr().out)
    lam = np.load(spectrum_file)
    values = {k: gaussian.criterion(name, lam, grid) for k, grid in result["grids"].items()}
    assert result["criterion"] == name and set(values) == set(strategies.DEFAULTS)
    assert result["sigmas"] == result["grids"][result["strategy"]]
    assert values[result["strategy"]] == min(values.values())
    assert result["value"] == pytest.approx(values[result["strategy"]], rel=1e-12)
    assert result["alternatives"] == pytest.approx(values, rel=1e-12)
    own = strategies.grid("optimal", 4, eigenvalues=lam, criterion=name)  # the criterion's finite-n optimum
    assert values["kl_optimal"] <= gaussian.criterion(name, lam, own) * (1 + 1e-9)
    assert result["kl"] == pytest.approx(gaussian.kl_divergence(lam, result["sigmas"]), rel=1e-12)
    assert "Results of the default run" in result["caveat"]  # where the measured agreement with FID is


def test_unknown_criterion_is_refused_with_the_valid_ones(spectrum_file, monkeypatch, capsys):
    from diffsched.interface import cli
    from diffsched.studies import ranking

    monkeypatch.setattr(ranking, "strategy_grids", lambda *a, **k: pytest.fail("grids computed"))
    with pytest.raises(ValueError, match="unknown criterion 'fid'; valid criteria: kl, kl_reverse, kl_smoothed"):
        recommend.recommend(np.load(spectrum_file), 4, criterion="fid")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["recommend", "--eigenvalues", str(spectrum_file), "--nfe", "4", "--criterion", "fid"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "invalid choice: 'fid'" in err
    assert all(name in err for name in gaussian.CRITERIA)


@pytest.mark.parametrize("solver", list(solvers.STOCHASTIC_SOLVERS))
@pytest.mark.parametrize("name", list(gaussian.CRITERIA))
def test_stochastic_solvers_recommend_the_argmin(solver, name, spectrum_file, capsys):
    from diffsched.interface import cli

    argv = ["recommend", "--eigenvalues", str(spectrum_file), "--nfe", "4", "--criterion", name, "--solver", solver]
    assert cli.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    lam = np.load(spectrum_file)
    values = {k: gaussian.criterion(name, lam, grid, solver) for k, grid in result["grids"].items()}
    assert result["solver"] == solver and result["strategy"] == min(values, key=values.get)
    assert result["value"] == pytest.approx(min(values.values()), rel=1e-12)


LOSSLESS = published_spectra.path("cifar10_lossless")


@pytest.mark.skipif(not LOSSLESS.is_file(), reason=f"{LOSSLESS} is not on this machine")
def test_cifar10_recommends_from_the_published_lossless_spectrum(tmp_path, capsys):
    from diffsched.interface import cli

    code = cli.main(["recommend", "--dataset", "cifar10", "--nfe", "6", "--cache", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    published = np.load(LOSSLESS).astype(np.float64)  # ascending, as published
    assert result["spectrum"] == str(LOSSLESS) and "lossless" in result["source"] and result["dimension"] == 3072
    assert result["value"] == pytest.approx(gaussian.criterion("w2", published, result["sigmas"]), rel=1e-9)
    assert not (tmp_path / "data").exists(), "the published spectrum needs no prepared data set"


def test_cifar10_jpeg_spectrum_is_the_named_sensitivity_case(tmp_path, capsys):
    from diffsched.interface import cli

    code = cli.main(["recommend", "--dataset", "cifar10", "--nfe", "4", "--path", "x.tar.gz", "--cache",
                     str(tmp_path)])
    assert code == 2 and "add --estimate" in capsys.readouterr().err
    code = cli.main(["recommend", "--images", str(tmp_path), "--estimate", "--nfe", "4"])
    assert code == 2 and "--estimate applies to --dataset" in capsys.readouterr().err
    request = spectrum_sources.Request(dataset="cifar10", estimate=True, cache=str(tmp_path))
    assert spectrum_sources.check(request) == "dataset"  # estimated from the images at hand (the workflow's files)
    assert spectrum_sources.spectrum_path("cifar10", None, tmp_path) == tmp_path / "spectrum" / "cifar10.npz"


def test_request_names_exactly_one_source():
    with pytest.raises(ValueError, match="exactly one of"):
        spectrum_sources.check(spectrum_sources.Request(dataset="cifar10", images="x"))
    with pytest.raises(ValueError, match="exactly one of"):
        spectrum_sources.check(spectrum_sources.Request())


def test_published_eigenvalues_on_a_copys_basis_keep_its_directions_by_rank():
    from diffsched.data import spectrum

    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    copy = spectrum.Spectrum(mean=rng.normal(size=6), eigenvalues=np.array([5.0, 3.0, 1.0, 0.5, 1e-5, 1e-5]),
                             eigenvectors=q, floor=1e-5, n_floored=2, n_samples=100,
                             meta={"label": "copy", "quality": "JPEG q75 copy"})
    published = np.array([0.01, 0.2, 0.7, 2.0, 4.0, 9.0])  # ascending, as published
    model = spectrum_sources.on_basis(copy, published, "lossless on copy")
    cov = q @ np.diag(published[::-1]) @ q.T  # the largest published value on the copy's first direction
    np.testing.assert_allclose(model.eigenvectors @ np.diag(model.eigenvalues) @ model.eigenvectors.T, cov,
                               atol=1e-12)
    np.testing.assert_array_equal(model.mean, copy.mean)
    assert model.meta["label"] == "lossless on copy" and model.n_floored == 0
    assert model.meta["quality"] == "lossless eigenvalues on the eigenvectors of a JPEG q75 copy"
    with pytest.raises(ValueError, match="same dimension"):
        spectrum_sources.on_basis(copy, published[:5], "short")
