"""What each rule's jobs ask of a cluster, measured: peak memory and wall time from Snakemake's ``benchmark:`` files.

Every rule writes its benchmark under ``<results>/benchmarks/<rule>/``; the largest job of a rule sets its request:
``mem_mb = MEM_FACTOR * peak RSS + MEM_EXTRA_MB`` (rounded up to 100 MB) and
``runtime = TIME_FACTOR * longest wall time + TIME_EXTRA_MIN`` (whole minutes), because SLURM kills a job that
exceeds either and cluster nodes are slower or busier than the machine that measured them. The result is the
``resources`` section of a configuration (workflow/schemas/config.schema.yaml).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

MEM_FACTOR = 1.5
MEM_EXTRA_MB = 500
TIME_FACTOR = 3.0
TIME_EXTRA_MIN = 5


def read_benchmarks(folder) -> dict[str, list[tuple[float, float]]]:
    """(wall seconds, peak RSS in MB) of every benchmarked job, per rule (the first folder under ``folder``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of benchmark files; run the workflow first (results/benchmarks)")
    jobs: dict[str, list[tuple[float, float]]] = {}
    for path in sorted(folder.rglob("*.tsv")):
        rel = path.relative_to(folder)
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        if not rows or "s" not in rows[0] or "max_rss" not in rows[0]:
            raise ValueError(f"{path} is not a Snakemake benchmark file (columns s and max_rss)")
        for row in rows:
            rss = float(row["max_rss"]) if row["max_rss"] not in ("", "-", "NA") else 0.0
            jobs.setdefault(rule, []).append((float(row["s"]), rss))
    if not jobs:
        raise ValueError(f"no benchmark files (*.tsv) under {folder}")
    return jobs


def with_margin(seconds: float, rss_mb: float) -> dict[str, int]:
    """The request for a job that took ``seconds`` and peaked at ``rss_mb``: the module's stated margins."""
    mem = math.ceil((MEM_FACTOR * rss_mb + MEM_EXTRA_MB) / 100) * 100
    return {"mem_mb": int(mem), "runtime": int(math.ceil(TIME_FACTOR * seconds / 60 + TIME_EXTRA_MIN))}


def job_resources(folder) -> dict[str, dict[str, int]]:
    """Per rule, the request covering its largest measured job: peak RSS and longest wall time, each with margin."""
    return {
        rule: with_margin(max(s for s, _ in jobs), max(rss for _, rss in jobs))
        for rule, jobs in sorted(read_benchmarks(folder).items())
    }


def as_yaml(resources: dict[str, dict[str, int]]) -> str:
    """The ``resources`` section of a configuration, one flow mapping per rule. Its ``default``, for a rule added
    later and not yet measured, is the largest request of each kind.
    """
    default = {key: max(r[key] for r in resources.values()) for key in ("mem_mb", "runtime")}
    width = max(map(len, resources))
    lines = ["resources:"]
    for rule, r in {"default": default, **resources}.items():
        lines.append(f"  {rule + ':':<{width + 1}} {{mem_mb: {r['mem_mb']}, runtime: {r['runtime']}}}")
    return "\n".join(lines) + "\n"
