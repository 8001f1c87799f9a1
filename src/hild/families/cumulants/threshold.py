"""Sample-complexity experiments: success rates over a grid of d and n, the threshold n*(d), and the exponent
theta in n* ~ d^theta with a bootstrap confidence interval.

The grid of sample sizes is n = round(d^e) for e on a common grid of exponents `grid` (neutral: it does not
presume the answer), so every d spans the same range in log_d n. A run succeeds when |m| > level (default 1/2:
weak recovery at a macroscopic overlap) with m the overlap of the learner's estimate with the spike after n
samples (FastICA: n samples per iteration, after `iterations` iterations; online SGD: after n steps, one fresh
sample each; spectral test: its top eigenvector from n samples).

Threshold n*(d): a logistic curve in e = log_d n is fitted to the success rate over seeds (maximum likelihood)
and n* = d^e* is where it crosses 1/2 (undefined, NaN, when it does not cross inside the grid). Exponent: the least-squares slope of log n*
against log d. Its confidence interval comes from a bootstrap over seeds (seeds resampled with replacement,
independently for each d, `boot` times; the 2.5% and 97.5% percentiles of the refitted slopes); the regression's
standard error is reported next to it. Cost is kept down by stopping a d once `stop_after` consecutive grid
points succeed for every seed (success is monotone in n on average; those points are recorded as successes).
"""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from hild.core import validation as check
from hild.families.cumulants import learners
from hild.progress import progress_bar

LEARNERS = ("fastica", "sgd", "smoothed_sgd", "spectral", "correlated", "independent")


def _n(d: int, e: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(float(d) ** e).astype(np.int64), 1)


def sweep(learner: str, ds, grid, beta: float = 5.0, seeds: int = 16, seed: int = 0, level: float = 0.5,
          stop_after: int = 2, progress: bool = False, **options) -> xr.Dataset:
    """Final overlaps |m| over (d, e, seed) with n = round(d^e), and success = |m| > level.

    options go to the learner: FastICA (iterations, contrast, latent, fresh), SGD (lr_scale: step lr_scale / d^2,
    contrast, latent; smoothed_sgd: step lr_scale / sqrt(d), radius d^smoothing_power, a polynomial contrast), spectral (latent);
    correlated / independent: the single neuron on the mixed cumulant model with correlated or independent
    latents (beta is beta_v; options beta_u, lr, latent), m = <w, v> the overlap with the higher-order spike."""
    if learner not in LEARNERS:
        raise ValueError(f"learner must be one of {', '.join(LEARNERS)}; got {learner!r}")
    ds = [check.integer("d", d, 2) for d in ds]
    grid = np.asarray(sorted(grid), dtype=float)
    level = check.real("level", level, 0.0, 1.0)
    m = np.full((len(ds), len(grid), seeds), np.nan)
    with progress_bar(f"cumulants {learner}", len(ds) * len(grid), enabled=progress) as advance:
        for i, d in enumerate(ds):
            ns = _n(d, grid)
            if learner in ("sgd", "smoothed_sgd", "correlated", "independent"):
                m[i] = _sgd_curve(learner, d, ns, beta, seeds, seed, **options)
                advance(len(grid))
                continue
            done = 0
            for j, n in enumerate(ns):
                if done >= stop_after:
                    m[i, j] = 1.0
                    advance(1)
                    continue
                if learner == "fastica":
                    m[i, j] = np.abs(learners.fastica(d, int(n), beta, seeds, seed, **options)[:, -1])
                else:
                    m[i, j] = np.abs(learners.spectral(d, int(n), beta, seeds, seed, **options)[1])
                done = done + 1 if np.all(m[i, j] > level) else 0
                advance(1)
    n_grid = np.stack([_n(d, grid) for d in ds])
    return xr.Dataset({"m": (("d", "e", "seed"), m), "success": (("d", "e", "seed"), m > level)},
                      coords={"d": ds, "e": grid, "seed": np.arange(seed, seed + seeds),
                              "n": (("d", "e"), n_grid)},
                      attrs={"model": "cumulants", "learner": learner, "level": level,
                             "params": json.dumps({"beta": beta, **options}), "stop_after": stop_after,
                             "dtype": "float32"})


def _sgd_curve(learner, d, ns, beta, seeds, seed, lr_scale=0.02, smoothing_power=0.25, beta_u=1.0, lr=0.02,
               **options):
    """|m| after each n in ns from one run of n_max steps recorded every n_min / 4 steps."""
    block = max(1, int(ns[0]) // 4)
    records = int(-(-int(ns[-1]) // block))
    idx = np.minimum(np.asarray(ns) // block, records)
    if learner in ("correlated", "independent"):
        _, m = learners.mixed_sgd(d, block * records, beta_u, beta, lr, learner == "correlated", seeds, seed,
                                  records, **options)
        return np.abs(m[:, idx, 1]).T
    smoothing = float(d) ** smoothing_power if learner == "smoothed_sgd" else 0.0
    lr = lr_scale * np.sqrt(d) if learner == "smoothed_sgd" else lr_scale / d  # step lr/d: d^-1/2 or d^-2
    steps, m = learners.online_sgd(d, block * records, beta, lr, seeds, seed, records,
                                   smoothing=smoothing, **options)
    return np.abs(m[:, idx]).T


def thresholds(success: np.ndarray, grid: np.ndarray, ridge: float = 1e-2, iterations: int = 50) -> np.ndarray:
    """e* per row of success rates p (..., e): where the logistic fit p = 1/(1 + exp(-b (e - e*))) crosses 1/2.

    Maximum likelihood (IRLS, vectorised over rows) with a small ridge on the slope b, which keeps b finite when
    the grid separates failures from successes (e* then sits between the last failure and the first success).
    NaN when the crossing lies outside the grid (a row that never or always succeeds)."""
    p = np.asarray(success, dtype=float)
    shape = p.shape[:-1]
    p = p.reshape(-1, p.shape[-1])
    x = np.asarray(grid, dtype=float) - np.mean(grid)
    X = np.stack([np.ones_like(x), x], axis=1)
    coef = np.zeros((len(p), 2))
    penalty = np.diag([0.0, ridge])
    for _ in range(iterations):
        q = 1 / (1 + np.exp(-(coef @ X.T)))
        w = q * (1 - q) + 1e-12
        H = np.einsum("re,ei,ej->rij", w, X, X) + penalty
        g = (p - q) @ X - coef @ penalty
        coef = coef + np.linalg.solve(H, g[..., None])[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        e_star = -coef[:, 0] / coef[:, 1] + np.mean(grid)
    bad = (coef[:, 1] <= 0) | (e_star < grid[0]) | (e_star > grid[-1]) | (p.max(1) < 0.5) | (p.min(1) > 0.5)
    return np.where(bad, np.nan, e_star).reshape(shape)


def _slope(log_d: np.ndarray, log_n: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and the slope's standard error."""
    ok = np.isfinite(log_n)
    x, y = log_d[ok], log_n[ok]
    if len(x) < 2:
        return np.nan, np.nan, np.nan
    A = np.stack([x, np.ones_like(x)], axis=1)
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    dof = len(x) - 2
    if dof <= 0:
        return float(coef[0]), float(coef[1]), np.nan
    resid = y - A @ coef
    se = np.sqrt(resid @ resid / dof / np.sum((x - x.mean()) ** 2))
    return float(coef[0]), float(coef[1]), float(se)


def fit(result: xr.Dataset, boot: int = 1000, seed: int = 0, log_power: float = 0.0) -> dict:
    """n*(d), theta with its bootstrap 95% interval over seeds, and the regression's standard error.

    log_power p > 0 fits n* / (ln d)^p ~ d^theta instead (a threshold d^theta polylog d, e.g. d log d: p = 1)."""
    grid, ds = result.e.values, result.d.values
    log_d = np.log(ds.astype(float))
    succ = result.success.values.astype(float)  # (d, e, seed)
    e_star = thresholds(succ.mean(-1), grid)
    log_factor = log_power * np.log(log_d)
    theta, intercept, se = _slope(log_d, e_star * log_d - log_factor)
    rng = np.random.default_rng(seed)
    n_seeds = succ.shape[-1]
    slopes = []
    for _ in range(boot):
        pick = rng.integers(0, n_seeds, size=(len(ds), n_seeds))
        p = np.take_along_axis(succ, pick[:, None, :], axis=-1).mean(-1)
        slopes.append(_slope(log_d, thresholds(p, grid) * log_d - log_factor)[0])
    slopes = np.asarray(slopes)
    ok = np.isfinite(slopes)
    low, high = (np.percentile(slopes[ok], [2.5, 97.5]) if ok.sum() >= boot // 2 else (np.nan, np.nan))
    return {"theta": theta, "ci_low": float(low), "ci_high": float(high), "se": se,
            "boot_valid": float(ok.mean()), "intercept": intercept, "n_star": np.exp(e_star * log_d),
            "e_star": e_star, "d": ds, "measured_d": int(np.isfinite(e_star).sum()), "log_power": log_power}


def summary(fitted: dict) -> dict:
    """fit() as plain JSON numbers."""
    return {"theta": fitted["theta"], "theta_ci95_bootstrap": [fitted["ci_low"], fitted["ci_high"]],
            "theta_se_regression": fitted["se"], "bootstrap_valid_fraction": fitted["boot_valid"],
            "n_star": {int(d): float(n) for d, n in zip(fitted["d"], fitted["n_star"])},
            "d_with_threshold": fitted["measured_d"]}
