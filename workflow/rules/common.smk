# Shared helpers: output locations and the checks the schema cannot express, run before any job.
import os

from snakemake.exceptions import WorkflowError

from diffsched.data import datasets
from diffsched.studies import ranking, sweep
from diffsched.method import schedules
from diffsched.models import checkpoints


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
    """Checks across keys: noise ranges, strategy names and parameters, data set ids."""
    try:
        schedules.check_range(1, cfg["noise"]["sigma_min"], cfg["noise"]["sigma_max"])
        for label, spec in cfg["strategies"].items():
            ranking.check_strategy(label, spec)
    except ValueError as err:
        raise WorkflowError(f"config: {err}")
    mc = cfg["gaussian"]["monte_carlo"]
    for key, labels in (
        ("strategies", cfg["gaussian"]["strategies"]),
        ("monte_carlo.strategies", mc["strategies"]),
    ):
        unknown = set(labels) - set(cfg["strategies"])
        if unknown:
            raise WorkflowError(
                f"config gaussian.{key} names {sorted(unknown)}, which strategies does not define"
            )
    if len(mc["mean"]) != len(mc["eigenvalues"]):
        raise WorkflowError(
            f"config gaussian.monte_carlo: mean has {len(mc['mean'])} entries, eigenvalues {len(mc['eigenvalues'])}"
        )
    sw = cfg["sweep"]
    unknown = set(sw["strategies"]) - set(cfg["strategies"])
    if unknown:
        raise WorkflowError(
            f"config sweep.strategies names {sorted(unknown)}, which strategies does not define; "
            f"defined: {sorted(cfg['strategies'])}"
        )
    if "mixture" in sw["denoisers"]:
        unlabelled = [
            d
            for d in sw["datasets"]
            if cfg["data"]["datasets"].get(d, {}).get("dataset") != "cifar10"
        ]
        if unlabelled:
            raise WorkflowError(
                f"config sweep: the mixture oracle needs class labels, which {unlabelled} lack; "
                "drop mixture from sweep.denoisers or those data sets from sweep.datasets"
            )
    unknown = (
        set(cfg["spectrum"]["datasets"])
        | set(sw["datasets"])
        | set(sw["gaussian_datasets"])
        | set(cfg["probe"]["datasets"])
        | set(cfg["blind"]["datasets"])
    ) - set(cfg["data"]["datasets"])
    if unknown:
        raise WorkflowError(
            f"config spectrum.datasets, sweep.datasets, sweep.gaussian_datasets, probe.datasets or blind.datasets names {sorted(unknown)}, which data.datasets does not define; "
            f"defined: {sorted(cfg['data']['datasets'])}"
        )
    bl = cfg["blind"]
    if bl["trajectory"] not in bl["samplers"]:
        raise WorkflowError(
            f"config blind.trajectory {bl['trajectory']!r} is not a key of blind.samplers {sorted(bl['samplers'])}"
        )
    unscored = sorted(set(bl["scored_resolutions"]) - set(bl["resolutions"]))
    if unscored:
        raise WorkflowError(
            f"config blind.scored_resolutions {unscored} are not among blind.resolutions {bl['resolutions']}; "
            "FID/KID score the study's own samples, so add them to blind.resolutions or drop them from "
            "blind.scored_resolutions"
        )
    check_training(cfg)


def check_training(cfg):
    """The trained models, their samplers and the sweep's networks."""
    tr = cfg["training"]
    models = [checkpoints.model_name(n, v) for n in tr["networks"] for v in tr["variants"]]
    unknown = set(cfg["sweep"]["networks"]) - set(models)
    if unknown:
        raise WorkflowError(
            f"config sweep.networks names {sorted(unknown)}, not among the trained models {models} "
            "(<training.networks key>-<training.variants key>)"
        )
    swept = [*cfg["sweep"]["denoisers"], *cfg["sweep"]["networks"]]
    pairs = ["{}/{}".format(*pair) for pair in sweep.pairs(cfg["sweep"])]
    unknown = set(cfg["sweep"]["every_seed"]) - set(swept) - set(pairs)
    if unknown:
        raise WorkflowError(
            f"config sweep.every_seed names {sorted(unknown)}, which are neither denoisers the sweep runs "
            f"({', '.join(swept)}) nor pairs it runs as dataset/denoiser (e.g. {pairs[0]}); list only those"
        )
    unknown = set(tr["datasets"]) - set(cfg["data"]["datasets"])
    if unknown:
        raise WorkflowError(
            f"config training.datasets names {sorted(unknown)}, which data.datasets does not define"
        )
    for label, variant in tr["variants"].items():
        if variant["time_embedding"] and variant.get("capacity_matched", False):
            raise WorkflowError(
                f"config training.variants.{label}: capacity_matched replaces a removed embedding; "
                "set time_embedding: false or drop capacity_matched"
            )
    for label, s in tr["samplers"].items():
        spec = cfg["strategies"].get(s["strategy"], {})
        if spec.get("schedule") not in schedules.SCHEDULES or "search" in spec:
            raise WorkflowError(
                f"config training.samplers.{label}.strategy {s['strategy']!r} must name a closed-form "
                f"top-level strategy (one of {[k for k, v in cfg['strategies'].items() if v['schedule'] in schedules.SCHEDULES and 'search' not in v]})"
            )
    if tr["checkpoint_every"] % tr["log_every"]:
        raise WorkflowError(
            f"config training: log_every ({tr['log_every']}) must divide checkpoint_every ({tr['checkpoint_every']})"
        )
    if not tr["ideal"]["sigma_min"] < tr["ideal"]["sigma_max"]:
        raise WorkflowError(
            f"config training.ideal: need sigma_min < sigma_max, got {tr['ideal']['sigma_min']} and {tr['ideal']['sigma_max']}"
        )


check_config(config)
MODELS = [
    checkpoints.model_name(n, v)
    for n in config["training"]["networks"]
    for v in config["training"]["variants"]
]
THREADS = config["threads"]  # CPU threads per training, sampling and metrics job


def job_resources(rule):
    """What a job of `rule` asks of a cluster: mem_mb and runtime (minutes) from config `resources` (measured per
    configuration; `python -m diffsched job-resources`), `default` where the rule has no entry. Its CPUs are the
    rule's threads (the SLURM plugin's cpus-per-task).
    """
    return {**config["resources"]["default"], **config["resources"].get(rule, {})}


def gaussian_settings(keys):
    """The config slice a Gaussian-study job depends on (strategies, solvers and criteria are shared, top level;
    the noise range and start come from the noise section)."""
    shared = {k: config[k] for k in ("solvers", "criteria")}
    shared["strategies"] = {
        k: config["strategies"][k] for k in config["gaussian"]["strategies"]
    }
    return {k: {**config["gaussian"], **config["noise"], **shared}[k] for k in keys}


# The Gaussian study: which config keys each table depends on, and which tables each figure draws.
G = config["gaussian"]
SPECTRA = list(G["spectra"])
GAUSSIAN_TABLES = {
    "kl_vs_steps": [
        "steps",
        "max_steps_optimal",
        "strategies",
        "sigma_min",
        "sigma_max",
        "init",
    ],
    "em_ratio": ["steps", "strategies", "sigma_min", "sigma_max"],
    "gamma_sweep": ["gamma_steps", "gammas", "sigma_min", "sigma_max", "init"],
    "gamma_star": ["steps", "sigma_min", "sigma_max", "init"],
    "rho_sweep": ["rho_steps", "rhos", "sigma_min", "sigma_max", "init"],
    "grids": ["grid_steps", "strategies", "sigma_min", "sigma_max", "init"],
    "kl_table": [
        "criteria",
        "solver_nfe",
        "table_nfe",
        "solvers",
        "strategies",
        "sigma_min",
        "sigma_max",
        "init",
    ],
}
GAUSSIAN_FIGURES = {
    "kl_vs_steps": ["kl_vs_steps"],
    "em_ratio": ["em_ratio"],
    "gamma": ["gamma_sweep", "gamma_star"],
    "grids": ["grids"],
    "rho_sweep": ["rho_sweep"],
    "solvers": ["kl_table"],
}
# Claim checks (diffsched.studies.claims): their config keys besides the sigma range; each gives figures/gaussian/<check>.csv.
GAUSSIAN_CHECKS = {
    "monte_carlo": ["monte_carlo", "strategies"],
    "one_eigenvalue": ["one_eigenvalue"],
}


def gaussian_outputs():
    figures = [p for name in GAUSSIAN_FIGURES for p in both(F("gaussian", name))]
    tables = [
        p for s in SPECTRA for p in both(F("gaussian", f"kl_table_{s}"), ("csv", "md"))
    ]
    checks = [p for c in GAUSSIAN_CHECKS for p in both(F("gaussian", c), ("csv", "md"))]
    return figures + tables + checks


# Data sets: ids of config["data"]["datasets"] per kind, as wildcard patterns (ids match [A-Za-z0-9_]+).
DATA_IDS = {
    kind: "|".join(
        k for k, v in config["data"]["datasets"].items() if v["dataset"] == kind
    )
    or "(?!)"
    for kind in ("cifar10", "celeba")
}
RANKED = config["spectrum"]["datasets"]
# every strategy a figure can draw, each styled from its entry (diffsched.studies.styles)
STYLED = {**config["strategies"], **config["sweep"]["search"]}


# Inputs that depend on wildcards.
def reference_inputs(w):
    """Training images, or the spectrum whose Gaussian model is sampled."""
    if w.source == "gaussian":
        return {"spectrum": R("spectrum", f"{w.dataset}.npz")}
    return {"train": R("data", w.dataset, "train.npz")}


def sweep_network(w):
    """A trained network's files when the cell's denoiser is one, else nothing."""
    if w.denoiser in sweep.ORACLES:
        return {}
    return {
        "weights": R("train", w.dataset, w.denoiser, "model.pt"),
        "spec": R("train", w.dataset, w.denoiser, "model.json"),
    }


def figure_tables(figure):
    """(spectrum, table) of every Gaussian-study table a figure draws: its inputs and their identities."""
    return [(s, t) for s in SPECTRA for t in GAUSSIAN_FIGURES[figure]]


def sweep_cells(first_only=False):
    """Every sweep cell as {dataset, denoiser, solver, nfe, seed} (seeds: diffsched.studies.sweep.cell_seeds); first_only:
    the first data set, solver and seed only (the sample grids). Rules list a cell's samples with cell_path and
    pass the cells themselves as params, so scripts read a cell's identity from the same list, never from a path.
    """
    sw = config["sweep"]
    pick = (lambda xs: xs[:1]) if first_only else (lambda xs: xs)
    return [
        {
            "dataset": dataset,
            "denoiser": denoiser,
            "solver": solver,
            "nfe": nfe,
            "seed": seed,
        }
        for dataset, denoiser in sweep.pairs(sw)
        if not first_only or dataset == sw["datasets"][0]
        for solver in pick(sw["solvers"])
        for nfe in sw["nfe"]
        for seed in pick(sweep.cell_seeds(sw, dataset, denoiser))
    ]


def cell_path(cell):
    """The sample file of a sweep cell (rule sweep_samples)."""
    return R(
        "sweep",
        cell["dataset"],
        cell["denoiser"],
        cell["solver"],
        f"nfe{cell['nfe']}",
        f"seed{cell['seed']}.npz",
    )


def denoiser_cells(w):
    """The sweep cells of one data set and denoiser (scored together: one Inception warm-up per denoiser)."""
    return [
        c
        for c in sweep_cells()
        if (c["dataset"], c["denoiser"]) == (w.dataset, w.denoiser)
    ]


def denoiser_samples(w):
    """The sample files of denoiser_cells(w), in its order."""
    return [cell_path(c) for c in denoiser_cells(w)]


def blind_inputs(w):
    """The noise-blind study's inputs: the data set's spectrum (its eigenbasis, its Gaussian model) and, for the
    empirical pair, its images."""
    files = {"spectrum": R("spectrum", f"{w.dataset}.npz")}
    if w.oracle == "empirical":
        files["train"] = R("data", w.dataset, "train.npz")
    return files


def oracle_reference(dataset, denoiser):
    """The reference images of a denoiser's samples, shared by the sweep and the noise-blind study: exact
    Gaussian samples for the Gaussian oracle, real training images for every other denoiser.
    """
    source = "gaussian" if denoiser == "gaussian" else "train"
    return R("reference", dataset, f"{source}-{config['sweep']['reference']}.npz")


def sweep_reference(w):
    """The reference images of a sweep cell's denoiser (:func:`oracle_reference`)."""
    return oracle_reference(w.dataset, w.denoiser)


def probe_inputs(wildcards):
    """The data set's splits: train, and test where the data set has one (CelebA's images are held out of train);
    with a test split, the train split's spectrum (the Bayes estimator's Gaussian model; without one the script
    fits it to the images left after the hold-out, so that the held-out images stay out of the model).
    """
    kind = config["data"]["datasets"][wildcards.dataset]["dataset"]
    splits = {
        split: R(f"data/{wildcards.dataset}/{split}.npz") for split in datasets.SPLITS[kind]
    }
    if "test" in splits:
        splits["spectrum"] = R("spectrum", f"{wildcards.dataset}.npz")
    return splits


def ideal_inputs(wildcards):
    """The data set's splits (train; test where it has one) and every model trained on it, in MODELS order."""
    kind = config["data"]["datasets"][wildcards.dataset]["dataset"]
    splits = {
        split: R(f"data/{wildcards.dataset}/{split}.npz") for split in datasets.SPLITS[kind]
    }
    models = {
        key: [R("train", wildcards.dataset, m, f"model.{ext}") for m in MODELS]
        for key, ext in (("weights", "pt"), ("specs", "json"))
    }
    return {**splits, **models}
