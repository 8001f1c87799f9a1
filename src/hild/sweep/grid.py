"""Sweep grids: a registered model, fixed parameters and axes over some of its sweepable parameters.

A grid is a list of axes, each a parameter with its values (hild.core.values: a list, or a linear
or logarithmic range), crossed (every combination, one dimension per axis) or zipped (the axes
taken together, one dimension `point`). Every grid point is validated by building its scenario
before anything runs.
"""
from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from hild.core import resources
from hild.core.registry import get
from hild.core.resources import Need
from hild.core.values import count, parse_values


SCENARIO_BYTES = 4096
SCENARIO_OPERATIONS = 1e5
"""The memory of one grid point's scenario (the object, its parameters, its record in the grid) and the
cost of building and validating it: what a grid of N points needs before anything runs."""


@dataclass(frozen=True)
class Axis:
    """One swept parameter and its values.

    **Arguments:** `name`: a sweepable parameter of the model; `values`: its values (a non-empty tuple)."""

    name: str
    values: tuple

    def __post_init__(self):
        if len(self.values) == 0:
            raise ValueError(f"grid {self.name}: the range is empty")


def parse_axis(spec: str) -> Axis:
    """An axis from text.

    **Arguments:** `spec`: 'lr=0.1:2:20' (20 points from 0.1 to 2), 'lr=1e-3:1:7:log' (geometric), 'K=1,2,4' or
    'activation=erf,relu' (a list).

    **Returns:** an `Axis` (name, values); ValueError for text of another form or an empty range."""
    name, sep, values = spec.partition("=")
    name = name.strip()
    if not sep or not name or not values.strip():
        raise ValueError(f"grid must look like NAME=START:STOP:N[:log] or NAME=V1,V2,...; got {spec!r}")
    n = count(values)
    resources.admit(f"the grid axis {name}", [Need(f"its {n:.3g} scenarios", (name,), n * SCENARIO_BYTES,
                                                   n * SCENARIO_OPERATIONS)])
    return Axis(name, parse_values(f"grid {name}", values))


@dataclass(frozen=True)
class Grid:
    """A model, its fixed parameters and the axes swept.

    **Arguments:**
    - `model`: a registry name (`hild models`).
    - `axes`: `Axis`es over sweepable parameters (`parse_axis`).
    - `fixed`: parameter values held fixed; parameters neither swept nor fixed take their scenario defaults.
    - `zipped`: take the axes together (one dimension `point`) instead of crossing them.

    Every point's scenario is built, and so validated, at construction."""

    model: str
    axes: tuple[Axis, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    zipped: bool = False

    def __post_init__(self):
        cls = get(self.model)
        if not self.axes:
            raise ValueError("grid must sweep at least one parameter")
        names = [a.name for a in self.axes]
        for name in names:
            if name not in cls.sweepable:
                raise ValueError(f"grid: unknown parameter {name!r} for {self.model}; "
                                 f"allowed: {', '.join(cls.sweepable)}")
        if len(set(names)) != len(names):
            raise ValueError(f"grid: a parameter is swept twice: {names}")
        clash = set(names) & set(self.fixed)
        if clash:
            raise ValueError(f"grid: {sorted(clash)} is both fixed and swept")
        if self.zipped and len({len(a.values) for a in self.axes}) > 1:
            raise ValueError(f"grid: zipped axes need equal lengths; got {[len(a.values) for a in self.axes]}")
        points = math.prod(self.shape)
        resources.admit(f"the {self.model} grid", [Need(f"its {points:.3g} scenarios", tuple(names),
                                                        points * SCENARIO_BYTES, points * SCENARIO_OPERATIONS)])
        for point in self.points():
            try:
                cls(**{**self.fixed, **point})
            except (ValueError, TypeError) as e:
                where = ", ".join(f"{k}={v}" for k, v in point.items())
                raise ValueError(f"{e} (grid point {where})") from None

    @property
    def scenario_class(self):
        return get(self.model)

    @property
    def dims(self) -> tuple[str, ...]:
        return ("point",) if self.zipped else tuple(a.name for a in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.axes[0].values),) if self.zipped else tuple(len(a.values) for a in self.axes)

    def points(self) -> list[dict]:
        """The swept parameters at every grid point, in C order over the axes."""
        names = [a.name for a in self.axes]
        values = [a.values for a in self.axes]
        combos = zip(*values) if self.zipped else itertools.product(*values)
        return [dict(zip(names, c)) for c in combos]

    def scenarios(self) -> list:
        cls = self.scenario_class
        return [cls(**{**self.fixed, **p}) for p in self.points()]

    def coords(self) -> dict:
        if self.zipped:
            return {a.name: ("point", list(a.values)) for a in self.axes}
        return {a.name: list(a.values) for a in self.axes}

    def describe(self) -> str:
        """The grid as JSON (model, fixed parameters, axes, zipped)."""
        return json.dumps({"model": self.model, "fixed": dict(self.fixed), "zipped": self.zipped,
                           "axes": {a.name: list(a.values) for a in self.axes}},
                          default=lambda value: np.asarray(value).tolist())
