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
import xarray as xr

from hild.core.scenario import pad_units
from hild.progress import sweep_progress
from hild.sweep.executors import InProcess
from hild.sweep.grid import Grid
from hild.sweep.store import SweepStore
from hild.sweep.theory import theory_sweep, unit_sizes


@dataclass(frozen=True, init=False)
class Sizes:
    """The simulation sizes of a sweep: every grid point runs `seeds` seeds (seed, seed + 1, ...) at
    each value of the model's size parameter.

    `Sizes((500, 1000), seeds=4)`, or with the size parameter named: `Sizes(d=(500, 1000), seeds=4)`,
    `Sizes(n_samples=(64, 256))`. `options` are further keyword arguments of `simulate` (e.g.
    n_test, dtype for the committee machine)."""

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


def sweep_spec(grid: Grid, options: Mapping[str, Any]) -> dict:
    """The identity of a sweep's store: the grid, the model's axis, the run options and the hild version."""
    from hild import __version__

    spec = {**json.loads(grid.describe()), "axis": grid.scenario_class.axis, "options": dict(options),
            "hild_version": __version__}
    return json.loads(json.dumps(spec))


def point_key(model: str, params: dict, size: int, sizes: Sizes, options: Mapping[str, Any]) -> int:
    """The content hash (64 bits of SHA-256) of one simulation point: model, parameters, size, seeds,
    run options and hild version."""
    from hild import __version__

    text = json.dumps({"model": model, "params": params, "size": size, **sizes.as_dict(), "options": dict(options),
                       "hild_version": __version__}, sort_keys=True)
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)


def simulate_point(task: tuple) -> xr.Dataset:
    """One task of a simulation sweep: (scenario, simulate's keyword arguments) -> its simulation."""
    scenario, kwargs = task
    return scenario.simulate(**kwargs)


def _point(ds: xr.Dataset, units: dict[str, int], axis: str, nominal: np.ndarray | None) -> xr.Dataset:
    """A point's simulation as the store holds it: unit dimensions padded; the recorded axis values
    kept as `<axis>_recorded` on the sweep's nominal axis (they may differ by size, e.g. whole SGD
    steps at each d)."""
    out = pad_units(ds, units)
    if nominal is not None:
        if out.sizes[axis] != len(nominal):
            raise ValueError(f"the simulation has {out.sizes[axis]} values of {axis}, the sweep {len(nominal)}")
        out = out.assign({f"{axis}_recorded": (axis, ds[axis].values)}).assign_coords({axis: nominal})
    out.attrs = {}
    return out


def _template(first: xr.Dataset, grid: Grid, sizes: Sizes, attrs: dict) -> xr.Dataset:
    """The lazy, fill-valued simulation dataset of the whole sweep, one chunk per point."""
    import dask.array as da

    shape, ones = grid.shape + (len(sizes.values),), (1,) * (len(grid.shape) + 1)
    dims = grid.dims + (sizes.name,)
    data = {}
    for name, var in first.data_vars.items():
        fill = np.nan if var.dtype.kind == "f" else np.zeros((), var.dtype)
        data[name] = (dims + var.dims, da.full(shape + var.shape, fill, dtype=var.dtype, chunks=ones + var.shape))
    data["done"] = (dims, da.zeros(shape, dtype=bool, chunks=ones))
    data["key"] = (dims, da.zeros(shape, dtype=np.uint64, chunks=ones))
    coords = {**{c: first.coords[c].values for c in first.coords}, **grid.coords(), sizes.name: list(sizes.values)}
    return xr.Dataset(data, coords, attrs)


def run_sweep(grid: Grid, store, sizes: Sizes | None = None, theory: bool = True, executor=None,
              retry_failed: bool = False, progress: bool = False, chunk: int = 256, **options) -> SweepReport:
    """Run a sweep into `store` (a directory): the theory at every grid point, and with `sizes` the
    simulation at every (grid point, size), each written as it finishes.

    **Arguments:**
    - `options`: the run options both theory and simulation take (t_max, n_points for the
      committee machine); they are part of the sweep's identity.
    - `executor`: hild.executors.InProcess() (default), LocalProcesses(n) or Dask(...).
    - Points already in the store are not recomputed; points that failed before are skipped
      unless `retry_failed`.

    **Returns:** a `SweepReport`.
    """
    start = time.perf_counter()
    cls, scenarios = grid.scenario_class, grid.scenarios()
    if sizes is not None:
        sizes = sizes.named(cls.size)
        for scenario in scenarios:
            for n in sizes.values:
                scenario.check_simulation(**_arguments(cls, n, sizes, options))
    store = SweepStore.create(store, sweep_spec(grid, options))
    store.clean()
    report = SweepReport(store.path, points=0 if sizes is None else len(scenarios) * len(sizes.values))
    if theory and not store.has_theory:
        store.write_theory(theory_sweep(grid, chunk=chunk, **options))
        report.theory_written = True
    if sizes is None:
        report.seconds = time.perf_counter() - start
        return report

    store.claim_sizes(sizes.as_dict())
    completed, failures, points = store.completed(), store.failures(), grid.points()
    todo = []
    for flat, scenario in enumerate(scenarios):
        for j, n in enumerate(sizes.values):
            index = np.unravel_index(flat, grid.shape) + (j,)
            key = point_key(grid.model, scenario.params, n, sizes, options)
            if completed is not None and completed[index] == key:
                report.already_done += 1
            elif key in failures and not retry_failed:
                report.kept_failed += 1
            else:
                todo.append((index, key, scenario, n, {**points[flat], sizes.name: n}))

    executor = executor or InProcess()
    units = unit_sizes(scenarios)
    nominal = store.nominal_axis()
    tasks = [(scenario, _arguments(cls, n, sizes, options)) for _, _, scenario, n, _ in todo]
    keys = [f"hild-{key:016x}" for _, key, _, _, _ in todo]
    with sweep_progress(f"sweep {grid.model}", len(todo), enabled=progress) as show:
        for event in executor.run(simulate_point, tasks, keys=keys):
            if event is not None:
                i, result, error = event
                index, key, scenario, n, where = todo[i]
                if error is None:
                    try:
                        if nominal is None:
                            nominal = result[cls.axis].values
                        point = _point(result, units, cls.axis, nominal)
                    except ValueError as e:
                        result, error = None, str(e)
                if error is None:
                    if not store.has_simulation:
                        attrs = {**scenarios[0].provenance("simulation sweep", dtype=result.attrs.get("dtype", "")),
                                 "sweep": json.dumps(store.spec), "sizes": json.dumps(sizes.as_dict())}
                        attrs.pop("params")
                        store.create_simulation(_template(point, grid, sizes, attrs))
                        nominal = store.nominal_axis()
                    store.write_point(tuple(int(x) for x in index), point, key)
                    report.computed += 1
                    report.diverged += bool(result["diverged"].any())
                else:
                    store.record_failure(key, where, error)
                    report.failed.append({"point": where, "error": error})
            show(report.computed, executor.running, len(report.failed))
    report.seconds = time.perf_counter() - start
    return report


def _arguments(cls, n: int, sizes: Sizes, options: Mapping[str, Any]) -> dict:
    """simulate's keyword arguments for one point at size n."""
    return {cls.size: n, "seeds": sizes.seeds, "seed": sizes.seed, **options, **sizes.options}
