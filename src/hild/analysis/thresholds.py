"""Sample-complexity thresholds and exponents: where a rate crosses a level, n*(d), and theta in n* ~ d^theta
with a bootstrap interval over seeds. The one estimator of hild (arXiv 2312.14922, 2404.08602, 2503.23896).

Input: a rate over (d, point, seed) with a coordinate `n` (d, point), the sample sizes of the grid points (a
success indicator |m| > level for recovery experiments, a test accuracy for classifiers). The threshold n*(d)
is located on the seed mean by one of two methods:

- `logistic`: the maximum-likelihood logistic curve p = 1 / (1 + exp(-b0 - b1 e)) in e = log_d n (IRLS with a
  small ridge on b1, which keeps b1 finite when the grid separates failures from successes), n* = d^e* where
  it crosses `level` (for success rates: 1/2);
- `crossing`: the first grid point where the rate reaches `level`, linearly interpolated in log n with the
  point before (for curves that do not span 0 to 1, such as accuracies).

Either gives NaN where the crossing lies outside the grid. The exponent theta is the least-squares slope of
ln(n* / (ln d)^log_power) against ln d over the d that have a threshold (log_power = 1 fits n* ~ d^theta ln d).
Its interval: seeds resampled with replacement, independently at each d, `boot` times; each resample's slope
over the same d; the percentile interval of the slopes. A resample that loses one of those thresholds is
unresolved; the interval is NaN when more than `max_unresolved` of them are (default (1 - confidence) / 2:
the percentile's tail is then not determined).
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy
from hild.core import validation as check

xr = lazy.module("xarray")

METHODS = ("logistic", "crossing")


def logistic_crossing(rate: np.ndarray, e: np.ndarray, level: float = 0.5, ridge: float = 1e-2,
                      iterations: int = 50) -> np.ndarray:
    """e* per row where the logistic fit p = 1/(1 + exp(-b0 - b1 e)) to rates p (..., point) equals `level`.

    **Arguments:**
    - `rate`: rates in [0, 1], the last axis along the grid.
    - `e`: the grid (..., point), broadcast against `rate` (e = log_d n).
    - `level`: the crossing level in (0, 1); `ridge`: the penalty on b1 (e centred per row).

    **Returns:** e* (...), NaN where b1 <= 0, e* is outside the row's grid, or the rates never cross `level`.
    """
    p = np.asarray(rate, dtype=float)
    x = np.broadcast_to(np.asarray(e, dtype=float), p.shape)
    shape = p.shape[:-1]
    p, x = p.reshape(-1, p.shape[-1]), x.reshape(-1, p.shape[-1])
    centre = x.mean(-1, keepdims=True)
    X = np.stack([np.ones_like(x), x - centre], axis=-1)  # (rows, point, 2)
    coef = np.zeros((len(p), 2))
    penalty = np.diag([0.0, ridge])
    for _ in range(iterations):
        q = 1 / (1 + np.exp(-np.einsum("rei,ri->re", X, coef)))
        w = q * (1 - q) + 1e-12
        H = np.einsum("re,rei,rej->rij", w, X, X) + penalty
        g = np.einsum("re,rei->ri", p - q, X) - coef @ penalty
        coef = coef + np.linalg.solve(H, g[..., None])[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        star = (np.log(level / (1 - level)) - coef[:, 0]) / coef[:, 1] + centre[:, 0]
    bad = ((coef[:, 1] <= 0) | (star < x.min(-1)) | (star > x.max(-1)) | (p.max(-1) < level)
           | (p.min(-1) > level))
    return np.where(bad, np.nan, star).reshape(shape)


def first_crossing(rate: np.ndarray, n: np.ndarray, level: float) -> np.ndarray:
    """n* where `rate` first reaches `level` along the last axis, linear in log n between the grid points around
    the crossing.

    **Arguments:** `rate`: rates (..., point), the last axis along the grid; `n`: the sample sizes (> 0),
    broadcast against `rate`; `level`: the crossing level.

    **Returns:** n* (...), a float array; NaN where `level` is never reached or already reached at the first point.
    """
    acc = np.asarray(rate, float)
    logn = np.log(np.broadcast_to(np.asarray(n, float), acc.shape))
    above = acc >= level
    k = np.argmax(above, axis=-1)[..., None]
    ok = np.take_along_axis(above, k, -1)[..., 0] & (k[..., 0] > 0)
    km = np.maximum(k - 1, 0)
    a0, a1 = np.take_along_axis(acc, km, -1)[..., 0], np.take_along_axis(acc, k, -1)[..., 0]
    l0, l1 = np.take_along_axis(logn, km, -1)[..., 0], np.take_along_axis(logn, k, -1)[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(l0 + (level - a0) / (a1 - a0) * (l1 - l0))
    return np.where(ok, out, np.nan)


def _locate(rate: np.ndarray, n: np.ndarray, log_d: np.ndarray, method: str, level: float) -> np.ndarray:
    """ln n* per (..., d) from seed-mean rates (..., d, point) on sample sizes n (d, point)."""
    if method == "logistic":
        return logistic_crossing(rate, np.log(n) / log_d[:, None], level) * log_d
    return np.log(first_crossing(rate, n, level))


def _slopes(log_d: np.ndarray, y: np.ndarray, use: np.ndarray):
    """Least-squares slope, intercept and the slope's standard error of y against log_d over the mask `use`,
    vectorised over leading axes (NaN with fewer than two points; the error NaN with fewer than three)."""
    w = use.astype(float)
    y = np.where(use, y, 0.0)
    count = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = (w * log_d).sum(-1) / count
        my = (w * y).sum(-1) / count
        dx = np.where(use, log_d - mx[..., None], 0.0)
        sxx = (dx * dx).sum(-1)
        slope = (dx * (y - my[..., None])).sum(-1) / sxx
        resid = np.where(use, y - my[..., None] - slope[..., None] * dx, 0.0)
        se = np.sqrt((resid ** 2).sum(-1) / (count - 2) / sxx)
    slope = np.where(count >= 2, slope, np.nan)
    return slope, np.where(count >= 2, my - slope * mx, np.nan), np.where(count >= 3, se, np.nan)


def exponent(rate: xr.DataArray, level: float = 0.5, method: str = "logistic", boot: int = 1000,
             confidence: float = 0.95, seed: int = 0, log_power: float = 0.0,
             max_unresolved: float | None = None) -> xr.Dataset:
    """The threshold n*(d) and the exponent theta of n* ~ d^theta (ln d)^log_power with its bootstrap interval.

    **Arguments:**
    - `rate`: a DataArray over `d`, one grid dimension and `seed`, with a coordinate `n` over (d, grid): the
      sample sizes (success indicators or rates in [0, 1], or accuracies). NaN entries (diverged runs) are left
      out of the seed means.
    - `level`: the level whose crossing is n*; `method`: 'logistic' or 'crossing' (module docstring).
    - `boot`: bootstrap resamples; `confidence`: the interval's coverage; `seed`: the resampling seed.
    - `log_power`: fit n* / (ln d)^log_power ~ d^theta (0: a pure power law).
    - `max_unresolved`: the largest fraction of unresolved resamples with which the interval is given
      (default (1 - confidence) / 2).

    **Returns:** a Dataset with `n_star` and `e_star` = log_d n* over d, `theta`, `theta_low`, `theta_high`,
    `theta_se` (the regression's standard error), `intercept`, `unresolved` (fraction of resamples) and
    `d_resolved` (how many d have a threshold); attrs the method and its settings.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    level = check.real("level", level, 0.0, 1.0)
    boot = check.integer("boot", boot, 1)
    confidence = check.real("confidence", confidence, 0.0, 1.0, strict_minimum=True)
    seed = check.integer("seed", seed, 0)
    log_power = check.real("log_power", log_power, 0.0)
    tail = (1 - confidence) / 2
    max_unresolved = tail if max_unresolved is None else check.real("max_unresolved", max_unresolved, 0.0, 1.0)
    if not isinstance(rate, xr.DataArray) or "n" not in rate.coords or not {"d", "seed"} <= set(rate.dims) \
            or rate.ndim != 3:
        raise ValueError("rate must be a DataArray over d, one grid dimension and seed, with a coordinate n (d, grid)")
    grid = next(dim for dim in rate.dims if dim not in ("d", "seed"))
    r = rate.transpose("d", grid, "seed")
    if r.sizes["d"] < 2:
        raise ValueError(f"rate must hold at least 2 values of d to fit an exponent; got {r.sizes['d']}")
    values = r.values.astype(float)
    n = np.broadcast_to(r["n"].transpose("d", grid).values.astype(float), values.shape[:2])
    d = r["d"].values
    log_d = np.log(d.astype(float))
    shift = log_power * np.log(log_d)
    with np.errstate(invalid="ignore"):
        log_star = _locate(np.nanmean(values, -1), n, log_d, method, level)
    use = np.isfinite(log_star)
    theta, intercept, se = _slopes(log_d, log_star - shift, use)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, values.shape[-1], size=(boot, len(d), values.shape[-1]))
    with np.errstate(invalid="ignore"):
        resampled = np.nanmean(np.take_along_axis(values[None], pick[:, :, None, :], -1), -1)  # (boot, d, grid)
        log_boot = _locate(resampled, n, log_d, method, level)
    resolved = np.all(np.isfinite(log_boot) | ~use, -1) & (use.sum() >= 2)
    slopes = _slopes(log_d, log_boot - shift, np.broadcast_to(use, log_boot.shape))[0]
    unresolved = float(1 - resolved.mean())
    low, high = (np.quantile(slopes[resolved], [tail, 1 - tail]) if resolved.any() and unresolved <= max_unresolved
                 else (np.nan, np.nan))
    return xr.Dataset(
        {"n_star": ("d", np.exp(log_star)), "e_star": ("d", log_star / log_d), "theta": float(theta),
         "theta_low": float(low), "theta_high": float(high), "theta_se": float(se), "intercept": float(intercept),
         "unresolved": unresolved, "d_resolved": int(use.sum())},
        coords={"d": d},
        attrs={"method": method, "level": level, "boot": boot, "confidence": confidence, "seed": seed,
               "log_power": log_power, "max_unresolved": max_unresolved})


__all__ = ["METHODS", "exponent", "first_crossing", "logistic_crossing"]
