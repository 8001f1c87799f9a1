"""Claims of online SGD in soft committee machines (Saad & Solla 1995; Goldt et al., arXiv 1906.08632)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from hild.claims import Check, Outcome, claim
from hild.online import Committee, linear_closed_form, theory_batch
from hild.online.simulate import initial_weights
from hild.plot import trajectories

PAPERS = ("1906.08632",)
PLATEAU_LIMIT_K2 = (2 / np.pi) * (np.pi / 6 - 2 * np.arcsin(1 / 4))
"""(K/pi)[pi/6 - K arcsin(1/2K)] at K = 2: the symmetric plateau as lr -> 0 (Saad & Solla 1995)."""


def _seed_mean(da: xr.DataArray) -> np.ndarray:
    return (da.mean("seed") if "seed" in da.dims else da).values


def _overlaps_of(ds: xr.Dataset, seed) -> dict:
    """A simulation's overlaps at t = 0 for one seed, as a theory init."""
    one = ds.sel(seed=seed)
    return {k: (one[k].isel(t=0) if "t" in one[k].dims else one[k]).values for k in ("Q", "R", "T", "v", "v_teacher")}


@claim("committee.ode_matches_sgd",
       "The order-parameter ODEs describe online SGD: |eg_ODE - eg_SGD| <= 0.1 eg_SGD + 2e-4 over t in [0, 300] "
       "(K = M = 2, erf, lr 0.5, theory from the simulation's own initial overlaps)", PAPERS)
def ode_matches_sgd(size: str, progress: bool) -> Outcome:
    d, seeds = {"quick": (1000, 6), "paper": (1000, 16)}[size]
    scenario = Committee(K=2, M=2, activation="erf", lr=0.5, init_std=1.0)
    sim = scenario.simulate(d=d, seeds=seeds, t_max=300, n_points=151, progress=progress)
    th = scenario.theory(t_max=300, n_points=151, init=sim)
    eg_sim, eg_th = _seed_mean(sim.eg), _seed_mean(th.eg)
    excess = np.abs(eg_th - eg_sim) - (0.1 * eg_sim + 2e-4)
    worst = int(np.argmax(excess))
    plateau = (sim.t.values > 50) & (sim.t.values < 120)
    checks = [
        Check(f"max_t [|eg_ODE - eg_SGD| - (0.1 eg_SGD + 2e-4)] (worst at t = {sim.t.values[worst]:.0f})",
              float(excess.max()), "<= 0", bool(excess.max() <= 0)),
        Check("relative eg difference on the plateau, t in (50, 120)",
              float(np.max(np.abs(eg_th - eg_sim)[plateau] / eg_sim[plateau])), "<= 0.05",
              bool(np.max(np.abs(eg_th - eg_sim)[plateau] / eg_sim[plateau]) <= 0.05)),
        Check("seeds diverged", float(sim.diverged.sum()), "0", not bool(sim.diverged.any())),
    ]
    fig = trajectories(th, sim, title=f"ODE vs online SGD: K = M = 2, erf, lr 0.5, d = {d}, {seeds} seeds")
    return Outcome(checks, {"theory": th, "simulation": sim}, fig)
