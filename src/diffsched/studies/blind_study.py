"""Does a denoiser that never sees the noise level sample as well as a conditioned one? The ideal oracles' answer.

Two pairs of oracles (Sun et al. 2025, arXiv 2502.13129; arXiv 2606.20416; docs/blind-oracles.md): for the data's
Gaussian model N(mu, U diag(lambda) U^T) the conditioned :class:`~diffsched.models.denoisers.GaussianDenoiser` and the
noise-blind Bayes optimum :class:`~diffsched.models.denoisers.BlindGaussianDenoiser`; for the empirical distribution of
training images :class:`~diffsched.models.denoisers.EmpiricalDenoiser` and
:class:`~diffsched.models.denoisers.BlindEmpiricalDenoiser`.
Both oracles of a pair run through the same sampler from the same N start states (and, for the ancestral sampler,
the same fresh noise). Measures, in the data's eigenbasis z = U^T (x - mu) (for the empirical pair too: its images
are pooled by the same linear map as the spectrum, :func:`pooled_points`):

- per-direction variances v_i = mean_n z_ni^2 (about the model's mean, so a biased mean counts too) against
  lambda_i: W2^2 between N(0, diag(v)) and N(0, diag(lambda)) per dimension, mean_i (sqrt v_i - sqrt lambda_i)^2,
  and the mean over directions of KL(N(0, v_i) || N(0, lambda_i)) = (v_i / lambda_i - 1 - ln(v_i / lambda_i)) / 2;
- the denoiser gap E|D_blind(x; sigma) - D(x; sigma)|^2 / d on the conditioned sampler's trajectory, per sigma;
- FID and KID of the samples' Inception features against reference images (:func:`scores`).

Intervals: the paired bootstrap of :mod:`diffsched.metrics.bootstrap` over the shared start states (one resample of the
N states for both arms), so blind minus conditioned has its own interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from diffsched.metrics import bootstrap
from diffsched.models import denoisers
from diffsched.method import solvers, strategies
from diffsched.data import spectrum
from diffsched.method.schedules import SIGMA_MAX, SIGMA_MIN
from diffsched.models.denoisers import (BlindEmpiricalDenoiser, BlindGaussianDenoiser, EmpiricalDenoiser,
                                        GaussianDenoiser)

ORACLES = ("gaussian", "empirical")
ARMS = ("conditioned", "blind")
EDM_GRID = {"schedule": "edm", "params": {"rho": 7}}  # the samplers' grid unless told otherwise (Karras et al. 2022)
MEASURES = ("w2", "kl")
SCORES = ("fid", "kid")
VERDICTS = ("blind worse", "no resolved difference", "blind better")


def pooled(spec: spectrum.Spectrum, factor: int) -> spectrum.Spectrum:
    """The spectrum of the data average-pooled over factor x factor pixel blocks (HWC rows of a square RGB or grey
    image): pooling is a linear map P, so the pooled data have mean P mu and covariance (P U) diag(lambda) (P U)^T,
    floored again at the spectrum's floor."""
    resolution, channels = denoisers.image_shape(spec.mean.size)
    if resolution % factor:
        raise ValueError(f"cannot pool a {resolution}x{resolution} spectrum by {factor} ({factor} does not divide "
                         f"{resolution})")
    if factor == 1:
        return spec
    h, w, c = np.meshgrid(np.arange(resolution), np.arange(resolution), np.arange(channels), indexing="ij")
    low = resolution // factor
    rows = (((h // factor) * low + w // factor) * channels + c).ravel()
    pool = np.zeros((channels * low**2, spec.mean.size))
    pool[rows, np.arange(spec.mean.size)] = 1.0 / factor**2
    pu = pool @ spec.eigenvectors
    values, vectors = spectrum.eigen((pu * spec.eigenvalues) @ pu.T)
    values, n_floored = spectrum.apply_floor(values, spec.floor)
    meta = dict(spec.meta, pooled_from=resolution, resolution=low)
    return spectrum.Spectrum(pool @ spec.mean, values, vectors, spec.floor, n_floored, spec.n_samples, meta)


def pooled_points(images: np.ndarray, factor: int) -> np.ndarray:
    """uint8 N x H x W x C images scaled to [-1, 1] and averaged over factor x factor blocks in float (no
    rounding): rows in the HWC order of :mod:`diffsched.data.spectrum`, pooled by the linear map of :func:`pooled`, so
    their mean and covariance are those of the spectrum of the images pooled by :func:`pooled`."""
    n, h, w, c = images.shape
    blocks = spectrum.scale(images).reshape(n, h // factor, factor, w // factor, factor, c)
    return blocks.mean(axis=(2, 4)).reshape(n, -1)


def oracles(kind: str, spec: spectrum.Spectrum, points=None, precond_kwargs: dict | None = None) -> tuple:
    """The conditioned and noise-blind oracles of ``kind``: ``gaussian``, of the Gaussian model of ``spec``;
    ``empirical``, of the empirical distribution of ``points`` (N, d) rows in [-1, 1] (e.g. :func:`pooled_points`).
    ``precond_kwargs`` go to the blind oracle (its training objective, quadrature)."""
    kwargs = precond_kwargs or {}
    if kind == "gaussian":
        return GaussianDenoiser.from_spectrum(spec), BlindGaussianDenoiser.from_spectrum(spec, **kwargs)
    if kind == "empirical":
        points = torch.as_tensor(points, dtype=torch.float64)
        return EmpiricalDenoiser(points), BlindEmpiricalDenoiser(points, **kwargs)
    raise ValueError(f"unknown oracle {kind!r}; valid: {', '.join(ORACLES)}")


def sample_images(z: np.ndarray, spec: spectrum.Spectrum) -> np.ndarray:
    """uint8 N x r x r x C images of eigenbasis samples z (N, d) of :func:`run`: x = mu + U z, clipped and
    rounded like every sampler's output (:func:`diffsched.models.denoisers.to_uint8`)."""
    x = torch.from_numpy(spec.mean + z @ spec.eigenvectors.T)
    resolution, _ = denoisers.image_shape(spec.mean.size)
    return denoisers.to_uint8(denoisers.to_images(x, resolution)).permute(0, 2, 3, 1).numpy()


def image_key(resolution: int, sampler: str, arm: str) -> str:
    """The name of one arm's images in the study's samples file: ``r<resolution>-<sampler>-<arm>``."""
    return f"r{resolution}-{sampler}-{arm}"


def w2_per_dim(variances, eigenvalues) -> np.ndarray:
    """W2^2(N(0, diag(v)), N(0, diag(lambda))) / d = mean_i (sqrt v_i - sqrt lambda_i)^2, over the last axis."""
    return np.mean((np.sqrt(variances) - np.sqrt(eigenvalues)) ** 2, axis=-1)


def kl_per_direction(variances, eigenvalues) -> np.ndarray:
    """mean_i KL(N(0, v_i) || N(0, lambda_i)) = mean_i (r_i - 1 - ln r_i) / 2, r = v / lambda, over the last axis."""
    r = np.asarray(variances) / eigenvalues
    return np.mean(r - 1.0 - np.log(r), axis=-1) / 2.0


def paired(a: np.ndarray, b: np.ndarray, reps_a: np.ndarray, reps_b: np.ndarray, level: float) -> dict:
    """Estimates of arms a and b and of b - a from point values and paired bootstrap replicates, each with the
    bias-shifted percentile interval of :func:`diffsched.metrics.bootstrap.metric_estimate`; the verdict reads b - a
    (lower is better): 'blind worse' when the interval lies above 0, 'blind better' below, else unresolved."""
    out = {}
    for name, point, reps in (("conditioned", a, reps_a), ("blind", b, reps_b), ("difference", b - a, reps_b - reps_a)):
        est = bootstrap.metric_estimate(point, reps, level)
        out.update({name: est["estimate"], f"{name}_lo": est["interval"][0], f"{name}_hi": est["interval"][1]})
    out["verdict"] = (VERDICTS[0] if out["difference_lo"] > 0 else VERDICTS[2] if out["difference_hi"] < 0
                      else VERDICTS[1])
    return out


class _GapRecorder:
    """The conditioned oracle, recording |D_blind - D|^2 / d per sample at every call (the sampler's trajectory)."""

    def __init__(self, conditioned, blind):
        self.conditioned, self.blind, self.sigmas, self.gaps = conditioned, blind, [], []

    def __call__(self, x, sigma):
        d = self.conditioned(x, sigma)
        self.sigmas.append(float(sigma))
        self.gaps.append(((self.blind(x, sigma) - d) ** 2).mean(dim=1).numpy())
        return d


def run(spec: spectrum.Spectrum, samplers: dict, n: int, seed_generator, sigma_min: float = SIGMA_MIN,
        sigma_max: float = SIGMA_MAX, strategy: dict = EDM_GRID, init: str = "exact", trajectory: str | None = None,
        precond_kwargs: dict | None = None, oracle: str = "gaussian", points=None) -> tuple[dict, pd.DataFrame]:
    """Run both oracles of ``oracle`` (:func:`oracles`: of ``spec``'s Gaussian model, or of the empirical
    distribution of ``points``) through every sampler of ``samplers`` (label -> {solver, steps}, on the grid of the
    closed-form ``strategy`` entry over [sigma_min, sigma_max]) from the same n starts. ``seed_generator(*names)`` gives
    a torch generator per draw (the starts, each ancestral sampler's noise). Returns per label the eigenbasis samples
    {"conditioned": (n, d), "blind": (n, d)} (z = U^T (x - mu) in ``spec``'s eigenbasis) and the gap per sample
    along the conditioned trajectory of the sampler ``trajectory`` (rows sigma x sample, columns sigma, sample,
    gap; empty without one).
    ``precond_kwargs`` go to the blind oracle (its training objective, quadrature)."""
    conditioned, blind = oracles(oracle, spec, points, precond_kwargs)
    mean, basis = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (spec.mean, spec.eigenvectors))
    start = conditioned.start(n, sigma_max, init, seed_generator("start"))
    samples, gap = {}, pd.DataFrame(columns=["sigma", "sample", "gap"])
    for label, s in samplers.items():
        sampler = solvers.get(s["solver"], stochastic=True)
        grid = strategies.entry_grid(strategy, s["steps"], sigma_min, sigma_max)
        arms = {"conditioned": conditioned, "blind": blind}
        if label == trajectory:
            arms["conditioned"] = recorder = _GapRecorder(conditioned, blind)
        samples[label] = {}
        for arm, denoiser in arms.items():
            kwargs = {}
            if s["solver"] in solvers.STOCHASTIC_SOLVERS:
                noise = seed_generator("noise", label)  # the same stream for both arms
                kwargs["noise"] = lambda x, g=noise: torch.randn(x.shape, generator=g, dtype=x.dtype)
            x = sampler(denoiser, start.clone(), grid, **kwargs)
            samples[label][arm] = ((x - mean) @ basis).numpy()
        if label == trajectory:
            gap = pd.DataFrame({"sigma": np.repeat(recorder.sigmas, n),
                                "sample": np.tile(np.arange(n), len(recorder.sigmas)),
                                "gap": np.concatenate(recorder.gaps)})
    return samples, gap


def measures(samples: dict, eigenvalues, replicates: int, rng: np.random.Generator,
             level: float = bootstrap.LEVEL) -> pd.DataFrame:
    """Per sampler and measure (w2, kl): both arms and blind minus conditioned with paired intervals (one
    multinomial resample of the start states per replicate, shared by the arms) and the verdict."""
    rows = []
    for label, arms in samples.items():
        n = len(arms["conditioned"])
        counts = bootstrap.resample(n, replicates, rng)
        var = {arm: (z**2).mean(axis=0) for arm, z in arms.items()}
        reps = {arm: counts @ z**2 / n for arm, z in arms.items()}
        for measure, fn in zip(MEASURES, (w2_per_dim, kl_per_direction)):
            rows.append({"sampler": label, "measure": measure, **paired(
                fn(var["conditioned"], eigenvalues), fn(var["blind"], eigenvalues),
                fn(reps["conditioned"], eigenvalues), fn(reps["blind"], eigenvalues), level)})
    return pd.DataFrame(rows)


def scores(features: dict, reference: np.ndarray, replicates: int, seed: int, metrics=SCORES,
           level: float = bootstrap.LEVEL) -> pd.DataFrame:
    """Per sampler and metric of ``metrics`` (fid, kid): both arms and blind minus conditioned with paired
    intervals over the shared start states (:func:`diffsched.metrics.bootstrap.scores`, one resample for every sampler
    and arm) and the verdict. ``features``: sampler -> {"conditioned": (n, k), "blind": (n, k)} Inception
    features (row i from start i); ``reference``: (m, k) features of the reference images."""
    sets = {(label, arm): arms[arm] for label, arms in features.items() for arm in ARMS}
    result = bootstrap.scores(dict(zip(map(str, sets), sets.values())), reference, replicates, seed)
    column = {key: j for j, key in enumerate(sets)}  # result.strategies: the sets in this order
    rows = []
    for label in features:
        a, b = column[label, ARMS[0]], column[label, ARMS[1]]
        for metric in metrics:
            point, reps = result.point[metric], result.replicates[metric]
            rows.append({"sampler": label, "measure": metric,
                         **paired(point[a], point[b], reps[:, a], reps[:, b], level)})
    return pd.DataFrame(rows)


def gap_by_sigma(gap: pd.DataFrame, replicates: int, rng: np.random.Generator,
                 level: float = bootstrap.LEVEL) -> pd.DataFrame:
    """Mean gap per sigma (in call order; Heun's repeated sigmas are averaged) with a bootstrap interval over the
    samples (one resample for every sigma)."""
    wide = gap.pivot_table(index="sigma", columns="sample", values="gap", aggfunc="mean").sort_index(ascending=False)
    counts = bootstrap.resample(wide.shape[1], replicates, rng)
    reps = counts @ wide.to_numpy().T / wide.shape[1]
    lo, hi = np.array([bootstrap.interval(reps[:, k], level) for k in range(wide.shape[0])]).T
    return pd.DataFrame({"sigma": wide.index, "gap": wide.mean(axis=1).to_numpy(), "gap_lo": lo, "gap_hi": hi})
