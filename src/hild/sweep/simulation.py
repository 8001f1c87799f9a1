"""Simulation sweeps: every (grid point, size) an independent task, written into a store as it finishes.

Tasks run through an executor (hild.sweep.executors: in process, a local pool, Dask); each point
is keyed by a content hash, so a sweep run again computes only the points its store lacks
(hild.sweep.store).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from hild.core import lazy, resources
from hild.core.scenario import pad_units
from hild.progress import sweep_progress
from hild.sweep.executors import InProcess
from hild.sweep.grid import Grid
from hild.sweep.store import SweepStore
from hild.sweep.theory import sweep_needs, theory_sweep, unit_sizes

xr = lazy.module("xarray")


@dataclass(frozen=True, init=False)
class Sizes:
    """The simulation sizes of a sweep: every grid point runs `seeds` seeds (seed, seed + 1, ...) at
    each value of the model's size parameter.

    `Sizes((500, 1000), seeds=4)`, or with the size parameter named: `Sizes(d=(500, 1000), seeds=4)`,
    `Sizes(n_samples=(64, 256))`. `options` are further keyword arguments of `simulate` (e.g.
    n_test, dtype for the committee machine).

    **Arguments:** `values`: the sizes (an integer or distinct integers >= 1), or given as `NAME=values`;
    `seeds` (>= 1, default 1): seeds per point; `seed` (>= 0, default 0): the first seed; `name`: the size
    parameter (None: the model's own); `options`: further keyword arguments of `simulate`."""

    values: tuple[int, ...]
    name: str | None
    seeds: int
    seed: int
    options: Mapping[str, Any]

    def __init__(self, values=None, seeds: int = 1, seed: int = 0, name: str | None = None,
                 options: Mapping[str, Any] | None = None, **named):
        from hild.core import validation as check

        options = dict(options or {})
        for key in ("n_test", "dtype"):  # the committee machine's simulate options, as earlier versions took them
            if key in named:
                options[key] = named.pop(key)
        if values is None and len(named) == 1:
            name, values = next(iter(named.items()))
        elif named:
            raise ValueError(f"Sizes takes the size values once, positionally or as NAME=...; got {sorted(named)}")
        if values is None:
            raise ValueError("Sizes needs the values of the size parameter")
        values = (values,) if isinstance(values, (int, np.integer)) else tuple(values)
        if not values:
            raise ValueError("sizes must hold at least one value of the size parameter")
        if len(set(values)) != len(values):
            raise ValueError(f"sizes must not repeat a value; got {list(values)}")
        label = name or "size"
        values = tuple(check.integer(label, v, 1) for v in values)
        for attr, value in (("values", values), ("name", name), ("seeds", check.integer("seeds", seeds, 1)),
                            ("seed", check.integer("seed", seed, 0)), ("options", options)):
            object.__setattr__(self, attr, value)

    @property
    def d(self) -> tuple[int, ...]:
        """The size values under the committee machine's name for them (earlier versions' field)."""
        return self.values

    def named(self, name: str) -> "Sizes":
        """These sizes for a model whose size parameter is `name`."""
        if self.name not in (None, name):
            raise ValueError(f"sizes: this model's size parameter is {name!r}; got {self.name!r}")
        return Sizes(self.values, self.seeds, self.seed, name, self.options)

    def as_dict(self) -> dict:
        return {"name": self.name, "values": list(self.values), "seeds": self.seeds, "seed": self.seed,
                "options": json.loads(json.dumps(dict(self.options)))}


@dataclass
class SweepReport:
    """What a sweep run did: points already stored, computed now, failed now or before (not retried), and
    the points found damaged in the store (recomputed now).

    **Arguments:** `store`: the store's path; `points`: the (grid point, size) pairs of the sweep;
    `already_done`, `computed`, `kept_failed` (failed before, not retried), `diverged` (computed points with a
    diverged seed): counts; `failed`, `damaged`: lists of {"point", "error"} / {"point", "reason"};
    `theory_written`: whether the grid-wide theory was written; `seconds`: the run's wall time."""

    store: Path
    points: int
    already_done: int = 0
    computed: int = 0
    failed: list[dict] = field(default_factory=list)
    kept_failed: int = 0
    diverged: int = 0
    theory_written: bool = False
    damaged: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def sweep_spec(grid: Grid, options: Mapping[str, Any]) -> dict:
    """The identity of a sweep's store: the grid, the model's axis, the run options and the hild version.

    **Arguments:** `grid`: the sweep's `Grid`; `options`: the run options (JSON-serialisable).

    **Returns:** a JSON-ready dict (the content of sweep.json)."""
    from hild import __version__

    spec = {**json.loads(grid.describe()), "axis": grid.scenario_class.axis, "options": dict(options),
            "hild_version": __version__}
    return json.loads(json.dumps(spec))


def point_key(model: str, params: dict, size: int, sizes: Sizes, options: Mapping[str, Any]) -> int:
    """The content hash (64 bits of SHA-256) of one simulation point: model, parameters, size, seeds,
    run options and hild version.

    **Arguments:** `model`: the registry name; `params`: the scenario's parameters; `size`: the size value;
    `sizes`: the sweep's `Sizes`; `options`: the run options.

    **Returns:** the key, a non-negative int below 2^64."""
    from hild import __version__

    text = json.dumps({"model": model, "params": params, "size": size, **sizes.as_dict(), "options": dict(options),
                       "hild_version": __version__}, sort_keys=True)
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)


def simulate_point(task: tuple) -> tuple[xr.Dataset, xr.Dataset]:
    """One task of a simulation sweep.

    **Arguments:** `task`: (scenario, simulate's keyword arguments, the theory's options).

    **Returns:** (its simulation, the theory from that simulation's own start: `scenario.matching_theory`),
    two Datasets."""
    scenario, kwargs, options = task
    simulation = scenario.simulate(**kwargs)
    return simulation, scenario.matching_theory(simulation, **options)


def _point(ds: xr.Dataset, units: dict[str, int], axis: str, nominal: np.ndarray | None,
           recorded: bool = True) -> xr.Dataset:
    """A point's result as the store holds it: unit dimensions padded (to the units given or what the result
    holds, the larger); with `recorded`, the axis values kept as `<axis>_recorded` on the sweep's nominal
    axis (a simulation's may differ by size, e.g. whole SGD steps at each d)."""
    out = pad_units(ds, {dim: max(n, ds.sizes.get(dim, 0)) for dim, n in units.items()})
    if nominal is not None:
        if out.sizes[axis] != len(nominal):
            raise ValueError(f"the result has {out.sizes[axis]} values of {axis}, the sweep {len(nominal)}")
        if recorded:
            out = out.assign({f"{axis}_recorded": (axis, ds[axis].values)})
        out = out.assign_coords({axis: nominal})
    out.attrs = {}
    return out


def _template(first: xr.Dataset, grid: Grid, sizes: Sizes, attrs: dict, bookkeeping: bool) -> xr.Dataset:
    """The lazy, fill-valued dataset of a point group over the whole sweep, one chunk per point; with
    `bookkeeping`, the `done`, `key` and `checksum` of every point."""
    import dask.array as da

    shape, ones = grid.shape + (len(sizes.values),), (1,) * (len(grid.shape) + 1)
    dims = grid.dims + (sizes.name,)
    data = {}
    for name, var in first.data_vars.items():
        fill = np.nan if var.dtype.kind == "f" else np.zeros((), var.dtype)
        data[name] = (dims + var.dims, da.full(shape + var.shape, fill, dtype=var.dtype, chunks=ones + var.shape))
    if bookkeeping:
        data["done"] = (dims, da.zeros(shape, dtype=bool, chunks=ones))
        data["key"] = (dims, da.zeros(shape, dtype=np.uint64, chunks=ones))
        data["checksum"] = (dims, da.zeros(shape, dtype=np.uint64, chunks=ones))
    coords = {**{c: first.coords[c].values for c in first.coords}, **grid.coords(), sizes.name: list(sizes.values)}
    return xr.Dataset(data, coords, attrs)


def run_sweep(grid: Grid, store, sizes: Sizes | None = None, theory: bool = True, executor=None,
              retry_failed: bool = False, progress: bool = False, chunk: int = 256, **options) -> SweepReport:
    """Run a sweep into `store` (a directory): the theory at every grid point from the scenarios' nominal
    start, and with `sizes` the simulation at every (grid point, size) together with the theory from that
    simulation's own start (`scenario.matching_theory`), each point written as it finishes.

    **Arguments:**
    - `options`: the run options both theory and simulation take (t_max, n_points for the
      committee machine); they are part of the sweep's identity.
    - `theory`: compute the grid-wide theory (the matched theory of each point is always computed).
    - `executor`: hild.executors.InProcess() (default), LocalProcesses(n) or Dask(...).
    - Points already in the store are not recomputed, except damaged ones (missing, undecodable or
      not matching their checksum); points that failed before are skipped unless `retry_failed`.
      A store with nothing left to compute is only read (it may be read-only).

    **Returns:** a `SweepReport`.
    """
    start = time.perf_counter()
    cls, scenarios = grid.scenario_class, grid.scenarios()
    if sizes is not None:
        sizes = sizes.named(cls.size)
        for scenario in scenarios:
            for n in sizes.values:
                scenario.admit("simulate", **_arguments(cls, n, sizes, options))
    if theory:  # refused before the store is created
        resources.admit(f"the {grid.model} theory sweep", sweep_needs(scenarios, chunk, grid.dims, **options))
    store = SweepStore.create(store, sweep_spec(grid, options))
    report = SweepReport(store.path, points=0 if sizes is None else len(scenarios) * len(sizes.values))
    write_theory = theory and (not store.has_theory or store.theory_damage() is not None)
    todo = []
    if sizes is not None:
        if store.sizes is not None:
            store.claim_sizes(sizes.as_dict())  # refuses other sizes, writes nothing
        found = store.verify()
        keys, report.damaged = found.keys, found.damaged
        failures, points = store.failures(), grid.points()
        for flat, scenario in enumerate(scenarios):
            for j, n in enumerate(sizes.values):
                index = tuple(int(i) for i in np.unravel_index(flat, grid.shape)) + (j,)
                key = point_key(grid.model, scenario.params, n, sizes, options)
                if keys is not None and keys[index] == key:
                    report.already_done += 1
                elif key in failures and not retry_failed:
                    report.kept_failed += 1
                else:
                    todo.append((index, key, scenario, n, {**points[flat], sizes.name: n}))
    if not (write_theory or todo or (sizes is not None and store.sizes is None)):
        report.seconds = time.perf_counter() - start
        return report  # nothing left to compute: the store is only read

    store.require_writable("this sweep has points or its theory to write")
    store.clean()
    if write_theory:
        store.write_theory(theory_sweep(grid, chunk=chunk, progress=progress, **options))
        report.theory_written = True
    if sizes is None:
        report.seconds = time.perf_counter() - start
        return report

    store.claim_sizes(sizes.as_dict())
    executor = executor or InProcess()
    units = unit_sizes(scenarios)
    nominal = {name: store.nominal_axis(name) for name in ("simulation", "matched_theory")}
    tasks = [(scenario, _arguments(cls, n, sizes, options), dict(options)) for _, _, scenario, n, _ in todo]
    names = [f"hild-{key:016x}" for _, key, _, _, _ in todo]
    with sweep_progress(f"sweep {grid.model}", len(todo), enabled=progress) as show:
        for event in executor.run(simulate_point, tasks, keys=names):
            if event is not None:
                i, result, error = event
                index, key, scenario, n, where = todo[i]
                if error is None:
                    sim, own = result
                    try:
                        for name, ds in (("simulation", sim), ("matched_theory", own)):
                            if nominal[name] is None and cls.axis is not None:
                                nominal[name] = ds[cls.axis].values
                        point = _point(sim, units, cls.axis, nominal["simulation"])
                        matched = _point(own, units, cls.axis, nominal["matched_theory"], recorded=False)
                        if not store.has_point_groups:
                            store.create_groups(*_templates(scenarios[0], (sim, point), (own, matched), grid,
                                                            sizes, store))
                            nominal = {name: store.nominal_axis(name) for name in nominal}
                        store.write_point(index, point, matched, key)
                    except ValueError as e:
                        error = str(e)
                if error is None:
                    report.computed += 1
                    report.diverged += bool(sim["diverged"].any())
                else:
                    store.record_failure(key, where, error)
                    report.failed.append({"point": where, "error": error})
            show(report.computed, executor.running, len(report.failed))
    report.seconds = time.perf_counter() - start
    return report


def _templates(scenario, simulation: tuple, matched: tuple, grid: Grid, sizes: Sizes,
               store: SweepStore) -> tuple[xr.Dataset, xr.Dataset]:
    """The templates of the simulation and matched-theory groups from the first point computed: each given
    as (the result as computed, the result as the store holds it)."""
    common = {"sweep": json.dumps(store.spec), "sizes": json.dumps(sizes.as_dict())}
    out = []
    for (raw, point), kind, bookkeeping in ((simulation, "simulation sweep", True),
                                            (matched, "theory sweep from each simulation's own start", False)):
        attrs = {**scenario.provenance(kind, dtype=raw.attrs.get("dtype", "")), **common}
        attrs.pop("params")
        out.append(_template(point, grid, sizes, attrs, bookkeeping))
    return out[0], out[1]


def _arguments(cls, n: int, sizes: Sizes, options: Mapping[str, Any]) -> dict:
    """simulate's keyword arguments for one point at size n."""
    return {cls.size: n, "seeds": sizes.seeds, "seed": sizes.seed, **options, **sizes.options}
