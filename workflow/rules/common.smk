# Shared helpers: output locations and the checks the schema cannot express, run before any job.
import os

from snakemake.exceptions import WorkflowError

from diffsched import ranking, schedules


def R(*parts):
    """A path under the results folder."""
    return os.path.join(config["results"], *parts)


def F(*parts):
    """A path under the figures folder."""
    return os.path.join(config["figures"], *parts)


def both(stem, extensions=("pdf", "png")):
    """A figure's pdf and png (or a table's csv and md)."""
    return [f"{stem}.{ext}" for ext in extensions]


def check_config(cfg):
    g = cfg["gaussian"]
    try:
        schedules.check_range(1, g["sigma_min"], g["sigma_max"])
        for label, spec in g["strategies"].items():
            ranking.check_strategy(label, spec)
    except ValueError as err:
        raise WorkflowError(f"config gaussian: {err}")


check_config(config)
