"""The VP-SDE schemes of Pierret & Galerne (ICML 2025, arXiv 2405.14250) in their convention, and their exact
Wasserstein-2 errors for a Gaussian source.

Forward SDE dx = -beta(t) x dt + sqrt(2 beta(t)) dW on [0, T = 1], beta(t) = 0.05 + 9.95 t, B(t) = int_0^t beta:
p_t = N(0, Sigma_t), Sigma_t = e^{-2B(t)} Sigma + (1 - e^{-2B(t)}) I. A scheme runs backward on the N uniform
time points from t = 1 down to t = epsilon (N - 1 steps), from p_T or from N(0, I), with the score
s(y, t) = -Sigma_t^{-1} y: Euler-Maruyama (``em``) and the exponential integrator (``ei``) on the reverse SDE
dy = beta (y + 2 s) dt + sqrt(2 beta) dW, Euler (``euler``) and Heun (``heun``) on the probability-flow ODE
dy = beta (y + s) dt. Each scheme is a sampler ``scheme(score, y, times, noise=None)``; its exact output
variance per eigendirection comes from running it through :func:`diffsched.method.gaussian.linear_moments`.
The error is W2 (not squared) between the output and the data distribution p_0 = N(0, Sigma), as in the paper's
Table 2 (the truncation at epsilon counts as error).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import torch

from diffsched.method import gaussian

BETA_MIN, BETA_MAX, T = 0.05, 10.0, 1.0
STARTS = ("p_T", "N0")


def beta(t: float) -> float:
    return BETA_MIN + (BETA_MAX - BETA_MIN) * t


def integrated_beta(t: float) -> float:
    """B(t) = int_0^t beta(u) du."""
    return BETA_MIN * t + (BETA_MAX - BETA_MIN) * t * t / 2.0


def marginal_variance(lam, t: float):
    """Eigenvalues of Sigma_t = e^{-2B(t)} Sigma + (1 - e^{-2B(t)}) I."""
    decay = math.exp(-2.0 * integrated_beta(t))
    return decay * lam + (1.0 - decay)


def _draw(noise: Callable | None) -> Callable:
    return noise if noise is not None else torch.randn_like


def em(score: Callable, y, times, noise: Callable | None = None):
    """Euler-Maruyama on the reverse SDE (paper eq. 10)."""
    draw = _draw(noise)
    for t, t_next in itertools.pairwise(times):
        dt = t - t_next
        y = y + dt * beta(t) * (y + 2.0 * score(y, t)) + math.sqrt(2.0 * dt * beta(t)) * draw(y)
    return y


def ei(score: Callable, y, times, noise: Callable | None = None):
    """Exponential integrator on the reverse SDE (paper eq. 12): the linear drift integrated exactly, the score
    frozen over the step."""
    draw = _draw(noise)
    for t, t_next in itertools.pairwise(times):
        jump = integrated_beta(t) - integrated_beta(t_next)
        gain = math.expm1(jump)
        y = y + gain * (y + 2.0 * score(y, t)) + math.sqrt(math.expm1(2.0 * jump)) * draw(y)
    return y


def _flow(score: Callable, y, t: float):
    """The probability-flow ODE's drift in backward time, beta(t) (y + s(y, t))."""
    return beta(t) * (y + score(y, t))


def euler(score: Callable, y, times):
    """Euler on the probability-flow ODE (paper eq. 15)."""
    for t, t_next in itertools.pairwise(times):
        y = y + (t - t_next) * _flow(score, y, t)
    return y


def heun(score: Callable, y, times):
    """Heun on the probability-flow ODE, a corrector on every step (paper eq. 17)."""
    for t, t_next in itertools.pairwise(times):
        dt = t - t_next
        slope = _flow(score, y, t)
        y = y + 0.5 * dt * (slope + _flow(score, y + dt * slope, t_next))
    return y


SCHEMES: dict[str, tuple[Callable, bool]] = {"em": (em, True), "ei": (ei, True), "euler": (euler, False),
                                            "heun": (heun, False)}
LABELS = {"em": "EM", "ei": "EI", "euler": "Euler", "heun": "Heun"}


def times(n: int, epsilon: float) -> np.ndarray:
    """N uniform time points from T down to epsilon."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"a VP scheme needs N >= 2 time points, got {n!r}")
    if not 0.0 <= epsilon < T:
        raise ValueError(f"the truncation time epsilon must be in [0, {T}), got {epsilon!r}")
    return T - (T - epsilon) * np.arange(n) / (n - 1)


def _check(scheme: str, start: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown VP scheme {scheme!r}; valid: {', '.join(SCHEMES)}")
    if start not in STARTS:
        raise ValueError(f"unknown start {start!r}; valid: {', '.join(STARTS)} (p_T: the exact marginal at T)")


def _start_variance(lam: np.ndarray, start: str) -> np.ndarray:
    return marginal_variance(lam, T) if start == "p_T" else np.ones_like(lam)


def _w2(variance: np.ndarray, lam: np.ndarray) -> float:
    """W2 between centred Gaussians that share eigenvectors."""
    return float(np.sqrt(np.sum((np.sqrt(variance) - np.sqrt(lam)) ** 2)))


def output_variances(eigenvalues, scheme: str, n: int, epsilon: float) -> dict[str, np.ndarray]:
    """Exact variance of the scheme's output along each eigenvector of Sigma, per start: a^2 v_start + q from one
    run of the real scheme (:func:`diffsched.method.gaussian.linear_moments`)."""
    _check(scheme, STARTS[0])
    lam = gaussian.check_eigenvalues(eigenvalues)
    grid = times(n, epsilon)
    lam_t = torch.from_numpy(lam)
    sampler, stochastic = SCHEMES[scheme]
    a, q = gaussian.linear_moments(sampler, lambda y, t: -y / marginal_variance(lam_t, t), torch.ones_like(lam_t),
                                   grid, stochastic)
    return {start: a.numpy() ** 2 * _start_variance(lam, start) + q.numpy() for start in STARTS}


def w2(eigenvalues, scheme: str, n: int, epsilon: float) -> dict[str, float]:
    """W2 between the scheme's output and p_0 = N(0, Sigma), per start."""
    lam = gaussian.check_eigenvalues(eigenvalues)
    return {start: _w2(v, lam) for start, v in output_variances(lam, scheme, n, epsilon).items()}


def continuous_w2(eigenvalues, dynamics: str, epsilon: float, start: str = "N0") -> float:
    """W2 between p_0 and the exact solution at epsilon of the reverse SDE (``dynamics`` 'sde') or the
    probability-flow ODE ('ode') from ``start``: Sigma_eps from p_T; from N(0, I), the paper's eq. 7 (SDE),
    Sigma_eps + e^{-2(B_T - B_eps)} Sigma_eps^2 Sigma_T^-1 (Sigma_T^-1 - I), or eq. 8 (ODE), Sigma_eps / Sigma_T."""
    lam = gaussian.check_eigenvalues(eigenvalues)
    _check("em", start)
    if dynamics not in ("sde", "ode"):
        raise ValueError(f"unknown dynamics {dynamics!r}; valid: sde, ode")
    lam_eps, lam_t = marginal_variance(lam, epsilon), marginal_variance(lam, T)
    if start == "p_T":
        return _w2(lam_eps, lam)
    if dynamics == "ode":
        return _w2(lam_eps / lam_t, lam)
    damping = math.exp(-2.0 * (integrated_beta(T) - integrated_beta(epsilon)))
    return _w2(lam_eps + damping * lam_eps**2 / lam_t * (1.0 / lam_t - 1.0), lam)
