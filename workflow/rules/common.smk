# Shared helpers: output locations and the checks the schema cannot express, run before any job.
import os

from snakemake.exceptions import WorkflowError

from diffsched.data import datasets, published_spectra
from diffsched.interface import workflow_config
from diffsched.studies import sweep
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


try:
    workflow_config.check(config)
except ValueError as err:
    raise WorkflowError(str(err))
MODELS = [
    checkpoints.model_name(n, v)
    for n in config["training"]["networks"]
    for v in config["training"]["variants"]
]
# (data set, model) of every trained model
ABLATION_CELLS = [(d, m) for d in config["training"]["datasets"] for m in MODELS]
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
    extremal = both(F("gaussian", "extremal"), ("csv", "md", "pdf", "png"))
    return (
        figures
        + tables
        + checks
        + both(F("gaussian", "vp_schemes"), ("csv", "md"))
        + extremal
    )


# Data sets: ids of config["data"]["datasets"] per kind, as wildcard patterns (ids match [A-Za-z0-9_]+).
DATA_IDS = {
    kind: "|".join(
        k for k, v in config["data"]["datasets"].items() if v["dataset"] == kind
    )
    or "(?!)"
    for kind in datasets.DATASETS
}
RANKED = config["spectrum"]["datasets"]
# Gaussian models of published spectra on a copy's eigenvectors (id -> {eigenvalues, basis}), and those ranked,
# each compared with its copy (rule published_comparison)
PUBLISHED = config["spectrum"]["published"]
COMPARED = [name for name in PUBLISHED if name in RANKED]
# every strategy a figure can draw, each styled from its entry (diffsched.studies.styles)
STYLED = {**config["strategies"], **config["sweep"]["search"]}


# Inputs that depend on wildcards.
def model_training(w):
    """The training settings of one model: its own network and variant entries and the optimiser settings, so that
    adding a network, variant or data set, or changing sampling or scoring, never retrains an existing model.
    """
    network, _, variant = w.model.partition("-")
    tr = config["training"]
    optimiser = (
        "precond",
        "steps",
        "batch_size",
        "lr",
        "betas",
        "ema_halflife_images",
        "checkpoint_every",
        "log_every",
        "precision",
        "compile",
        "device",
        "seed",
    )
    return {
        **{key: tr[key] for key in optimiser},
        "networks": {network: tr["networks"][network]},
        "variants": {variant: tr["variants"][variant]},
    }


def ablation_losses(w):
    """Every trained model's loss log, named by its model's cell (diffsched.studies.sweep.loss_input)."""
    return {
        sweep.loss_input(d, m): R("train", d, m, "loss.csv") for d, m in ABLATION_CELLS
    }


def reference_inputs(w):
    """Training images, or the spectrum whose Gaussian model is sampled."""
    if w.source == "gaussian":
        return {"spectrum": R("spectrum", f"{w.dataset}.npz")}
    return {"train": R("data", w.dataset, "train.npz")}


def published_file(name):
    """The checksummed file of a published spectrum, in the configured data root."""
    return str(published_spectra.path(name, root=config["data"]["root"]))


def sweep_train(w):
    """The training images of a sweep cell's data set where its denoiser reads them (the empirical and mixture
    oracles); the Gaussian oracle and the networks' start states need only the spectrum.
    """
    if w.denoiser in ("empirical", "mixture"):
        return {"train": R("data", w.dataset, "train.npz")}
    return {}


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
    the first data set, solver and seed only (the sample grids). Rules list a cell's samples with cell_path; each
    sample file records its cell (diffsched.studies.sweep.cell_arrays), which scripts read from it, never from a path.
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


def denoiser_samples(w):
    """The sample files of one data set and denoiser (scored together: one Inception warm-up per denoiser)."""
    return [
        cell_path(c)
        for c in sweep_cells()
        if (c["dataset"], c["denoiser"]) == (w.dataset, w.denoiser)
    ]


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
        split: R(f"data/{wildcards.dataset}/{split}.npz")
        for split in datasets.SPLITS[kind]
    }
    if "test" in splits:
        splits["spectrum"] = R("spectrum", f"{wildcards.dataset}.npz")
    return splits


def ideal_inputs(wildcards):
    """The data set's splits (train; test where it has one) and every model trained on it, in MODELS order."""
    kind = config["data"]["datasets"][wildcards.dataset]["dataset"]
    splits = {
        split: R(f"data/{wildcards.dataset}/{split}.npz")
        for split in datasets.SPLITS[kind]
    }
    models = {
        key: [R("train", wildcards.dataset, m, f"model.{ext}") for m in MODELS]
        for key, ext in (("weights", "pt"), ("specs", "json"))
    }
    return {**splits, **models}
