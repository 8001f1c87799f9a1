"""The exact gradient-flow solution of a two-layer linear network scenario, float64.

Two exactly solvable starts: a lambda-balanced one (W2^T W2 / rho_2 - W1 W1^T / rho_1 = lam I, any
bases; the matrix Riccati flow map of hild.deep_linear.riccati; Domine et al., arXiv 2409.14623) and
one aligned with the task with one imbalance per mode (the scalar closed form per mode of
hild.deep_linear.aligned; Saxe et al., arXiv 1312.6120). Both give the variables of
hild.deep_linear.measures on the same times as the simulation.
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy
from hild.core import validation as check
from hild.core.divergence import check as check_divergence
from hild.families.deep_linear.aligned import aligned_flow, aligned_strengths
from hild.families.deep_linear.measures import DIMS, observables
from hild.families.deep_linear.riccati import balance_of, flow, from_unit, to_unit

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")


def exact_start(scenario, W1, W2):
    """('balanced', lam) for a lambda-balanced start, ('aligned', strengths) for one aligned with the task's
    singular vectors (any lam per mode); ValueError for a start with no exact solution.

    **Arguments:** `scenario`: a DeepLinear; `W1` (width, d_in), `W2` (d_out, width): the start.

    **Returns:** ('balanced', lam: a float) or ('aligned', (a, b): the strengths of `aligned_strengths`)."""
    U, _, V = scenario.svd()
    try:
        return "balanced", balance_of(W1, W2, scenario.lr_scales)
    except ValueError as not_balanced:
        strengths = aligned_strengths(W1, W2, U, V)
        if strengths is None:
            raise ValueError(f"{not_balanced} An aligned start (init 'aligned', any lam per mode) is exactly "
                             "solvable too; these weights are not aligned with the task's singular vectors.") from None
        return "aligned", strengths


def _solve(scenario, W1, W2, ts) -> tuple[dict, dict]:
    """The observables on ts from (W1, W2), and the attributes saying which solution was used."""
    U, s, V = scenario.svd()
    rho = scenario.lr_scales
    imbalance = W2.T @ W2 / rho[1] - W1 @ W1.T / rho[0]
    kind, found = exact_start(scenario, W1, W2)
    if kind == "aligned":
        function, R1, R2 = aligned_flow(*found, s, ts, rho, U, V)
        parts = (function, R1, R2, np.broadcast_to(imbalance, (len(ts),) + imbalance.shape))
        return (observables(*parts, scenario.sigma, rho, U, V),
                {"lam": np.linalg.eigvalsh(imbalance).tolist(), "method": "closed form per aligned mode, float64"})
    lam = found
    Q0, c = to_unit(W1, W2, rho)
    with jax.enable_x64(True):
        Qs = np.asarray(flow(jnp.asarray(Q0), jnp.asarray(scenario.sigma), c * lam, c * (ts[1] - ts[0]),
                             len(ts) - 1))
    return (observables(*from_unit(Qs, scenario.d_in, rho), scenario.sigma, rho, U, V),
            {"lam": lam, "method": "closed-form Riccati flow map, float64"})


def theory(scenario, t_max: float = 10.0, n_points: int = 101, init=None, seed: int = 0) -> xr.Dataset:
    """The exact solution on t = 0 .. t_max (n_points even times), float64.

    **Arguments:**
    - `scenario`: a DeepLinear.
    - `t_max`, `n_points`: the times.
    - `init`: None (the scenario's initial weights at `seed`), (W1, W2), or a simulation Dataset (one
      solution per seed from its recorded initial weights; the result then has a `seed` dimension).

    **Returns:** a Dataset over `t` with the variables of hild.deep_linear.measures, `diverged` and
    `t_diverged` (never set: the flow does not diverge). ValueError when the start is neither
    lambda-balanced nor aligned with the task.
    """
    t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
    n_points = check.integer("n_points", n_points, 2)
    if isinstance(init, xr.Dataset):
        if "W1_init" not in init or "seed" not in init.dims:
            raise ValueError("init must be a simulation Dataset with a 'seed' dimension and W1_init, W2_init")
        parts = [_one(scenario, t_max, n_points, init.W1_init.sel(seed=s).values, init.W2_init.sel(seed=s).values)
                 for s in init.seed.values]
        ds = xr.concat(parts, "seed", join="exact", combine_attrs="override").assign_coords(seed=init.seed.values)
        return check_divergence(ds, "t", scenario.divergence)
    W1, W2 = scenario.initial_weights(seed) if init is None else (np.asarray(init[0], float), np.asarray(init[1], float))
    return check_divergence(_one(scenario, t_max, n_points, W1, W2), "t", scenario.divergence)


def _one(scenario, t_max, n_points, W1, W2) -> xr.Dataset:
    ts = np.linspace(0.0, t_max, n_points)
    obs, how = _solve(scenario, W1, W2, ts)
    ds = xr.Dataset({k: (("t",) + DIMS[k], v) for k, v in obs.items()}, coords={"t": ts})
    return ds.assign_attrs(scenario.provenance("theory", dtype="float64", **how))
