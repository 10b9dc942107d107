"""Search-based baselines that need a denoiser: GITS dynamic programming and a DMN-style optimised grid.

Both start from a batch of start states ``x_batch`` (shape (B, ...), at noise level sigma_max, e.g.
:func:`start_noise`) and a *teacher*: one Heun step (EDM, Karras et al. 2022, Algorithm 1) per interval of a
fine grid, ``schedules.get(teacher, teacher_steps, sigma_min, sigma_max)`` (EDM rho = 7 by default): states
X_0 = x_batch, X_1, ..., X_{T-1} at the T = teacher_steps positive teacher sigmas t_0 = sigma_max > ... >
t_{T-1} = sigma_min, and the teacher output Y at sigma = 0 (Heun's last step to 0 is an Euler step). Distances
are means over the batch and every coordinate, so they work unchanged on numpy arrays and torch tensors.
Grids follow :mod:`diffsched.method.schedules`: n + 1 values, sigma_max first, sigma_min at n - 1, 0.0 last.
docs/theory.md, "Discretization strategies"; arXiv 2601.13602 compares against both.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import numpy as np
from scipy import optimize

from diffsched.method import optimise, schedules, solvers
from diffsched.infra import store
from diffsched.method.schedules import SIGMA_MAX, SIGMA_MIN

TEACHER_GRIDS = ("edm", "logsnr")
METRICS = ("mse", "l2")


def start_noise(shape, sigma_max: float = SIGMA_MAX, seed: int = 0) -> np.ndarray:
    """Start states sigma_max * N(0, I) of the given shape (B, ...), float64, from numpy's default_rng(seed).

    For a torch denoiser use ``torch.from_numpy(...)``: the same seed gives the same batch on every backend.
    """
    return float(sigma_max) * np.random.default_rng(seed).standard_normal(shape)


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; valid: {', '.join(METRICS)}")


def distance(a, b, metric: str = "mse") -> float:
    """mse: mean over batch and coordinates of (a - b)^2; l2: mean over the batch of ||a_b - b_b||_2."""
    check_metric(metric)
    sq = (a - b) ** 2
    if metric == "mse":
        return float(sq.mean())
    return float((sq.reshape(len(sq), -1).sum(1) ** 0.5).mean())


def teacher_trajectory(denoiser, x_batch, teacher_sigmas) -> list:
    """States of one Heun step per interval of ``teacher_sigmas``: one per sigma, x_batch first."""
    states = [x_batch]
    for s_cur, s_next in zip(teacher_sigmas[:-1], teacher_sigmas[1:]):
        states.append(solvers.heun(denoiser, states[-1], [s_cur, s_next]))
    return states


def shortest_path(cost, jumps: int) -> list[int]:
    """Node indices 0 = p_0 < p_1 < ... < p_jumps = T - 1 minimising sum_k cost[p_k, p_(k+1)].

    Dynamic programming over the number of jumps made (Chen et al. 2024, GITS): O(jumps T^2).
    Only entries above the diagonal are used; ties go to the smaller index.
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] < 2:
        raise ValueError(f"cost must be a square matrix of at least 2 x 2, got shape {c.shape}")
    t = c.shape[0]
    if isinstance(jumps, bool) or not isinstance(jumps, (int, np.integer)) or not 1 <= jumps <= t - 1:
        raise ValueError(f"jumps must be an integer in [1, {t - 1}] for {t} nodes, got {jumps!r}")
    upper = np.triu(np.ones((t, t), dtype=bool), 1)
    if np.isnan(c[upper]).any():
        raise ValueError("cost has NaN entries above the diagonal")
    c = np.where(upper, c, np.inf)
    best = np.full(t, np.inf)
    best[0] = 0.0
    choice = np.empty((jumps, t), dtype=np.int64)
    for k in range(jumps):
        total = best[:, None] + c
        choice[k] = np.argmin(total, axis=0)
        best = total[choice[k], np.arange(t)]
    if not np.isfinite(best[-1]):
        raise ValueError(f"no path of {jumps} jumps with finite cost")
    path = [t - 1]
    for k in reversed(range(jumps)):
        path.append(int(choice[k, path[-1]]))
    return path[::-1]


def _check(denoiser, x_batch, n: int, sigma_min: float, sigma_max: float, solver: str, teacher: str,
           teacher_steps: int) -> None:
    schedules.check_range(n, sigma_min, sigma_max)
    solvers.get(solver)
    if not callable(denoiser):
        raise ValueError(f"denoiser must be a callable D(x, sigma), got {type(denoiser).__name__}")
    if getattr(x_batch, "ndim", 0) < 1 or len(x_batch) == 0:
        raise ValueError("samples must be a non-empty batch of start states, shape (B, ...), at sigma_max")
    if teacher not in TEACHER_GRIDS:
        raise ValueError(f"unknown teacher grid {teacher!r}; valid: {', '.join(TEACHER_GRIDS)}")
    if isinstance(teacher_steps, bool) or not isinstance(teacher_steps, (int, np.integer)) or teacher_steps < n:
        raise ValueError(f"teacher_steps must be an integer >= n = {n}, got {teacher_steps!r}")


def gits_cost(denoiser, x_batch, teacher_sigmas, solver: str = "euler", metric: str = "mse") -> np.ndarray:
    """GITS cost matrix: C[i, j] = distance(one ``solver`` step t_i -> t_j from X_i, X_j) for i < j, else inf.

    ``teacher_sigmas`` are the T positive teacher nodes; X_i their Heun states (:func:`teacher_trajectory`).
    Every jump starts from the teacher state, as in Chen et al. 2024. D(X_i, t_i) is computed once per i and
    shared by all jumps from i. One step of a multistep solver (dpmpp_2m, ipndm) is its Euler start.
    """
    t = [float(s) for s in teacher_sigmas]
    states = teacher_trajectory(denoiser, x_batch, t)
    step = solvers.get(solver)
    cost = np.full((len(t), len(t)), np.inf)
    for i in range(len(t) - 1):
        x_i, d_i = states[i], denoiser(states[i], t[i])

        def shared(x, sigma, x_i=x_i, d_i=d_i, s_i=t[i]):
            return d_i if x is x_i and sigma == s_i else denoiser(x, sigma)

        for j in range(i + 1, len(t)):
            cost[i, j] = distance(step(shared, x_i, [t[i], t[j]]), states[j], metric)
    return cost


def gits_grid(denoiser, x_batch, n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX,
              solver: str = "euler", teacher: str = "edm", teacher_steps: int = 100, metric: str = "mse") -> np.ndarray:
    """GITS (Chen et al. 2024, "On the Trajectory Regularity of ODE-based Diffusion Sampling", ICML): the n-step
    grid whose n nodes lie on the teacher grid and whose n - 1 jumps from sigma_max to sigma_min have the least
    total :func:`gits_cost` (:func:`shortest_path`); the final step sigma_min -> 0 is common to all and appended.

    metric 'mse' (default) sums mean squared errors per jump; 'l2' sums mean L2 norms, as the authors' code.
    """
    _check(denoiser, x_batch, n, sigma_min, sigma_max, solver, teacher, teacher_steps)
    check_metric(metric)
    if n <= 2:
        return schedules.get("edm", n, sigma_min, sigma_max)
    nodes = schedules.get(teacher, int(teacher_steps), sigma_min, sigma_max)[:-1]
    path = shortest_path(gits_cost(denoiser, x_batch, nodes, solver, metric), n - 1)
    return np.append(nodes[path], 0.0)


def dmn_grid(denoiser, x_batch, n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX,
             solver: str = "euler", teacher: str = "edm", teacher_steps: int = 100, maxiter: int = 200) -> np.ndarray:
    """DMN-style optimised grid: minimise distance('mse') between the ``solver`` output on the grid and the
    teacher output Y for the same start states, over the n - 2 interior points (sigma_max, sigma_min, 0 fixed).

    This is the objective of Xue et al. 2024 ("Accelerating Diffusion Sampling with Optimized Time Steps",
    CVPR; DM-NonUniform), the distance between the ODE solution and the solver's approximation, evaluated with
    the denoiser on a small batch (as Tong et al. 2024, LD3, do) instead of their surrogate without model calls.
    Log-sigma decrements are a softmax (as :func:`optimise.optimal_grid`), started from EDM; L-BFGS-B on the
    log error with central differences of relative step 1e-3, coarse enough for float32 networks. Never worse
    than the EDM start.
    """
    _check(denoiser, x_batch, n, sigma_min, sigma_max, solver, teacher, teacher_steps)
    start = schedules.get("edm", n, sigma_min, sigma_max)
    if n <= 2:
        return start
    target = teacher_trajectory(denoiser, x_batch, schedules.get(teacher, int(teacher_steps), sigma_min, sigma_max))[-1]
    sampler = solvers.get(solver)

    def objective(logits: np.ndarray) -> float:
        grid = optimise.grid_from_logits(logits, sigma_min, sigma_max)
        return float(np.log(distance(sampler(denoiser, x_batch, grid), target)))

    bound = optimise.LOGIT_BOUND
    x0 = np.clip(optimise.logits_from_grid(start), -bound, bound)
    res = optimize.minimize(objective, x0, method="L-BFGS-B", jac="3-point", bounds=[(-bound, bound)] * x0.size,
                            options={"maxiter": maxiter, "finite_diff_rel_step": 1e-3})
    return optimise.grid_from_logits(res.x, sigma_min, sigma_max) if res.fun <= objective(x0) else start


METHODS = {"gits": gits_grid, "dmn": dmn_grid}
_MEMO: dict[str, np.ndarray] = {}


def _fingerprint(x_batch) -> str:
    """sha256 (16 hex digits) of the start states' shape, dtype and bytes; numpy arrays or torch tensors."""
    a = np.ascontiguousarray(x_batch.detach().cpu().numpy() if hasattr(x_batch, "detach") else x_batch)
    return hashlib.sha256(f"{a.shape}{a.dtype}".encode() + a.tobytes()).hexdigest()[:16]


def cache_key(method: str, denoiser_id: str, x_batch, n: int, sigma_min: float, sigma_max: float, **params) -> str:
    """JSON text naming everything a search grid depends on; defaults are filled in, so they match explicit ones."""
    if method not in METHODS:
        raise ValueError(f"unknown search method {method!r}; valid: {', '.join(METHODS)}")
    bound = inspect.signature(METHODS[method]).bind(None, x_batch, n, sigma_min, sigma_max, **params)
    bound.apply_defaults()
    settings = {k: v for k, v in bound.arguments.items() if k not in ("denoiser", "x_batch")}
    return json.dumps({"method": method, "denoiser": str(denoiser_id), "samples": _fingerprint(x_batch),
                       **{k: v.item() if isinstance(v, np.generic) else v for k, v in settings.items()}},
                      sort_keys=True)


def clear_memo() -> None:
    """Forget the grids memoised in this process (the on-disk cache is untouched)."""
    _MEMO.clear()


def _read_cache(path) -> dict:
    try:
        stored = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"grid cache {str(path)!r} is not JSON ({err}); delete it to recompute") from None
    if not isinstance(stored, dict):
        raise ValueError(f"grid cache {str(path)!r} is not a JSON object of key -> sigmas; delete it to recompute")
    return stored


def cached_grid(method: str, denoiser, x_batch, n: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX,
                denoiser_id: str | None = None, cache=None, **params) -> np.ndarray:
    """The ``method`` grid ('gits' or 'dmn'), computed once per denoiser and settings.

    With ``denoiser_id`` (a name that identifies the denoiser's weights), results are memoised in this process
    under :func:`cache_key`, and, with ``cache`` (a JSON file path), read from and added to that file (written
    atomically; one writer at a time). Without ``denoiser_id`` nothing is cached.
    """
    if method not in METHODS:
        raise ValueError(f"unknown search method {method!r}; valid: {', '.join(METHODS)}")
    if denoiser_id is None:
        if cache is not None:
            raise ValueError("a cache file needs denoiser_id=...: the key must name the denoiser")
        return METHODS[method](denoiser, x_batch, n, sigma_min, sigma_max, **params)
    key = cache_key(method, denoiser_id, x_batch, n, sigma_min, sigma_max, **params)
    if key not in _MEMO:
        stored = _read_cache(cache) if cache is not None and Path(cache).is_file() else {}
        if key in stored:
            _MEMO[key] = np.asarray(stored[key], dtype=np.float64)
        else:
            _MEMO[key] = METHODS[method](denoiser, x_batch, n, sigma_min, sigma_max, **params)
            if cache is not None:
                store.save_json(cache, {**stored, key: _MEMO[key].tolist()})
    return _MEMO[key].copy()
