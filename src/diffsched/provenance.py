"""What produced an artefact: code version and a caption line for figures and tables."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from diffsched import __version__

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def code_version() -> str:
    """'diffsched 0.1.0, git <commit>[+dirty]', or the package version alone outside a git checkout."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short=10", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"diffsched {__version__}"
    return f"diffsched {__version__}, git {commit}{'+dirty' if dirty else ''}"


def caption(what: str, **facts) -> str:
    """'<what>. key: value; ...; diffsched <version>.' The facts name data source, counts, NFE, solver, seed."""
    listed = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in facts.items())
    return f"{what}. {listed}; {code_version()}."
