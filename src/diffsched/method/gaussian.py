"""Exact sampler output and criteria (KL, W2, ...) for a Gaussian source; :mod:`diffsched.method.optimise` minimises
them.

Source x_0 ~ N(mu, U diag(lambda) U^T). In the eigenbasis the ideal denoiser is diagonal,
D_i(z; sigma) = lambda_i / (lambda_i + sigma^2) z_i, so any deterministic solver that combines the state and
denoiser outputs linearly maps each eigen-coordinate by a scalar factor. Running the *real solver code* once
on z = ones(d) gives those factors exactly (docs/theory.md, "Any deterministic solver, exactly";
arXiv 2601.13602). A stochastic solver adds independent noises linearly, sum_k b_k xi_k per eigendirection; the
same run, with each noise draw a zero tensor that autograd tracks, gives the b_k as gradients, hence the output
variance exactly (Pierret & Galerne 2025, arXiv 2405.14250, do this by hand for VP-SDE schemes). The output is
compared with the exact marginal at the grid's last noise level, N(mu, Sigma + sigma_last^2 I): the source itself
when the grid ends in 0. Everything runs in torch float64, so the criteria (docs/criteria.md) are differentiable
in the grid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from diffsched.method import solvers

INITS = ("exact", "edm", "vp")
DIRECTIONS = ("forward", "reverse")


def check_eigenvalues(eigenvalues) -> np.ndarray:
    """A non-empty 1-D float64 array of finite, strictly positive eigenvalues, or a ValueError saying why."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    bad = ~np.isfinite(lam) | (lam <= 0)
    if bad.any():
        raise ValueError(
            f"eigenvalues must be finite and > 0; {int(bad.sum())} of {lam.size} are not (smallest "
            f"{np.nanmin(lam):.3g}). Floor a rank-deficient covariance estimate before use."
        )
    return lam


def check_grid(sigmas) -> np.ndarray:
    """A strictly decreasing float64 grid with positive entries except possibly a final 0."""
    s = np.asarray(sigmas, dtype=np.float64)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"a sigma grid needs at least 2 values (one step), got shape {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s[:-1] <= 0) or s[-1] < 0:
        raise ValueError("sigmas must be finite and > 0, except a final 0")
    if np.any(np.diff(s) >= 0):
        raise ValueError("sigmas must be strictly decreasing (sigma_max first)")
    return s


def _check_choice(value: str, valid: tuple[str, ...], what: str) -> None:
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")


def _tensor(values) -> torch.Tensor:
    return torch.from_numpy(np.array(values, dtype=np.float64))


def linear_moments(sampler: Callable, model: Callable, z: torch.Tensor, grid, stochastic: bool,
                   **params) -> tuple[torch.Tensor, torch.Tensor]:
    """(a, q) of a sampler that is linear in its state and noise, per coordinate of a diagonal ``model``.

    The real sampler code runs on ``z`` (ones) with each noise draw a zero tensor that autograd tracks. The output
    in each coordinate is a z + sum_k b_k xi_k, so the run's value is a and the gradients with respect to the draws
    are the b_k: q = sum_k b_k^2 is the variance the noise adds (0 for a deterministic sampler). ``grid``: numpy (the
    sampler steps in Python floats, fastest) or a torch tensor (autograd reaches it, and through q too: the
    gradients are taken with create_graph).
    """
    draws: list[torch.Tensor] = []

    def noise(x):
        draws.append(torch.zeros_like(x, requires_grad=True))
        return draws[-1]

    with torch.enable_grad():
        a = sampler(model, z, grid, **params, **({"noise": noise} if stochastic else {}))
        if not draws:
            return a, torch.zeros_like(z)
        grid_tracked = isinstance(grid, torch.Tensor) and grid.requires_grad
        b = torch.autograd.grad(a.sum(), draws, create_graph=grid_tracked, allow_unused=True)
    q = sum(g * g for g in b if g is not None)
    return (a, q) if grid_tracked else (a.detach(), q.detach())


def _propagate(lam: torch.Tensor, s, solver: str, solver_params: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`linear_moments` of ``solver`` with the diagonal denoiser D_i(z; sigma) = lambda_i / (lambda_i +
    sigma^2) z_i."""
    return linear_moments(solvers.get(solver, stochastic=True), lambda z, sigma: lam / (lam + sigma * sigma) * z,
                          torch.ones_like(lam), s, solver in solvers.STOCHASTIC_SOLVERS, **solver_params)


def _start(lam: torch.Tensor, sigma_max, init: str, mean) -> tuple[torch.Tensor, torch.Tensor]:
    _check_choice(init, INITS, "init")
    zero = torch.zeros_like(lam)
    offset = zero if mean is None else -_tensor(np.broadcast_to(np.asarray(mean, dtype=np.float64), lam.shape))
    s2 = sigma_max**2
    if init == "exact":
        return lam + s2, zero
    return zero + (s2 if init == "edm" else 1.0 + s2), offset


def _moments(lam: torch.Tensor, s, solver: str, solver_params: dict, init: str, mean):
    """Output log-variance and mean offset per eigendirection, and the target variance lambda + sigma_last^2."""
    v0, m0 = _start(lam, s[0], init, mean)
    a, q = _propagate(lam, s, solver, solver_params)
    log_v = torch.log(v0) + 2.0 * torch.log(torch.abs(a))  # kept apart from q: precise for tiny errors
    if solver in solvers.STOCHASTIC_SOLVERS:
        log_v = torch.logaddexp(log_v, torch.log(q))
    return log_v, m0 * a, lam + s[-1] ** 2


def output_factor(eigenvalues, sigmas, solver: str = "euler", **solver_params) -> np.ndarray:
    """Per-eigendirection factor by which ``solver`` maps its start to its output on this grid."""
    solver_params = solvers.check_params(solver, solver_params)
    return _propagate(_tensor(check_eigenvalues(eigenvalues)), check_grid(sigmas), solver, solver_params)[0].numpy()


def start_moments(eigenvalues, sigma_max: float, init: str = "exact", mean=None) -> tuple[np.ndarray, np.ndarray]:
    """Variance and mean offset (from mu, in the eigenbasis) of the sampler's start.

    exact: N(mu, Sigma + sigma_max^2 I); edm: N(0, sigma_max^2 I); vp: x_T ~ N(0, I) in VP space, i.e.
    N(0, (1 + sigma_max^2) I) in sigma space. ``mean`` is U^T mu; the edm and vp starts are offset by -mean.
    """
    v0, m0 = _start(_tensor(check_eigenvalues(eigenvalues)), float(sigma_max), init, mean)
    return v0.numpy(), m0.numpy()


def output_moments(eigenvalues, sigmas, solver: str = "euler", init: str = "exact", mean=None, **solver_params):
    """Log-variance and mean offset of the sampler output along each eigenvector (exact)."""
    solver_params = solvers.check_params(solver, solver_params)
    with np.errstate(divide="ignore"):
        log_v, m, _ = _moments(_tensor(check_eigenvalues(eigenvalues)), check_grid(sigmas), solver, solver_params,
                               init, mean)
    return log_v.numpy(), m.numpy()


# The criteria (docs/criteria.md). Each maps the eigenvalues and a grid (numpy, or torch to differentiate) to a
# scalar through the exact output moments; u = ln(v / target) and expm1 keep tiny values (large n) precise.
QUANTISATION_STD = (2.0 / 255.0) / np.sqrt(12.0)  # of 8-bit pixels in [-1, 1]


def _gaussian_kl(u: torch.Tensor, mean_term: torch.Tensor) -> torch.Tensor:
    """1/2 sum_i [e^-u_i - 1 + u_i + mean_term_i]: KL(N(a, t) || N(b, t e^u)) summed over directions."""
    return 0.5 * torch.sum(torch.expm1(-u) + u + mean_term)


def _kl(moments: Callable, s) -> torch.Tensor:
    log_v, m, target = moments(s)
    return _gaussian_kl(log_v - torch.log(target), m * m * torch.exp(-log_v))


def _kl_reverse(moments: Callable, s) -> torch.Tensor:
    log_v, m, target = moments(s)
    return _gaussian_kl(torch.log(target) - log_v, m * m / target)


def _kl_smoothed(moments: Callable, s, delta: float) -> torch.Tensor:
    log_v, m, target = moments(s)
    d2 = delta * delta
    u = torch.log1p(target * torch.expm1(log_v - torch.log(target)) / (target + d2))
    return _gaussian_kl(u, m * m / (torch.exp(log_v) + d2))


def _kl_sigma_min(moments: Callable, s) -> torch.Tensor:
    return _kl(moments, s[:-1] if s[-1] == 0.0 else s)  # [sigma_max, 0]: no step, the start


def _w2(moments: Callable, s) -> torch.Tensor:
    log_v, m, target = moments(s)
    return torch.sum(target * torch.expm1(0.5 * (log_v - torch.log(target))) ** 2 + m * m)


@dataclass(frozen=True)
class Criterion:
    """A criterion: its function of (moments, grid, **params), parameter defaults, summary; ``moments(grid)`` gives the
    output log-variance, mean offset and target variance per eigendirection (:func:`_moments`)."""

    fn: Callable
    params: dict
    summary: str


CRITERIA: dict[str, Criterion] = {
    "kl": Criterion(_kl, {}, "forward KL(target || output), nats"),
    "kl_reverse": Criterion(_kl_reverse, {}, "reverse KL(output || target), nats"),
    "kl_smoothed": Criterion(_kl_smoothed, {"delta": QUANTISATION_STD},
                             "forward KL after adding N(0, delta^2 I) to target and output, nats"),
    "kl_sigma_min": Criterion(_kl_sigma_min, {},
                              "forward KL of the grid without its final 0 against the marginal at sigma_min "
                              "(Align Your Steps), nats"),
    "w2": Criterion(_w2, {}, "squared 2-Wasserstein distance between target and output, pixel units squared"),
}


def describe_criterion(name: str) -> str:
    """'name(param=default, ...)' for error messages and the CLI."""
    params = ", ".join(f"{k}={v!r}" for k, v in CRITERIA[name].params.items())
    return f"{name}({params})" if params else name


def criterion_params(name: str, params: dict) -> dict:
    """The criterion's parameters with their defaults filled in, or a ValueError listing what is valid."""
    if name not in CRITERIA:
        raise ValueError(f"unknown criterion {name!r}; valid criteria: {', '.join(map(describe_criterion, CRITERIA))}")
    unknown = set(params) - set(CRITERIA[name].params)
    if unknown:
        raise ValueError(f"criterion {name!r} takes no parameter {sorted(unknown)}; usage: {describe_criterion(name)}")
    full = {**CRITERIA[name].params, **params}
    for key, value in full.items():
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"criterion {name!r}: {key} must be a finite number >= 0, got {value!r}")
    return full


def check_params(name: str, solver: str, params: dict) -> tuple[dict, dict]:
    """``params`` split into the criterion's (defaults filled in) and the solver's (``eta``, ...), each checked;
    a ValueError names a parameter that neither takes."""
    own = set(solvers.parameters(solver))
    unknown = set(params) - own - set(criterion_params(name, {}))
    if unknown:
        raise ValueError(f"neither criterion {name!r} nor solver {solver!r} takes parameter {sorted(unknown)}; "
                         f"criterion usage: {describe_criterion(name)}; solver parameters: {', '.join(own) or 'none'}")
    full = criterion_params(name, {k: v for k, v in params.items() if k not in own})
    return full, solvers.check_params(solver, {k: v for k, v in params.items() if k in own})


def _evaluate(name: str, eigenvalues, s, solver: str, init: str, mean, params: dict) -> torch.Tensor:
    full, solver_params = check_params(name, solver, params)
    lam = _tensor(check_eigenvalues(eigenvalues))
    _check_choice(init, INITS, "init")
    return CRITERIA[name].fn(lambda grid: _moments(lam, grid, solver, solver_params, init, mean), s, **full)


def criterion(name: str, eigenvalues, sigmas, solver: str = "euler", init: str = "exact", mean=None,
              **params) -> float:
    """Exact value of criterion ``name`` (:data:`CRITERIA`) for the output of ``solver`` on this grid, for
    deterministic and stochastic solvers alike; ``params`` are the criterion's (``delta``) and the solver's
    (``eta``, ``max_order``).

    The output is compared with the exact marginal N(mu, Sigma + sigma_last^2 I): the source itself when the
    grid ends in 0 (docs/criteria.md).
    """
    return float(_evaluate(name, eigenvalues, check_grid(sigmas), solver, init, mean, params))


def criterion_gradient(name: str, eigenvalues, sigmas, solver: str = "euler", init: str = "exact", mean=None,
                       **params) -> tuple[float, np.ndarray]:
    """The criterion and its exact gradient with respect to every grid point: autograd through the real solver."""
    s = _tensor(check_grid(sigmas)).requires_grad_()
    value = _evaluate(name, eigenvalues, s, solver, init, mean, params)
    value.backward()
    return float(value.detach()), s.grad.numpy()


def kl_divergence(eigenvalues, sigmas, solver: str = "euler", init: str = "exact", direction: str = "forward",
                  mean=None) -> float:
    """Exact KL in nats between the target N(mu, Sigma + sigma_last^2 I) and the sampler output.

    forward = KL(target || output) (criterion ``kl``), reverse = KL(output || target) (``kl_reverse``).
    """
    _check_choice(direction, DIRECTIONS, "direction")
    return criterion("kl" if direction == "forward" else "kl_reverse", eigenvalues, sigmas, solver, init, mean)


def euler_variance_ratio(eigenvalues, sigmas) -> np.ndarray:
    """Closed form for Euler / DDIM: c_i = prod_k cos^2(theta_ik - theta_i,k+1), theta = arctan(sigma/sqrt(lambda)).

    From the exact start, the output variance is (lambda_i + sigma_last^2) c_i.
    """
    lam = check_eigenvalues(eigenvalues)
    theta = np.arctan(check_grid(sigmas)[None, :] / np.sqrt(lam)[:, None])
    return np.prod(np.cos(np.diff(theta, axis=1)) ** 2, axis=1)


def path_energy(eigenvalues, sigma_fn: Callable, m: int = 16384) -> np.ndarray:
    """J_i = int_0^1 (d theta_i / d tau)^2 dtau for a continuous schedule sigma(tau).

    Discrete sums m sum (Delta theta)^2 converge as J + O(m^-2); one Richardson step (m, 2m) gives O(m^-4)
    for smooth schedules (schedules as steep as VP time-uniform near sigma_min converge more slowly: 1e-4
    relative at the default m).
    """
    lam = check_eigenvalues(eigenvalues)
    chunk = max(1, 2**22 // m)  # rows per block: about 32 MB of float64

    def energy(steps: int) -> np.ndarray:
        sig = sigma_fn(np.linspace(0.0, 1.0, steps + 1))
        out = np.empty_like(lam)
        for a in range(0, lam.size, chunk):
            theta = np.arctan(sig[None, :] / np.sqrt(lam[a : a + chunk])[:, None])
            out[a : a + chunk] = steps * np.sum(np.diff(theta, axis=1) ** 2, axis=1)
        return out

    return (4.0 * energy(2 * m) - energy(m)) / 3.0


def leading_term(eigenvalues, sigma_fn: Callable, intervals: int) -> float:
    """Euler-Maclaurin leading term of the Euler KL, sum_i J_i^2 / (4 N^2), for N intervals of sigma(tau).

    It describes grids whose last point lies on the schedule (N + 1 points, ending at sigma(1)); the extra
    final jump sigma_min -> 0 of a sampler grid adds an n-independent term of order (sigma_min^2 / lambda)^2.
    """
    j = path_energy(eigenvalues, sigma_fn)
    return float(np.sum(j**2) / (4.0 * intervals**2))
