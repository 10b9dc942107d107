"""Exact-score oracle denoisers D(x; sigma) for the samplers of :mod:`diffsched.method.solvers`.

Convention: ``x`` is a torch tensor of shape (B, d), images flattened in HWC order and scaled to [-1, 1]
(the space of :mod:`diffsched.data.spectrum`), in the oracle's dtype (float64 by default, float32 allowed) and
on its device; ``sigma`` is a Python float. ``denoiser(x, sigma)`` returns a (B, d) tensor of the same kind.
:func:`to_images` / :func:`from_images` convert to and from (B, C, H, W) image tensors (C = 3 RGB, 1 grey),
:func:`to_uint8` quantises those for the metrics.

Each oracle is the posterior mean E[x_0 | x_0 + sigma * eps = x] of its distribution, so it is the exact
ideal denoiser for data drawn from it (:meth:`sample`), and :meth:`start` draws the sampler's start.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from diffsched.method import gaussian
from diffsched.data import spectrum
from diffsched.models.precond import EDM, VPCosine

DTYPES = (torch.float64, torch.float32)


def _check_dtype(dtype) -> torch.dtype:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype!r}")
    return dtype


def _check_sigma(sigma, positive: bool = False) -> float:
    s = float(sigma)
    if not math.isfinite(s) or s < 0 or (positive and s == 0):
        raise ValueError(f"sigma must be a finite number {'> 0' if positive else '>= 0'}, got {sigma!r}")
    return s


def _check_count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"number of samples must be an integer >= 1, got {n!r}")
    return n


class _OnlineSoftmax:
    """Running sum_j softmax(l)_j v_j over blocks of terms, rescaled to the running maximum of l
    (the online normaliser of Milakov & Gimelshein 2018): memory is one block, whatever the number of blocks."""

    def __init__(self):
        self.top = self.norm = self.total = None

    def add(self, logits: torch.Tensor, weigh) -> None:
        """Add a block: ``logits`` (B, c) and ``weigh(p)``, the (B, d) sum of the block's values weighted by p."""
        top = logits.max(dim=1).values
        if self.top is not None:
            top = torch.maximum(top, self.top)
        p = torch.exp(logits - top[:, None])
        if self.top is None:
            self.norm, self.total = p.sum(dim=1), weigh(p)
        else:
            scale = torch.exp(self.top - top)
            self.norm = self.norm * scale + p.sum(dim=1)
            self.total = self.total * scale[:, None] + weigh(p)
        self.top = top

    def result(self) -> torch.Tensor:
        return self.total / self.norm[:, None]


class _Oracle:
    """What the oracles share: parameters' dtype and device, the input check, and the sampler's start."""

    def __init__(self, dim: int, dtype, device):
        self.dim, self.dtype = dim, _check_dtype(dtype)
        self.device = torch.device(device if device is not None else "cpu")

    def _tensor(self, array) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array, dtype=np.float64)).to(self.device, self.dtype)

    def _check_input(self, x) -> torch.Tensor:
        if not torch.is_tensor(x) or x.ndim != 2 or x.shape[1] != self.dim:
            what = f"shape {tuple(x.shape)}" if torch.is_tensor(x) else f"a {type(x).__name__}"
            raise ValueError(f"x must be a torch tensor of shape (batch, {self.dim}), got {what}; "
                             f"flatten (B, 3, H, W) images with denoisers.from_images")
        if x.dtype != self.dtype:
            raise ValueError(f"x is {x.dtype} but the denoiser holds {self.dtype}; cast x or build the "
                             f"denoiser with dtype={x.dtype}")
        return x

    def _randn(self, n: int, generator) -> torch.Tensor:
        return torch.randn(n, self.dim, generator=generator, dtype=self.dtype, device=self.device)

    def start(self, n: int, sigma_max: float, init: str = "exact", generator: torch.Generator | None = None):
        """n sampler starts at noise level sigma_max (the inits of :func:`diffsched.method.gaussian.start_moments`).

        exact: x_0 + sigma_max * eps with x_0 from :meth:`sample`, the true marginal; edm: N(0, sigma_max^2 I);
        vp: N(0, (1 + sigma_max^2) I), a VP model's x_T ~ N(0, I) in sigma space.
        """
        if init not in gaussian.INITS:
            raise ValueError(f"unknown init {init!r}; valid: {', '.join(gaussian.INITS)}")
        s = _check_sigma(sigma_max, positive=True)
        n = _check_count(n)
        if init == "exact":
            return self.sample(n, generator) + s * self._randn(n, generator)
        variance = s * s if init == "edm" else 1.0 + s * s
        return math.sqrt(variance) * self._randn(n, generator)


class GaussianDenoiser(_Oracle):
    """Ideal denoiser of N(mu, U diag(lambda) U^T): D(x; sigma) = mu + U diag(lambda / (lambda + sigma^2)) U^T (x - mu)
    (docs/theory.md, "Setting"). ``eigenvectors`` are the orthonormal columns of U (d x d)."""

    def __init__(self, mean, eigenvalues, eigenvectors, dtype=torch.float64, device=None):
        lam = gaussian.check_eigenvalues(eigenvalues)
        d = lam.size
        mean, vectors = np.asarray(mean), np.asarray(eigenvectors)
        if mean.shape != (d,) or vectors.shape != (d, d):
            raise ValueError(f"for {d} eigenvalues the mean must have shape ({d},) and the eigenvectors ({d}, {d}); "
                             f"got {mean.shape} and {vectors.shape}")
        super().__init__(d, dtype, device)
        self.mean, self.eigenvalues, self.eigenvectors = self._tensor(mean), self._tensor(lam), self._tensor(vectors)

    @classmethod
    def from_spectrum(cls, spec: spectrum.Spectrum, dtype=torch.float64, device=None, **kwargs) -> GaussianDenoiser:
        """The Gaussian model of a data set's :class:`~diffsched.data.spectrum.Spectrum` (floored eigenvalues);
        ``kwargs`` go to the constructor (the blind subclass's ``precond``, ``span``, ``step``)."""
        if spec.eigenvectors.size == 0:
            raise ValueError("the spectrum has no eigenvectors; load it with spectrum.load(path, vectors=True)")
        return cls(spec.mean, spec.eigenvalues, spec.eigenvectors, dtype=dtype, device=device, **kwargs)

    def __call__(self, x, sigma: float) -> torch.Tensor:
        x = self._check_input(x)
        s2 = _check_sigma(sigma) ** 2
        z = (x - self.mean) @ self.eigenvectors
        return self.mean + (z * (self.eigenvalues / (self.eigenvalues + s2))) @ self.eigenvectors.T

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n exact draws of N(mu, Sigma): mu + U (sqrt(lambda) * eps)."""
        eps = self._randn(_check_count(n), generator)
        return self.mean + (eps * self.eigenvalues.sqrt()) @ self.eigenvectors.T


class GaussianMixtureDenoiser(_Oracle):
    """Ideal denoiser of sum_k pi_k N(mu_k, U_k diag(lambda_k) U_k^T):
    D(x; sigma) = sum_k w_k(x) [mu_k + U_k diag(lambda_k / (lambda_k + sigma^2)) U_k^T (x - mu_k)],
    w_k the posterior responsibilities under N(mu_k, Sigma_k + sigma^2 I). The log-densities use each
    component's eigenbasis (Mahalanobis and log-det from lambda_k + sigma^2, no matrix inverse) and the
    components are summed with a running logsumexp, so a call holds O(B d) memory besides the parameters.

    ``weights`` (K,) are normalised to sum 1; ``means`` (K, d), ``eigenvalues`` (K, d), ``eigenvectors``
    (K, d, d), orthonormal columns per component.
    """

    def __init__(self, weights, means, eigenvalues, eigenvectors, dtype=torch.float64, device=None):
        pi = np.asarray(weights, dtype=np.float64)
        if pi.ndim != 1 or pi.size == 0 or not np.all(np.isfinite(pi) & (pi > 0)):
            raise ValueError(f"weights must be a non-empty 1-D array of finite numbers > 0, got {weights!r}")
        k = pi.size
        lam = np.asarray(eigenvalues, dtype=np.float64)
        if lam.ndim != 2 or lam.shape[0] != k:
            raise ValueError(f"eigenvalues must have shape ({k}, d) for {k} weights, got {lam.shape}")
        for row in lam:
            gaussian.check_eigenvalues(row)
        d = lam.shape[1]
        means, vectors = np.asarray(means), np.asarray(eigenvectors)
        if means.shape != (k, d) or vectors.shape != (k, d, d):
            raise ValueError(f"for {k} components in d = {d} the means must have shape ({k}, {d}) and the "
                             f"eigenvectors ({k}, {d}, {d}); got {means.shape} and {vectors.shape}")
        super().__init__(d, dtype, device)
        self.weights, self.means = self._tensor(pi / pi.sum()), self._tensor(means)
        self.eigenvalues, self.eigenvectors = self._tensor(lam), self._tensor(vectors)

    @classmethod
    def fit(cls, images, labels, floor: float = spectrum.QUANTISATION_FLOOR, chunk: int = 1024,
            dtype=torch.float64, device=None) -> GaussianMixtureDenoiser:
        """One component per class of uint8 images (N x H x W x C): weight n_k / N and the class's
        :func:`diffsched.data.spectrum.compute` (mean, unbiased covariance, eigenvalues floored at ``floor``)."""
        if labels is None:
            raise ValueError("this data set has no labels (CelebA); use GaussianDenoiser for one Gaussian")
        labels = np.asarray(labels)
        if labels.shape != (len(images),):
            raise ValueError(f"need one label per image: {len(images)} images, labels of shape {labels.shape}")
        classes, counts = np.unique(labels, return_counts=True)
        if counts.min() < 2:
            raise ValueError(f"class {classes[counts.argmin()]!r} has {counts.min()} image; each class needs >= 2")
        d = int(np.prod(images.shape[1:]))
        means, lam = np.empty((classes.size, d)), np.empty((classes.size, d))
        vectors = np.empty((classes.size, d, d))
        for i, c in enumerate(classes):
            spec = spectrum.compute(images[labels == c], chunk=chunk, floor=floor)
            means[i], lam[i], vectors[i] = spec.mean, spec.eigenvalues, spec.eigenvectors
        return cls(counts, means, lam, vectors, dtype, device)

    def _components(self, x: torch.Tensor, s2: float):
        """Per component k: log(pi_k N(x; mu_k, Sigma_k + s2 I)) (B,) and the projection z = U_k^T (x - mu_k)."""
        log_2pi = self.dim * math.log(2.0 * math.pi)
        for k in range(self.weights.numel()):
            z = (x - self.means[k]) @ self.eigenvectors[k]
            var = self.eigenvalues[k] + s2
            log_n = -0.5 * ((z * z / var).sum(dim=1) + var.log().sum() + log_2pi)
            yield k, self.weights[k].log() + log_n, z

    def responsibilities(self, x, sigma: float) -> torch.Tensor:
        """Posterior component probabilities w_k(x; sigma), shape (B, K)."""
        x = self._check_input(x)
        s2 = _check_sigma(sigma) ** 2
        return torch.softmax(torch.stack([logw for _, logw, _ in self._components(x, s2)], dim=1), dim=1)

    def __call__(self, x, sigma: float) -> torch.Tensor:
        x = self._check_input(x)
        s2 = _check_sigma(sigma) ** 2
        acc = _OnlineSoftmax()
        for k, logw, z in self._components(x, s2):
            lam = self.eigenvalues[k]
            mean = self.means[k] + (z * (lam / (lam + s2))) @ self.eigenvectors[k].T
            acc.add(logw[:, None], lambda p, mean=mean: p * mean)
        return acc.result()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n exact mixture draws: a component k ~ pi, then mu_k + U_k (sqrt(lambda_k) * eps)."""
        component = torch.multinomial(self.weights, _check_count(n), replacement=True, generator=generator)
        x = self._randn(n, generator)
        for k in range(self.weights.numel()):
            rows = (component == k).nonzero().squeeze(1)
            if rows.numel():
                x[rows] = self.means[k] + (x[rows] * self.eigenvalues[k].sqrt()) @ self.eigenvectors[k].T
        return x


class EmpiricalDenoiser(_Oracle):
    """Ideal denoiser of the empirical distribution of training points y_1..y_N (Karras et al. 2022, EDM,
    Sec. 2 and App. B.3): D(x; sigma) = sum_i softmax_i(-||x - y_i||^2 / (2 sigma^2)) y_i.

    -||x - y_i||^2 = -||x||^2 + 2 x.y_i - ||y_i||^2; the ||x||^2 term is the same for every i and cancels in the
    softmax, so the logits are (x.y_i - ||y_i||^2 / 2) / sigma^2, one matmul per block of ``chunk`` points.
    Blocks are merged with a running logsumexp, so besides the N x d points a call of batch B allocates
    O(B * chunk + B * d): a (B, chunk) logit block and (B, d) accumulators, never an N x d temporary.
    Exact in float64; in float32 the logits lose precision at small sigma (the result tends to the nearest
    point all the same).
    """

    def __init__(self, points, chunk: int = 1024, dtype=torch.float64, device=None):
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise ValueError(f"chunk must be an integer >= 1 (training points per block), got {chunk!r}")
        shape = tuple(points.shape)
        if len(shape) != 2 or shape[0] == 0:
            raise ValueError(f"points must be a non-empty (N, d) array; for uint8 images use "
                             f"EmpiricalDenoiser.fit, got shape {shape}")
        super().__init__(shape[1], dtype, device)
        self.chunk = chunk
        self.points = torch.as_tensor(points).to(self.device, self.dtype)
        self._half_sq = torch.cat([0.5 * (y * y).sum(dim=1) for y in self.points.split(chunk)])

    @classmethod
    def fit(cls, images, chunk: int = 1024, dtype=torch.float64, device=None, **kwargs) -> EmpiricalDenoiser:
        """The training set's uint8 images (N x H x W x C), scaled to [-1, 1] one chunk at a time; ``kwargs`` go
        to the constructor (the blind subclass's ``precond``, ``span``, ``step``)."""
        points = torch.empty(len(images), int(np.prod(images.shape[1:])), dtype=_check_dtype(dtype))
        for a, block in zip(range(0, len(images), chunk), spectrum.chunks(images, chunk)):
            points[a : a + len(block)] = torch.from_numpy(block)
        return cls(points, chunk=chunk, dtype=dtype, device=device, **kwargs)

    def __call__(self, x, sigma: float) -> torch.Tensor:
        x = self._check_input(x)
        inv_s2 = 1.0 / _check_sigma(sigma, positive=True) ** 2
        acc = _OnlineSoftmax()
        for y, half_sq in zip(self.points.split(self.chunk), self._half_sq.split(self.chunk)):
            acc.add((x @ y.T - half_sq) * inv_s2, lambda p, y=y: p @ y)
        return acc.result()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n training points drawn uniformly with replacement (exact draws of the empirical distribution)."""
        index = torch.randint(self.points.shape[0], (_check_count(n),), generator=generator, device=self.device)
        return self.points[index]



NODE_BLOCK = 32  # noise-level quadrature nodes per block of the blind oracles
EDM_DEFAULTS = EDM()  # the blind oracles' default training objective, the EDM paper's


def sigma_quadrature(precond, dim: int, span: float = 8.0, step: float | None = None):
    """Nodes s_j (J,) and log weights (J,), up to a constant, of a quadrature against the training density of
    sigma of ``precond`` (float64), for the noise-blind oracles in dimension ``dim``.

    VPCosine: its T training sigma_t with equal weights, the training distribution itself (the sums are exact).
    EDM: ln s on a uniform grid of spacing ``step`` over p_mean +- span * p_std, weighted by the normal density
    of ln s (the trapezoid rule, exponentially accurate once the step resolves the posterior of ln s, whose
    width is no less than about 1 / sqrt(2 dim)); the default step min(p_std, 1 / sqrt(2 dim)) / 2 keeps the
    oracles within 1e-8 of a much finer grid (docs/blind-oracles.md, measured in tests/test_blind.py). The
    posterior is truncated to the grid: exact only while its mass lies within p_mean +- span * p_std.
    """
    if isinstance(precond, VPCosine):
        return precond.sigmas.clone(), torch.zeros_like(precond.sigmas)
    if not isinstance(precond, EDM):
        raise ValueError(f"unknown preconditioning {precond!r}; the blind oracles take a diffsched.models.precond.EDM "
                         f"or VPCosine object (diffsched.models.precond.get(name) makes one)")
    if not (span > 0 and math.isfinite(span)) or (step is not None and not (step > 0 and math.isfinite(step))):
        raise ValueError(f"span and step must be finite numbers > 0, got {span!r} and {step!r}")
    if step is None:
        step = min(precond.p_std, 1.0 / math.sqrt(2.0 * dim)) / 2.0
    half = math.ceil(span * precond.p_std / step)
    offsets = step * torch.arange(-half, half + 1, dtype=torch.float64)
    return (precond.p_mean + offsets).exp(), -0.5 * (offsets / precond.p_std) ** 2


class SigmaPosterior(NamedTuple):
    """Posterior of the training noise level s given a blind network's input: the quadrature nodes ``sigmas``
    (J,), their normalised posterior ``weights`` (B, J) and the posterior mean of ln s, ``mean_log`` (B,)."""

    sigmas: torch.Tensor
    weights: torch.Tensor
    mean_log: torch.Tensor


class _NoiseBlind:
    """The Bayes-optimal denoiser of a network F(u) that never sees sigma (Sun et al. 2025, arXiv 2502.13129;
    arXiv 2606.20416), trained with the objective of :mod:`diffsched.models.precond` (docs/blind-oracles.md):

        F*(u) = E[w(s) (y - c_skip(s) x') / c_out(s) | u] / E[w(s) | u],   x' = u / c_in(s),  w = lambda c_out^2,
        D(x; sigma) = c_skip(sigma) x + c_out(sigma) F*(c_in(sigma) x),

    the expectation over the training sigma s (by :func:`sigma_quadrature`), the data y and the noise. A subclass
    is a conditioned oracle that adds ``_terms(u)``: per block of nodes j, log p(x' | s_j, k) (B, K, block)
    for its K data components k and ``weigh(p)``, the (B, d) sum of p times E[(y - c_skip x') / c_out | x', s_j, k].
    """

    def _set_training(self, precond, span: float, step: float | None) -> None:
        sigmas, log_prior = sigma_quadrature(precond, self.dim, span, step)
        c_skip, c_out, c_in, _ = precond.scalings(sigmas)
        self.precond = precond
        self.sigmas, self._c_skip, self._c_out, self._c_in = (
            t.to(self.device, self.dtype) for t in (sigmas, c_skip, c_out, c_in))
        # log prior with the Jacobian of u = c_in(s) x': p(u | s) = c_in(s)^-d p(x' | s)
        self._log_base = (log_prior - self.dim * c_in.log()).to(self.device, self.dtype)
        self._log_w = (precond.weight(sigmas) * c_out**2).log().to(self.device, self.dtype)
        self._blocks = [slice(a, a + NODE_BLOCK) for a in range(0, sigmas.numel(), NODE_BLOCK)]

    def _scalings(self, sigma) -> tuple[float, float, float]:
        s = torch.tensor(_check_sigma(sigma, positive=True), dtype=torch.float64)
        c_skip, c_out, c_in, _ = self.precond.scalings(s)
        return float(c_skip), float(c_out), float(c_in)

    def __call__(self, x, sigma: float) -> torch.Tensor:
        x = self._check_input(x)
        c_skip, c_out, c_in = self._scalings(sigma)
        return c_skip * x + c_out * self.network(c_in * x)

    def network(self, u) -> torch.Tensor:
        """F*(u) (B, d), the Bayes-optimal output of the blind network for its input u (B, d)."""
        u = self._check_input(u)
        acc = _OnlineSoftmax()
        for j, log_p, weigh in self._terms(u):
            logits = log_p + self._log_base[j] + self._log_w[j]
            acc.add(logits.flatten(1), lambda p, shape=logits.shape, weigh=weigh: weigh(p.view(shape)))
        return acc.result()

    def sigma_posterior(self, x, sigma: float) -> SigmaPosterior:
        """p(s | u) of the training noise level s given the network's input u = c_in(sigma) x (without w)."""
        x = self._check_input(x)
        u = self._scalings(sigma)[2] * x
        log_post = torch.full((x.shape[0], self.sigmas.numel()), -math.inf, dtype=self.dtype, device=self.device)
        for j, log_p, _ in self._terms(u):
            log_post[:, j] = torch.logaddexp(log_post[:, j], log_p.logsumexp(dim=1) + self._log_base[j])
        weights = torch.softmax(log_post, dim=1)
        return SigmaPosterior(self.sigmas, weights, weights @ self.sigmas.log())


class BlindGaussianDenoiser(_NoiseBlind, GaussianDenoiser):
    """Noise-blind Bayes-optimal denoiser for data N(mu, U diag(lambda) U^T) (see :class:`_NoiseBlind`).

    Given s, x' = u / c_in(s) ~ N(mu, Sigma + s^2 I) and E[y | x', s] is :class:`GaussianDenoiser`'s; both in the
    eigenbasis, z = U^T (x' - mu). ``precond``: :class:`~diffsched.models.precond.EDM` or
    :class:`~diffsched.models.precond.VPCosine`; ``span``, ``step``: the EDM quadrature (:func:`sigma_quadrature`).
    The sums over directions are matmuls (no (B, NODE_BLOCK, d) temporary): a call holds O((B + NODE_BLOCK) d)
    memory besides the parameters, and takes about 1 s for B = 64, d = 3072 (3,011 nodes) on one CPU thread.
    """

    def __init__(self, mean, eigenvalues, eigenvectors, precond=EDM_DEFAULTS, span: float = 8.0,
                 step: float | None = None, dtype=torch.float64, device=None):
        GaussianDenoiser.__init__(self, mean, eigenvalues, eigenvectors, dtype, device)
        self._set_training(precond, span, step)

    def network(self, u) -> torch.Tensor:
        return super().network(u) @ self.eigenvectors.T  # the terms are summed in the eigenbasis

    def _terms(self, u: torch.Tensor):
        a, b = u @ self.eigenvectors, self.mean @ self.eigenvectors
        for j in self._blocks:
            c_in, c_skip, c_out = self._c_in[j], self._c_skip[j], self._c_out[j]
            inv_var = 1.0 / (self.eigenvalues + self.sigmas[j, None] ** 2)  # (block, d)
            # sum_i z_i^2 / var_i with z = U^T (x' - mu) = a / c_in - b, expanded into matmuls over directions i
            quad = ((a * a) @ inv_var.T / c_in - 2.0 * (a * b) @ inv_var.T) / c_in + inv_var @ (b * b)
            log_p = -0.5 * (quad - inv_var.log().sum(dim=1))
            # U^T (E[y | x', s] - c_skip x') / c_out = gain z + offset b, gain = (lambda / var - c_skip) / c_out
            gain = (self.eigenvalues * inv_var - c_skip[:, None]) / c_out[:, None]
            keep = ((1 - c_skip) / c_out)[:, None] - gain
            yield j, log_p[:, None], lambda p, gain=gain, keep=keep, c_in=c_in: (
                a * ((p[:, 0] / c_in) @ gain) + b * (p[:, 0] @ keep))


class BlindEmpiricalDenoiser(_NoiseBlind, EmpiricalDenoiser):
    """Noise-blind Bayes-optimal denoiser for the empirical distribution of training points y_1..y_N (see
    :class:`_NoiseBlind`): :class:`EmpiricalDenoiser`'s softmax, now over points i and noise levels s_j jointly,
    logits ln q_j + ln w_j - d ln c_in_j - d ln s_j - |u / c_in_j - y_i|^2 / (2 s_j^2), summing
    (y_i - c_skip_j x'_j) / c_out_j. Blocks of ``chunk`` points times NODE_BLOCK nodes are merged with a running
    logsumexp, so a call holds O(B * chunk * NODE_BLOCK + B * d) memory besides the points. As for the
    conditioned oracle, |u / c - y|^2 is expanded into dot products: in float64 its logits lose about
    1e-16 |x'|^2 / s^2, so only nodes s below 1e-4 (|x'|^2 ~ d) lose accuracy.
    """

    def __init__(self, points, precond=EDM_DEFAULTS, chunk: int = 1024, span: float = 8.0, step: float | None = None,
                 dtype=torch.float64, device=None):
        EmpiricalDenoiser.__init__(self, points, chunk, dtype, device)
        self._set_training(precond, span, step)

    def _terms(self, u: torch.Tensor):
        half_u2 = 0.5 * (u * u).sum(dim=1)[:, None, None]
        for y, half_sq in zip(self.points.split(self.chunk), self._half_sq.split(self.chunk)):
            uy = (u @ y.T)[:, :, None]
            for j in self._blocks:
                c_in, s = self._c_in[j], self.sigmas[j]
                log_p = -(half_u2 / c_in**2 - uy / c_in + half_sq[:, None]) / s**2 - self.dim * s.log()
                through = self._c_skip[j] / (c_in * self._c_out[j])
                yield j, log_p, lambda p, y=y, j=j, through=through: (
                    (p / self._c_out[j]).sum(dim=2) @ y - u * (p * through).sum(dim=(1, 2))[:, None])


CHANNELS = (3, 1)  # RGB, grey


def image_shape(dimension: int) -> tuple[int, int]:
    """(resolution r, channels C) of square images of ``dimension`` = C r^2 values, C = 3 (RGB) or 1 (grey). At
    most one C fits, since 3 r^2 = s^2 has no integer solution (sqrt(3) is irrational)."""
    for channels in CHANNELS:
        resolution = round((dimension / channels) ** 0.5)
        if channels * resolution**2 == dimension:
            return resolution, channels
    raise ValueError(f"{dimension} values are not a square RGB or grey image (3 r^2 or r^2)")


def to_images(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """(B, d) rows in flattened HWC order -> (B, C, H, W) images (a view), H = W = resolution, C = d / r^2 = 3
    (RGB) or 1 (grey)."""
    channels = x.shape[1] // resolution**2 if x.ndim == 2 else 0
    if channels not in CHANNELS or x.shape[1] != channels * resolution**2:
        raise ValueError(f"rows of length 3 * {resolution}^2 = {3 * resolution**2} (RGB) or {resolution**2} (grey) "
                         f"expected for resolution {resolution}, got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0], resolution, resolution, channels).permute(0, 3, 1, 2)


def from_images(images: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) images, C = 3 or 1 -> (B, d) rows in the flattened HWC order of :mod:`diffsched.data.spectrum`."""
    if images.ndim != 4 or images.shape[1] not in CHANNELS:
        raise ValueError(f"images must have shape (B, 3, H, W) or (B, 1, H, W), got {tuple(images.shape)}")
    return images.permute(0, 2, 3, 1).reshape(images.shape[0], -1)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images -> uint8 (clamped, rounded), the inverse of spectrum.scale's x / 127.5 - 1 on its grid."""
    return ((images + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
