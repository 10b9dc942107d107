"""Tidy tables as Markdown: a caption (what produced the table) above a plain pipe table."""

from __future__ import annotations

import pandas as pd

from diffsched.infra.atomic import atomic_path


def markdown(table: pd.DataFrame, caption: str, floats: str = "{:.4g}") -> str:
    """``caption``, a blank line, then ``table`` with floats formatted by ``floats``."""
    cells = table.map(lambda v: floats.format(v) if isinstance(v, float) else str(v))
    lines = [caption, "", "| " + " | ".join(cells.columns) + " |", "|" + "---|" * len(cells.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells.values.tolist()]) + "\n"


def write_csv(rows, path) -> pd.DataFrame:
    """Write a table (a DataFrame or a list of row dicts) to ``path`` atomically; returns it as a DataFrame."""
    table = pd.DataFrame(rows)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return table
