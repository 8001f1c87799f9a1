"""Parameter checks shared by every scenario: each error names the parameter, the value and what is allowed."""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = ["covariance", "integer", "matrix", "real", "seeds", "vector"]


def integer(name: str, value, minimum: int) -> int:
    """An integer >= minimum.

    **Arguments:** `name`: the parameter named in the error; `value`: an integral number (not a bool);
    `minimum`: the smallest value allowed.

    **Returns:** `value` as an int; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def seeds(seeds, seed, limit: int = 2 ** 32) -> tuple[int, int]:
    """The number of seeds (an integer in [1, limit]) and the first seed (an integer >= 0 with seed + seeds <=
    limit: every seed of the run is a 32-bit integer). **Returns:** (seeds, seed)."""
    seeds = integer("seeds", seeds, 1)
    if seeds > limit:
        raise ValueError(f"seeds must be an integer in [1, {limit}] (32-bit seeds); got {seeds}")
    seed = integer("seed", seed, 0)
    if seed + seeds > limit:
        raise ValueError(f"seed must be at most {limit} - seeds = {limit - seeds}; got {seed}")
    return seeds, seed


def real(name: str, value, minimum: float | None = None, maximum: float | None = None,
         strict_minimum: bool = False) -> float:
    """A finite real number in [minimum, maximum] (or (minimum, maximum] with strict_minimum).

    **Arguments:** `name`: the parameter named in the error; `value`: a real number (not a bool); `minimum`,
    `maximum`: the bounds (None: unbounded); `strict_minimum`: exclude `minimum` itself.

    **Returns:** `value` as a float; ValueError otherwise."""
    low = "-inf" if minimum is None else f"{minimum:g}"
    high = "inf" if maximum is None else f"{maximum:g}"
    allowed = f"a finite number in {'(' if strict_minimum else '['}{low}, {high}{']' if maximum is not None else ')'}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be {allowed}; got {value}")
    if minimum is not None and (value < minimum or (strict_minimum and value == minimum)):
        raise ValueError(f"{name} must be {allowed}; got {value:g}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be {allowed}; got {value:g}")
    return value


def vector(name: str, value, length: int) -> np.ndarray:
    """A finite real vector of the given length.

    **Arguments:** `name`: the parameter named in the error; `value`: array-like; `length`: the length required.

    **Returns:** a float64 array (length,); ValueError otherwise."""
    arr = np.asarray(value, dtype=float)
    if arr.shape != (length,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be {length} finite numbers; got {np.asarray(value).tolist()!r}")
    return arr


def matrix(name: str, value, shape: tuple[int, int]) -> np.ndarray:
    """A finite real matrix of the given shape.

    **Arguments:** `name`: the parameter named in the error; `value`: array-like; `shape`: (rows, columns).

    **Returns:** a float64 array of that shape; ValueError otherwise."""
    arr = np.asarray(value, dtype=float)
    if arr.shape != shape or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite {shape[0]}x{shape[1]} matrix; got shape {arr.shape}")
    return arr


def covariance(name: str, value, size: int, tol: float = 1e-10) -> np.ndarray:
    """A symmetric positive semi-definite size x size matrix.

    **Arguments:** `name`: the parameter named in the error; `value`: array-like; `size`: its rows and columns;
    `tol`: the tolerance of the symmetry and eigenvalue checks, relative to max(1, max |entry|).

    **Returns:** a float64 array (size, size); ValueError otherwise."""
    arr = matrix(name, value, (size, size))
    if not np.allclose(arr, arr.T, atol=tol * max(1.0, np.abs(arr).max())):
        raise ValueError(f"{name} must be symmetric; got {arr.tolist()}")
    lowest = np.linalg.eigvalsh(arr).min()
    if lowest < -tol * max(1.0, np.abs(arr).max()):
        raise ValueError(f"{name} must be positive semi-definite; its smallest eigenvalue is {lowest:.3g}")
    return arr
