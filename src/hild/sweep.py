"""Sweeps: a model, fixed parameters and a grid over some of its parameters.

A grid is a list of axes, each a parameter with its values (a list, or a linear or logarithmic
range), crossed (every combination, one dimension per axis) or zipped (the axes taken together,
one dimension `point`). Every grid point is validated by building its scenario before anything
runs. Theory sweeps integrate all points in vectorised calls of at most `chunk` scenarios.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import xarray as xr

from hild.online import Committee, theory_batch
from hild.online.theory import SCENARIO_COORDS

MODELS = {"committee": Committee}
"""Models a sweep can run, by name."""

SCALAR_PARAMETERS = {"committee": ("K", "M", "activation", "lr", "lr_v", "noise", "weight_decay", "init_std")}
"""The parameters of each model that a grid axis may vary."""


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
                           "axes": {a.name: list(a.values) for a in self.axes}})


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
    K_max, M_max = max(s.K for s in scenarios), max(s.M for s in scenarios)
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
                results[i] = ds.isel(scenario=j, drop=True).reindex(
                    k=np.arange(K_max), k2=np.arange(K_max), m=np.arange(M_max), m2=np.arange(M_max))
    stacked = xr.concat(results, "flat", coords="minimal", compat="override", join="override")
    out = stacked.rename(flat="point") if grid.zipped else _unflatten(stacked, grid)
    out = out.assign_coords(grid.coords())
    out.attrs = {key: value for key, value in out.attrs.items() if key != "params"}
    out.attrs.update({"kind": "theory sweep", "grid": grid.describe()})
    return out


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
