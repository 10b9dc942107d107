"""One function per figure: each reads tidy result tables and writes a pdf and a png with a caption.

Strategies, solvers and data sets are drawn as :mod:`diffsched.studies.styles` says, the same in every figure.
Under the panels, the caption's first sentence says what the figure shows; the rest, its provenance (data source,
counts, solver, seed, code version), follows in small type and is stored in the files' metadata. The PNG also
carries the measurements :mod:`diffsched.studies.figure_check` reads.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from adjustText import adjust_text  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402

from diffsched.infra.atomic import atomic_path  # noqa: E402
from diffsched.studies import figure_check, styles  # noqa: E402

sns.set_theme(style="whitegrid", context="paper")
DPI = 150
LEGEND_CHARS = 48  # a legend label wraps beyond this many characters
LEAD_PT, FACTS_PT, LABEL_PT = 8.5, 6.5, 6.5
LINE_SPACING = 1.35


def _wrap(text: str, fig, points: float) -> list[str]:
    """Lines of ``text`` that fit the figure's width at ``points`` (about half an em per character)."""
    return textwrap.wrap(text, width=max(40, int(fig.get_figwidth() * 72 / (0.5 * points))))


def save(fig, pdf_path, caption: str) -> None:
    """Write ``pdf_path`` and the png beside it, each atomically: the caption's first sentence (up to '. ') under
    the panels, its provenance below in small type, the whole caption in the metadata."""
    pdf_path = Path(pdf_path)
    what, _, facts = caption.partition(". ")
    lead, small = _wrap(what.rstrip(".") + ".", fig, LEAD_PT), _wrap(facts, fig, FACTS_PT)
    facts_in = len(small) * FACTS_PT * LINE_SPACING / 72
    caption_in = facts_in + len(lead) * LEAD_PT * LINE_SPACING / 72 + 0.15
    fig.set_figheight(fig.get_figheight() + caption_in)
    height = fig.get_figheight()
    fig.text(0.01, 0.04 / height, "\n".join(small), ha="left", va="bottom", fontsize=FACTS_PT, color="0.3")
    fig.text(0.01, (facts_in + 0.08) / height, "\n".join(lead), ha="left", va="bottom", fontsize=LEAD_PT)
    fig.tight_layout(rect=(0, caption_in / height, 1, 1))
    description = json.dumps(figure_check.describe(fig, DPI))
    with atomic_path(pdf_path) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", pad_inches=0.05,
                    metadata={"Title": pdf_path.stem, "Subject": caption, "Creator": "diffsched"})
    with atomic_path(pdf_path.with_suffix(".png")) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.05,
                    metadata={"Description": caption, figure_check.KEY: description})
    plt.close(fig)


def _panels(count: int, width: float = 4.2, height: float = 3.4, rows: int = 1, sharey=False, sharex=False):
    cols = int(np.ceil(count / rows))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, sharey=sharey,
                             sharex=sharex)
    for ax in axes.ravel()[count:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def _number(x: float, _=None) -> str:
    """A tick label that stays short: plain digits from 0.001 to 99999, else a power of ten or 1e+05 style."""
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:g}"
    power = math.log10(abs(x))
    return f"$10^{{{round(power)}}}$" if abs(power - round(power)) < 1e-9 else f"{x:.0e}"


def log_axis(axis, values=None) -> None:
    """Log scale with tick labels that fit: the data's own ``values`` when given (thinned to at most 7, kept apart
    on the log scale), else 1-2-5 ticks in a narrow range, decades in a wide one and three plain ticks within half a
    decade; minor ticks unlabelled."""
    axis.axes.set(**{f"{axis.axis_name}scale": "log"})
    if values is not None:
        values = np.array(sorted({float(v) for v in values if v > 0}))
        gap = np.log10(values[-1] / values[0]) / 7 if len(values) > 1 else 0.0
        kept = [values[0]]
        for v in values[1:]:
            if np.log10(v / kept[-1]) >= gap:
                kept.append(v)
        axis.set_major_locator(FixedLocator(kept))
    else:
        low, high = sorted(axis.get_view_interval())
        decades = np.log10(high / low) if low > 0 else 10.0
        subs = (1.0, 2.0, 5.0) if decades < 1.3 else (1.0, 3.0) if decades < 2.5 else (1.0,)
        # under about half a decade LogLocator falls back to a dense linear locator: three linear ticks instead
        axis.set_major_locator(MaxNLocator(3) if decades < 0.6 else LogLocator(subs=subs, numticks=8))
    axis.set_major_formatter(FuncFormatter(_number))
    axis.set_minor_formatter(NullFormatter())


def _log_log(ax) -> None:
    """Both axes of ``ax`` on log scales with tick labels that fit (:func:`log_axis`)."""
    log_axis(ax.xaxis)
    log_axis(ax.yaxis)


def _legend_right(fig, axes, order=None, title=None) -> None:
    """One legend for the figure, right of the panels (outside the data), entries in ``order`` where given; the
    panels' own legends removed."""
    entries = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
        if ax.get_legend():
            ax.get_legend().remove()
    labels = [k for k in (order or []) if k in entries] + [k for k in entries if k not in (order or [])]
    fig.legend([entries[k] for k in labels], labels, loc="upper left", bbox_to_anchor=(1.0, 0.98),
               fontsize=7, title=title, title_fontsize=7.5, frameon=False)


def _strategy_line(ax, x, y, name: str, style: styles.Style, **kwargs) -> None:
    """One strategy's series in its style."""
    ax.plot(x, y, label=name, **{**style.kwargs, **kwargs})


def kl_vs_steps(tables: dict[str, pd.DataFrame], strategy_styles: dict, out, caption: str) -> None:
    """KL vs steps, log-log: a row per spectrum, sampler grids (to 0) and schedule grids (to sigma_min)."""
    strategy_styles = styles.with_unknown(strategy_styles, pd.concat(tables.values())["strategy"])
    fig, axes = _panels(2 * len(tables), width=4.0, height=3.0, rows=len(tables))
    for row, (spectrum, table) in enumerate(tables.items()):
        for col, (terminal, title) in enumerate([("zero", "final step to 0; KL to the source"),
                                                 ("sigma_min", "ends at sigma_min; KL to that marginal")]):
            ax = axes[2 * row + col]
            part = table[table["terminal"] == terminal]
            for name in [s for s in strategy_styles if s in set(part["strategy"])]:
                rows = part[part["strategy"] == name].sort_values("steps")
                _strategy_line(ax, rows["steps"], rows["kl_forward"], name, strategy_styles[name], markersize=3)
            n = np.array(sorted(part["steps"].unique()), dtype=float)
            anchor = part[part["steps"] == n[-1]]["kl_forward"].median()
            ax.plot(n, anchor * (n / n[-1]) ** -2.0, color="k", ls=(0, (4, 2, 1, 2)), lw=0.8, label="slope -2")
            log_axis(ax.xaxis)
            log_axis(ax.yaxis)
            ax.set(xlabel="steps n (Euler NFE)", ylabel="KL(source || output) [nats]", title=f"{spectrum}\n{title}")
    _legend_right(fig, axes, order=list(strategy_styles), title="strategy")
    save(fig, out, caption)


def em_ratio(tables: dict[str, pd.DataFrame], strategy_styles: dict, out, caption: str) -> None:
    """N^2 KL / (sum J^2 / 4) against N: tends to 1 for every schedule."""
    strategy_styles = styles.with_unknown(strategy_styles, pd.concat(tables.values())["strategy"])
    fig, axes = _panels(len(tables), width=4.0, height=3.0)
    for ax, (spectrum, table) in zip(axes, tables.items()):
        for name in [s for s in strategy_styles if s in set(table["strategy"])]:
            rows = table[table["strategy"] == name].sort_values("intervals")
            _strategy_line(ax, rows["intervals"], rows["ratio"], name, strategy_styles[name], markersize=3)
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        log_axis(ax.xaxis)
        ax.set(xlabel="intervals N", ylabel="N^2 KL / (sum_i J_i^2 / 4)", title=spectrum)
    _legend_right(fig, axes, order=list(strategy_styles), title="strategy")
    save(fig, out, caption)


def gamma(sweeps: dict[str, pd.DataFrame], stars: dict[str, pd.DataFrame], out, caption: str) -> None:
    """KL vs gamma at several n with gamma* marked; gamma* vs n."""
    fig, axes = _panels(2 * len(sweeps), rows=len(sweeps))
    for row, spectrum in enumerate(sweeps):
        ax, ax_star = axes[2 * row], axes[2 * row + 1]
        sweep, star = sweeps[spectrum], stars[spectrum]
        palette = dict(zip(sorted(sweep["steps"].unique()), sns.color_palette(n_colors=sweep["steps"].nunique())))
        sns.lineplot(sweep, x="gamma", y="kl_forward", hue="steps", palette=palette, ax=ax)
        for n, color in palette.items():
            hit = star[star["steps"] == n]
            if len(hit):
                ax.plot(hit["gamma_star"], hit["kl_forward"], "*", color=color, ms=10)
        ax.set(xlabel="tangent coefficient gamma", ylabel="KL [nats]", title=f"{spectrum}\nKL vs gamma (star: gamma*)")
        _log_log(ax)
        ax_star.plot(star["steps"], star["gamma_star"], "o-", ms=3)
        ax_star.set(xlabel="steps n", ylabel="gamma*", title=f"{spectrum}\ngamma* vs n")
        log_axis(ax_star.xaxis, star["steps"])
        log_axis(ax_star.yaxis)
    save(fig, out, caption)


def _grid_panel(ax, table: pd.DataFrame, strategy_styles: dict, title: str) -> None:
    """Sigma against step index (log scale), a line per strategy (columns strategy, index, sigma)."""
    positive = table[table["sigma"] > 0]
    for name in [s for s in strategy_styles if s in set(positive["strategy"])]:
        rows = positive[positive["strategy"] == name].sort_values("index")
        _strategy_line(ax, rows["index"], rows["sigma"], name, strategy_styles[name])
    log_axis(ax.yaxis)
    ax.set(xlabel="step index k (then a final step to sigma = 0)", ylabel="sigma_k", title=title)


def grids(tables: dict[str, pd.DataFrame], strategy_styles: dict, out, caption: str) -> None:
    """Sigma against step index (log scale) for every strategy at one n, a panel per spectrum."""
    strategy_styles = styles.with_unknown(strategy_styles, pd.concat(tables.values())["strategy"])
    fig, axes = _panels(len(tables), width=4.4, height=3.4)
    for ax, (spectrum, table) in zip(axes, tables.items()):
        _grid_panel(ax, table, strategy_styles, spectrum)
    _legend_right(fig, axes, order=list(strategy_styles), title="strategy")
    save(fig, out, caption)


def published_comparison(spectra: dict[str, np.ndarray], grids_by_spectrum: dict[str, pd.DataFrame],
                         strategy_styles: dict, out, caption: str) -> None:
    """Two spectra of one data set by rank (log-log), then each criterion's finite-N optimum grid under each
    spectrum (a panel per spectrum, columns strategy, index, sigma), one legend beside them."""
    strategy_styles = styles.with_unknown(strategy_styles, pd.concat(grids_by_spectrum.values())["strategy"])
    fig, axes = _panels(1 + len(grids_by_spectrum), width=4.2, height=3.6)
    drawn = styles.series_styles(list(spectra))
    for name, values in spectra.items():
        rank = np.arange(1, len(values) + 1)
        axes[0].plot(rank, np.sort(values)[::-1], label=name, markevery=0.1, **drawn[name].kwargs)
    _log_log(axes[0])
    axes[0].set(xlabel="rank", ylabel="eigenvalue", title="spectra")
    axes[0].legend(fontsize=7)
    for ax, (name, table) in zip(axes[1:], grids_by_spectrum.items()):
        _grid_panel(ax, table, strategy_styles, f"optimum grids, {name}")
    _legend_right(fig, axes[1:], order=list(strategy_styles), title="criterion's optimum")
    save(fig, out, caption)


def rho_sweep(tables: dict[str, pd.DataFrame], out, caption: str) -> None:
    """KL of power-uniform VP-time grids against rho at several n."""
    fig, axes = _panels(len(tables))
    for ax, (spectrum, table) in zip(axes, tables.items()):
        sns.lineplot(table, x="rho", y="kl_forward", hue="steps", marker="o", markersize=3, ax=ax,
                     palette="viridis")
        for _, part in table.groupby("steps"):
            best = part.loc[part["kl_forward"].idxmin()]
            ax.plot(best["rho"], best["kl_forward"], "k*", ms=8)
        ax.set(xlabel="rho (1 uniform, 2 quadratic)", ylabel="KL [nats]", title=spectrum)
        log_axis(ax.yaxis)
    save(fig, out, caption)


def _criterion_panel(ax, table: pd.DataFrame, strategy_styles: dict, ylabel: str, title: str) -> None:
    """One criterion against NFE (log-log), a line per strategy in its style (columns strategy, nfe, value)."""
    strategy_styles = styles.with_unknown(strategy_styles, table["strategy"])
    for name in [s for s in strategy_styles if s in set(table["strategy"])]:
        rows = table[table["strategy"] == name].sort_values("nfe")
        _strategy_line(ax, rows["nfe"], rows["value"], name, strategy_styles[name])
    log_axis(ax.xaxis, table["nfe"])
    log_axis(ax.yaxis)
    ax.set(xlabel="NFE", ylabel=ylabel, title=title)


def criteria_vs_nfe(table: pd.DataFrame, strategy_styles: dict, out, caption: str) -> None:
    """Every exact criterion (rows) against NFE for one data set or spectrum, a column per solver, a line per
    strategy (its grid is the same under every criterion: :func:`diffsched.studies.ranking.kl_table`)."""
    solver_names, criteria = list(dict.fromkeys(table["solver"])), list(dict.fromkeys(table["criterion"]))
    fig, axes = plt.subplots(len(criteria), len(solver_names), figsize=(3.0 * len(solver_names), 2.3 * len(criteria)),
                             squeeze=False, sharex=True)
    for row, criterion in zip(axes, criteria):
        for ax, solver in zip(row, solver_names):
            part = table[(table["criterion"] == criterion) & (table["solver"] == solver)]
            _criterion_panel(ax, part, strategy_styles, criterion, f"{criterion}, {solver}")
    _legend_right(fig, axes.ravel(), order=list(strategy_styles), title="strategy")
    save(fig, out, caption)


def paper_criterion_vs_nfe(tables: dict[str, pd.DataFrame], strategy_styles: dict, out, caption: str,
                           criterion: str = styles.PAPER_CRITERION) -> None:
    """The paper's criterion (KL(source || output)) against NFE, a row per data set or spectrum and a column per
    solver, a line per strategy: the summary of :func:`criteria_vs_nfe`'s per-data-set figures."""
    first = next(iter(tables.values()))
    solver_names = list(dict.fromkeys(first["solver"]))
    fig, axes = plt.subplots(len(tables), len(solver_names), figsize=(3.0 * len(solver_names), 2.4 * len(tables)),
                             squeeze=False, sharex=True)
    for row, (name, table) in zip(axes, tables.items()):
        for ax, solver in zip(row, solver_names):
            part = table[(table["criterion"] == criterion) & (table["solver"] == solver)]
            _criterion_panel(ax, part, strategy_styles, f"{criterion} [nats]", f"{name}\n{solver}")
    _legend_right(fig, axes.ravel(), order=list(strategy_styles), title="strategy")
    save(fig, out, caption)


def spectra(curves: dict[str, tuple[np.ndarray, float]], floor: float, out, caption: str) -> None:
    """Eigenvalue spectra (log-log) with gamma*^2, the eigenvalue for which gamma* alone is optimal, dashed."""
    fig, axes = _panels(1, width=6.0, height=4.2)
    ax = axes[0]
    for label, (eigenvalues, gamma) in curves.items():
        (line,) = ax.loglog(np.arange(1, eigenvalues.size + 1), eigenvalues,
                            label=textwrap.fill(f"{label}: gamma* = {gamma:.3g}", LEGEND_CHARS))
        ax.axhline(gamma**2, color=line.get_color(), ls="--", lw=0.8)
    ax.axhline(floor, color="0.5", ls=":", lw=0.8, label="floor (2/255)^2/12, 8-bit quantisation")
    ax.set(xlabel="eigenvalue index", ylabel="eigenvalue (pixels in [-1, 1])")
    _log_log(ax)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)  # beside the data
    save(fig, out, caption)


def rank_correlation(table: pd.DataFrame, out, caption: str) -> None:
    """Spearman and Kendall rank correlation of KL and FID per data set, oracle, solver and NFE."""
    long = table.melt(id_vars=["dataset", "denoiser", "solver", "nfe_budget"], value_vars=["spearman", "kendall"],
                      var_name="statistic", value_name="correlation")
    long["cell"] = long["dataset"] + " / " + long["denoiser"] + " / " + long["solver"]
    fig, axes = _panels(2, width=4.4)
    for ax, stat in zip(axes, ["spearman", "kendall"]):
        sns.barplot(long[long["statistic"] == stat], x="nfe_budget", y="correlation", hue="cell", ax=ax,
                    palette=sns.color_palette("tab20", long["cell"].nunique()))
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set(ylim=(-1, 1), xlabel="NFE", ylabel=f"{stat} (KL vs FID)", title=stat)
        ax.legend(fontsize=6)
    save(fig, out, caption)


def fid_vs_nfe(intervals: pd.DataFrame, strategy_styles: dict, out, caption: str) -> None:
    """FID against NFE per strategy with its bootstrap interval (``value``, ``value_lo``, ``value_hi`` of the
    sweep's bootstrap scores), one panel per data set, denoiser and solver, one legend beside them."""
    fid = intervals[intervals["metric"] == "fid"]
    cells = list(dict.fromkeys(zip(fid["dataset"], fid["denoiser"], fid["solver"])))
    strategy_styles = styles.with_unknown(strategy_styles, fid["strategy"])
    fig, axes = _panels(len(cells), width=3.6, height=2.9, rows=int(np.ceil(len(cells) / 3)))
    names = [s for s in strategy_styles if s in set(fid["strategy"])]
    for ax, (dataset, denoiser, solver) in zip(axes, cells):
        part = fid[(fid["dataset"] == dataset) & (fid["denoiser"] == denoiser) & (fid["solver"] == solver)]
        for k, name in enumerate(names):
            rows = part[part["strategy"] == name].sort_values("nfe_budget")
            style = strategy_styles[name]
            ax.errorbar(rows["nfe_budget"] * (1 + 0.015 * (k - len(names) / 2)), rows["value"],
                        yerr=[rows["value"] - rows["value_lo"], rows["value_hi"] - rows["value"]], capsize=1.5,
                        elinewidth=0.6, label=name, **style.kwargs)
        log_axis(ax.xaxis, part["nfe_budget"])
        log_axis(ax.yaxis)
        ax.set(xlabel="NFE", ylabel="FID (lower is better)", title=f"{dataset}, {denoiser}, {solver}")
    _legend_right(fig, axes, order=names, title="strategy")
    save(fig, out, caption)


def sample_grid(panels: dict, out, caption: str) -> None:
    """A strip of images per (column title, row label) key, columns and rows in order of first appearance."""
    columns = list(dict.fromkeys(c for c, _ in panels))
    rows = list(dict.fromkeys(r for _, r in panels))
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(1.9 * len(columns), 0.55 * len(rows) + 1.2),
                             squeeze=False)
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            ax = axes[i][j]
            images = panels.get((column, row))
            if images is not None:
                ax.imshow(np.concatenate(list(images), axis=1))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(column, fontsize=7)
            if j == 0:
                ax.set_ylabel(row, fontsize=6, rotation=0, ha="right", va="center")
    save(fig, out, caption)


def training_loss(curves: pd.DataFrame, out, caption: str) -> None:
    """Training loss against step per model (columns dataset, model, step, loss), a panel per data set."""
    datasets = list(dict.fromkeys(curves["dataset"]))
    fig, axes = _panels(len(datasets), sharey=True)
    drawn = styles.series_styles(sorted(set(curves["model"])), known=sorted(set(curves["model"])))
    for ax, dataset in zip(axes, datasets):
        for model, rows in curves[curves["dataset"] == dataset].groupby("model", sort=False):
            ax.plot(rows["step"], rows["loss"], label=model, markevery=max(1, len(rows) // 8), **drawn[model].kwargs)
        ax.legend(fontsize=7)
        log_axis(ax.yaxis)
        ax.set_title(dataset)
        ax.set_ylabel("training loss (EDM-weighted)")
    save(fig, out, caption)


def ideal_gap(table: pd.DataFrame, out, caption: str) -> None:
    """Each model's gap to its matching ideal denoiser, E|D - D*|^2 / d, against sigma (log-log) with a +-2
    standard-error band, a panel per data set; dashed, each oracle's own error E|D* - y|^2 / d for scale."""
    names = list(dict.fromkeys(table["dataset"]))
    fig, axes = _panels(len(names), width=4.6, sharey=True)
    drawn = styles.series_styles(sorted(set(table["model"])), known=sorted(set(table["model"])))
    for ax, name in zip(axes, names):
        part = table[table["dataset"] == name]
        matched = part[part["matching"]]
        for model, rows in matched.groupby("model", sort=False):
            style = drawn[model]
            ax.plot(rows["sigma"], rows["gap"], label=f"{model} vs {rows['oracle'].iloc[0]}", **style.kwargs)
            ax.fill_between(rows["sigma"], (rows["gap"] - 2 * rows["gap_se"]).clip(lower=1e-12),
                            rows["gap"] + 2 * rows["gap_se"], color=style.color, alpha=0.2, lw=0)
        oracles = part.drop_duplicates(["oracle", "sigma"])
        for (oracle, rows), style in zip(oracles.groupby("oracle", sort=False), ("--", ":")):
            ax.plot(rows["sigma"], rows["oracle_mse"], style, color="k", lw=0.9, label=f"{oracle} oracle's own error")
        ax.set(xlabel="noise level sigma", ylabel="per-pixel squared difference", title=part["source"].iloc[0])
        _log_log(ax)
        ax.legend(fontsize=6)
    save(fig, out, caption)


def noise_level(table: pd.DataFrame, out, caption: str) -> None:
    """RMS of log(sigma_hat / sigma) against sigma (log-log) per estimator, a panel per data set, with the
    high-dimension prediction 1 / sqrt(2 d) (Sun et al. 2025) dashed."""
    names = list(dict.fromkeys(table["dataset"]))
    fig, axes = _panels(len(names), width=4.6, sharey=True)
    drawn = styles.series_styles(list(dict.fromkeys(table["estimator"])))
    for ax, name in zip(axes, names):
        part = table[table["dataset"] == name]
        for estimator, rows in part.groupby("estimator", sort=False):
            ax.plot(rows["sigma"], rows["rms_log_error"], label=estimator, **drawn[estimator].kwargs)
        dimension = part["dimension"].iloc[0]
        ax.axhline(part["high_dim_prediction"].iloc[0], color="k", ls="--", lw=0.8, label="1/sqrt(2d)")
        _log_log(ax)
        ax.set(xlabel="noise level sigma", ylabel="RMS of log(sigma_hat / sigma)",
               title=f"{part['source'].iloc[0]}, d = {dimension}")
        ax.legend(fontsize=7)
    save(fig, out, caption)


def _blind_panels(table: pd.DataFrame):
    """A figure with a panel per (data set, oracle pair) of a blind-study table, and each panel's rows."""
    keys = list(dict.fromkeys(zip(table["dataset"], table["oracle"])))
    fig, axes = _panels(len(keys), width=4.6, rows=len(dict.fromkeys(table["oracle"])))
    return fig, [(ax, table[(table["dataset"] == d) & (table["oracle"] == o)]) for ax, (d, o) in zip(axes, keys)]


def _blind_title(ax, part: pd.DataFrame) -> None:
    """The panel's data source and oracle pair, on two lines."""
    ax.set_title(f"{part['source'].iloc[0].split(',')[0]}\n{part['oracle'].iloc[0]} oracles", fontsize=9)


def blind_gap_vs_d(table: pd.DataFrame, out, caption: str) -> None:
    """Blind - conditioned W2^2 per dimension against d (log-log of its size, hollow markers where negative), a
    panel per data set and oracle pair, a line per sampler, and the 1/sqrt(2d) scaling of the noise-level
    posterior (Sun et al. 2025) through each panel's first point."""
    fig, panels = _blind_panels(table[table["measure"] == "w2"])
    drawn = styles.series_styles(sorted(set(table["sampler"])), known=sorted(set(table["sampler"])))
    for ax, part in panels:
        for label, rows in part.groupby("sampler", sort=False):
            color = drawn[label].color
            size = rows["difference"].abs()
            below = (rows["difference"] - rows["difference_lo"]).abs()
            above = (rows["difference_hi"] - rows["difference"]).abs()
            ax.errorbar(rows["dimension"], size, yerr=[below.clip(upper=0.999 * size), above], color=color,
                        lw=1, capsize=2, marker=drawn[label].marker, ms=4, label=label)
            negative = rows["difference"] < 0  # drawn hollow over the filled marker
            ax.plot(rows["dimension"][negative], size[negative], drawn[label].marker, ms=4, mfc="white", color=color)
        d = part["dimension"].sort_values().unique().astype(float)
        first = part[part["dimension"] == d[0]]["difference"].abs().max()
        ax.plot(d, first * (d / d[0]) ** -0.5, "k:", lw=1, label="1/sqrt(2d) scaling")
        ax.set(xlabel="dimension d", ylabel="|blind - conditioned| W2^2 / d")
        _log_log(ax)
        _blind_title(ax, part)
        ax.set_xticks(d, [f"{v:g}" for v in d], minor=False)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend(fontsize=7)
    save(fig, out, caption)


def blind_gap_vs_sigma(gaps: pd.DataFrame, out, caption: str) -> None:
    """The denoiser gap E|D_blind - D|^2 / d against sigma along the conditioned trajectory (log-log), a panel per
    data set and oracle pair, a line per dimension, with its bootstrap band."""
    fig, panels = _blind_panels(gaps)
    drawn = styles.series_styles(sorted(set(gaps["dimension"])))
    for ax, part in panels:
        for d, rows in part.groupby("dimension"):
            ax.plot(rows["sigma"], rows["gap"], label=f"d = {d}", **drawn[d].kwargs)
            ax.fill_between(rows["sigma"], rows["gap_lo"], rows["gap_hi"], color=drawn[d].color, alpha=0.25, lw=0)
        ax.set(xlabel="noise level sigma", ylabel="E|D_blind - D|^2 / d")
        _log_log(ax)
        _blind_title(ax, part)
        ax.legend(fontsize=7)
    save(fig, out, caption)


def criterion_vs_fid(table: pd.DataFrame, intervals: pd.DataFrame, criteria, strategy_styles: dict, out,
                     caption: str) -> None:
    """Each criterion (rows) against FID, one panel per data set, denoiser and solver (columns): a point per
    strategy and NFE (criterion averaged over seeds) joined across NFE in the strategy's style, bars the FID's
    bootstrap interval. Only the paper's pick and the search baselines carry text labels (their NFE), placed by
    adjustText clear of each other and of the points."""
    by = ["dataset", "denoiser", "solver", "nfe_budget", "strategy"]
    crit = table.groupby(by, as_index=False)[[f"crit_{c}" for c in criteria]].mean()
    fid = intervals[intervals["metric"] == "fid"].merge(crit, on=by)
    strategy_styles = styles.with_unknown(strategy_styles, fid["strategy"])
    panels = list(dict.fromkeys(zip(fid["dataset"], fid["denoiser"], fid["solver"])))
    names = [s for s in strategy_styles if s in set(fid["strategy"])]
    fig, axes = plt.subplots(len(criteria), len(panels), figsize=(3.1 * len(panels), 2.35 * len(criteria)),
                             squeeze=False)
    for row, name in zip(axes, criteria):
        for ax, (dataset, denoiser, solver) in zip(row, panels):
            part = fid[(fid["dataset"] == dataset) & (fid["denoiser"] == denoiser) & (fid["solver"] == solver)]
            texts = []
            for strategy in names:
                cell = part[part["strategy"] == strategy].sort_values("nfe_budget")
                style = strategy_styles[strategy]
                x, y = cell[f"crit_{name}"], cell["value"]
                ax.errorbar(x, y, yerr=[y - cell["value_lo"], cell["value_hi"] - y], capsize=1.5, elinewidth=0.6,
                            label=strategy, **{**style.kwargs, "linewidth": 0.8 * style.linewidth})
                if styles.labelled(style):
                    texts += [ax.text(xi, yi, f"NFE {nfe}" if style is styles.PAPER_PICK else f"{strategy} {nfe}",
                                      fontsize=LABEL_PT, color=style.color)
                              for xi, yi, nfe in zip(x, y, cell["nfe_budget"])]
            ax.set(xlabel=name, ylabel="FID", title=f"{dataset}, {denoiser}, {solver}")
            if (part[f"crit_{name}"] > 0).all():
                log_axis(ax.xaxis)
            else:
                ax.xaxis.set_major_locator(MaxNLocator(4))
            if texts:
                adjust_text(texts, ax=ax, arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5})
    _legend_right(fig, axes.ravel(), order=names, title="strategy")
    save(fig, out, caption)


def spearman_intervals(table: pd.DataFrame, out, caption: str) -> None:
    """Spearman of each criterion with FID and its bootstrap interval, a marker per solver / NFE, one panel per
    data set and denoiser."""
    fid = table[table["metric"] == "fid"]
    panels = list(dict.fromkeys(zip(fid["dataset"], fid["denoiser"])))
    criteria = list(dict.fromkeys(fid["criterion"]))
    fig, axes = _panels(len(panels), width=4.4, rows=int(np.ceil(len(panels) / 3)))
    for ax, (dataset, denoiser) in zip(axes, panels):
        part = fid[(fid["dataset"] == dataset) & (fid["denoiser"] == denoiser)]
        cells = list(part.groupby(["solver", "nfe_budget"]))
        for k, ((solver, nfe), cell) in enumerate(cells):
            x = cell["criterion"].map(criteria.index) + (k + 0.5) / len(cells) * 0.6 - 0.3
            rho = cell["spearman"]
            ax.errorbar(x, rho, yerr=[rho - cell["spearman_lo"], cell["spearman_hi"] - rho], fmt="o", ms=3,
                        capsize=2, label=f"{solver}, NFE {nfe}")
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xticks(range(len(criteria)), criteria, rotation=30, fontsize=6)
        ax.set(ylim=(-1.05, 1.05), ylabel="Spearman (criterion vs FID)", title=f"{dataset}, {denoiser}")
        ax.legend(fontsize=6.5)
    save(fig, out, caption)


def extremal_ratios(table: pd.DataFrame, out, caption: str) -> None:
    """Each source's KL over the Gaussian's against N (log y), a panel per strategy (columns) and KL direction
    (rows); the Gaussian is the line at 1. Infinite ratios (a bounded source's forward KL) are left out."""
    names = [s for s in dict.fromkeys(table["source"]) if s != "gaussian"]
    labels = list(dict.fromkeys(table["strategy"]))
    directions = {"kl_forward_ratio": "KL(source || output)", "kl_reverse_ratio": "KL(output || source)"}
    fig, axes = _panels(len(labels) * 2, width=3.6, height=3.0, rows=2, sharex=True)
    drawn = styles.series_styles(names)
    for row, (column, title) in enumerate(directions.items()):
        for col, label in enumerate(labels):
            ax = axes[row * len(labels) + col]
            part = table[table["strategy"] == label]
            for name in names:
                rows = part[(part["source"] == name) & np.isfinite(part[column])]
                if len(rows):
                    ax.plot(rows["steps"], rows[column], label=name, **drawn[name].kwargs)
            ax.axhline(1.0, color="k", ls="--", lw=0.8, label="gaussian (= 1)")
            log_axis(ax.yaxis)
            ax.set(title=f"{label}: {title}", xlabel="N (steps)" if row == 1 else "",
                   ylabel="KL / Gaussian's KL" if col == 0 else "")
    _legend_right(fig, axes, order=names, title="source")
    save(fig, out, caption)
