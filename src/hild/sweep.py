"""Sweeps: a model, fixed parameters and a grid over some of its parameters.

A grid is a list of axes, each a parameter with its values (a list, or a linear or logarithmic
range), crossed (every combination, one dimension per axis) or zipped (the axes taken together,
one dimension `point`). Every grid point is validated by building its scenario before anything
runs. Theory sweeps integrate all points in vectorised calls of at most `chunk` scenarios.
Simulation sweeps run every (grid point, d) as an independent task through an executor
(hild.executors) and write each point into a store (hild.store) as it finishes; run again, a
sweep computes only the points its store lacks.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import xarray as xr

from hild.executors import InProcess
from hild.online import Committee, theory_batch
from hild.online.simulate import check_run
from hild.online.theory import SCENARIO_COORDS
from hild.progress import sweep_progress
from hild.store import SweepStore

MODELS = {"committee": Committee}
"""Models a sweep can run, by name."""

SCALAR_PARAMETERS = {"committee": ("K", "M", "activation", "lr", "lr_v", "noise", "weight_decay", "init_std")}
"""The parameters of each model that a grid axis may vary."""

UNIT_SIZES = {"committee": lambda s: {"k": s.K, "k2": s.K, "m": s.M, "m2": s.M}}
"""The sizes of each model's unit dimensions; a sweep pads every point to the grid's largest."""


@dataclass(frozen=True)
class Axis:
    """One swept parameter and its values."""

    name: str
    values: tuple

    def __post_init__(self):
        if len(self.values) == 0:
            raise ValueError(f"grid {self.name}: the range is empty")


def _number(text: str):
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def parse_axis(spec: str) -> Axis:
    """An axis from text: 'lr=0.1:2:20' (20 points from 0.1 to 2), 'lr=1e-3:1:7:log' (geometric),
    'K=1,2,4' or 'activation=erf,relu' (a list)."""
    name, sep, values = spec.partition("=")
    name = name.strip()
    if not sep or not name or not values.strip():
        raise ValueError(f"grid must look like NAME=START:STOP:N[:log] or NAME=V1,V2,...; got {spec!r}")
    if ":" in values:
        parts = values.split(":")
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("lin", "log")):
            raise ValueError(f"grid {name}: a range is START:STOP:N or START:STOP:N:log; got {values!r}")
        try:
            start, stop, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(f"grid {name}: START and STOP must be numbers and N an integer; got {values!r}") from None
        if n < 1:
            raise ValueError(f"grid {name}: the range is empty (N = {n})")
        if len(parts) == 4 and parts[3] == "log":
            if start <= 0 or stop <= 0:
                raise ValueError(f"grid {name}: a log range needs START, STOP > 0; got {values!r}")
            return Axis(name, tuple(np.geomspace(start, stop, n).tolist()))
        return Axis(name, tuple(np.linspace(start, stop, n).tolist()))
    items = [v.strip() for v in values.split(",") if v.strip()]
    try:
        return Axis(name, tuple(_number(v) for v in items))
    except ValueError:
        return Axis(name, tuple(items))


@dataclass(frozen=True)
class Grid:
    """A model, its fixed parameters and the axes swept; `zipped` takes the axes together."""

    model: str
    axes: tuple[Axis, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    zipped: bool = False

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}; got {self.model!r}")
        if not self.axes:
            raise ValueError("grid must sweep at least one parameter")
        allowed = SCALAR_PARAMETERS[self.model]
        names = [a.name for a in self.axes]
        for name in names:
            if name not in allowed:
                raise ValueError(f"grid: unknown parameter {name!r} for {self.model}; allowed: {', '.join(allowed)}")
        if len(set(names)) != len(names):
            raise ValueError(f"grid: a parameter is swept twice: {names}")
        clash = set(names) & set(self.fixed)
        if clash:
            raise ValueError(f"grid: {sorted(clash)} is both fixed and swept")
        if self.zipped and len({len(a.values) for a in self.axes}) > 1:
            raise ValueError(f"grid: zipped axes need equal lengths; got {[len(a.values) for a in self.axes]}")
        for point in self.points():
            try:
                MODELS[self.model](**{**self.fixed, **point})
            except (ValueError, TypeError) as e:
                where = ", ".join(f"{k}={v}" for k, v in point.items())
                raise ValueError(f"{e} (grid point {where})") from None

    @property
    def dims(self) -> tuple[str, ...]:
        return ("point",) if self.zipped else tuple(a.name for a in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.axes[0].values),) if self.zipped else tuple(len(a.values) for a in self.axes)

    def points(self) -> list[dict]:
        """The swept parameters at every grid point, in C order over the axes."""
        names = [a.name for a in self.axes]
        combos = zip(*(a.values for a in self.axes)) if self.zipped else itertools.product(*(a.values for a in self.axes))
        return [dict(zip(names, c)) for c in combos]

    def scenarios(self) -> list:
        return [MODELS[self.model](**{**self.fixed, **p}) for p in self.points()]

    def coords(self) -> dict:
        if self.zipped:
            return {a.name: ("point", list(a.values)) for a in self.axes}
        return {a.name: list(a.values) for a in self.axes}

    def describe(self) -> str:
        """The grid as JSON (model, fixed parameters, axes, zipped)."""
        return json.dumps({"model": self.model, "fixed": dict(self.fixed), "zipped": self.zipped,
                           "axes": {a.name: list(a.values) for a in self.axes}},
                          default=lambda value: np.asarray(value).tolist())


def theory_sweep(grid: Grid, t_max: float, n_points: int = 101, chunk: int = 256, init=None) -> xr.Dataset:
    """The theory at every grid point, in vectorised calls of at most `chunk` scenarios.

    Scenarios sharing an activation and M are integrated together (K is padded); the result has
    one dimension per crossed axis (or `point` for zipped axes), then t and the unit dimensions,
    padded with NaN to the largest K and M of the grid. `init` (a dict of overlaps) starts every
    point; by default each starts from its random-start limit.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1; got {chunk}")
    scenarios = grid.scenarios()
    units = _unit_sizes(grid.model, scenarios)
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(scenarios):
        groups.setdefault((s.act, s.M), []).append(i)
    results: list[xr.Dataset | None] = [None] * len(scenarios)
    for members in groups.values():
        for start in range(0, len(members), chunk):
            batch = members[start:start + chunk]
            # every call of a group has the same batch size (the last one repeats its final
            # scenario), so the group compiles once
            size = min(chunk, len(members))
            padded = batch + [batch[-1]] * (size - len(batch))
            inits = None if init is None else [init] * size
            ds = theory_batch([scenarios[i] for i in padded], t_max=t_max, n_points=n_points, inits=inits)
            ds = ds.drop_vars(SCENARIO_COORDS)
            for j, i in enumerate(batch):
                results[i] = _pad(ds.isel(scenario=j, drop=True), units)
    stacked = xr.concat(results, "flat", coords="minimal", compat="override", join="override")
    out = stacked.rename(flat="point") if grid.zipped else _unflatten(stacked, grid)
    out = out.assign_coords(grid.coords())
    out.attrs = {key: value for key, value in out.attrs.items() if key != "params"}
    out.attrs.update({"kind": "theory sweep", "grid": grid.describe()})
    return out


def _unit_sizes(model: str, scenarios: list) -> dict[str, int]:
    sizes = [UNIT_SIZES[model](s) for s in scenarios]
    return {dim: max(s[dim] for s in sizes) for dim in sizes[0]}


def _pad(ds: xr.Dataset, units: dict[str, int]) -> xr.Dataset:
    """Pad the unit dimensions to the given sizes with NaN."""
    return ds.reindex({dim: np.arange(n) for dim, n in units.items() if dim in ds.dims})


def _unflatten(ds: xr.Dataset, grid: Grid) -> xr.Dataset:
    """Reshape the `flat` dimension (C order over the crossed axes) into one dimension per axis."""
    names = [a.name for a in grid.axes]
    data = {}
    for var, da in ds.data_vars.items():
        if "flat" not in da.dims:
            data[var] = da
            continue
        rest = [d for d in da.dims if d != "flat"]
        values = da.transpose("flat", *rest).values.reshape(grid.shape + tuple(da.sizes[d] for d in rest))
        data[var] = (tuple(names) + tuple(rest), values)
    coords = {c: ds.coords[c] for c in ds.coords if "flat" not in ds.coords[c].dims}
    return xr.Dataset(data, coords=coords, attrs=ds.attrs)


# --- simulation sweeps ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sizes:
    """The simulation sizes of a sweep: every grid point runs `seeds` seeds (seed, seed + 1, ...) at each d."""

    d: tuple[int, ...]
    seeds: int = 1
    seed: int = 0
    n_test: int = 0
    dtype: str = "float32"

    def __post_init__(self):
        d = (self.d,) if isinstance(self.d, (int, np.integer)) else tuple(self.d)
        if not d:
            raise ValueError("d must hold at least one input dimension")
        if len(set(d)) != len(d):
            raise ValueError(f"d must not repeat a value; got {list(d)}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")
        object.__setattr__(self, "d", d)

    def as_dict(self) -> dict:
        return {"d": list(self.d), "seeds": self.seeds, "seed": self.seed, "n_test": self.n_test, "dtype": self.dtype}


@dataclass
class SweepReport:
    """What a sweep run did: points already stored, computed now, failed now or before (not retried)."""

    store: Path
    points: int
    already_done: int = 0
    computed: int = 0
    failed: list[dict] = field(default_factory=list)
    kept_failed: int = 0
    diverged: int = 0
    theory_written: bool = False
    seconds: float = 0.0


def sweep_spec(grid: Grid, t_max: float, n_points: int) -> dict:
    """The identity of a sweep's store: the grid, the time axis and the hild version (as JSON values)."""
    from hild import __version__

    spec = {**json.loads(grid.describe()), "t_max": t_max, "n_points": n_points, "hild_version": __version__}
    return json.loads(json.dumps(spec))


def point_key(model: str, params: dict, d: int, sizes: Sizes, t_max: float, n_points: int) -> int:
    """The content hash (64 bits of SHA-256) of one simulation point: model, parameters, size, seeds, version."""
    from hild import __version__

    text = json.dumps({"model": model, "params": params, "d": d, **sizes.as_dict(), "t_max": t_max,
                       "n_points": n_points, "hild_version": __version__}, sort_keys=True)
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)


def simulate_point(task: tuple) -> xr.Dataset:
    """One task of a simulation sweep: (scenario, simulate's keyword arguments) -> its simulation."""
    scenario, kwargs = task
    return scenario.simulate(**kwargs)


def _point(ds: xr.Dataset, units: dict[str, int], t: np.ndarray) -> xr.Dataset:
    """A point's simulation as the store holds it: unit dimensions padded, times on the nominal grid
    `t` with the recorded times (whole SGD steps) kept as `t_recorded`."""
    out = _pad(ds, units).assign(t_recorded=("t", ds.t.values)).assign_coords(t=t)
    out.attrs = {}
    return out


def _template(first: xr.Dataset, grid: Grid, sizes: Sizes, attrs: dict) -> xr.Dataset:
    """The lazy, NaN-filled simulation dataset of the whole sweep, one chunk per point."""
    import dask.array as da

    shape, ones = grid.shape + (len(sizes.d),), (1,) * (len(grid.shape) + 1)
    dims = grid.dims + ("d",)
    data = {}
    for name, var in first.data_vars.items():
        fill = np.nan if var.dtype.kind == "f" else np.zeros((), var.dtype)
        data[name] = (dims + var.dims, da.full(shape + var.shape, fill, dtype=var.dtype, chunks=ones + var.shape))
    data["done"] = (dims, da.zeros(shape, dtype=bool, chunks=ones))
    data["key"] = (dims, da.zeros(shape, dtype=np.uint64, chunks=ones))
    coords = {**{c: first.coords[c].values for c in first.coords}, **grid.coords(), "d": list(sizes.d)}
    return xr.Dataset(data, coords, attrs)


def run_sweep(grid: Grid, store, t_max: float, n_points: int = 101, sizes: Sizes | None = None,
              theory: bool = True, executor=None, retry_failed: bool = False, progress: bool = False) -> SweepReport:
    """Run a sweep into `store` (a directory): the theory at every grid point, and with `sizes` the
    simulation at every (grid point, d), each written as it finishes.

    Points already in the store are not recomputed; points that failed before are skipped unless
    `retry_failed`. `executor`: hild.executors.InProcess() (default), LocalProcesses(n) or Dask(...).
    """
    start = time.perf_counter()
    scenarios = grid.scenarios()
    if sizes is not None:
        for d in sizes.d:
            check_run(scenarios[0], d, sizes.seeds, sizes.seed, t_max, n_points, sizes.n_test)
    store = SweepStore.create(store, sweep_spec(grid, t_max, n_points))
    store.clean()
    report = SweepReport(store.path, points=0 if sizes is None else len(scenarios) * len(sizes.d))
    if theory and not store.has_theory:
        store.write_theory(theory_sweep(grid, t_max=t_max, n_points=n_points))
        report.theory_written = True
    if sizes is None:
        report.seconds = time.perf_counter() - start
        return report

    store.claim_sizes(sizes.as_dict())
    completed, failures, points = store.completed(), store.failures(), grid.points()
    todo = []
    for flat, scenario in enumerate(scenarios):
        for j, d in enumerate(sizes.d):
            index = np.unravel_index(flat, grid.shape) + (j,)
            key = point_key(grid.model, scenario.params, d, sizes, t_max, n_points)
            if completed is not None and completed[index] == key:
                report.already_done += 1
            elif key in failures and not retry_failed:
                report.kept_failed += 1
            else:
                todo.append((index, key, scenario, d, {**points[flat], "d": d}))

    executor = executor or InProcess()
    units, t = _unit_sizes(grid.model, scenarios), np.linspace(0.0, t_max, n_points)
    tasks = [(scenario, {"d": d, "seeds": sizes.seeds, "seed": sizes.seed, "t_max": t_max, "n_points": n_points,
                         "n_test": sizes.n_test, "dtype": sizes.dtype}) for _, _, scenario, d, _ in todo]
    keys = [f"hild-{key:016x}" for _, key, _, _, _ in todo]
    with sweep_progress(f"sweep {grid.model}", len(todo), enabled=progress) as show:
        for event in executor.run(simulate_point, tasks, keys=keys):
            if event is not None:
                i, result, error = event
                index, key, scenario, d, where = todo[i]
                if error is None:
                    point = _point(result, units, t)
                    if not store.has_simulation:
                        attrs = {**scenarios[0].attrs("simulation sweep"), "sweep": json.dumps(store.spec),
                                 "sizes": json.dumps(sizes.as_dict())}
                        attrs.pop("params")
                        store.create_simulation(_template(point, grid, sizes, attrs))
                    store.write_point(tuple(int(n) for n in index), point, key)
                    report.computed += 1
                    report.diverged += bool(result.diverged.any())
                else:
                    store.record_failure(key, where, error)
                    report.failed.append({"point": where, "error": error})
            show(report.computed, executor.running, len(report.failed))
    report.seconds = time.perf_counter() - start
    return report


# --- figures ----------------------------------------------------------------------------------------

def _select(da: xr.DataArray, select: Mapping[str, Any]) -> xr.DataArray:
    """Fix the selected parameters that da has: numbers to the nearest grid value, others exactly."""
    for name, value in select.items():
        if name in da.dims:
            numeric = da[name].dtype.kind in "iuf"
            da = da.sel({name: value}, method="nearest" if numeric else None)
    return da


def figure(store, variable: str = "eg", at: float | None = None, select: Mapping[str, Any] | None = None):
    """The standard figure of a sweep store, at time `at` (default: the last recorded time).

    One free parameter: curves (theory lines, simulation points with standard errors, one color per
    d). Two: a heat map (the simulation at its largest d where there is one, else the theory), theory
    contours and the theory's divergence boundary. Fix the other parameters with `select`.
    Diverged seeds and missing points are left out.
    """
    from hild.plot import phase_diagram, sweep_curves

    store = SweepStore(store)
    spec, theory, sim = store.spec, store.theory(), store.simulation()
    select = dict(select or {})
    axes = list(spec["axes"])
    dims = ["point"] if spec["zipped"] else axes
    unknown = [name for name in select if name not in dims + ["d"]]
    if unknown:
        raise ValueError(f"select: {unknown[0]!r} is not a dimension of this sweep; choose from {dims + ['d']}")

    def reduce(ds, kind):
        if ds is None:
            return None
        if variable not in ds:
            raise ValueError(f"variable: {kind} has no {variable!r}; choose from {', '.join(ds.data_vars)}")
        da = ds[variable].where(~ds.diverged)
        if "done" in ds:
            da = da.where(ds.done)
        da = da.sel(t=at, method="nearest") if at is not None else da.isel(t=-1)
        da = _select(da, select)
        return da.swap_dims(point=axes[0]) if "point" in da.dims else da

    th, sm = reduce(theory, "the theory"), reduce(None if sim is None else sim.load(), "the simulation")
    free = [axes[0]] if spec["zipped"] else [a for a in axes if a not in select]
    t_label = f"t = {at:g}" if at is not None else f"t = {spec['t_max']:g}"
    title = f"{spec['model']} sweep, {variable} at {t_label}"
    if len(free) == 1:
        hue = "d" if sm is not None and sm.sizes["d"] > 1 and "d" not in select else None
        if sm is not None and hue is None and "d" in sm.dims:
            sm = sm.isel(d=-1)
        return sweep_curves(free[0], th, sm, hue=hue, ylabel=variable, title=title)
    if len(free) == 2:
        x, y = free[1], free[0]
        if sm is not None:
            values = (sm.isel(d=-1) if "d" in sm.dims else sm).mean("seed")
            source = f"simulation, d = {int(sm.d.values[-1]) if 'd' in sm.dims else select['d']}"
        else:
            values, source = th, "theory"
        levels = None
        if th is not None and np.isfinite(th.values).any() and np.nanmin(th.values) > 0:
            levels = np.geomspace(np.nanmin(th.values), np.nanmax(th.values), 6)[1:-1]
        boundary = None if theory is None else _select(theory.diverged, select)
        return phase_diagram(values, x, y, contours=th, levels=levels, boundary=boundary,
                             label=f"{variable} ({source})", title=title + "; dashed: theory")
    raise ValueError(f"select: the sweep has {len(free)} free parameters ({', '.join(free)}); "
                     "fix all but one or two, e.g. select K=2")
