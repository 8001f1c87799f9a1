"""Sample-complexity experiments: success rates over a grid of d and n, the threshold n*(d), and the exponent
theta in n* ~ d^theta with a bootstrap confidence interval (arXiv 2503.23896, 2404.08602, 2312.14922).

The grid of sample sizes is n = round(d^e) for e on a common grid of exponents `grid` (neutral: it does not
presume the answer), so every d spans the same range in log_d n. A run succeeds when |m| > level (default 1/2:
weak recovery at a macroscopic overlap) with m the overlap of the learner's estimate with the spike after n
samples (FastICA: n samples per iteration, after `iterations` iterations; online SGD: after n steps, one fresh
sample each; spectral test: its top eigenvector from n samples).

Threshold and exponent: `fit`, the logistic method of hild.analysis.thresholds.exponent (a logistic curve in
e = log_d n fitted to the success rate over seeds crosses 1/2 at n*; theta the least-squares slope of log n*
against log d; a bootstrap over seeds). Cost is kept down by stopping a d once `stop_after` consecutive grid
points succeed for every seed (success is monotone in n on average; those points are recorded as successes).
"""
from __future__ import annotations

import json

import numpy as np

from hild.analysis.thresholds import exponent
from hild.core import lazy
from hild.core import validation as check
from hild.families.cumulants import learners
from hild.progress import progress_bar

xr = lazy.module("xarray")

COMPLEXITY_LEARNERS = ("fastica", "sgd", "smoothed_sgd", "spectral", "correlated", "independent")
"""The learners of `sweep` (correlated / independent: the single neuron on the mixed cumulant model)."""
PAPER_EXPONENTS = {"fastica": 4.0, "sgd": 3.0, "smoothed_sgd": 2.0, "spectral": 2.0, "correlated": 1.0,
                   "independent": 1.0}
"""The papers' theta of each learner of `sweep` (correlated latents: n ~ d log d)."""


def _n(d: int, e: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(float(d) ** e).astype(np.int64), 1)


def sweep(learner: str, ds, grid, beta: float = 5.0, seeds: int = 16, seed: int = 0, level: float = 0.5,
          stop_after: int = 2, progress: bool = False, **options) -> xr.Dataset:
    """Final overlaps |m| over (d, e, seed) with n = round(d^e), and success = |m| > level.

    options go to the learner: FastICA (iterations, contrast, latent, fresh), SGD (lr_scale: step lr_scale / d^2,
    contrast, latent; smoothed_sgd: step lr_scale / sqrt(d), radius d^smoothing_power, a polynomial contrast),
    spectral (latent); correlated / independent: the single neuron on the mixed cumulant model with correlated
    or independent latents (beta is beta_v; options beta_u, lr, latent), m = <w, v> the overlap with the
    higher-order spike.

    **Returns:** a Dataset with `m` and `success` over (`d`, `e`, `seed`) and the coordinate `n` (d, e)."""
    if learner not in COMPLEXITY_LEARNERS:
        raise ValueError(f"learner must be one of {', '.join(COMPLEXITY_LEARNERS)}; got {learner!r}")
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
            for j, n in enumerate(ns):  # one compiled learner call per grid point (n is traced)
                if done >= stop_after:
                    m[i, j] = 1.0
                    advance(1)
                    continue
                if learner == "fastica":
                    m[i, j] = np.abs(learners.fastica(d, int(n), beta, seeds, seed, **options).m.values[:, -1])
                else:
                    m[i, j] = np.abs(learners.spectral(d, int(n), beta, seeds, seed, **options).m.values)
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
        run = learners.mixed_sgd(d, block * records, beta_u, beta, lr, learner == "correlated", seeds, seed,
                                 records, **options)
        return np.abs(run.m_v.values[:, idx]).T
    smoothing = float(d) ** smoothing_power if learner == "smoothed_sgd" else 0.0
    lr = lr_scale * np.sqrt(d) if learner == "smoothed_sgd" else lr_scale / d  # step lr/d: d^-1/2 or d^-2
    run = learners.online_sgd(d, block * records, beta, lr, seeds, seed, records, smoothing=smoothing, **options)
    return np.abs(run.m.values[:, idx]).T


def fit(result: xr.Dataset, boot: int = 1000, seed: int = 0, log_power: float = 0.0) -> xr.Dataset:
    """n*(d) and theta of a `sweep`, with its bootstrap 95% interval over seeds: hild.analysis.thresholds.exponent
    with the logistic method at 1/2 on the success indicators; log_power p > 0 fits n* / (ln d)^p ~ d^theta (a
    threshold d^theta polylog d, e.g. d log d: p = 1). An interval is given when at most half of the bootstrap
    resamples lose a threshold (as in this family's claims since they were written).

    **Returns:** the Dataset of `exponent` (n_star, e_star, theta, theta_low, theta_high, theta_se, ...)."""
    return exponent(result.success.astype(float), 0.5, "logistic", boot=boot, seed=seed, log_power=log_power,
                    max_unresolved=0.5)


def summary(fitted: xr.Dataset) -> dict:
    """fit() as plain JSON numbers."""
    return {"theta": float(fitted.theta), "theta_ci95_bootstrap": [float(fitted.theta_low),
                                                                   float(fitted.theta_high)],
            "theta_se_regression": float(fitted.theta_se), "bootstrap_unresolved_fraction": float(fitted.unresolved),
            "n_star": {int(d): float(n) for d, n in zip(fitted.d.values, fitted.n_star.values)},
            "d_with_threshold": int(fitted.d_resolved)}
