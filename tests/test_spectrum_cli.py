"""python -m diffsched spectrum on folders of PNGs and on arrays; bad input refused with nothing written."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from diffsched.interface import cli
from diffsched.data import spectrum
from diffsched.infra import store

FLOOR = spectrum.QUANTISATION_FLOOR


def gaussian_images(rng, n, h, w):
    """uint8 RGB images from a Gaussian model with a random mean image and a random decaying covariance."""
    d = h * w * 3
    mixing = rng.standard_normal((d, d)) * np.geomspace(30.0, 1.0, d) / np.sqrt(d)
    x = rng.uniform(90, 165, d) + rng.standard_normal((n, d)) @ mixing.T
    return np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(n, h, w, 3)


def write_pngs(folder, images, prefix="img"):
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{prefix}{i:04d}.png")


def run(capsys, *args):
    code = cli.main(["spectrum", *map(str, args)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def expected(images, factor=1.0):
    """Floored descending eigenvalues of np.cov, and the count floored, computed here independently."""
    x = images.reshape(len(images), -1).astype(np.float64)
    x = x / 127.5 - 1 if images.dtype == np.uint8 else x * factor
    values = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False)))[::-1]
    return np.maximum(values, FLOOR), int((values < FLOOR).sum()), x.mean(axis=0)


def test_folder_of_pngs_full_covariance(tmp_path, capsys):
    images = gaussian_images(np.random.default_rng(0), 300, 8, 8)
    write_pngs(tmp_path / "pngs", images)
    out = tmp_path / "new" / "folder" / "spec.npz"
    code, summary, err = run(capsys, "--images", tmp_path / "pngs", "--out", out)
    assert code == 0, err
    arrays, meta = store.load(out)
    values, n_floored, mean = expected(images)
    np.testing.assert_allclose(arrays["eigenvalues"], values, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(arrays["mean"], mean, atol=1e-12)
    assert arrays["eigenvalues"].dtype == np.float64
    assert meta["method"] == summary["method"] == "full"
    assert (meta["n_samples"], meta["height"], meta["width"], meta["channels"]) == (300, 8, 8, 3)
    assert meta["n_floored"] == n_floored and meta["floor"] == FLOOR
    assert meta["source"] == str(tmp_path / "pngs") and meta["diffsched_version"]
    loaded = spectrum.load(out, vectors=False)  # the project's reader takes the file
    np.testing.assert_array_equal(loaded.eigenvalues, arrays["eigenvalues"])
    assert sorted(os.listdir(out.parent)) == ["spec.npz"]


def test_stationary_method_keeps_the_total_variance(tmp_path, capsys):
    images = gaussian_images(np.random.default_rng(1), 200, 6, 10)
    write_pngs(tmp_path / "pngs", images)
    code, summary, err = run(capsys, "--images", tmp_path / "pngs", "--out", tmp_path / "s.npz",
                             "--method", "stationary")
    assert code == 0, err
    arrays, meta = store.load(tmp_path / "s.npz")
    total_variance = (images.reshape(200, -1) / 127.5 - 1).var(axis=0, ddof=1).sum()
    assert meta["method"] == "stationary" and arrays["eigenvalues"].size == 6 * 10 * 3
    assert np.all(np.diff(arrays["eigenvalues"]) <= 0) and meta["n_floored"] == 0
    assert arrays["eigenvalues"].sum() == pytest.approx(total_variance, rel=1e-10)


def test_auto_picks_stationary_above_the_full_limit(tmp_path, capsys):
    images = np.random.default_rng(2).integers(0, 256, (3, 64, 65, 3), dtype=np.uint8)  # d = 12,480
    np.save(tmp_path / "a.npy", images)
    code, summary, err = run(capsys, "--array", tmp_path / "a.npy", "--out", tmp_path / "s.npz")
    assert code == 0, err
    assert summary["method"] == "stationary" and summary["dimension"] == 64 * 65 * 3


def test_resize_and_crop_make_mixed_sizes_one(tmp_path, capsys):
    rng = np.random.default_rng(3)
    write_pngs(tmp_path / "pngs", rng.integers(0, 256, (5, 12, 20, 3), dtype=np.uint8), "wide")
    write_pngs(tmp_path / "pngs" / "sub", rng.integers(0, 256, (5, 9, 9, 3), dtype=np.uint8), "square")
    code, _, err = run(capsys, "--images", tmp_path / "pngs", "--out", tmp_path / "s.npz")
    assert code == 2 and "differ in size" in err and "wide0000.png is 20x12" in err and "--resize" in err
    assert not (tmp_path / "s.npz").exists()
    code, summary, err = run(capsys, "--images", tmp_path / "pngs", "--out", tmp_path / "s.npz", "--resize", "6",
                             "--crop")
    assert code == 0, err
    assert (summary["n_samples"], summary["height"], summary["width"], summary["crop"]) == (10, 6, 6, True)


def test_float_latents_with_a_scaling_factor(tmp_path, capsys):
    latents = np.random.default_rng(4).standard_normal((400, 4, 4, 4)).astype(np.float32) * np.arange(1, 5)
    np.savez(tmp_path / "lat.npz", latents=latents)
    code, summary, err = run(capsys, "--array", tmp_path / "lat.npz", "--out", tmp_path / "s.npz",
                             "--scale", "0.18215")
    assert code == 0, err
    arrays, meta = store.load(tmp_path / "s.npz")
    values, n_floored, mean = expected(latents, 0.18215)
    np.testing.assert_allclose(arrays["eigenvalues"], values, rtol=1e-9)
    np.testing.assert_allclose(arrays["mean"], mean, atol=1e-12)
    assert meta["channels"] == 4 and meta["n_floored"] == n_floored and "0.18215" in meta["scaling"]


def bad_array(tmp_path, x):
    np.save(tmp_path / "bad.npy", x)
    return ["--array", tmp_path / "bad.npy"]


def with_nan(rng):
    x = rng.standard_normal((6, 2, 2, 1))
    x[3, 1, 0, 0] = np.nan
    return x


def with_inf(rng):
    x = rng.standard_normal((6, 2, 2, 1))
    x[4, 0, 0, 0] = -np.inf
    return x


def empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    return ["--images", tmp_path / "empty"]


def folder_with_text_file(tmp_path):
    write_pngs(tmp_path / "pngs", np.zeros((3, 4, 4, 3), dtype=np.uint8))
    (tmp_path / "pngs" / "notes.txt").write_text("not an image")
    return ["--images", tmp_path / "pngs"]


def one_image(tmp_path):
    write_pngs(tmp_path / "pngs", np.zeros((1, 4, 4, 3), dtype=np.uint8))
    return ["--images", tmp_path / "pngs"]


@pytest.mark.parametrize("make,message", [
    (empty_folder, "holds no image files"),
    (folder_with_text_file, "notes.txt is not an image"),
    (one_image, "at least 2 samples, got 1"),
    (lambda p: ["--images", p / "missing"], "does not exist or is not a folder"),
    (lambda p: bad_array(p, np.zeros((5, 4, 4), dtype=np.uint8)), "shape (5, 4, 4); expected N x H x W x C"),
    (lambda p: bad_array(p, with_nan(np.random.default_rng(0))), "sample 3 holds NaN or infinite"),
    (lambda p: bad_array(p, with_inf(np.random.default_rng(0))), "sample 4 holds NaN or infinite"),
    (lambda p: bad_array(p, np.zeros((5, 2, 2, 1), dtype=np.int32)), "dtype int32"),
    (lambda p: bad_array(p, np.zeros((5, 2, 2, 1), dtype=np.uint8)) + ["--scale", "2"], "--scale is for float"),
    (lambda p: ["--array", p / "none.npy"], "does not exist"),
    (lambda p: one_image(p) + ["--crop"], "give --resize N"),
    (lambda p: one_image(p) + ["--scale", "2"], "--scale applies to --array"),
])
def test_bad_input_is_refused_and_nothing_written(tmp_path, capsys, make, message):
    args = make(tmp_path)
    out = tmp_path / "out" / "spec.npz"
    code, _, err = run(capsys, *args, "--out", out)
    assert code == 2 and message in err, err
    assert not out.parent.exists()  # no output, no temporary file, no folder


def test_unwritable_output_is_refused_before_reading(tmp_path, capsys):
    (tmp_path / "file").write_text("a file, not a folder")
    code, _, err = run(capsys, "--images", tmp_path / "missing", "--out", tmp_path / "file" / "spec.npz")
    assert code == 2 and "cannot write the output" in err and "file/spec.npz" in err
    code, _, err = run(capsys, "--images", tmp_path, "--out", tmp_path / "spec.txt")
    assert code == 2 and "must end in .npz" in err


def test_read_only_output_folder_is_refused(tmp_path, capsys):
    """/proc takes no new file even from root (CI runs as root, which writes through permission bits)."""
    code, _, err = run(capsys, "--images", tmp_path, "--out", "/proc/spec.npz")
    assert code == 2 and "cannot write the output '/proc/spec.npz'" in err


def test_recommend_from_a_spectrum_file_and_straight_from_images(tmp_path, capsys):
    from diffsched.interface import recommend

    images = gaussian_images(np.random.default_rng(5), 120, 4, 4)
    write_pngs(tmp_path / "pngs", images)
    assert run(capsys, "--images", tmp_path / "pngs", "--out", tmp_path / "s.npz")[0] == 0
    results = []
    for source in (["--spectrum", tmp_path / "s.npz"], ["--images", tmp_path / "pngs"]):
        code = cli.main(["recommend", *map(str, source), "--nfe", "4", "--solver", "heun"])
        out, err = capsys.readouterr()
        assert code == 0, err
        results.append(json.loads(out))
    values, _, _ = expected(images)
    direct = recommend.recommend(values, 4, "heun")
    for result in results:
        assert result["dimension"] == 48 and result["strategy"] == direct["strategy"]
        np.testing.assert_allclose(result["sigmas"], direct["sigmas"], rtol=1e-6)
        assert result["kl"] == pytest.approx(direct["kl"], rel=1e-6)
    assert results[0]["source"] == str(tmp_path / "s.npz") and results[1]["source"] == str(tmp_path / "pngs")
