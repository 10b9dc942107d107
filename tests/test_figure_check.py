"""The figure check fails on figures drawn the old way (one colour cycle, default log ticks, tiny text, one tall
grid) and passes on the figures of diffsched.studies.plots; every strategy has its own visual identity."""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from diffsched.studies import figure_check, plots, styles  # noqa: E402
from diffsched.interface import workflow_config  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
ENTRIES = {**workflow_config.strategies_with_defaults(CONFIG), **CONFIG["sweep"]["search"],
           "dmn": {"schedule": "dmn"}}  # dmn: the smoke and paper configurations' second search baseline
NFE = [3, 4, 5, 6, 8, 10, 15, 20]


def problems(fig):
    found = figure_check.problems(figure_check.describe(fig, plots.DPI))
    plt.close(fig)
    return found


def old_fid_vs_nfe():
    """fid_vs_nfe as drawn before: every strategy an errorbar with marker 'o' on the 10-colour cycle."""
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    for k, name in enumerate(ENTRIES):
        ax.errorbar(np.array([4, 6, 10]) * (1 + 0.012 * (k - 5)), [80 - k, 60 - k, 40 - k], yerr=2, marker="o",
                    markersize=3, lw=0.9, capsize=2, label=name)
    ax.set(yscale="log", xlabel="NFE", ylabel="FID")
    ax.legend(fontsize=5)
    return fig


def old_kl_vs_nfe_panel():
    """A panel of the old 60-panel kl_vs_nfe grid: default log ticks on NFE 3 to 20 at 3.4 inches wide."""
    fig, axes = plt.subplots(1, 4, figsize=(13.6, 3.4))
    for ax in axes:
        ax.plot(NFE, 1.0 / np.array(NFE) ** 2, "o-", label="edm")
        ax.set(xscale="log", yscale="log")
    return fig


def test_two_series_drawn_alike_fail():
    found = problems(old_fid_vs_nfe())
    assert any("share colour" in p and "'edm'" in p for p in found), found  # edm and the 11th label: one blue


def test_old_fid_vs_nfe_legend_text_is_too_small():
    assert any("below 6 pt" in p and "5 pt" in p for p in problems(old_fid_vs_nfe()))


def test_colliding_log_tick_labels_fail():
    found = problems(old_kl_vs_nfe_panel())
    assert any("overlap" in p and r"3\\times10^{0}" in p and r"4\\times10^{0}" in p for p in found), found


def test_over_tall_figure_fails():
    fig = plt.figure(figsize=(13.6, 51.6))  # the old kl_vs_nfe: 2040 x 7740 px at 150 dpi
    assert any("7740 px tall" in p for p in problems(fig))


def test_a_plain_figure_passes():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3], [1, 4, 9], "o-", label="a")
    ax.plot([1, 2, 3], [1, 2, 3], "s--", label="b")
    ax.legend()
    assert problems(fig) == []


def test_check_png_reads_the_file_height_and_needs_a_description(tmp_path):
    plain = tmp_path / "plain.png"
    plt.figure(figsize=(2, 2)).savefig(plain)
    assert "no figure description" in figure_check.check_png(plain)[0]
    tall = tmp_path / "tall.png"
    Image.new("RGB", (10, 3000)).save(tall, pnginfo=_info({"width_px": 10, "height_px": 10, "dpi": 150, "texts": [],
                                                           "axes": []}))
    assert any("3000 px tall" in p for p in figure_check.check_png(tall))


def _info(description):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(figure_check.KEY, json.dumps(description))
    return info


def test_every_configured_strategy_has_its_own_style():
    drawn = styles.strategy_styles(ENTRIES)
    keys = [(s.color, s.marker, s.linestyle) for s in drawn.values()]
    assert len(set(keys)) == len(keys) == len(ENTRIES)
    assert drawn["kl_optimal"] is styles.PAPER_PICK
    assert [n for n, s in drawn.items() if s.linewidth == max(t.linewidth for t in drawn.values())] == ["kl_optimal"]
    assert {n: s.family for n, s in drawn.items() if n in ("edm", "variational", "w2_optimal", "gits")} == {
        "edm": "hand-made grid", "variational": "spectral closed form", "w2_optimal": "criterion pick",
        "gits": "search baseline"}


def test_a_new_entry_gets_a_style_and_keeps_the_others():
    new = {**ENTRIES, "edm_rho3": {"schedule": "edm", "params": {"rho": 3}}}
    before, after = styles.strategy_styles(ENTRIES), styles.strategy_styles(new)
    assert after["edm_rho3"].family == "hand-made grid" and after["edm_rho3"] not in before.values()
    assert {k: after[k] for k in before} == before


def test_unknown_strategy_falls_back_to_other():
    assert styles.family({"schedule": "someone_elses"}) == "other" and styles.family(None) == "other"


@pytest.fixture
def intervals():
    rng = np.random.default_rng(0)
    rows = []
    for dataset, denoiser in [("cifar10", "gaussian"), ("cifar10", "empirical"), ("celeba32", "gaussian"),
                              ("celeba32", "empirical"), ("cifar10_16", "gaussian")]:
        for k, name in enumerate(ENTRIES):
            for nfe in (4, 6, 10):
                value = 40 + 200 / nfe + k + rng.normal()
                rows.append({"dataset": dataset, "denoiser": denoiser, "solver": "euler", "nfe_budget": nfe,
                             "strategy": name, "metric": "fid", "value": value, "value_lo": value - 3,
                             "value_hi": value + 3})
    return pd.DataFrame(rows)


def test_new_fid_vs_nfe_passes(tmp_path, intervals):
    plots.fid_vs_nfe(intervals, styles.strategy_styles(ENTRIES), tmp_path / "fid.pdf", "FID against NFE. seed: 0")
    assert figure_check.check_png(tmp_path / "fid.png") == []


def test_new_criterion_vs_fid_passes(tmp_path, intervals):
    intervals = intervals[intervals["dataset"] == "cifar10"]  # two panels a row: enough to crowd the labels
    crit = intervals[["dataset", "denoiser", "solver", "nfe_budget", "strategy"]].copy()
    crit["crit_kl"] = 2000.0 / crit["nfe_budget"] ** 2 * (1 + crit.index % 7 / 10)
    crit["crit_w2"] = 50000.0 / crit["nfe_budget"] * (1 + crit.index % 5 / 10)
    plots.criterion_vs_fid(crit, intervals, ["kl", "w2"], styles.strategy_styles(ENTRIES), tmp_path / "c.pdf",
                           "Criteria against FID. seed: 0")
    assert figure_check.check_png(tmp_path / "c.png") == []


def test_new_kl_vs_nfe_figures_pass(tmp_path):
    rows = [{"criterion": c, "solver": s, "nfe": n, "strategy": name, "value": (k + 1) * 0.3 * n ** -2.0 * (i + 1)}
            for i, c in enumerate(["kl", "kl_reverse", "kl_smoothed", "kl_sigma_min", "w2"])
            for s in ["euler", "heun"] for n in NFE for k, name in enumerate(ENTRIES)]
    table = pd.DataFrame(rows)
    drawn = styles.strategy_styles(ENTRIES)
    plots.criteria_vs_nfe(table, drawn, tmp_path / "one.pdf", "Every criterion against NFE. seed: none")
    plots.paper_criterion_vs_nfe({"cifar10": table, "celeba32": table}, drawn,
                                 tmp_path / "summary.pdf", "KL against NFE. seed: none")
    assert figure_check.check_png(tmp_path / "one.png") == []
    assert figure_check.check_png(tmp_path / "summary.png") == []


def test_caption_lead_and_provenance_are_stored(tmp_path):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2], [1, 2], label="a")
    caption = "What the reader sees. source: CIFAR-10; seed: 0; diffsched 0.1."
    plots.save(fig, tmp_path / "f.pdf", caption)
    with Image.open(tmp_path / "f.png") as image:
        assert image.text["Description"] == caption


def test_the_optimum_under_its_new_schedule_name_is_still_the_paper_pick():
    renamed = {"kl_optimal": {"schedule": "optimal"},
               "w2_optimal": {"schedule": "optimal", "params": {"criterion": "w2"}}}
    drawn = styles.strategy_styles(renamed)
    assert drawn["kl_optimal"] is styles.PAPER_PICK and drawn["w2_optimal"].family == "criterion pick"


def test_a_strategy_without_an_entry_is_drawn_unlike_the_others():
    drawn = styles.with_unknown(styles.strategy_styles(ENTRIES), ["edm", "mystery", "another"])
    keys = [(s.color, s.marker, s.linestyle) for s in drawn.values()]
    assert drawn["mystery"].family == "other" and len(set(keys)) == len(keys) == len(ENTRIES) + 2


MODELS = [f"{net}-{variant}" for net in ("unet", "dit", "mlp", "vit") for variant in ("cond", "blind", "matched")][:11]
SIGMAS = [0.01, 0.1, 1.0, 10.0]


def study_tables():
    """Synthetic tables of the ablation, probe and blind figures with more series than a 10-colour cycle."""
    loss = pd.DataFrame([{"dataset": "fashion_mnist", "model": m, "step": s, "loss": (k + 1) / s}
                         for k, m in enumerate(MODELS) for s in (10, 100, 1000)])
    gap = pd.DataFrame([{"dataset": "fashion_mnist", "source": "Fashion-MNIST", "model": m, "oracle": "empirical",
                         "matching": True, "sigma": s, "gap": (k + 1) * s, "gap_se": 0.1 * s, "oracle_mse": s}
                        for k, m in enumerate(reversed(MODELS)) for s in SIGMAS])  # another order than the loss
    probe = pd.DataFrame([{"dataset": "fashion_mnist", "source": "Fashion-MNIST", "estimator": e, "sigma": s,
                           "rms_log_error": (k + 1) * 0.01, "dimension": 784, "high_dim_prediction": 0.025}
                          for k, e in enumerate(MODELS) for s in SIGMAS])
    blind = pd.DataFrame([{"dataset": "fashion_mnist", "source": "Fashion-MNIST, 28x28", "oracle": "gaussian",
                           "measure": "w2", "sampler": m, "dimension": d, "difference": (k + 1) * 1e-3 / d,
                           "difference_lo": 0.5 * (k + 1) * 1e-3 / d, "difference_hi": 2 * (k + 1) * 1e-3 / d}
                          for k, m in enumerate(MODELS) for d in (16, 64, 256)])
    return loss, gap, probe, blind


def test_study_figures_draw_every_series_apart(tmp_path):
    loss, gap, probe, blind = study_tables()
    plots.training_loss(loss, tmp_path / "loss.pdf", "Training loss. seed: 0")
    plots.ideal_gap(gap, tmp_path / "gap.pdf", "Gap to the ideal denoiser. seed: 0")
    plots.noise_level(probe, tmp_path / "probe.pdf", "Noise level from the noisy input. seed: 0")
    plots.blind_gap_vs_d(blind, tmp_path / "blind.pdf", "Blind against conditioned. seed: 0")
    for name in ("loss", "gap", "probe", "blind"):
        assert figure_check.check_png(tmp_path / f"{name}.png") == [], name


def test_a_model_is_drawn_alike_in_every_study_figure(monkeypatch):
    loss, gap, _, _ = study_tables()
    drawn = []
    monkeypatch.setattr(plots, "save", lambda fig, out, caption: drawn.append(fig))
    plots.training_loss(loss, "unused.pdf", "unused")
    plots.ideal_gap(gap, "unused.pdf", "unused")
    seen = []
    for fig in drawn:
        legend = fig.axes[0].get_legend()
        seen.append({text.get_text().split(" vs ")[0]: handle.get_color()
                     for handle, text in zip(legend.legend_handles, legend.get_texts())
                     if text.get_text().split(" vs ")[0] in MODELS})
        plt.close(fig)
    assert seen[0] == seen[1] and len(seen[0]) == len(MODELS) and len(set(seen[0].values())) > 1


def test_spectra_with_a_long_source_label_passes(tmp_path):
    long = ("CIFAR-10 train (50,000 lossless images, pixels in [-1, 1]), eigenvalues published with Pierret & "
            "Galerne 2025, on the eigenvectors and mean of CIFAR-10 (JPEG q75 copy), 32x32")
    curves = {name: (np.geomspace(100.0, 1e-5, 3072), 0.2) for name in ("CIFAR-10 (JPEG q75 copy), 32x32", long)}
    plots.spectra(curves, 5e-6, tmp_path / "spectra.pdf", "Covariance spectra. seed: none")
    assert figure_check.check_png(tmp_path / "spectra.png") == []
