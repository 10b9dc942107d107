"""What produced an artefact: code version, captions, and a provenance record per workflow output.

Snakemake already records, per output, the rule, inputs, params, code and times (``.snakemake/metadata``) and,
for heavy rules, run time and memory (``benchmark:`` files). :func:`job` adds what it lacks, next to every
output under ``<results>/provenance/<output path>.json``: the config slice and its hash, every input's
sha256 (large ones too), external sources such as data archives with their checksums, the code version
(git commit, dirty flag), package versions, seed, device and wall time. :func:`chain` walks an artefact back
through those records to the data archives.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import importlib.metadata
import json
import platform
import subprocess
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from diffsched import __version__
from diffsched.infra.atomic import file_digest, write_text

REPO = Path(__file__).resolve().parents[3]
PACKAGES = ("numpy", "scipy", "pandas", "torch", "torchvision", "torch-fidelity", "snakemake", "matplotlib",
            "seaborn")


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


def sha256(path) -> str:
    """'sha256:<hex>' of a file."""
    return f"sha256:{file_digest(path)}"


def packages() -> dict[str, str]:
    """Installed versions of the packages that shape the numbers."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[name] = importlib.metadata.version(name)
    return out


def record_path(results, artefact) -> Path:
    """Where the provenance record of ``artefact`` lives."""
    return Path(results) / "provenance" / (str(Path(artefact)).lstrip("/") + ".json")


def _plain(value):
    """Snakemake params (Namedlist, numpy scalars, ...) as JSON-ready values."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


@contextlib.contextmanager
def job(sm):
    """Run a Snakemake script body with stdout/stderr in its log; then write a record for every output.

    Yields a dict: set ``"sources"`` ({path: checksum}) for inputs Snakemake does not see (data archives) and
    ``"device"`` when the job used one other than the CPU.
    """
    started = time.time()
    extra: dict = {}
    with open(sm.log[0], "w") as log, redirect_stdout(log), redirect_stderr(log):
        yield extra
    params = _plain(dict(sm.params.items()))
    config_hash = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    base = {"rule": sm.rule, "wildcards": dict(sm.wildcards.items()), "params": params,
            "config_hash": f"sha256:{config_hash}", "inputs": {str(p): sha256(p) for p in sm.input},
            "sources": extra.get("sources", {}), "code": code_version(), "packages": packages(),
            "seed": sm.config.get("seed"), "device": extra.get("device", "cpu"), "host": platform.node(),
            "wall_time_s": round(time.time() - started, 3), "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    for out in sm.output:
        record = {"artefact": str(out), "sha256": sha256(out), **base}
        write_text(record_path(sm.config["results"], out), json.dumps(record, indent=1) + "\n")


def snakemake_record(artefact, workdir=".") -> dict | None:
    """Snakemake's own metadata for an output (rule, times, input checksums), if it has one."""
    for name in (str(Path(artefact)), str(Path(artefact).resolve())):
        key = base64.urlsafe_b64encode(name.encode()).decode()
        path = Path(workdir) / ".snakemake" / "metadata" / key
        if path.is_file():
            return json.loads(path.read_text())
    return None


def chain(artefact, results="results", seen=None) -> dict:
    """The provenance tree of an artefact: its record, and the trees of its inputs, down to the sources."""
    seen = set() if seen is None else seen
    path = record_path(results, artefact)
    if not path.is_file():
        return {"artefact": str(artefact), "record": None,
                "sha256": sha256(artefact) if Path(artefact).is_file() else None}
    record = json.loads(path.read_text())
    node = {"artefact": str(artefact), "record": record, "inputs": []}
    for inp in record["inputs"]:
        if inp not in seen:
            seen.add(inp)
            node["inputs"].append(chain(inp, results, seen))
    snake = snakemake_record(artefact)
    if snake:
        node["snakemake"] = {k: snake.get(k) for k in ("rule", "starttime", "endtime", "input_checksums")}
    return node


def render(node: dict, depth: int = 0) -> list[str]:
    """Indented text of a :func:`chain` tree."""
    pad = "  " * depth
    rec = node["record"]
    if rec is None:
        return [f"{pad}{node['artefact']}  (no record: not made by the workflow) {node.get('sha256') or ''}"]
    lines = [f"{pad}{node['artefact']}  {rec['sha256']}",
             f"{pad}  rule {rec['rule']} {rec['wildcards'] or ''}; {rec['code']}; seed {rec['seed']}; "
             f"device {rec['device']}; {rec['wall_time_s']} s on {rec['host']} at {rec['finished']}",
             f"{pad}  config slice {rec['config_hash']}"]
    lines += [f"{pad}  source {src}  {digest}" for src, digest in rec["sources"].items()]
    for child in node["inputs"]:
        lines += render(child, depth + 1)
    return lines
