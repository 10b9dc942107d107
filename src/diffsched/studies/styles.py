"""One visual identity per series, defined once: every figure draws a strategy, solver or data set the same way.

A strategy's family comes from its configuration entry (its schedule kind, its criterion parameter, whether it is a
search baseline), so a new entry gets a style without a list to keep in step with the configuration:

- hand-made grids (edm, logsnr, vp_time, tangent): dashed, cool colours;
- spectral closed forms (variational, tangent_opt): dash-dot, greens;
- each criterion's finite-N pick (kl_optimal with a criterion): solid, warm colours; the paper's pick, the KL's
  (arXiv 2601.13602), is the one thick red line with a star drawn on top of the others;
- search baselines (gits, dmn): dotted, browns.

Within a family the (colour, marker) pairs never repeat, and the families differ in line style, so no two
strategies share colour, marker and line style.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from diffsched.method import solvers, strategies

PAPER_CRITERION = "kl"
FINITE_N_OPTIMA = ("kl_optimal", "optimal")  # the finite-N optimum's schedule kind, by its old and new name


@dataclass(frozen=True)
class Style:
    """How one series is drawn: the keyword arguments of ``Axes.plot`` (``kwargs``) and its legend group."""

    color: str
    marker: str
    linestyle: str
    linewidth: float = 1.2
    markersize: float = 4.5
    zorder: float = 2.0
    family: str = ""

    @property
    def kwargs(self) -> dict:
        """Keyword arguments for ``plot`` / ``errorbar``."""
        return {k: v for k, v in asdict(self).items() if k != "family"}

    @property
    def marker_kwargs(self) -> dict:
        """Keyword arguments for a marker without a line (``scatter``-like ``plot`` / ``errorbar`` calls)."""
        return {"color": self.color, "marker": self.marker, "markersize": self.markersize, "linestyle": "none",
                "zorder": self.zorder}


# family -> (line style, colours, markers); len(colours) and len(markers) are coprime, so the pair repeats only
# after len(colours) * len(markers) members
FAMILIES = {
    "hand-made grid": ("--", ("#1f5fa8", "#5aa9e6", "#17becf", "#4b4b8f", "#7f7f7f", "#0b3d60"),
                       ("o", "s", "^", "v", "D")),
    "spectral closed form": ("-.", ("#2ca02c", "#98c379", "#1b7837"), ("h", "p")),
    "criterion pick": ("-", ("#ff7f0e", "#9467bd", "#e377c2", "#8c564b", "#bcbd22"), ("P", "X", "d", "<", ">", "8")),
    "search baseline": (":", ("#a6611a", "#5e3c1a", "#b8860b"), ("H", "x")),
    "other": ((0, (1, 1)), ("#444444", "#999999"), ("o", "s", "^")),
}
PAPER_PICK = Style(color="#d62728", marker="*", linestyle="-", linewidth=2.4, markersize=9.0, zorder=5.0,
                   family="paper's pick (KL)")


def family(entry: dict | None) -> str:
    """The family of a strategy's configuration entry ``{schedule, params, search}``; 'other' when unknown."""
    if entry is None:
        return "other"
    kind = entry["schedule"]
    if kind in strategies.SEARCH_GRIDS:
        return "search baseline"
    if kind in FINITE_N_OPTIMA:
        return "criterion pick"
    if kind in strategies.NEEDS_SPECTRUM:
        return "spectral closed form"
    if kind in strategies.CONTINUOUS:
        return "hand-made grid"
    return "other"


def is_paper_pick(entry: dict | None) -> bool:
    """Whether the entry is the KL's finite-N optimum, the paper's recommended grid."""
    return (entry is not None and entry["schedule"] in FINITE_N_OPTIMA
            and entry.get("params", {}).get("criterion", PAPER_CRITERION) == PAPER_CRITERION)


def strategy_styles(entries: dict[str, dict]) -> dict[str, Style]:
    """A style per strategy label of ``entries`` (config.yaml ``strategies`` merged with ``sweep.search``),
    members of a family in the order of the entries."""
    out, members = {}, {}
    for label, entry in entries.items():
        if is_paper_pick(entry):
            out[label] = PAPER_PICK
            continue
        name = family(entry)
        linestyle, colours, markers = FAMILIES[name]
        i = members.setdefault(name, [])
        k = len(i)
        i.append(label)
        out[label] = Style(color=colours[k % len(colours)], marker=markers[k % len(markers)], linestyle=linestyle,
                           family=name)
    return out


def with_unknown(drawn: dict[str, Style], labels) -> dict[str, Style]:
    """``drawn`` plus a style of the family 'other' for each label it lacks (a strategy without an entry), so
    every series of a table is drawn and none is drawn alike."""
    extra = [label for label in dict.fromkeys(labels) if label not in drawn]
    return {**drawn, **strategy_styles(dict.fromkeys(extra))}


def labelled(style: Style) -> bool:
    """Whether points of this style get a text label where the legend alone would not do: the paper's pick and the
    search baselines it is compared with."""
    return style.family in (PAPER_PICK.family, "search baseline")


SERIES_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def series_styles(names, known=()) -> dict[str, Style]:
    """A style per name of a series that is not a strategy (solver, oracle, data set, model): names in ``known``
    take their place in it, so a solver is drawn alike in every figure; the others follow in order."""
    order = list(dict.fromkeys([*known, *names]))
    return {name: Style(color=SERIES_COLOURS[order.index(name) % len(SERIES_COLOURS)],
                        marker=SERIES_MARKERS[order.index(name) % len(SERIES_MARKERS)], linestyle="-", family="series")
            for name in names}


def solver_styles(names) -> dict[str, Style]:
    """A style per solver, fixed by its place in :data:`diffsched.method.solvers.SOLVERS`."""
    return series_styles(names, known=solvers.SOLVERS)
