"""Theory against simulation: the error of the seed mean over time, and how it shrinks with d.

`compare` works for any model whose theory and simulation share data variables and the time
coordinate `t` (the simulation has a `seed` dimension; a theory started from each seed's own
initial condition has one too and is averaged the same way). Diverged seeds are left out of the
mean and counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class Comparison:
    """errors: per variable, |seed mean - theory| on the simulation's times (`<var>`), the standard
    error of the seed mean (`<var>_sem`) and the theory (`<var>_theory`); summary: per variable,
    max and mean absolute error, the max relative error and the largest error in units of the sem."""

    errors: xr.Dataset
    summary: dict
    seeds_used: int
    seeds_diverged: int

    def __str__(self) -> str:
        lines = [f"{name}: max |err| {s['max_abs']:.3g}, mean |err| {s['mean_abs']:.3g}, "
                 f"max rel {s['max_rel']:.3g}" for name, s in self.summary.items()]
        return "\n".join(lines + [f"seeds used {self.seeds_used}, diverged {self.seeds_diverged}"])


def _over_seeds(ds: xr.Dataset) -> xr.Dataset:
    if "seed" not in ds.dims:
        return ds
    keep = ~ds["diverged"] if "diverged" in ds else xr.ones_like(ds.seed, dtype=bool)
    return ds.sel(seed=ds.seed[keep.values])


def compare(theory: xr.Dataset, simulation: xr.Dataset, variables: Sequence[str] | None = None) -> Comparison:
    """Per-variable error of the simulation's seed mean against the theory, over time."""
    if variables is None:
        variables = [v for v in simulation.data_vars
                     if v in theory.data_vars and "t" in simulation[v].dims and "t" in theory[v].dims]
    if not variables:
        raise ValueError("theory and simulation share no time-dependent variable")
    sim = _over_seeds(simulation)
    used = sim.sizes.get("seed", 1)
    diverged = simulation.sizes.get("seed", 1) - used
    if used == 0:
        raise ValueError("every seed of the simulation diverged: nothing to compare")
    th = _over_seeds(theory)
    if "seed" in th.dims:
        th = th.sel(seed=[s for s in th.seed.values if s in set(sim.seed.values)]).mean("seed")
    th = th.interp(t=sim.t.values)
    out, summary = {}, {}
    for name in variables:
        mean = sim[name].mean("seed") if "seed" in sim[name].dims else sim[name]
        sem = (sim[name].std("seed", ddof=1) / np.sqrt(used)) if used > 1 else xr.zeros_like(mean)
        err = abs(mean - th[name])
        out[name], out[f"{name}_sem"], out[f"{name}_theory"] = err, sem, th[name]
        scale = abs(th[name]).where(abs(th[name]) > 0)
        summary[name] = {"max_abs": float(err.max()), "mean_abs": float(err.mean()),
                         "max_rel": float((err / scale).max()),
                         "max_in_sem": float((err / sem.where(sem > 0)).max()) if used > 1 else float("nan")}
    return Comparison(xr.Dataset(out), summary, used, diverged)


@dataclass(frozen=True)
class FiniteSize:
    """gap[d]: the comparison's error measure at each d; gap ~ prefactor * d^exponent (least squares in log-log)."""

    gap: xr.DataArray
    exponent: float
    exponent_stderr: float
    prefactor: float


def fit_power_law(x, y) -> tuple[float, float, float]:
    """Least-squares fit log y = log A + gamma log x; returns (gamma, its standard error, A)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, res, *_ = np.linalg.lstsq(A, ly, rcond=None)
    dof = len(lx) - 2
    if dof > 0:
        sigma2 = float(np.sum((ly - A @ coef) ** 2)) / dof
        stderr = float(np.sqrt(sigma2 * np.linalg.inv(A.T @ A)[0, 0]))
    else:
        stderr = float("nan")
    return float(coef[0]), stderr, float(np.exp(coef[1]))


def finite_size(theory: xr.Dataset, simulate: Callable[[int], xr.Dataset], ds: Sequence[int],
                variable: str = "eg", measure: str = "mean_abs") -> FiniteSize:
    """Run `simulate(d)` for each d, compare with `theory` and fit how the gap shrinks with d.

    measure: which summary entry of the comparison is the gap ('mean_abs' or 'max_abs').
    """
    if len(ds) < 2:
        raise ValueError(f"ds must hold at least two dimensions; got {list(ds)}")
    gaps = [compare(theory, simulate(int(d)), [variable]).summary[variable][measure] for d in ds]
    gamma, stderr, A = fit_power_law(ds, gaps)
    return FiniteSize(xr.DataArray(gaps, coords={"d": list(ds)}, dims="d", name=f"{variable}_{measure}"),
                      gamma, stderr, A)
