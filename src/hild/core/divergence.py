"""One divergence mechanism for every model: a run diverges at the first point of its axis where a
watched variable is not finite or exceeds its bound.

Each scenario states its rule as a `Blowup` (which variables, which bound); `flag` records the
outcome the same way on every result: `diverged` (bool, per seed where there are seeds) and
`<axis>_diverged` (the first axis value at which the run diverged, NaN otherwise), and blanks every
float variable along the axis from that point on, so that a diverged run is never plotted or
compared as if it were valid.
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
        """Where the rule is broken, reduced to the axis and the run dimensions (`seed`, `scenario`)."""
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


def flag(ds: xr.Dataset, axis: str, bad: xr.DataArray) -> xr.Dataset:
    """Record divergence on `ds`: `diverged`, `<axis>_diverged`, and NaN from the first bad point on.

    **Arguments:**
    - `ds`: a result with the coordinate `axis`.
    - `bad`: a boolean DataArray over `axis` (and `seed` / `scenario` where present).

    **Returns:** a copy of `ds` with the two variables set and the diverged tails blanked.
    """
    bad = bad.fillna(False).astype(bool)
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


def check(ds: xr.Dataset, axis: str, rule: Blowup | None) -> xr.Dataset:
    """Apply a scenario's rule to its result; None (a model that cannot diverge) flags nothing.

    Apply it before unit dimensions are padded with NaN: a padded unit would read as not finite."""
    if rule is None:
        dims = [d for d in ("seed", "scenario") if d in ds.dims] + [axis]
        return flag(ds, axis, xr.DataArray(np.zeros([ds.sizes[d] for d in dims], bool), dims=dims))
    return flag(ds, axis, rule.bad(ds, axis))
