"""The low-NFE sweep: exact-score oracles x solver x strategy x NFE -> samples -> FID, KID, precision, recall.

With an oracle denoiser the score is exact, so the sample quality measures the discretization error alone
(arXiv 2601.13602's test on real images, without network error). Every strategy of a cell samples from the
same start states, and its grid's exact Gaussian KL (from the data covariance) is stored beside the samples,
so the KL's prediction and the measured FID can be rank-correlated.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import torch
from scipy import stats

from diffsched.metrics import bootstrap
from diffsched.data import datasets, spectrum
from diffsched.models import denoisers
from diffsched.method import gaussian, solvers, strategies

ORACLES = ("gaussian", "mixture", "empirical")
BASELINES = ("edm", "logsnr", "vp_quadratic")  # the hand-made grids each criterion's pick is compared with
# What names the cell of a sample file, which records it (cell_arrays) for the scripts that read it (load_cell).
CELL = ("dataset", "denoiser", "solver", "nfe", "seed")  # a sweep cell; nfe is its budget
ABLATION_CELL = ("dataset", "model")  # a trained model's ablation samples


def oracle(kind: str, spectrum_path, train_path, empirical_images: int | None = None):
    """An exact-score denoiser of the data: its Gaussian model, its class-conditional Gaussian mixture, or the
    empirical optimum of (an evenly spaced subset of) its training images."""
    if kind == "gaussian":
        return denoisers.GaussianDenoiser.from_spectrum(spectrum.load(spectrum_path))
    images, labels, _ = datasets.load(train_path)
    if kind == "mixture":
        if labels is None:
            raise ValueError("the class-conditional mixture needs labels; this data set has none (use CIFAR-10)")
        return denoisers.GaussianMixtureDenoiser.fit(images, labels)
    if kind == "empirical":
        return denoisers.EmpiricalDenoiser.fit(images[datasets.subset(len(images), empirical_images)])
    raise ValueError(f"unknown oracle {kind!r}; valid: {', '.join(ORACLES)}")


def cell_seeds(sweep_config: dict, dataset: str, denoiser: str) -> list[int]:
    """The start-noise seeds of a (data set, denoiser) pair's cells: every one of ``seeds`` where ``every_seed``
    names the denoiser (all its data sets) or the pair as ``dataset/denoiser``, the first one elsewhere. The
    repeats add start states where the question is decided (the paired bootstrap pools them)."""
    seeds, chosen = sweep_config["seeds"], sweep_config["every_seed"]
    return list(seeds) if denoiser in chosen or f"{dataset}/{denoiser}" in chosen else list(seeds[:1])


def pairs(sweep_config: dict) -> list[tuple[str, str]]:
    """(data set, denoiser) of every swept pair: each of ``datasets`` with every oracle and network, then each of
    ``gaussian_datasets`` with the Gaussian oracle alone (a spectrum check, e.g. 16x16 against the JPEG chroma)."""
    everyone = sweep_config["denoisers"] + sweep_config["networks"]
    return ([(d, n) for d in sweep_config["datasets"] for n in everyone]
            + [(d, "gaussian") for d in sweep_config.get("gaussian_datasets", [])])


def cell_arrays(cell: dict, fields=CELL) -> dict[str, np.ndarray]:
    """The array in which a sample file records its own cell (the values of ``fields``, as one JSON string), to
    save beside its samples."""
    if sorted(cell) != sorted(fields):
        raise ValueError(f"a cell names {', '.join(fields)}; got {', '.join(cell)}")
    return {"cell": np.array(json.dumps(cell, sort_keys=True))}


def load_cell(path, fields=CELL) -> tuple[dict, np.lib.npyio.NpzFile]:
    """The cell a sample file records (:func:`cell_arrays`) and the file's arrays; a ValueError naming the file
    where it records no cell or one without all of ``fields``."""
    arrays = np.load(path)
    cell = json.loads(str(arrays["cell"])) if "cell" in arrays.files else {}
    missing = [f for f in fields if f not in cell]
    if missing:
        raise ValueError(f"{path} does not record its cell's {', '.join(missing)}: it was written before sample "
                         "files recorded their cell; delete it and run its rule again")
    return cell, arrays


def metric_rows(cell: dict, arrays) -> list[dict]:
    """A row of the sweep's metrics table per strategy of one sample file (:func:`load_cell`): its cell, the NFE
    its grid spends and the exact value of every Gaussian criterion (``kl_forward``: the KL's)."""
    rows = []
    for j, (label, nfe) in enumerate(zip(arrays["strategies"], arrays["nfe"])):
        criteria = {f"crit_{name}": float(arrays[f"criterion_{name}"][j]) for name in gaussian.CRITERIA}
        rows.append({"dataset": cell["dataset"], "denoiser": cell["denoiser"], "solver": cell["solver"],
                     "nfe_budget": cell["nfe"], "nfe": int(nfe), "seed": cell["seed"], "strategy": str(label),
                     "kl_forward": criteria["crit_kl"], **criteria})
    return rows


def loss_input(dataset: str, model: str) -> str:
    """The name of a trained model's loss log among a rule's inputs, so a script finds it from the cell that the
    model's sample file records (:data:`ABLATION_CELL`)."""
    return f"loss:{dataset}/{model}"


def generator(seed: int, *names) -> torch.Generator:
    """A torch generator seeded by the run seed and the names of what it draws (stable across runs and hosts)."""
    digest = hashlib.sha256("/".join(map(str, (seed, *names))).encode()).hexdigest()
    return torch.Generator().manual_seed(int(digest[:15], 16))


def grids(specs: dict, n: int, sigma_min: float, sigma_max: float, eigenvalues, solver: str, init: str,
          denoiser, search_states) -> dict[str, np.ndarray]:
    """The n-step grid of every strategy; the search baselines (gits, dmn) run ``denoiser`` on ``search_states``."""
    context = strategies.Context(eigenvalues, solver, init, denoiser=denoiser, samples=search_states)
    return {label: strategies.entry_grid(spec, n, sigma_min, sigma_max, context) for label, spec in specs.items()}


def sample(denoiser, start: torch.Tensor, grid, solver: str, resolution: int, batch: int = 256,
           generator: torch.Generator | None = None) -> np.ndarray:
    """Run ``solver`` from ``start`` on ``grid`` in batches; uint8 images N x H x W x C (clipped to [-1, 1]).
    A stochastic solver draws its per-step noise from ``generator``."""
    sampler, options = solvers.get(solver, stochastic=True), {}
    if solver in solvers.STOCHASTIC_SOLVERS:
        options["noise"] = lambda x: torch.randn(x.shape, generator=generator, dtype=x.dtype)
    out = []
    for x in torch.split(start, batch):
        with torch.inference_mode():
            x0 = sampler(denoiser, x, grid, **options)
        out.append(denoisers.to_uint8(denoisers.to_images(x0, resolution)).permute(0, 2, 3, 1).cpu().numpy())
    return np.concatenate(out)


def criteria_of_grids(eigenvalues, named_grids: dict, solver: str, init: str) -> dict[str, dict[str, float]]:
    """Criterion (every one of :data:`diffsched.method.gaussian.CRITERIA`) -> grid label -> its exact value for the data
    spectrum."""
    return {name: {k: gaussian.criterion(name, eigenvalues, g, solver, init) for k, g in named_grids.items()}
            for name in gaussian.CRITERIA}


def rank_correlation(table: pd.DataFrame, by=("dataset", "denoiser", "solver", "nfe_budget"),
                     predicted: str = "kl_forward", measured: str = "fid") -> pd.DataFrame:
    """Spearman and Kendall rank correlation between the KL's prediction and the measured metric, per group
    (seeds averaged first)."""
    rows = []
    mean = table.groupby([*by, "strategy"], as_index=False)[[predicted, measured]].mean()
    for key, block in mean.groupby(list(by)):
        rho = stats.spearmanr(block[predicted], block[measured]).statistic
        tau = stats.kendalltau(block[predicted], block[measured]).statistic
        rows.append({**dict(zip(by, key)), "strategies": len(block), "spearman": rho, "kendall": tau,
                     "kl_pick": block.loc[block[predicted].idxmin(), "strategy"],
                     "fid_pick": block.loc[block[measured].idxmin(), "strategy"]})
    return pd.DataFrame(rows)


def seed_spread(table: pd.DataFrame, by=("dataset", "denoiser", "solver", "nfe_budget", "strategy"),
                measured: str = "fid") -> pd.DataFrame:
    """Mean and standard deviation of the metric over seeds: the FID's sampling error for each cell."""
    grouped = table.groupby(list(by))[measured]
    return grouped.agg(["mean", "std", "count"]).reset_index().rename(
        columns={"mean": f"{measured}_mean", "std": f"{measured}_std", "count": "seeds"})


# A criterion's rank correlation with the metric counts as measured when its interval is at most +-0.3 wide.
SPEARMAN_HALF_WIDTH = 0.3


def bootstrap_rows(result: bootstrap.Scores, criteria: dict[str, dict[str, float]], baselines,
                   level: float = bootstrap.LEVEL) -> list[dict]:
    """One row per criterion and metric of a cell: the rank correlations of the criterion with the metric, its
    pick, the metric's best and the pick's regret (:func:`diffsched.metrics.bootstrap.summarise`), whether the Spearman
    interval is within +-SPEARMAN_HALF_WIDTH (``spearman_resolved``), then the metric of the
    pick minus that of each baseline of the cell (:func:`diffsched.metrics.bootstrap.compare`) with its verdict: 'pick
    better', 'baseline better', 'unresolved' (0 inside the interval) or 'is the pick'. Intervals as _lo, _hi."""
    verdicts = dict(zip(bootstrap.VERDICTS, ("pick better", "baseline better", "unresolved")))
    present = [b for b in baselines if b in result.strategies]
    rows = []
    for name, values in criteria.items():
        summary = bootstrap.summarise(result, values, level)
        pick = summary["pick"]
        for metric in result.point:
            row = {"criterion": name, "metric": metric, "pick": pick, "best": summary[metric]["best"]}
            for key in ("spearman", "kendall", "regret"):
                row.update(_flat(key, summary[metric][key]))
            lo, hi = summary[metric]["spearman"]["interval"]
            row["spearman_resolved"] = bool(hi - lo <= 2 * SPEARMAN_HALF_WIDTH)
            for b in present:
                c = bootstrap.compare(result, pick, b, metric, level)
                row.update(_flat(f"vs_{b}", c))
                row[f"vs_{b}_verdict"] = "is the pick" if b == pick else verdicts[c["verdict"]]
            rows.append(row)
    return rows


def score_rows(result: bootstrap.Scores, level: float = bootstrap.LEVEL) -> list[dict]:
    """One row per strategy and metric of a cell: the metric with its interval
    (:func:`diffsched.metrics.bootstrap.metric_intervals`)."""
    return [{"strategy": strategy, "metric": metric, **_flat("value", estimate)}
            for metric, by_strategy in bootstrap.metric_intervals(result, level).items()
            for strategy, estimate in by_strategy.items()]


def bootstrap_display(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`bootstrap_rows` for reading: each estimate as 'value [lo, hi]', each baseline column
    followed by its verdict; the cell's counts, replicates and level (named in the caption) left out."""
    keep = ["dataset", "denoiser", "solver", "nfe_budget", "criterion", "metric", "pick", "best"]
    out = table[keep].copy()
    out["spearman_resolved"] = table["spearman_resolved"].map({True: "yes", False: "no (interval > +-0.3)"})
    for key in [c[:-3] for c in table.columns if c.endswith("_lo")]:
        shown = pd.Series([f"{v:.3g} [{lo:.3g}, {hi:.3g}]" for v, lo, hi in
                           zip(table[key], table[f"{key}_lo"], table[f"{key}_hi"])], index=table.index)
        verdict = table.get(f"{key}_verdict")
        out[key] = shown if verdict is None else (shown + " " + verdict).where(verdict.notna(), "")
    return out


def _flat(key: str, estimate: dict) -> dict:
    lo, hi = estimate["interval"]
    return {key: estimate["estimate"], f"{key}_lo": lo, f"{key}_hi": hi}
