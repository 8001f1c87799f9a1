"""The standard figure of a sweep store: curves for one free parameter, a phase diagram for two.

Where a point has a simulation, its theory is the one from that simulation's own start (the store's
matched theory, seed mean); the grid-wide theory from the scenarios' nominal start is drawn, and
labelled so, where there is none. Damaged points are left out with a warning naming them, as is a
sweep.json that disagrees with the grid the data were computed on (the figure shows the latter).
"""
from __future__ import annotations

import dataclasses
import textwrap
import warnings
from typing import Any, Mapping

import numpy as np

from hild.core import lazy
from hild.sweep.store import SweepStore

xr = lazy.module("xarray")


class SweepWarning(UserWarning):
    """Something a reader of a sweep's figure must know: damaged points left out, a sweep.json that disagrees.

    **Arguments:** the warning's message (a UserWarning raised by `figure` through `warnings.warn`)."""


NOMINAL = "theory from the nominal start (d → ∞)"
MATCHED = "theory from the simulation's start"


def _select(da: xr.DataArray, select: Mapping[str, Any]) -> xr.DataArray:
    """Fix the selected parameters that da has: numbers to the nearest grid value, others exactly."""
    for name, value in select.items():
        if name in da.dims:
            numeric = da[name].dtype.kind in "iuf"
            da = da.sel({name: value}, method="nearest" if numeric else None)
    return da


def _discrete(cls, name: str, values) -> bool:
    """Whether a grid axis takes separate values only: not numbers, or integers of a parameter that is not a float."""
    values = list(values)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return True
    annotation = next((f.type for f in dataclasses.fields(cls) if f.name == name), "")
    annotation = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    return all(isinstance(v, int) for v in values) and "float" not in annotation


def _points(items: list[dict]) -> str:
    return "; ".join(", ".join(f"{k}={v}" for k, v in item["point"].items()) + f" ({item['reason']})" for item in items)


def _points_on_top(other, spec: dict, reduce, size: str):
    """The seed means of another store's simulation at its largest size, for `figure(points=...)`, and their label;
    ValueError where that store is of another model or parameters, or holds no simulation."""
    if other.spec["model"] != spec["model"] or set(other.spec["axes"]) != set(spec["axes"]):
        raise ValueError(f"points: {other.path} sweeps {other.spec['model']} over {', '.join(other.spec['axes'])}; "
                         f"the figure's store sweeps {spec['model']} over {', '.join(spec['axes'])}")
    sim = other.read()[0]
    if sim is None:
        raise ValueError(f"points: {other.path} holds no simulation (a --theory-only sweep)")
    da = reduce(sim, "the points' simulation")
    if size in da.dims:
        da = da.isel({size: -1})
    sizes = other.sizes or {}
    shown = int(da[size]) if size in da.coords else ""
    seeds = sizes.get("seeds", "")
    label = f"simulation, {size} = {shown}, {seeds} seed{'s' * (seeds != 1)}"
    return da.mean("seed") if "seed" in da.dims else da, label


def figure(store, variable: str = "eg", at: float | None = None, select: Mapping[str, Any] | None = None,
           points=None):
    """The standard figure of a sweep store, at `at` along the model's axis (default: its last value; a point
    scenario has none).

    One free parameter: curves (theory lines, simulation points with standard errors, one color per
    size). Two: a heat map (the simulation at its largest size where there is one, else the theory) with
    theory contours and the theory's divergence boundary as cell outlines; integer axes (K, M, depth ...)
    are drawn as separate cells. Fix the other parameters with `select`. Diverged seeds, missing and
    damaged points are left out; damaged points and a disagreeing sweep.json are warned about
    (`warnings.warn`). With `points` (a second store of the same model and parameters, e.g. a coarse grid with
    simulations beside a fine `--theory-only` one), the heat map is this store's theory and the other store's
    simulation means are drawn on top as discs in the same colours.

    **Arguments:** `store`: a sweep store's directory; `variable` (default `eg`): a scalar data variable of the
    results; `at`: the axis value (nearest); `select`: parameter -> value fixing grid parameters or the size
    (numbers to the nearest grid value), leaving one or two free; `points`: a store directory or None.

    **Returns:** a matplotlib Figure; ValueError for an unknown variable or selection, or more than two free
    parameters.
    """
    from hild.core.registry import get
    from hild.core.scenario import Scenario
    from hild.plot import phase_diagram, sweep_curves

    store = SweepStore(store)
    spec = store.spec
    for difference in store.grid_differences():
        warnings.warn(f"{store.path}/sweep.json disagrees with the data ({difference}); the figure shows the "
                      "grid the data were computed on", SweepWarning, stacklevel=2)
    sim, matched, found = store.read()
    theory = store.theory()
    if found.theory:
        warnings.warn(f"{found.theory}: the figure leaves the theory out; running the same sweep again "
                      "recomputes it", SweepWarning, stacklevel=2)
    if found.damaged:
        warnings.warn(f"left out {len(found.damaged)} damaged point{'s' * (len(found.damaged) > 1)}: "
                      f"{_points(found.damaged)}; running the same sweep again recomputes them", SweepWarning,
                      stacklevel=2)
    axis = spec.get("axis", "t")
    sizes = store.sizes or {}
    size = sizes.get("name") or "d"
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
        if axis is not None and axis in da.dims:
            da = da.sel({axis: at}, method="nearest") if at is not None else da.isel({axis: -1})
        da = _select(da, select)
        extra = [d for d in da.dims if d not in dims + [size, "seed"]]
        if extra:
            raise ValueError(f"variable: {variable!r} has unit dimensions {extra}; choose a scalar variable")
        return da.swap_dims(point=axes[0]) if "point" in da.dims else da

    th, sm = reduce(theory, "the theory"), reduce(sim, "the simulation")
    on_top, on_top_label = None, ""
    if points is not None:
        on_top, on_top_label = _points_on_top(SweepStore(points), spec, reduce, size)
    mt = None
    if matched is not None and bool(matched["done"].any()):
        mt = reduce(matched, "the matched theory")
        mt = mt.mean("seed") if "seed" in mt.dims else mt
    free = [axes[0]] if spec["zipped"] else [a for a in axes if a not in select]
    where = "" if axis is None else f" at {axis} = {at:g}" if at is not None else f" at the last {axis}"
    fixed = ", ".join(f"{k}={v}" for k, v in {**spec["fixed"], **select}.items())
    title = f"{spec['model']} sweep: {variable}{where}" + (f"\n{textwrap.fill(fixed, 90)}" if fixed else "")
    cls = get(spec["model"])
    if cls.matching_theory is Scenario.matching_theory:  # the model's theory does not depend on the seeds
        matched_label = nominal_label = "theory (d → ∞)"
    else:
        matched_label, nominal_label = MATCHED, NOMINAL
    source = nominal_label
    if sm is not None:
        shown = [int(v) for v in sm[size].values] if size in sm.dims else [select[size]]
        seeds = f"{sizes['seeds']} seed{'s' * (sizes['seeds'] != 1)}"
        title += f"\nsimulation: {size} = {', '.join(map(str, shown))}, {seeds} per point"
        if size in sm.dims and (len(free) == 2 or sm.sizes[size] == 1 or size in select):
            sm, mt = sm.isel({size: -1}), None if mt is None else mt.isel({size: -1})
        source = f"simulation, {size} = {shown[-1]}, {seeds}"
    if len(free) == 1:
        hue = size if sm is not None and size in sm.dims else None
        nominal = th if mt is None or not bool(mt.notnull().any([d for d in mt.dims if d != free[0]]).all()) else None
        return sweep_curves(free[0], mt, sm, hue=hue, ylabel=variable, title=title, theory_label=matched_label,
                            simulation_label="simulation" if hue else source, nominal=nominal,
                            nominal_label=nominal_label)
    if len(free) == 2:
        x, y = free[1], free[0]
        discrete = [name for name in (x, y) if _discrete(cls, name, spec["axes"][name])]
        values = th if sm is None else sm.mean("seed")
        lines, lines_label, boundary = th, nominal_label, None
        if theory is not None and "diverged" in theory:
            boundary = _select(theory["diverged"], select)
        if mt is not None and bool((mt.notnull() | values.isnull()).all()):
            lines, lines_label = mt, matched_label
            diverged = _select(matched["diverged"], select)
            diverged = diverged.isel({size: -1}) if size in diverged.dims else diverged
            boundary = diverged.any("seed") if "seed" in diverged.dims else diverged
        levels = None
        if lines is not None and np.isfinite(lines.values).any() and np.nanmin(lines.values) > 0:
            levels = np.geomspace(np.nanmin(lines.values), np.nanmax(lines.values), 6)[1:-1]
        diverges = boundary is not None and bool(boundary.any())
        unconverged = None
        if theory is not None and "converged" in theory:
            unconverged = ~_select(theory["converged"], select).astype(bool)
        if on_top is not None:
            if th is None:
                raise ValueError(f"points: {store.path} has no theory to draw under the points")
            values, source = th, nominal_label
            title += f"\ndiscs: {on_top_label}"
        return phase_diagram(values, x, y, contours=lines, levels=levels, boundary=boundary, discrete=discrete,
                             unconverged=unconverged, points=on_top, points_label=on_top_label,
                             label=f"{variable} ({source})", title=title + f"\ndashed: {lines_label}"
                             + ("; solid: where it diverges" if diverges else ""))
    raise ValueError(f"select: the sweep has {len(free)} free parameters ({', '.join(free)}); "
                     "fix all but one or two, e.g. select K=2")
