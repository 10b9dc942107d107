"""The workflow's configuration: the library's default strategies under the config's own, and the checks across
keys that the schema (``workflow/schemas/config.schema.yaml``) cannot express, run before any job.

Each check raises a ValueError that names the key, what is wrong and how to fix it.
"""

from __future__ import annotations

from diffsched.data import datasets
from diffsched.method import schedules, strategies
from diffsched.models import checkpoints
from diffsched.studies import sweep


def strategies_with_defaults(cfg: dict) -> dict:
    """:data:`diffsched.method.strategies.DEFAULTS` under the config's own ``strategies`` entries."""
    return {**strategies.DEFAULTS, **cfg.get("strategies", {})}


def _closed_forms(cfg: dict) -> list[str]:
    return sorted(k for k, v in cfg["strategies"].items() if not strategies.needs_context(v))


def _defined(key: str, labels, defined, where: str) -> None:
    unknown = set(labels) - set(defined)
    if unknown:
        raise ValueError(f"config {key} names {sorted(unknown)}, which {where} does not define; "
                         f"defined: {sorted(defined)}")


def check_strategies(cfg: dict) -> None:
    try:
        schedules.check_range(1, cfg["noise"]["sigma_min"], cfg["noise"]["sigma_max"])
        for label, entry in cfg["strategies"].items():
            strategies.check_entry(label, entry)
    except ValueError as err:
        raise ValueError(f"config: {err}") from None
    mc = cfg["gaussian"]["monte_carlo"]
    _defined("gaussian.strategies", cfg["gaussian"]["strategies"], cfg["strategies"], "strategies")
    _defined("gaussian.monte_carlo.strategies", mc["strategies"], cfg["strategies"], "strategies")
    _defined("sweep.strategies", cfg["sweep"]["strategies"], cfg["strategies"], "strategies")
    _defined("gaussian.extremal.strategies", cfg["gaussian"]["extremal"]["strategies"], cfg["strategies"],
             "strategies")
    if len(mc["mean"]) != len(mc["eigenvalues"]):
        raise ValueError(f"config gaussian.monte_carlo: mean has {len(mc['mean'])} entries, eigenvalues "
                         f"{len(mc['eigenvalues'])}")


def check_published(cfg: dict) -> None:
    """Published spectra on a copy's eigenvectors: ids apart from the data sets', bases among them, and a ranked
    model's basis ranked too (the comparison reads both rankings)."""
    published, defined = cfg["spectrum"].get("published", {}), cfg["data"]["datasets"]
    clash = sorted(set(published) & set(defined))
    if clash:
        raise ValueError(f"config spectrum.published ids {clash} are also data.datasets ids; rename them")
    for name, entry in published.items():
        _defined(f"spectrum.published.{name}.basis", [entry["basis"]], defined, "data.datasets")
        ranked = cfg["spectrum"]["datasets"]
        if name in ranked and entry["basis"] not in ranked:
            raise ValueError(f"config spectrum.datasets ranks {name} but not its basis {entry['basis']!r}, which its "
                             "comparison reads; add the basis to spectrum.datasets")


def check_datasets(cfg: dict) -> None:
    sw, defined = cfg["sweep"], cfg["data"]["datasets"]
    spectra = {**defined, **cfg["spectrum"].get("published", {})}  # what has a spectrum, with or without images
    _defined("spectrum.datasets or sweep.gaussian_datasets",
             set(cfg["spectrum"]["datasets"]) | set(sw["gaussian_datasets"]), spectra,
             "data.datasets or spectrum.published")
    named = set(sw["datasets"]) | set(cfg["probe"]["datasets"]) | set(cfg["blind"]["datasets"])
    _defined("sweep.datasets, probe.datasets or blind.datasets", named, defined, "data.datasets")
    _defined("training.datasets", cfg["training"]["datasets"], defined, "data.datasets")
    _defined("gaussian.extremal.dataset", [cfg["gaussian"]["extremal"]["dataset"]], defined, "data.datasets")
    if "mixture" in sw["denoisers"]:
        unlabelled = [d for d in sw["datasets"] if defined.get(d, {}).get("dataset") not in datasets.CLASSES]
        if unlabelled:
            raise ValueError(f"config sweep: the mixture oracle needs class labels, which {unlabelled} lack; "
                             "drop mixture from sweep.denoisers or those data sets from sweep.datasets")


def check_blind(cfg: dict) -> None:
    bl = cfg["blind"]
    if bl["trajectory"] not in bl["samplers"]:
        raise ValueError(f"config blind.trajectory {bl['trajectory']!r} is not a key of blind.samplers "
                         f"{sorted(bl['samplers'])}")
    if bl["strategy"] not in _closed_forms(cfg):
        raise ValueError(f"config blind.strategy {bl['strategy']!r} is not a closed-form strategy of strategies "
                         f"(closed forms: {_closed_forms(cfg)})")
    unscored = sorted(set(bl["scored_resolutions"]) - set(bl["resolutions"]))
    if unscored:
        raise ValueError(f"config blind.scored_resolutions {unscored} are not among blind.resolutions "
                         f"{bl['resolutions']}; FID/KID score the study's own samples, so add them to "
                         "blind.resolutions or drop them from blind.scored_resolutions")


def check_training(cfg: dict) -> None:
    """The trained models, their samplers and the sweep's networks."""
    tr, sw = cfg["training"], cfg["sweep"]
    models = [checkpoints.model_name(n, v) for n in tr["networks"] for v in tr["variants"]]
    unknown = set(sw["networks"]) - set(models)
    if unknown:
        raise ValueError(f"config sweep.networks names {sorted(unknown)}, not among the trained models {models} "
                         "(<training.networks key>-<training.variants key>)")
    swept = [*sw["denoisers"], *sw["networks"]]
    pairs = ["{}/{}".format(*pair) for pair in sweep.pairs(sw)]
    unknown = set(sw["every_seed"]) - set(swept) - set(pairs)
    if unknown:
        raise ValueError(f"config sweep.every_seed names {sorted(unknown)}, which are neither denoisers the sweep "
                         f"runs ({', '.join(swept)}) nor pairs it runs as dataset/denoiser (e.g. {pairs[0]}); "
                         "list only those")
    for label, variant in tr["variants"].items():
        if variant["time_embedding"] and variant.get("capacity_matched", False):
            raise ValueError(f"config training.variants.{label}: capacity_matched replaces a removed embedding; "
                             "set time_embedding: false or drop capacity_matched")
    for label, s in tr["samplers"].items():
        if s["strategy"] not in _closed_forms(cfg):
            raise ValueError(f"config training.samplers.{label}.strategy {s['strategy']!r} must name a closed-form "
                             f"strategy (one of {_closed_forms(cfg)})")
    if tr["checkpoint_every"] % tr["log_every"]:
        raise ValueError(f"config training: log_every ({tr['log_every']}) must divide checkpoint_every "
                         f"({tr['checkpoint_every']})")
    if not tr["ideal"]["sigma_min"] < tr["ideal"]["sigma_max"]:
        raise ValueError(f"config training.ideal: need sigma_min < sigma_max, got {tr['ideal']['sigma_min']} and "
                         f"{tr['ideal']['sigma_max']}")


CHECKS = (check_strategies, check_published, check_datasets, check_blind, check_training)


def check(cfg: dict) -> None:
    """Every check across keys, in order; the first failure raises."""
    for one in CHECKS:
        one(cfg)
