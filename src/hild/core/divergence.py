"""One divergence mechanism for every model: a run diverges at the first point of its axis where a
watched variable is not finite or exceeds its bound.

Each scenario states its rule as a `Blowup` (which variables, which bound); `flag` records the
outcome the same way on every result: `diverged` (bool, per seed where there are seeds) and
`<axis>_diverged` (the first axis value at which the run diverged, NaN otherwise), and blanks every
float variable along the axis from that point on, so that a diverged run is never plotted or
compared as if it were valid. A point result (a scenario with `axis = None`: a fixed point, a closed form
at one parameter point) gets `diverged` per run and has its diverged runs blanked whole.

Fixed points report their solve the same way: `unconverged` records `converged` per point and blanks the
unconverged ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from hild.core import lazy

xr = lazy.module("xarray")


@dataclass(frozen=True)
class Blowup:
    """Diverged where a watched variable is not finite or |x| > bound * scale.

    **Arguments:**
    - `variables`: the data variables watched.
    - `bound`: the bound, absolute when `scale` is None.
    - `scale`: None, or a function of the result giving each run's reference scale (a DataArray
      without the axis, broadcast against the watched variables), making the bound relative.
    """

    variables: tuple[str, ...]
    bound: float
    scale: Callable[[xr.Dataset], xr.DataArray] | None = None

    def bad(self, ds: xr.Dataset, axis: str) -> xr.DataArray:
        """Where the rule is broken, reduced to the axis (None: a point result) and the run dimensions
        (`seed`, `scenario`)."""
        limit = self.bound if self.scale is None else self.bound * self.scale(ds)
        out = None
        for name in self.variables:
            x = ds[name]
            broken = ~np.isfinite(x) | (abs(x) > limit)
            broken = broken.any([d for d in broken.dims if d not in (axis, "seed", "scenario")])
            out = broken if out is None else out | broken
        return out

    def describe(self) -> str:
        scale = "" if self.scale is None else f" x {getattr(self.scale, '__doc__', None) or 'the run scale'}"
        return f"any of {', '.join(self.variables)} not finite or |x| > {self.bound:g}{scale}"


def flag(ds: xr.Dataset, axis: str | None, bad: xr.DataArray) -> xr.Dataset:
    """Record divergence on `ds`: `diverged`, `<axis>_diverged`, and NaN from the first bad point on.

    **Arguments:**
    - `ds`: a result with the coordinate `axis`, or a point result (`axis` None: no axis dimension).
    - `bad`: a boolean DataArray over `axis` (and `seed` / `scenario` where present).

    **Returns:** a copy of `ds` with the two variables set and the diverged tails blanked; for a point
    result only `diverged`, with every float variable of a diverged run blanked.
    """
    bad = bad.fillna(False).astype(bool)
    if axis is None:
        return _flag_point(ds, bad)
    if axis not in bad.dims:
        raise ValueError(f"divergence: the rule gives no {axis!r} dimension; got {bad.dims}")
    diverged = bad.any(axis)
    first = bad.argmax(axis)
    out = ds.copy()
    if bool(diverged.any()):  # blank the tails (skipped in the common case: nothing to blank)
        after = diverged & (xr.DataArray(np.arange(ds.sizes[axis]), dims=axis) >= first)
        for name, var in ds.data_vars.items():
            if axis in var.dims and var.dtype.kind == "f":
                out[name] = var.where(~after)
    at = ds[axis].isel({axis: first}, drop=True) if axis in ds.coords else first.astype(float)
    out["diverged"] = diverged.reset_coords(drop=True)
    out[f"{axis}_diverged"] = xr.where(diverged, at, np.nan).astype(float)
    return out


def _blank(ds: xr.Dataset, valid: xr.DataArray, keep: tuple[str, ...] = ()) -> xr.Dataset:
    """A copy of `ds` with NaN in every float variable over `valid`'s dimensions (but those in `keep`) where
    `valid` is False."""
    out = ds.copy()
    if not bool(valid.all()):
        for name, var in ds.data_vars.items():
            if name not in keep and var.dtype.kind == "f" and set(valid.dims) <= set(var.dims):
                out[name] = var.where(valid)
    return out


def _flag_point(ds: xr.Dataset, diverged: xr.DataArray) -> xr.Dataset:
    out = _blank(ds, ~diverged)
    out["diverged"] = diverged.reset_coords(drop=True)
    return out


def unconverged(ds: xr.Dataset, converged, keep: tuple[str, ...] = ("residual", "iterations")) -> xr.Dataset:
    """Record a fixed point's convergence status on `ds`: `converged` (bool, per point), and NaN in every float
    variable (but those in `keep`, which describe the solve) where the solve did not converge, so that an
    unconverged point is never plotted or compared as if it were a result. Apply it after the divergence check
    (`check`), which would read the blanked values as a divergence.

    **Arguments:**
    - `ds`: the result; `converged`: a boolean DataArray (or array broadcastable to it, with the same dims as
      the points of `ds`).
    - `keep`: the variables left as they are (the residual, the iteration count).

    **Returns:** a copy of `ds` with `converged` set and the unconverged points blanked.
    """
    converged = xr.DataArray(converged) if not isinstance(converged, xr.DataArray) else converged
    converged = converged.fillna(False).astype(bool)
    out = _blank(ds, converged, keep)
    out["converged"] = converged.reset_coords(drop=True)
    return out


def check(ds: xr.Dataset, axis: str | None, rule: Blowup | None) -> xr.Dataset:
    """Apply a scenario's rule to its result; None (a model that cannot diverge) flags nothing.

    Apply it before unit dimensions are padded with NaN: a padded unit would read as not finite.

    **Arguments:** `ds`: a result; `axis`: its axis (None: a point result); `rule`: the scenario's `Blowup` or None.

    **Returns:** `flag`'s copy of `ds`, with `diverged` (and `<axis>_diverged`) set."""
    if rule is None:
        dims = [d for d in ("seed", "scenario") if d in ds.dims] + ([axis] if axis else [])
        return flag(ds, axis, xr.DataArray(np.zeros([ds.sizes[d] for d in dims], bool), dims=dims))
    return flag(ds, axis, rule.bad(ds, axis))
