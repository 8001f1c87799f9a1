"""The standard figure of a sweep store: curves for one free parameter, a phase diagram for two."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import xarray as xr

from hild.sweep.store import SweepStore


def _select(da: xr.DataArray, select: Mapping[str, Any]) -> xr.DataArray:
    """Fix the selected parameters that da has: numbers to the nearest grid value, others exactly."""
    for name, value in select.items():
        if name in da.dims:
            numeric = da[name].dtype.kind in "iuf"
            da = da.sel({name: value}, method="nearest" if numeric else None)
    return da


def figure(store, variable: str = "eg", at: float | None = None, select: Mapping[str, Any] | None = None):
    """The standard figure of a sweep store, at `at` along the model's axis (default: its last value).

    One free parameter: curves (theory lines, simulation points with standard errors, one color per
    size). Two: a heat map (the simulation at its largest size where there is one, else the theory),
    theory contours and the theory's divergence boundary. Fix the other parameters with `select`.
    Diverged seeds and missing points are left out.
    """
    from hild.plot import phase_diagram, sweep_curves

    store = SweepStore(store)
    spec, theory, sim = store.spec, store.theory(), store.simulation()
    axis = spec.get("axis", "t")
    size = (store.sizes or {}).get("name") or "d"
    select = dict(select or {})
    axes = list(spec["axes"])
    dims = ["point"] if spec["zipped"] else axes
    unknown = [name for name in select if name not in dims + [size]]
    if unknown:
        raise ValueError(f"select: {unknown[0]!r} is not a dimension of this sweep; choose from {dims + [size]}")

    def reduce(ds, kind):
        if ds is None:
            return None
        if variable not in ds:
            raise ValueError(f"variable: {kind} has no {variable!r}; choose from {', '.join(ds.data_vars)}")
        da = ds[variable]
        if "diverged" in ds:
            da = da.where(~ds["diverged"].astype(bool))
        if "done" in ds:
            da = da.where(ds.done)
        if axis in da.dims:
            da = da.sel({axis: at}, method="nearest") if at is not None else da.isel({axis: -1})
        da = _select(da, select)
        extra = [d for d in da.dims if d not in dims + [size, "seed"]]
        if extra:
            raise ValueError(f"variable: {variable!r} has unit dimensions {extra}; choose a scalar variable")
        return da.swap_dims(point=axes[0]) if "point" in da.dims else da

    th, sm = reduce(theory, "the theory"), reduce(None if sim is None else sim.load(), "the simulation")
    free = [axes[0]] if spec["zipped"] else [a for a in axes if a not in select]
    where = f"{axis} = {at:g}" if at is not None else f"the last {axis}"
    title = f"{spec['model']} sweep, {variable} at {where}"
    if len(free) == 1:
        hue = size if sm is not None and size in sm.dims and sm.sizes[size] > 1 and size not in select else None
        if sm is not None and hue is None and size in sm.dims:
            sm = sm.isel({size: -1})
        return sweep_curves(free[0], th, sm, hue=hue, ylabel=variable, title=title)
    if len(free) == 2:
        x, y = free[1], free[0]
        if sm is not None:
            values = (sm.isel({size: -1}) if size in sm.dims else sm).mean("seed")
            source = f"simulation, {size} = {int(sm[size].values[-1]) if size in sm.dims else select[size]}"
        else:
            values, source = th, "theory"
        levels = None
        if th is not None and np.isfinite(th.values).any() and np.nanmin(th.values) > 0:
            levels = np.geomspace(np.nanmin(th.values), np.nanmax(th.values), 6)[1:-1]
        boundary = None if theory is None or "diverged" not in theory else _select(theory["diverged"], select)
        return phase_diagram(values, x, y, contours=th, levels=levels, boundary=boundary,
                             label=f"{variable} ({source})", title=title + "; dashed: theory")
    raise ValueError(f"select: the sweep has {len(free)} free parameters ({', '.join(free)}); "
                     "fix all but one or two, e.g. select K=2")
