"""An automatic check that a figure can be read: no overlapping tick labels, no two series drawn alike, no tiny
text, no figure taller than two screens.

:func:`describe` measures a drawn figure at its saved size (text boxes in pixels, font sizes in points, each series'
colour, marker and line style); :func:`diffsched.studies.plots.save` stores that description in the PNG's metadata
under :data:`KEY`, and :func:`check_png` reads it back with the PNG's real size and lists what is wrong.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import matplotlib
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.lines import Line2D
from matplotlib.text import Text

KEY = "diffsched:figure"
SCREEN_PX = 1080  # a full-HD screen's height
MAX_HEIGHT_PX = 2 * SCREEN_PX
MIN_POINTS = 6.0


def _series_key(handle) -> tuple[str, str, str] | None:
    """(colour, marker, line style) of a legend handle or drawn series; None for what has no such identity."""
    if isinstance(handle, ErrorbarContainer):
        handle = handle.lines[0]
    if isinstance(handle, BarContainer):
        handle = handle.patches[0] if handle.patches else None
    if isinstance(handle, Line2D):
        marker = str(handle.get_marker()) if handle.get_marker() not in (None, "", " ") else "None"
        return to_hex(handle.get_color(), keep_alpha=True), marker, str(handle.get_linestyle())
    if isinstance(handle, matplotlib.patches.Patch):
        return to_hex(handle.get_facecolor(), keep_alpha=True), "patch", str(handle.get_hatch() or "")
    if isinstance(handle, matplotlib.collections.Collection) and len(handle.get_facecolor()):
        return to_hex(handle.get_facecolor()[0], keep_alpha=True), "collection", ""
    return None


def _legend_pairs(legend) -> list[tuple]:
    """(handle, label) of each entry of a legend (none for None)."""
    return [] if legend is None else list(zip(legend.legend_handles, [t.get_text() for t in legend.get_texts()]))


def _series(pairs) -> list[list[str]]:
    """[label, colour, marker, line style] per label of labelled series, first occurrence of a label kept."""
    seen = {}
    for handle, label in pairs:
        key = _series_key(handle)
        if key is not None and label and not label.startswith("_"):
            seen.setdefault(label, key)
    return [[label, *key] for label, key in seen.items()]


def _tick_boxes(axis, renderer) -> list[list]:
    """[text, x0, y0, x1, y1] in pixels of every drawn, non-empty tick label of one axis (major and minor)."""
    low, high = sorted(axis.get_view_interval())
    span = (high - low) * 1e-9
    boxes = []
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        if not low - span <= tick.get_loc() <= high + span:
            continue
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text().strip():
                box = label.get_window_extent(renderer)
                boxes.append([label.get_text(), box.x0, box.y0, box.x1, box.y1])
    return boxes


def describe(fig, dpi: float) -> dict:
    """The figure as :func:`problems` needs it, measured at ``dpi`` (its size, texts, tick labels and series)."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [{"text": t.get_text()[:60], "size": float(t.get_fontsize())} for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.get_figure() is not None]
    axes = [{"title": ax.get_title() or ax.get_xlabel() or f"axes {k}",
             "ticks": {"x": _tick_boxes(ax.xaxis, renderer), "y": _tick_boxes(ax.yaxis, renderer)},
             "series": _series([*zip(*ax.get_legend_handles_labels()), *_legend_pairs(ax.get_legend())])}
            for k, ax in enumerate(fig.axes)]
    axes += [{"title": "figure legend", "ticks": {"x": [], "y": []}, "series": _series(_legend_pairs(legend))}
             for legend in fig.legends]
    width, height = fig.get_size_inches() * dpi
    return {"width_px": float(width), "height_px": float(height), "dpi": float(dpi), "texts": texts, "axes": axes}


def _overlap(a, b) -> bool:
    return a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]


def problems(description: dict) -> list[str]:
    """What makes the described figure hard to read, one sentence each; empty when it passes."""
    found = []
    if description["height_px"] > MAX_HEIGHT_PX:
        found.append(f"figure is {description['height_px']:.0f} px tall, more than two screens ({MAX_HEIGHT_PX} px): "
                     "split it into several figures")
    small = sorted({(t["size"], t["text"]) for t in description["texts"] if t["size"] < MIN_POINTS})
    if small:
        size, text = small[0]
        found.append(f"{len(small)} texts below {MIN_POINTS:g} pt at the saved size, e.g. {text!r} at {size:g} pt")
    for ax in description["axes"]:
        for name, boxes in ax["ticks"].items():
            for a, b in itertools.combinations(boxes, 2):
                if _overlap(a, b):
                    found.append(f"{ax['title']!r}: {name} tick labels {a[0]!r} and {b[0]!r} overlap; use fewer ticks")
        for a, b in itertools.combinations(ax["series"], 2):
            if a[1:] == b[1:]:
                found.append(f"{ax['title']!r}: series {a[0]!r} and {b[0]!r} share colour {a[1]}, marker {a[2]} and "
                             f"line style {a[3]}")
    return found


def check_png(path) -> list[str]:
    """:func:`problems` of a PNG written by :func:`diffsched.studies.plots.save`, its height taken from the file."""
    from PIL import Image

    with Image.open(Path(path)) as image:
        stored = image.text.get(KEY)
        height = image.height
    if stored is None:
        return [f"{path}: no figure description under {KEY!r}; draw it with diffsched.studies.plots.save"]
    description = json.loads(stored)
    description["height_px"] = max(description["height_px"], height)
    return [f"{Path(path).name}: {p}" for p in problems(description)]
