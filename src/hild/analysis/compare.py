"""Theory against simulation: the error of the seed mean along the comparison axis, and how it
shrinks with the size parameter.

`compare` works for every registered model: theory and simulation share data variables on the
model's axis (`t`, `layer`, `n` ...; read from the results' `axis` attribute). The simulation has
a `seed` dimension; a theory computed per seed (e.g. started from each seed's own initial
condition, or for each seed's own training set) has one too and is averaged over the same seeds.
Diverged seeds are left out of both means and counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from hild.analysis.fits import fit_power_law
from hild.core import lazy

xr = lazy.module("xarray")

__all__ = ["Comparison", "FiniteSize", "compare", "comparison_axis", "finite_size", "fit_power_law"]


@dataclass(frozen=True)
class Comparison:
    """The result of `compare`: the error of the simulation's seed mean against the theory, per variable.

    **Arguments:** `errors`: a Dataset over the axis (no dimension for a point result) with, per variable,
    |seed mean - theory| on the simulation's axis values (`<var>`), the standard error of the seed mean
    (`<var>_sem`) and the theory (`<var>_theory`); `summary`: per variable a dict of `max_abs`, `mean_abs`
    (absolute error), `max_rel` (relative error) and `max_in_sem` (the |z| of the worst point, NaN with one seed);
    `seeds_used`, `seeds_diverged`: seeds compared and left out; `axis`: the comparison axis (None: a point).

    **Returns:** `str()` gives one line per variable and the seed counts."""

    errors: xr.Dataset
    summary: dict
    seeds_used: int
    seeds_diverged: int
    axis: str | None = "t"

    def __str__(self) -> str:
        lines = [f"{name}: max |err| {s['max_abs']:.3g}, mean |err| {s['mean_abs']:.3g}, "
                 f"max rel {s['max_rel']:.3g}, max |z| {s['max_in_sem']:.3g}" for name, s in self.summary.items()]
        return "\n".join(lines + [f"seeds used {self.seeds_used}, diverged {self.seeds_diverged}"])


def comparison_axis(*results: xr.Dataset) -> str | None:
    """The comparison axis of some results.

    **Arguments:** `results`: datasets (None entries are skipped).

    **Returns:** the axis their `axis` attribute names (all that name one must agree, else ValueError), `t` where
    none does, None for the results of a point scenario (attribute ''), which have no axis."""
    named = {ds.attrs["axis"] for ds in results if ds is not None and "axis" in ds.attrs}
    if len(named) > 1:
        raise ValueError(f"theory and simulation name different axes: {sorted(named)}")
    return (named.pop() or None) if named else "t"


def _valid_seeds(ds: xr.Dataset) -> xr.Dataset:
    if "seed" not in ds.dims:
        return ds
    if "diverged" not in ds or "seed" not in ds["diverged"].dims:
        return ds
    return ds.sel(seed=ds.seed[~ds["diverged"].values])


def _on(th: xr.DataArray, axis: str, values: np.ndarray) -> xr.DataArray:
    """The theory on the simulation's axis values: exactly where they coincide, else interpolated."""
    if axis not in th.dims:
        return th
    here = th[axis].values
    if here.shape == values.shape and np.array_equal(here, values):
        return th
    if here.dtype.kind not in "iuf":
        return th.sel({axis: values})
    return th.interp({axis: values})


def compare(theory: xr.Dataset, simulation: xr.Dataset, variables: Sequence[str] | None = None,
            axis: str | None = None) -> Comparison:
    """Per-variable error of the simulation's seed mean against the theory, along `axis` (or at the one point
    of a point scenario's results).

    **Arguments:**
    - `theory`, `simulation`: results of one scenario (`scenario.theory()`, `scenario.simulate()`).
    - `variables`: the variables compared; default every float variable both have on the axis.
    - `axis`: default the results' `axis` attribute (else `t`; none for a point scenario's results).

    **Returns:** a `Comparison`.
    """
    axis = axis or comparison_axis(theory, simulation)
    skip = {"diverged", f"{axis}_diverged", "residual", "iterations"}
    if variables is None:
        variables = [v for v, da in simulation.data_vars.items()
                     if v in theory.data_vars and v not in skip and da.dtype.kind == "f"
                     and (axis is None or (axis in da.dims and axis in theory[v].dims))]
    if not variables:
        where = "at the point" if axis is None else f"along the axis {axis!r}"
        raise ValueError(f"theory and simulation share no variable {where}")
    missing = [v for v in variables if v not in simulation or v not in theory]
    if missing:
        raise ValueError(f"variables: {missing[0]!r} is not in both the theory and the simulation")
    sim = _valid_seeds(simulation)
    used = sim.sizes.get("seed", 1)
    diverged = simulation.sizes.get("seed", 1) - used
    if used == 0:
        raise ValueError("every seed of the simulation diverged: nothing to compare")
    th = theory
    if "seed" in th.dims:
        if "seed" in sim.dims:
            th = th.sel(seed=[s for s in th.seed.values if s in set(sim.seed.values)])
        th = _valid_seeds(th).mean("seed")
    out, summary = {}, {}
    for name in variables:
        mean = sim[name].mean("seed") if "seed" in sim[name].dims else sim[name]
        sem = (sim[name].std("seed", ddof=1) / np.sqrt(used)) if used > 1 and "seed" in sim[name].dims \
            else xr.zeros_like(mean)
        target = _on(th[name], axis, sim[axis].values) if axis is not None and axis in sim.coords else th[name]
        err = abs(mean - target)
        out[name], out[f"{name}_sem"], out[f"{name}_theory"] = err, sem, target
        scale = abs(target).where(abs(target) > 0)
        z = (err / sem.where(sem > 0)).where((err > 0) | (sem > 0), 0.0)  # exact agreement without spread: 0
        summary[name] = {"max_abs": float(err.max()), "mean_abs": float(err.mean()),
                         "max_rel": float((err / scale).max()),
                         "max_in_sem": float(z.max()) if used > 1 else float("nan")}
    return Comparison(xr.Dataset(out), summary, used, diverged, axis)


@dataclass(frozen=True)
class FiniteSize:
    """The result of `finite_size`: the gap at each size and its power law gap ~ prefactor * size^exponent
    (least squares in log-log).

    **Arguments:** `gap`: a DataArray over the dimension `size`, the comparison's error measure at each size;
    `exponent`, `exponent_stderr`: the fitted exponent and its standard error; `prefactor`: the fitted prefactor;
    `size`: the name of the size parameter (`d`, `n_samples` ...)."""

    gap: xr.DataArray
    exponent: float
    exponent_stderr: float
    prefactor: float
    size: str = "d"


def finite_size(theory: xr.Dataset, simulate, ds: Sequence[int] | None = None, variable: str = "eg",
                measure: str = "mean_abs", sizes: Sequence[int] | None = None, **options) -> FiniteSize:
    """Simulate at each size, compare with `theory` and fit how the gap shrinks with the size.

    **Arguments:**
    - `theory`: the theory the simulations are compared with.
    - `simulate`: a scenario (run as `simulate(**{scenario.size: n}, **options)`) or a function
      `n -> simulation`.
    - `sizes` (or its older name `ds`): at least two sizes.
    - `variable`, `measure`: the summary entry of `compare` that is the gap ('mean_abs', 'max_abs').

    **Returns:** a `FiniteSize` with the gaps and the fitted exponent.
    """
    from hild.core.scenario import Scenario

    sizes = list(sizes if sizes is not None else ds if ds is not None else [])
    if len(sizes) < 2:
        raise ValueError(f"sizes must hold at least two sizes; got {sizes}")
    if isinstance(simulate, Scenario):
        scenario, name = simulate, simulate.size
        run: Callable[[int], xr.Dataset] = lambda n: scenario.simulate(**{name: n}, **options)  # noqa: E731
    elif callable(simulate):
        if options:
            raise ValueError(f"options {sorted(options)} need a scenario, not a function, as `simulate`")
        run, name = simulate, "d"
    else:
        raise ValueError(f"simulate must be a scenario or a function of the size; got {type(simulate).__name__}")
    gaps = [compare(theory, run(int(n)), [variable]).summary[variable][measure] for n in sizes]
    gamma, stderr, A = fit_power_law(sizes, gaps)
    return FiniteSize(xr.DataArray(gaps, coords={name: list(sizes)}, dims=name, name=f"{variable}_{measure}"),
                      gamma, stderr, A, name)
