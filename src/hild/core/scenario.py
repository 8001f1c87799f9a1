"""The scenario protocol: what every model declares so that the shared machinery can run it.

A scenario is one model with all its parameters fixed: a frozen dataclass, validated at
construction (`ValueError` naming the parameter, its value and what is allowed), registered once
with `hild.core.register`. The machinery (`hild run`, `hild sweep`, `hild.compare`,
`hild.finite_size`, the claims, the contract test) reads only what is declared here:

| declaration | meaning |
| --- | --- |
| `model` | the registry name, e.g. `committee`, `deep_linear.autoencoder` |
| `axis` | the coordinate theory and simulation share: `t`, `layer`, `n`, `step` ...; None for a point scenario, whose results are values at one parameter point (a fixed point at one alpha) |
| `size` | the simulation's finite-size parameter (`d`, `n_samples` ...): `simulate(**{size: n})` |
| `units` | the per-unit dimensions of results (`k`, `m` ...), padded to the largest in a sweep |
| `sweepable` | the fields a sweep grid may vary |
| `convention` | the scaling and learning-rate convention, with its paper |
| `divergence` | the `Blowup` rule that marks a run diverged (None: the model cannot diverge) |

and implements

    theory(**options) -> xarray.Dataset            the d -> infinity (or exact) prediction
    simulate(*, <size>=..., seeds=1, seed=0, **options) -> xarray.Dataset
    example() -> a small valid instance that runs in seconds with the defaults

The one rule for signatures: every argument is a keyword with a default; an option that sets the
extent of a run along the axis (`t_max`, `n_points` ...) has the same name and default in
`theory` and `simulate`; `simulate` takes the size parameter, `seeds` (how many) and `seed`
(the first integer seed). Both results carry the axis, the same variable names for the same
quantities, `diverged` and `<axis>_diverged` (hild.core.divergence), and the provenance of
`provenance()`. Models that can integrate many scenarios in one compiled call say how with
`batch_key` (scenarios with equal keys share a call) and `theory_batch`.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import json
from typing import Any, ClassVar, Sequence

import numpy as np

from hild.core import lazy, resources
from hild.core.divergence import Blowup
from hild.core.resources import Need

xr = lazy.module("xarray")


def jsonable(value: Any) -> Any:
    """A parameter value as plain JSON data.

    **Arguments:** `value`: a str, bool, number, None, numpy scalar or array, tuple, list, dict, or an object
    with a `name` / `__name__` (an activation, a function).

    **Returns:** the JSON form (tuples and arrays as lists, numpy scalars as Python, named objects as their name);
    TypeError where there is none."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    name = getattr(value, "name", None) or getattr(value, "__name__", None)
    if name is not None:
        return str(name)
    raise TypeError(f"parameter value {value!r} has no JSON form")


class Scenario:
    """The base of every model's scenario class (see the module docstring for the protocol).

    **Arguments:** none here: a model's subclass is a frozen dataclass whose fields are its parameters, validated
    in `__post_init__`. Its `theory` and `simulate` are wrapped so that every call is first `admit`ted.

    **Returns:** `theory(**options)` and `simulate(...)` give xarray Datasets on the class's `axis` (a simulation
    with a `seed` dimension), with `diverged` and the attributes of `provenance`."""

    model: ClassVar[str]
    axis: ClassVar[str | None]
    size: ClassVar[str]
    units: ClassVar[tuple[str, ...]] = ()
    sweepable: ClassVar[tuple[str, ...]] = ()
    convention: ClassVar[str] = ""
    divergence: ClassVar[Blowup | None] = None
    description: ClassVar[str] = ""
    papers: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        """Guard the `theory` and `simulate` a model defines: each call is first `admit`ted."""
        super().__init_subclass__(**kwargs)
        for call in ("theory", "simulate"):
            if call in cls.__dict__ and not getattr(cls.__dict__[call], "_admits", False):
                setattr(cls, call, _admitted(cls.__dict__[call], call))

    # --- what every model implements ------------------------------------------------------------

    @classmethod
    def example(cls) -> "Scenario":
        """A small valid instance whose theory and simulation run in seconds with their defaults.

        **Arguments:** none. **Returns:** an instance of the class; this base raises NotImplementedError."""
        raise NotImplementedError(f"{cls.__name__} must define example()")

    def theory(self, **options) -> xr.Dataset:
        """The d -> infinity (or exact) prediction; every model defines its own.

        **Arguments:** the model's options, each a keyword with a default (`t_max`, `n_points` ...).

        **Returns:** a Dataset on the class's `axis` with `diverged` and `<axis>_diverged` and the attributes of
        `provenance`; this base raises NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} must define theory()")

    def simulate(self, **options) -> xr.Dataset:
        """The finite-size simulation; every model defines its own.

        **Arguments:** the size parameter (`<size>=...`), `seeds` (how many), `seed` (the first integer seed) and
        the model's options, each a keyword with a default.

        **Returns:** a Dataset over (`seed`, the axis) with the theory's variable names, `diverged` and
        `<axis>_diverged` per seed, and the attributes of `provenance`; this base raises NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} must define simulate()")

    # --- shared behaviour, overridden where a model knows better ---------------------------------

    @property
    def params(self) -> dict:
        """Every constructor parameter as plain JSON data."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self) if f.init}

    def unit_sizes(self) -> dict[str, int]:
        """The length of each unit dimension of this scenario's results (for padding in sweeps)."""
        return {}

    def batch_key(self) -> Any:
        """Scenarios with equal keys can share one `theory_batch` call; None: each runs alone."""
        return None

    @classmethod
    def theory_batch(cls, scenarios: Sequence["Scenario"], **options) -> xr.Dataset:
        """The theory of many scenarios along a new dimension `scenario`, unit dimensions padded
        with NaN to the largest. This default runs them one by one; batching models override it."""
        scenarios = list(scenarios)
        if not scenarios:
            raise ValueError("scenarios must hold at least one scenario")
        results = [s.theory(**options) for s in scenarios]
        units = {dim: max(s.unit_sizes().get(dim, 0) for s in scenarios) for dim in cls.units}
        padded = [pad_units(ds, units) for ds in results]
        out = xr.concat(padded, "scenario", coords="minimal", compat="override", join="override",
                        combine_attrs="override")
        return out.assign_coords(scenario=np.arange(len(scenarios)))

    def matching_theory(self, simulation: xr.Dataset, **options) -> xr.Dataset:
        """The theory to compare with `simulation`: models whose theory depends on a seed (each seed's
        initial overlaps, its training set) compute it for the simulation's seeds; this default
        ignores the simulation."""
        return self.theory(**options)

    def check_simulation(self, **arguments) -> None:
        """Raise ValueError, before anything is allocated, if `simulate(**arguments)` is invalid.
        The default checks the argument names; models add range checks."""
        try:
            inspect.signature(self.simulate).bind(**arguments)
        except TypeError as e:
            raise ValueError(f"simulate: {e}") from None

    def check_theory(self, **options) -> None:
        """Raise ValueError, before anything runs, if `theory(**options)` is invalid (e.g. a start with no
        exact solution). The default checks the argument names."""
        try:
            inspect.signature(self.theory).bind(**options)
        except TypeError as e:
            raise ValueError(f"theory: {e}") from None

    def simulation_needs(self, **arguments) -> list[Need]:
        """The memory and work of `simulate(**arguments)` (every argument given, defaults filled in) as
        `hild.core.resources.Need`s; models state theirs, this default states none."""
        return []

    def theory_needs(self, **options) -> list[Need]:
        """The memory and work of `theory(**options)` (defaults filled in); models state theirs."""
        return []

    def admit(self, call: str, **arguments) -> None:
        """Check, before anything is allocated, that `call` ('theory' or 'simulate') with these keyword
        arguments is valid and fits the memory and time limits (hild.core.resources); raise ValueError
        otherwise. Every call of `theory` and `simulate` passes here first; the command line calls it
        before it creates any output."""
        resources.admit(f"{self.model} {call}", self.needs(call, **arguments))

    def needs(self, call: str, **arguments) -> list[Need]:
        """Validate `call` ('theory' or 'simulate') with these keyword arguments (`check_theory` /
        `check_simulation`) and return what it needs (`theory_needs` / `simulation_needs`, every
        argument given to them with the defaults filled in)."""
        if call not in ("theory", "simulate"):
            raise ValueError(f"call must be 'theory' or 'simulate'; got {call!r}")
        method = getattr(self, call)
        try:
            bound = inspect.signature(method).bind(**arguments)
        except TypeError as e:
            raise ValueError(f"{call}: {e}") from None
        bound.apply_defaults()
        given = {}
        for name, value in bound.arguments.items():
            kind = bound.signature.parameters[name].kind
            given.update(value if kind is inspect.Parameter.VAR_KEYWORD else {name: value})
        if call == "simulate":
            self.check_simulation(**given)
            return self.simulation_needs(**given)
        self.check_theory(**given)
        return self.theory_needs(**given)

    def provenance(self, kind: str, dtype: str, seeds: Sequence[int] | None = None,
                   size: int | None = None, **extra) -> dict:
        """The attributes every result carries: model, kind, params (JSON), hild_version, dtype,
        convention, axis, and for a simulation the size parameter's name and value and the seeds."""
        from hild import __version__

        attrs = {"model": self.model, "kind": kind, "params": json.dumps(self.params), "hild_version": __version__,
                 "dtype": dtype, "convention": self.convention, "axis": self.axis or ""}
        if seeds is not None:
            attrs["seeds"] = [int(s) for s in seeds]
        if size is not None:
            attrs["size"] = self.size
            attrs[self.size] = int(size)
        attrs.update(extra)
        return attrs

    def figure(self, theory: xr.Dataset | None, simulation: xr.Dataset | None, title: str = ""):
        """The model's standard figure of a run; this default draws every scalar variable along the axis (for a
        point scenario: at its point, `hild.plot.at_point`)."""
        from hild.plot import along_axis, at_point, scenario_title

        if self.axis is None:
            return at_point(theory, simulation, title=title or scenario_title(self))
        return along_axis(theory, simulation, self.axis, title=title or scenario_title(self))


def _admitted(method, call: str):
    """`method` (a model's theory or simulate) preceded by `self.admit(call, ...)`."""
    positional = [p.name for p in inspect.signature(method).parameters.values()
                  if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD][1:]

    @functools.wraps(method)
    def admitted(self, *args, **kwargs):
        if len(args) > len(positional):
            raise TypeError(f"{type(self).__name__}.{call} takes at most {len(positional)} positional arguments")
        self.admit(call, **dict(zip(positional, args)), **kwargs)
        return method(self, *args, **kwargs)

    admitted._admits = True
    return admitted


def pad_units(ds: xr.Dataset, units: dict[str, int]) -> xr.Dataset:
    """Pad the unit dimensions of `ds` to the given lengths with NaN.

    **Arguments:** `ds`: a result; `units`: dimension -> length (>= its length in `ds`; dimensions `ds` lacks
    are skipped).

    **Returns:** a Dataset with those dimensions of the given lengths, coordinates 0 .. n - 1."""
    dims = [dim for dim in units if dim in ds.dims]
    ds = ds.assign_coords({dim: np.arange(ds.sizes[dim]) for dim in dims if dim not in ds.coords})
    return ds.reindex({dim: np.arange(units[dim]) for dim in dims})


PROVENANCE = ("model", "kind", "params", "hild_version", "dtype", "convention", "axis")
"""The attributes on every result; a simulation adds `size`, the size parameter itself and `seeds`."""
