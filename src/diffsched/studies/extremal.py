"""Is the Gaussian extremal for the KL among sources of equal variance? Exactly, in one dimension (arXiv 2601.13602,
v3: "the Gaussian source exhibits an extremal property for the KL divergence among general source distributions
with a given covariance"; the direction is not stated).

In 1-D the Euler sampler with the exact denoiser is a monotone map T: x_start -> x_out. Each step multiplies the
derivative by r + (1 - r) D'(x; sigma) with r = sigma_next / sigma in [0, 1) and D' = Var[x0 | x] / sigma^2 >= 0
(Tweedie), so the output density is q(T(x)) = p_start(x) / T'(x) by change of variables. A fine uniform grid of start
points is pushed through the real :func:`diffsched.method.solvers.euler` code with a denoiser that returns D and D'
(:class:`Tangent` carries dT/dx_start through the solver's arithmetic), and every divergence is an integral over the
start grid (trapezoid rule):

- KL(output || source) = int p_start(x) [log q(T(x)) - log p0(T(x))] dx,
- KL(source || output) = int p0(T(x)) T'(x) [log p0(T(x)) - log q(T(x))] dx,
- W2^2(output, source) = int p_start(x) [T(x) - Q0(F_start(x))]^2 dx (Q0 the source's quantile function),

with the project's names: ``kl_forward`` = KL(source || output) (criterion ``kl``), ``kl_reverse`` the other, ``w2``
squared (criterion ``w2``). The sources (:class:`Mixture`, :class:`Laplace`, :class:`Uniform`) have mean 0 and
variance 1, and their posterior moments in closed form (Gaussian components, truncated normals);
:func:`posterior_by_quadrature` computes the same moments on a fine x0 grid, which the tests compare. For a Gaussian
source the output is Gaussian, so :func:`diffsched.method.gaussian.criterion` is the independent check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from diffsched.method import gaussian, solvers
from diffsched.method import strategies as registry

LOG_2PI = math.log(2.0 * math.pi)
CHUNK = 2048  # start points per block of a mixture's (points x components) arrays
METRICS = ("kl_forward", "kl_reverse", "w2")


def _log_phi(z):
    return -0.5 * z * z - 0.5 * LOG_2PI


def _log_interval(alpha, beta):
    """log(Phi(beta) - Phi(alpha)) for alpha < beta, precise in either tail."""
    upper = alpha > 0  # both in the upper tail: Phi(-alpha) - Phi(-beta)
    lo, hi = np.where(upper, -beta, alpha), np.where(upper, -alpha, beta)
    a, b = special.log_ndtr(lo), special.log_ndtr(hi)
    with np.errstate(divide="ignore"):
        return b + np.log1p(-np.exp(a - b))


def truncated_normal(alpha, beta):
    """Mean, variance and log mass of a standard normal truncated to [alpha, beta] (either end may be infinite)."""
    alpha, beta = np.broadcast_arrays(np.asarray(alpha, dtype=np.float64), np.asarray(beta, dtype=np.float64))
    log_z = _log_interval(alpha, beta)
    with np.errstate(invalid="ignore", over="ignore"):
        ra = np.exp(_log_phi(alpha) - log_z)  # phi(alpha) / Z (0 at an infinite end)
        rb = np.exp(_log_phi(beta) - log_z)
        mean = ra - rb
        # one-sided: the inverse Mills ratio through erfcx, precise where log_ndtr's large logs would cost digits
        root = math.sqrt(2.0 / math.pi)
        mean = np.where(~np.isfinite(beta) & np.isfinite(alpha), root / special.erfcx(alpha / math.sqrt(2.0)), mean)
        mean = np.where(~np.isfinite(alpha) & np.isfinite(beta), -root / special.erfcx(-beta / math.sqrt(2.0)), mean)
        a_term = np.where(np.isfinite(alpha), alpha * ra, 0.0)
        b_term = np.where(np.isfinite(beta), beta * rb, 0.0)
        one_sided_up = ~np.isfinite(beta)  # [alpha, inf): 1 - m (m - alpha), without cancellation for large alpha
        one_sided_down = ~np.isfinite(alpha)  # (-inf, beta]: 1 - m (m - beta) with m < beta
        var = np.where(
            one_sided_up,
            1.0 - mean * (mean - np.where(one_sided_up, alpha, 0.0)),
            np.where(
                one_sided_down,
                1.0 - mean * (mean - np.where(one_sided_down, beta, 0.0)),
                1.0 + a_term - b_term - mean * mean,
            ),
        )
    return mean, np.maximum(var, 0.0), log_z


@dataclass(frozen=True)
class Mixture:
    """sum_k w_k N(mu_k, v_k): the Gaussian (one component), two-component mixtures, a kernel density."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    support: tuple[float, float] = (-math.inf, math.inf)

    def _logits(self, x, s2):
        v = self.variances + s2
        return np.log(self.weights) - 0.5 * np.log(v) - 0.5 * (x[:, None] - self.means) ** 2 / v - 0.5 * LOG_2PI

    def log_marginal(self, x, sigma: float) -> np.ndarray:
        """log p_sigma(x), p_sigma = p0 * N(0, sigma^2)."""
        x = np.asarray(x, dtype=np.float64)
        s2 = sigma * sigma
        if np.all(self.variances == self.variances[0]):  # one variance: the x^2 term leaves the sum
            total = self.variances[0] + s2
            bias = np.log(self.weights) - 0.5 * self.means**2 / total
            parts = [
                special.logsumexp(np.multiply.outer(x[a : a + CHUNK] / total, self.means) + bias, axis=1)
                for a in range(0, x.size, CHUNK)
            ]
            return np.concatenate(parts) - 0.5 * x * x / total - 0.5 * (LOG_2PI + math.log(total))
        return np.concatenate(
            [special.logsumexp(self._logits(x[a : a + CHUNK], s2), axis=1) for a in range(0, x.size, CHUNK)]
        )

    def log_density(self, y) -> np.ndarray:
        return self.log_marginal(y, 0.0)

    def posterior(self, x, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """E[x0 | x] and Var[x0 | x] for x = x0 + sigma z."""
        s2 = sigma * sigma
        x = np.asarray(x, dtype=np.float64)
        mean, var = np.empty_like(x), np.empty_like(x)
        gain = self.variances / (self.variances + s2)
        if np.all(self.variances == self.variances[0]):  # a kernel density: moments of the centres suffice
            return self._shared_posterior(x, s2, float(gain[0]))
        for a in range(0, x.size, CHUNK):
            xa = x[a : a + CHUNK]
            logits = self._logits(xa, s2)
            w = np.exp(logits - logits.max(axis=1, keepdims=True))
            w /= w.sum(axis=1, keepdims=True)
            m = self.means + gain * (xa[:, None] - self.means)
            mean[a : a + CHUNK] = d = np.sum(w * m, axis=1)
            var[a : a + CHUNK] = np.sum(w * (gain * s2 + (m - d[:, None]) ** 2), axis=1)
        return mean, var

    def _shared_posterior(self, x, s2: float, gain: float):
        """:meth:`posterior` when every component has the same variance v: the responsibilities' logits are
        log w_k + (x mu_k - mu_k^2 / 2) / (v + s2) (the x^2 term is common), D = g x + (1 - g) E[mu | x] and
        Var = g s2 + (1 - g)^2 Var[mu | x], g = v / (v + s2)."""
        total = self.variances[0] + s2
        mu = self.means
        bias = np.log(self.weights) - 0.5 * mu * mu / total
        mean, spread = np.empty_like(x), np.empty_like(x)
        for a in range(0, x.size, CHUNK):
            logits = np.multiply.outer(x[a : a + CHUNK] / total, mu)
            logits += bias
            logits -= logits.max(axis=1, keepdims=True)
            w = np.exp(logits, out=logits)
            norm = w.sum(axis=1)
            m1 = (w @ mu) / norm
            mean[a : a + CHUNK] = m1
            spread[a : a + CHUNK] = np.maximum((w @ (mu * mu)) / norm - m1 * m1, 0.0)
        return gain * x + (1.0 - gain) * mean, gain * s2 + (1.0 - gain) ** 2 * spread

    def reach(self) -> float:
        """|y| beyond which the source's mass is below 1e-300."""
        return float(np.max(np.abs(self.means)) + 38.0 * np.sqrt(np.max(self.variances)))

    def cdf(self, y, sigma: float = 0.0) -> np.ndarray:
        """P(x0 + sigma z <= y)."""
        return self._tail(np.asarray(y, dtype=np.float64), sigma, 1.0)

    def sf(self, y, sigma: float = 0.0) -> np.ndarray:
        """P(x0 + sigma z > y)."""
        return self._tail(np.asarray(y, dtype=np.float64), sigma, -1.0)

    def _tail(self, y, sigma, sign):
        sd = np.sqrt(self.variances + sigma * sigma)
        return (
            np.concatenate(
                [
                    np.sum(self.weights * special.ndtr(sign * (y[a : a + CHUNK, None] - self.means) / sd), axis=1)
                    for a in range(0, y.size, CHUNK)
                ]
            )
            if y.size
            else y.copy()
        )


class _Symmetric:
    """A source symmetric about 0: its CDF and survival of x0 + sigma z from the lower tail ``_lower`` (y <= 0)."""

    def cdf(self, y, sigma: float = 0.0) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        low = self._lower(-np.abs(y), sigma)
        return np.where(y <= 0, low, 1.0 - low)

    def sf(self, y, sigma: float = 0.0) -> np.ndarray:
        return self.cdf(-np.asarray(y, dtype=np.float64), sigma)


@dataclass(frozen=True)
class Laplace(_Symmetric):
    """exp(-|x| / b) / (2b), b = 1/sqrt(2): variance 1."""

    b: float = 1.0 / math.sqrt(2.0)
    support: tuple[float, float] = (-math.inf, math.inf)

    def _parts(self, x, sigma):
        """Log weights and (loc, alpha, beta) of the two truncated normals the posterior is made of."""
        s2, b = sigma * sigma, self.b
        up = x - s2 / b  # x0 >= 0: N(x - s^2/b, s^2) on [0, inf)
        down = x + s2 / b  # x0 < 0: N(x + s^2/b, s^2) on (-inf, 0)
        log_up = -x / b + special.log_ndtr(up / sigma)
        log_down = x / b + special.log_ndtr(-down / sigma)
        return log_up, log_down, up, down

    def log_marginal(self, x, sigma: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if sigma == 0.0:
            return self.log_density(x)
        log_up, log_down, _, _ = self._parts(x, sigma)
        return np.logaddexp(log_up, log_down) + sigma * sigma / (2.0 * self.b**2) - math.log(2.0 * self.b)

    def log_density(self, y) -> np.ndarray:
        return -np.abs(np.asarray(y, dtype=np.float64)) / self.b - math.log(2.0 * self.b)

    def posterior(self, x, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        log_up, log_down, up, down = self._parts(x, sigma)
        w_up = np.exp(log_up - np.logaddexp(log_up, log_down))
        m_up, v_up, _ = truncated_normal(-up / sigma, np.inf)
        m_down, v_down, _ = truncated_normal(-np.inf, -down / sigma)
        mu_up, mu_down = up + sigma * m_up, down + sigma * m_down
        mean = w_up * mu_up + (1.0 - w_up) * mu_down
        var = sigma * sigma * (w_up * v_up + (1.0 - w_up) * v_down) + w_up * (1.0 - w_up) * (mu_up - mu_down) ** 2
        return mean, var

    def reach(self) -> float:
        return 690.0 * self.b

    def _lower(self, y, sigma):
        """P(x0 + sigma z <= y) for y <= 0 (the normal-Laplace CDF, Reed & Jorgensen 2004, in logs)."""
        if sigma == 0.0:
            return 0.5 * np.exp(-np.abs(y) / self.b)
        z, k = y / sigma, sigma / self.b

        def phi_mills(u):  # phi(z) R(u) = phi(z) Q(u) / phi(u), R the Mills ratio
            return np.exp(_log_phi(z) + special.log_ndtr(-u) - _log_phi(u))

        return special.ndtr(z) - 0.5 * (phi_mills(k - z) - phi_mills(k + z))


@dataclass(frozen=True)
class Uniform(_Symmetric):
    """Uniform on [-a, a], a = sqrt(3): variance 1."""

    a: float = math.sqrt(3.0)
    support: tuple[float, float] = field(default=(-math.sqrt(3.0), math.sqrt(3.0)))

    def log_marginal(self, x, sigma: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if sigma == 0.0:
            return self.log_density(x)
        return _log_interval((-self.a - x) / sigma, (self.a - x) / sigma) - math.log(2.0 * self.a)

    def log_density(self, y) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        inside = np.abs(y) <= self.a * (1.0 + 1e-12)  # a posterior mean at the edge, up to rounding
        return np.where(inside, -math.log(2.0 * self.a), -np.inf)

    def posterior(self, x, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        # the truncated normal N(x, sigma^2) on [-a, a]; reflected to the side where alpha + beta <= 0
        flip = x < 0
        xr = np.where(flip, -x, x)
        m, v, _ = truncated_normal((-self.a - xr) / sigma, (self.a - xr) / sigma)
        mean = xr + sigma * m
        return np.where(flip, -mean, mean), sigma * sigma * v

    def reach(self) -> float:
        return self.a

    def _lower(self, y, sigma):
        """P(x0 + sigma z <= y) for y <= 0: (sigma / 2a) [G((y + a) / sigma) - G((y - a) / sigma)], G(t) = t Phi(t)
        + phi(t)."""
        if sigma == 0.0:
            return np.clip((y + self.a) / (2.0 * self.a), 0.0, 1.0)

        def big_g(t):
            return t * special.ndtr(t) + np.exp(_log_phi(t))

        return sigma / (2.0 * self.a) * (big_g((y + self.a) / sigma) - big_g((y - self.a) / sigma))


Source = Mixture | Laplace | Uniform


def gaussian_source() -> Mixture:
    return Mixture(np.ones(1), np.zeros(1), np.ones(1))


def two_gaussians(separation: float) -> Mixture:
    """1/2 N(-m, 1 - m^2) + 1/2 N(m, 1 - m^2): mean 0, variance 1, bimodal for m > 1/sqrt(2)."""
    m = float(separation)
    if not 0.0 < m < 1.0:
        raise ValueError(f"a two-Gaussian separation m must lie in (0, 1) (component variance 1 - m^2), got {m!r}")
    return Mixture(np.full(2, 0.5), np.array([-m, m]), np.full(2, 1.0 - m * m))


def silverman_bandwidth(values) -> float:
    """Silverman's rule of thumb, 0.9 min(sd, IQR / 1.34) n^(-1/5)."""
    v = np.asarray(values, dtype=np.float64)
    iqr = np.subtract(*np.percentile(v, [75, 25]))
    return float(0.9 * min(np.std(v), iqr / 1.34) * v.size ** (-0.2))


def kernel_density(values) -> tuple[Mixture, float]:
    """A Gaussian kernel density of ``values`` with mean 0 and variance exactly 1, and its bandwidth h: the values
    standardised, h by :func:`silverman_bandwidth`, then the centres shrunk by sqrt(1 - h^2) so that the mixture's
    variance (centres' variance + h^2) is 1."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size < 2 or np.std(v) == 0:
        raise ValueError(f"a kernel density needs at least 2 distinct values, got shape {v.shape}")
    z = (v - v.mean()) / v.std()
    h = silverman_bandwidth(z)
    if not 0.0 < h < 1.0:
        raise ValueError(f"bandwidth {h:.3g} leaves no variance to the centres")
    n = z.size
    return Mixture(np.full(n, 1.0 / n), z * math.sqrt(1.0 - h * h), np.full(n, h * h)), h


def principal_scores(rows, mean, vector) -> np.ndarray:
    """(rows - mean) @ vector: the coordinates of data rows along one principal direction."""
    return (np.asarray(rows, dtype=np.float64) - mean) @ np.asarray(vector, dtype=np.float64)


def build_sources(separations, kde_values=None, kde_label: str = "data_pc1") -> tuple[dict[str, Source], dict]:
    """The study's sources by name (the Gaussian first), and a description of each (for the table's caption)."""
    found: dict[str, Source] = {"gaussian": gaussian_source()}
    about = {"gaussian": "N(0, 1)"}
    for m in separations:
        found[f"two_gaussians_{m:g}"] = two_gaussians(m)
        about[f"two_gaussians_{m:g}"] = f"1/2 N(-{m:g}, {1 - m * m:.4g}) + 1/2 N({m:g}, {1 - m * m:.4g})"
    found["laplace"], about["laplace"] = Laplace(), "Laplace, scale 1/sqrt(2)"
    found["uniform"], about["uniform"] = Uniform(), "uniform on [-sqrt(3), sqrt(3)]"
    if kde_values is not None:
        found[kde_label], h = kernel_density(kde_values)
        about[kde_label] = (
            f"Gaussian kernel density of {len(kde_values)} standardised values, Silverman bandwidth "
            f"{h:.4g}, centres shrunk by sqrt(1 - h^2)"
        )
    return found, about


def posterior_by_quadrature(log_density: Callable, x, sigma: float, grid) -> tuple[np.ndarray, np.ndarray]:
    """E[x0 | x] and Var[x0 | x] by the trapezoid rule on the x0 ``grid`` (uniform): an independent check of the
    closed forms."""
    g = np.asarray(grid, dtype=np.float64)
    logw = log_density(g)[None, :] - 0.5 * (np.asarray(x, dtype=np.float64)[:, None] - g) ** 2 / sigma**2
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    w[:, [0, -1]] *= 0.5
    w /= w.sum(axis=1, keepdims=True)
    mean = w @ g
    return mean, np.sum(w * (g - mean[:, None]) ** 2, axis=1)


class Tangent:
    """A value with its derivative with respect to the start point, carried through the arithmetic of a solver
    (sums, differences, products with numbers or tangents, division by a number)."""

    __slots__ = ("value", "slope")
    __array_ufunc__ = None  # numpy defers to these methods instead of broadcasting over the object

    def __init__(self, value, slope):
        self.value, self.slope = value, slope

    def __add__(self, other):
        if isinstance(other, Tangent):
            return Tangent(self.value + other.value, self.slope + other.slope)
        return Tangent(self.value + other, self.slope)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, Tangent):
            return Tangent(self.value - other.value, self.slope - other.slope)
        return Tangent(self.value - other, self.slope)

    def __rsub__(self, other):
        return Tangent(other - self.value, -self.slope)

    def __mul__(self, other):
        if isinstance(other, Tangent):
            return Tangent(self.value * other.value, self.slope * other.value + self.value * other.slope)
        return Tangent(self.value * other, self.slope * other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Tangent):
            raise TypeError("division by a tangent is not needed by the solvers")
        return Tangent(self.value / other, self.slope / other)


def denoiser(source: Source) -> Callable[[Tangent, float], Tangent]:
    """D(x; sigma) = E[x0 | x] with its derivative D' = Var[x0 | x] / sigma^2 (Tweedie), as a :class:`Tangent`."""

    def call(x: Tangent, sigma: float) -> Tangent:
        mean, var = source.posterior(x.value, float(sigma))
        return Tangent(mean, var / float(sigma) ** 2 * x.slope)

    return call


def push(source: Source, x, sigmas, solver: str = "euler") -> tuple[np.ndarray, np.ndarray]:
    """T(x) and T'(x): the real ``solver`` (deterministic) with the exact denoiser, from the start points ``x``."""
    out = solvers.get(solver)(
        denoiser(source), Tangent(np.asarray(x, dtype=np.float64), np.ones(np.size(x))), gaussian.check_grid(sigmas)
    )
    return out.value, out.slope


def start_std(sigma_max: float, init: str) -> float:
    """The start's standard deviation (the exact start p0 * N(0, sigma_max^2) of a unit-variance source included)."""
    if init not in gaussian.INITS:
        raise ValueError(f"unknown init {init!r}; valid: {', '.join(gaussian.INITS)}")
    return float(sigma_max) if init == "edm" else math.sqrt(1.0 + sigma_max**2)


def log_start(source: Source, x, sigma_max: float, init: str) -> np.ndarray:
    """log density of the sampler's start (:func:`diffsched.method.gaussian.start_moments`' inits): exact
    p0 * N(0, sigma_max^2), edm N(0, sigma_max^2), vp N(0, 1 + sigma_max^2)."""
    if init == "exact":
        return source.log_marginal(x, float(sigma_max))
    s = start_std(sigma_max, init)
    return _log_phi(np.asarray(x, dtype=np.float64) / s) - math.log(s)


def start_tails(source: Source, x, sigma_max: float, init: str) -> tuple[np.ndarray, np.ndarray]:
    """CDF and survival function of the sampler's start at ``x``, in closed form."""
    x = np.asarray(x, dtype=np.float64)
    if init == "exact":
        return source.cdf(x, float(sigma_max)), source.sf(x, float(sigma_max))
    s = start_std(sigma_max, init)
    return special.ndtr(x / s), special.ndtr(-x / s)


def bounded(source: Source) -> bool:
    return bool(np.all(np.isfinite(source.support)))


def covering_width(
    source: Source,
    sigmas,
    sigma_max: float,
    init: str,
    span: float = 10.0,
    tolerance: float = 1e-12,
    doublings: int = 12,
    solver: str = "euler",
) -> tuple[float, float]:
    """Half-width L of the start grid and the source mass its image misses, P0(y < T(-L)) + P0(y > T(L)).

    L starts at ``span`` start standard deviations (the start mass beyond is erfc(span / sqrt(2)): 2e-23 at 10)
    and doubles until the image of [-L, L] holds all but ``tolerance`` of the source, at most ``doublings``
    times: a grid that shrinks the start a lot (N = 2: sigma_max straight to sigma_min) needs a start range far
    beyond its own mass to reach the source's tails. A source of bounded support is not widened: its output never
    reaches the edges (each y = E[x0 | x] lies inside), and its KL(source || output) is infinite
    (:func:`divergences`)."""
    half = span * start_std(sigma_max, init)
    miss = math.nan
    for _ in range(0 if bounded(source) else doublings + 1):
        y, _ = push(source, np.array([-half, half]), sigmas, solver)
        miss = float(source.cdf(y[:1])[0] + source.sf(y[1:])[0])
        if miss < tolerance:
            break
        half *= 2.0
    else:
        half /= 1.0 if bounded(source) else 2.0
    if bounded(source):
        y, _ = push(source, np.array([-half, half]), sigmas, solver)
        miss = float(source.cdf(y[:1])[0] + source.sf(y[1:])[0])
    return half, miss


@dataclass(frozen=True)
class StartGrid:
    """A uniform start grid on [-half, half], its trapezoid weights, the start log-density, CDF and survival."""

    x: np.ndarray
    weights: np.ndarray
    log_p: np.ndarray
    cdf: np.ndarray
    sf: np.ndarray


def start_grid(source: Source, sigma_max: float, init: str, half: float, points: int, span: float = 10.0) -> StartGrid:
    """``points`` equally spaced start points on [-half, half] joined with ``points`` on +-``span`` start standard
    deviations (where the start's mass is: the output's KL and W2 integrands), with trapezoid weights, and the
    start's log-density, CDF and survival there (closed forms)."""
    if points < 101 or points % 2 == 0:
        raise ValueError(f"points must be odd and >= 101, got {points!r}")
    inner = min(half, span * start_std(sigma_max, init))
    x = np.union1d(np.linspace(-half, half, int(points)), np.linspace(-inner, inner, int(points)))
    gaps = np.diff(x)
    weights = 0.5 * (np.concatenate([gaps, [0.0]]) + np.concatenate([[0.0], gaps]))
    cdf, sf = start_tails(source, x, sigma_max, init)
    return StartGrid(x, weights, log_start(source, x, sigma_max, init), cdf, sf)


def quantile(source: Source, cdf, sf, iterations: int = 3) -> np.ndarray:
    """Q0 at probabilities given by their CDF and survival (the smaller one decides, for precision in the tails):
    a start from the source's tabulated CDF (:data:`TABLE_POINTS` points), then Newton steps on the closed-form
    cdf / sf with the density (each one squares the relative error)."""
    cdf, sf = np.asarray(cdf, dtype=np.float64), np.asarray(sf, dtype=np.float64)
    lower = cdf <= sf
    y_tab, log_cdf_tab, log_sf_tab = _tabulate(source)
    with np.errstate(divide="ignore"):
        y = np.where(lower, np.interp(np.log(cdf), log_cdf_tab, y_tab), np.interp(-np.log(sf), -log_sf_tab, y_tab))
    for _ in range(iterations):
        low, high = y[lower], y[~lower]
        p_low, p_high = np.exp(source.log_density(low)), np.exp(source.log_density(high))
        with np.errstate(divide="ignore", invalid="ignore"):
            y[lower] = np.where(p_low > 0, low - (source.cdf(low) - cdf[lower]) / p_low, low)
            y[~lower] = np.where(p_high > 0, high + (source.sf(high) - sf[~lower]) / p_high, high)
        y = np.clip(y, y_tab[0], y_tab[-1])
    return y


TABLE_POINTS = 4001


def _tabulate(source: Source):
    """y over the source's :meth:`reach`, with log cdf (non-decreasing) and log sf (non-increasing), floored."""
    y = np.linspace(-source.reach(), source.reach(), TABLE_POINTS)
    with np.errstate(divide="ignore"):
        log_cdf, log_sf = np.log(source.cdf(y)), np.log(source.sf(y))
    floor = -745.0  # the smallest normal float's log
    return (
        y,
        np.maximum.accumulate(np.maximum(log_cdf, floor)),
        np.maximum.accumulate(np.maximum(log_sf, floor)[::-1])[::-1],
    )


def divergences(source: Source, start: StartGrid, y, slope, q0) -> dict:
    """KL both ways and W2^2 between the output (T = ``y``, T' = ``slope`` on the start grid) and the source.

    ``kl_forward_covered`` is KL(source || output) over the image of the start grid, a lower bound; ``kl_forward``
    equals it for a source on the whole line (the grid is wide enough: :func:`covering_width`) and is +inf for a
    source of bounded support [-a, a]: the last step y = D(x; sigma_min) reaches a - delta only from
    x > a + ~sigma_min^2 / delta, whose probability under the light-tailed x of the step before falls like
    exp(-c / delta^2), so the source's mass delta / 2a there has KL contribution >= c' / delta, unbounded."""
    log_q = start.log_p - np.log(slope)
    log_p0 = source.log_density(y)
    p_start = np.exp(start.log_p)
    pulled = np.exp(log_p0) * slope  # p0(T(x)) T'(x): the source on the start grid
    with np.errstate(invalid="ignore"):
        forward = float(start.weights @ np.where(pulled > 0, pulled * (log_p0 - log_q), 0.0))
    return {
        "kl_forward": math.inf if bounded(source) else forward,
        "kl_forward_covered": forward,
        "kl_reverse": float(start.weights @ (p_start * (log_q - log_p0))),
        "w2": float(start.weights @ (p_start * (y - q0) ** 2)),
        "mass_output": float(start.weights @ p_start),
        "mass_source": float(start.weights @ pulled),
        "min_derivative": float(np.min(slope)),
    }


def grids(entries: dict[str, dict], steps, sigma_min: float, sigma_max: float, init: str) -> dict:
    """(label, n) -> the Euler sampler grid of each strategy entry (:func:`diffsched.method.strategies.entry_grid`),
    spectral strategies for the unit eigenvalue (the Gaussian KL optimum of a unit-variance source)."""
    context = registry.Context(np.ones(1), "euler", init)
    return {
        (label, int(n)): registry.entry_grid(entry, int(n), sigma_min, sigma_max, context)
        for label, entry in entries.items()
        for n in steps
    }


def study(
    sources: dict[str, Source],
    grid_set: dict,
    sigma_max: float,
    init: str,
    points: int = 4001,
    span: float = 10.0,
    tolerance: float = 1e-12,
    solver: str = "euler",
) -> pd.DataFrame:
    """One row per source, strategy and n: KL both ways, W2^2, the start grid's half-width and the source mass its
    image misses, the masses by quadrature, the least derivative of the map, and for the Gaussian source the
    closed-form values (``closed_<metric>``, :func:`diffsched.method.gaussian.criterion`)."""
    rows = []
    for name, source in sources.items():
        starts: dict[float, tuple[StartGrid, np.ndarray]] = {}  # by half-width: the grid and Q0 on it
        for (label, n), sigmas in grid_set.items():
            half, miss = covering_width(source, sigmas, sigma_max, init, span, tolerance, solver=solver)
            if half not in starts:
                start = start_grid(source, sigma_max, init, half, points, span)
                starts[half] = start, quantile(source, start.cdf, start.sf)
            start, q0 = starts[half]
            y, slope = push(source, start.x, sigmas, solver)
            row = {
                "source": name,
                "strategy": label,
                "steps": n,
                **divergences(source, start, y, slope, q0),
                "half_width": half / start_std(sigma_max, init),
                "source_missed": miss,
            }
            if name == "gaussian":
                for metric, criterion in zip(METRICS, ("kl", "kl_reverse", "w2")):
                    row[f"closed_{metric}"] = gaussian.criterion(criterion, [1.0], sigmas, solver, init)
            rows.append(row)
    return with_ratios(pd.DataFrame(rows))


def with_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """``<metric>_ratio``: each source's value over the Gaussian's on the same strategy and n."""
    ref = table[table["source"] == "gaussian"].set_index(["strategy", "steps"])
    out = table.copy()
    for metric in METRICS:
        base = ref[metric].reindex(pd.MultiIndex.from_frame(table[["strategy", "steps"]])).to_numpy()
        out[f"{metric}_ratio"] = table[metric].to_numpy() / base
    return out


def extremes(table: pd.DataFrame, metrics=("kl_forward", "kl_reverse")) -> pd.DataFrame:
    """Per strategy, n and metric: the Gaussian's value, the least and the largest other source (name, value), and
    whether the Gaussian is the largest, the smallest or neither."""
    rows = []
    for (label, n), g in table.groupby(["strategy", "steps"], sort=False):
        gauss = g[g["source"] == "gaussian"]
        others = g[g["source"] != "gaussian"]
        if gauss.empty or others.empty:
            continue
        for metric in metrics:
            v = float(gauss[metric].iloc[0])
            lo, hi = others.loc[others[metric].idxmin()], others.loc[others[metric].idxmax()]
            rows.append(
                {
                    "strategy": label,
                    "steps": int(n),
                    "metric": metric,
                    "gaussian": v,
                    "smallest_other": lo["source"],
                    "smallest_value": float(lo[metric]),
                    "largest_other": hi["source"],
                    "largest_value": float(hi[metric]),
                    "gaussian_is": "largest" if v > hi[metric] else "smallest" if v < lo[metric] else "neither",
                }
            )
    return pd.DataFrame(rows)


def data_values(images, mean, vector, count: int, scale: Callable) -> np.ndarray:
    """The coordinates of ``count`` evenly spaced ``images`` (in their order) along one principal direction, the
    images turned into rows by ``scale`` (:func:`diffsched.data.spectrum.scale`) only once chosen."""
    if count < 2 or count > len(images):
        raise ValueError(f"kde_points must lie in [2, {len(images)}] (the images given), got {count!r}")
    chosen = np.linspace(0, len(images) - 1, int(count)).round().astype(int)
    return principal_scores(scale(images[chosen]), mean, vector)


def run(
    settings: dict,
    entries: dict[str, dict],
    sigma_min: float,
    sigma_max: float,
    init: str,
    values=None,
    label: str = "data_pc1",
) -> tuple[pd.DataFrame, dict]:
    """The study of the configuration's ``gaussian.extremal`` section (``steps``, ``separations``, ``points``,
    ``span``) on the strategies ``entries`` (label -> config entry), with the kernel density of ``values`` as the
    data source when given: the table (:func:`study`) and each source's description."""
    sources, about = build_sources(settings["separations"], values, label)
    grid_set = grids(entries, settings["steps"], sigma_min, sigma_max, init)
    return study(sources, grid_set, sigma_max, init, int(settings["points"]), float(settings["span"])), about
