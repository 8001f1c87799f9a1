"""The DDPM noise schedule: beta_t for t = 1..T and alpha_bar_t = prod_{s <= t} (1 - beta_s).

Forward process x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, eps ~ N(0, I) (Ho et al.,
arXiv 2006.11239). The standard linear schedule of Merger & Goldt (arXiv 2505.24769) runs beta
from 1e-4 to 1e-2 over T = 1000 steps; we take both endpoints exactly (numpy.linspace), the talk
slides' beta_t = 1e-4 + (1e-2 - 1e-4) t / T is the same schedule shifted by one step (1e-5).
"""
from __future__ import annotations

import numpy as np


def linear(T: int = 1000, beta_min: float = 1e-4, beta_max: float = 1e-2) -> np.ndarray:
    """beta_t = beta_min + (beta_max - beta_min) (t - 1) / (T - 1), t = 1..T (beta_min when T = 1).

    **Arguments:** `T` (>= 1); `beta_min`, `beta_max` in (0, 1).

    **Returns:** betas, an array (T,)."""
    return np.linspace(beta_min, beta_max, T)


def check_betas(name: str, betas) -> np.ndarray:
    """A user-given schedule: a non-empty 1-d array of numbers in the open interval (0, 1).

    **Arguments:** `name`: the parameter named in the error; `betas`: the schedule.

    **Returns:** it as a float array (T,); ValueError otherwise."""
    arr = np.atleast_1d(np.asarray(betas, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty list of numbers in (0, 1); got shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr <= 0) | (arr >= 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must hold numbers in the open interval (0, 1); got {name}[{i}] = {arr[i]:g}")
    return arr


def check_beta(name: str, value) -> float:
    """One number in the open interval (0, 1)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if not ok or not np.isfinite(value) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number in the open interval (0, 1); got {value!r}")
    return float(value)


def alpha_bar(betas: np.ndarray) -> np.ndarray:
    """alpha_bar_t = prod_{s <= t} (1 - beta_s), t = 1..T.

    **Arguments:** `betas` (T,) in (0, 1).

    **Returns:** alpha_bar, an array (T,)."""
    return np.cumprod(1.0 - np.asarray(betas, dtype=float))


def one_minus_alpha_bar(betas: np.ndarray) -> np.ndarray:
    """1 - alpha_bar_t without cancellation (equals beta_1 to rounding at t = 1).

    **Arguments:** `betas` (T,) in (0, 1).

    **Returns:** 1 - alpha_bar, an array (T,)."""
    return -np.expm1(np.cumsum(np.log1p(-np.asarray(betas, dtype=float))))
