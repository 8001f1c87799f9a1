"""The d -> infinity theory of the committee machine: ODE solutions as xarray Datasets, batched.

`theory_batch` integrates many scenarios in one compiled call (jax.vmap over diffrax): scenarios
with different K are padded to the largest K with frozen, zero units. `symmetric_theory` integrates
the five ODEs of the symmetric manifold (p students per teacher) at a cost independent of K.
`linear_closed_form` is the exact solution for linear activation, an independent check of the integrator.
"""
from __future__ import annotations

import json
from typing import Sequence

import numpy as np

from hild.core import lazy
from hild.core import validation as check
from hild.families.online.committee import Committee, committee_rule, norm_scale
from hild.families.online.ode import (MAX_STEPS, SYMMETRIC, generalisation_error, integrate, symmetric_error,
                                      symmetric_present)

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")


def blowup_bound(T, Q0) -> np.ndarray:
    """The squared norm Q_ii past which a run has diverged: Committee.divergence's bound x norm_scale(T, Q0),
    for the teacher's overlaps T (..., M, M) and the student's initial Q0 (..., K, K)."""
    return Committee.divergence.bound * norm_scale(T, Q0)


def overlaps_from(scenario: Committee, init) -> tuple[list[dict], np.ndarray | None]:
    """Normalise `init` to a list of overlap dicts (one per seed when init is a simulation)."""
    if init is None:
        return [scenario.initial_overlaps()], None
    if isinstance(init, xr.Dataset):
        if "seed" not in init.dims or "Q" not in init:
            raise ValueError("init must be a simulation Dataset with a 'seed' dimension and Q, R, v, T, v_teacher")
        first = init.isel(t=0)
        out = [{name: np.asarray(first[name].sel(seed=s)) for name in ("Q", "R", "v", "T", "v_teacher")}
               for s in init.seed.values]
        return out, np.asarray(init.seed.values)
    if isinstance(init, dict):
        unknown = set(init) - {"Q", "R", "T", "v", "v_teacher"}
        if unknown:
            raise ValueError(f"init accepts Q, R, T, v, v_teacher; got unknown keys {sorted(unknown)}")
        base = scenario.initial_overlaps()
        K, M = scenario.K, scenario.M
        out = {"Q": check.covariance("init Q", init.get("Q", base["Q"]), K),
               "R": check.matrix("init R", init.get("R", base["R"]), (K, M)),
               "T": check.covariance("init T", init.get("T", base["T"]), M),
               "v": check.vector("init v", init.get("v", base["v"]), K),
               "v_teacher": check.vector("init v_teacher", init.get("v_teacher", base["v_teacher"]), M)}
        check.covariance("init overlaps [[Q, R], [R^T, T]]", np.block([[out["Q"], out["R"]], [out["R"].T, out["T"]]]),
                         K + M, tol=1e-8)
        return [out], None
    raise ValueError(f"init must be None, a dict of overlaps or a simulation Dataset; got {type(init).__name__}")


def check_budget(ok, t_end, t_max: float, batch: bool) -> None:
    """ValueError naming t_max where the integrator spent its step budget: ok and t_end per integrated scenario
    (from `integrate`); `batch` names the unfinished scenarios."""
    ok = np.asarray(ok)
    if np.all(ok):
        return
    bad = [i for i, good in enumerate(ok) if not good]
    reached = float(np.min(np.asarray(t_end)[bad]))
    which = f" (scenarios {bad[:5]})" if batch else ""
    raise ValueError(f"t_max: the ODE integrator spent its step budget ({MAX_STEPS:.0e} steps) and stopped at "
                     f"t = {reached:.4g} < t_max = {t_max:.4g}{which}; lower t_max or loosen rtol")


SCENARIO_COORDS = ["K", "lr", "lr_v", "noise", "weight_decay"]
"""The parameters theory_batch records as coordinates along `scenario`."""


def theory_batch(scenarios: Sequence[Committee], t_max: float = 10.0, inits: Sequence[dict] | None = None,
                 n_points: int = 101, rtol: float = 1e-8, atol: float = 1e-11, expectations: str = "closed",
                 nodes: int | None = None) -> xr.Dataset:
    """Integrate the ODEs of many scenarios (same activation and M) in one compiled call.

    Returns a Dataset with dimensions (scenario, t, k, k2, m, m2); student units beyond a
    scenario's K are NaN. Each scenario's parameters are coordinates along `scenario`. A run
    stops where it diverges (Committee.divergence, detected as a diffrax event): `diverged` and
    `t_diverged` (the exact time of the event), NaN from there on.

    **Arguments:** `scenarios`: Committees of one activation and one M; `t_max` (> 0); `inits`: one dict of
    overlaps per scenario, or None (their initial overlaps); `n_points` (>= 2); `rtol`, `atol`: the ODE solver's
    tolerances; `expectations`: "closed" (closed forms) or "cubature"; `nodes`: the cubature's nodes per axis.

    **Returns:** the Dataset above.
    """
    scenarios = list(scenarios)
    if not scenarios:
        raise ValueError("scenarios must hold at least one Committee")
    t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
    n_points = check.integer("n_points", n_points, 2)
    act, M = scenarios[0].act, scenarios[0].M
    if any(s.act != act or s.M != M for s in scenarios):
        raise ValueError("theory_batch needs one activation and one M across scenarios; group them first")
    if inits is None:
        inits = [s.initial_overlaps() for s in scenarios]
    elif len(inits) != len(scenarios):
        raise ValueError(f"inits must hold one init per scenario ({len(scenarios)}); got {len(inits)}")
    else:
        inits = [overlaps_from(s, dict(o))[0][0] for s, o in zip(scenarios, inits)]
    K = max(s.K for s in scenarios)

    def pad(x, shape):
        out = np.zeros(shape)
        out[tuple(slice(0, n) for n in x.shape)] = x
        return out

    y0 = {"Q": np.stack([pad(o["Q"], (K, K)) for o in inits]),
          "R": np.stack([pad(o["R"], (K, M)) for o in inits]),
          "v": np.stack([pad(o["v"], (K,)) for o in inits])}
    params = {"lr": np.array([s.lr for s in scenarios]), "lr_v": np.array([s.lr_v for s in scenarios]),
              "noise": np.array([s.noise for s in scenarios]),
              "weight_decay": np.array([s.weight_decay for s in scenarios]),
              "T": np.stack([o["T"] for o in inits]), "v_teacher": np.stack([o["v_teacher"] for o in inits]),
              "mask": np.stack([pad(np.ones(s.K), (K,)) for s in scenarios]),
              "blowup": np.array([blowup_bound(o["T"], o["Q"]) for o in inits])}
    ts = np.linspace(0.0, t_max, n_points)
    with jax.enable_x64(True):
        y0j = jax.tree.map(jnp.asarray, y0)
        pj = jax.tree.map(jnp.asarray, params)
        if expectations == "cubature":
            ys, diverged, ok, t_end = engine_integrate(scenarios, y0j, pj, ts, rtol, atol, nodes)
        else:
            ys, diverged, ok, t_end = integrate(act, y0j, pj, ts, rtol=rtol, atol=atol, max_steps=MAX_STEPS)
        eg = generalisation_error(act, ys["Q"], ys["R"], pj["T"][:, None], ys["v"], pj["v_teacher"][:, None])
        ys, eg = jax.tree.map(np.asarray, ys), np.asarray(eg)
    check_budget(ok, t_end, t_max, batch=True)
    active = np.stack([np.arange(K) < s.K for s in scenarios])
    nan_pad = lambda x, m: np.where(m, x, np.nan)  # noqa: E731
    diverged = np.asarray(diverged)
    ds = xr.Dataset(
        {"eg": (("scenario", "t"), eg),
         "Q": (("scenario", "t", "k", "k2"), nan_pad(ys["Q"], (active[:, None, :, None] & active[:, None, None, :]))),
         "R": (("scenario", "t", "k", "m"), nan_pad(ys["R"], active[:, None, :, None])),
         "v": (("scenario", "t", "k"), nan_pad(ys["v"], active[:, None, :])),
         "T": (("scenario", "m", "m2"), params["T"]),
         "v_teacher": (("scenario", "m"), params["v_teacher"]),
         "diverged": (("scenario",), diverged),
         "t_diverged": (("scenario",), np.where(diverged, np.asarray(t_end), np.nan))},
        coords={"t": ts, "k": np.arange(K), "k2": np.arange(K), "m": np.arange(M), "m2": np.arange(M),
                "scenario": np.arange(len(scenarios))},
    )
    varying = {name: [s.params[name] for s in scenarios] for name in SCENARIO_COORDS}
    for name, values in varying.items():
        ds = ds.assign_coords({name: ("scenario", np.asarray(values))})
    ds.attrs.update(scenarios[0].provenance("theory", dtype="float64",
                                            solver=f"diffrax Tsit5, PID rtol={rtol:g} atol={atol:g}",
                                            expectations=expectations))
    ds.attrs["params"] = json.dumps([s.params for s in scenarios]) if len(scenarios) > 1 else ds.attrs["params"]
    return ds


def engine_integrate(scenarios: Sequence[Committee], y0, params, ts, rtol: float, atol: float, nodes: int | None):
    """The committee ODEs derived by the local-field engine (hild.families.online.drift) from the rule
    `committee_rule`, by cubature: the same inputs and outputs as hild.families.online.ode.integrate."""
    from hild.families.online import drift
    from hild.families.online.inputs import Inputs

    K, M = y0["R"].shape[1:]
    rule = scenarios[0].rule() if all(s.K == K for s in scenarios) else None
    rule = committee_rule(scenarios[0].act, K, M, any(s.noise > 0 for s in scenarios)) if rule is None else rule
    nodes = nodes or drift.nodes_for(rule)
    drift.check_points(rule, nodes)
    inputs = [Inputs.isotropic(T).arrays() for T in np.asarray(params["T"])]
    p = {**{k: params[k] for k in ("lr", "lr_v", "noise", "v_teacher", "mask", "blowup")},
         "decay": params["weight_decay"], "inputs": jax.tree.map(lambda *a: jnp.asarray(np.stack(a)), *inputs)}
    state = {"Q": y0["Q"][:, None], "S": y0["R"][:, None], "theta": y0["v"]}
    ys, diverged, ok, t_end = drift.integrate(rule, state, p, ts, "cubature", nodes, rtol, atol, MAX_STEPS)
    return {"Q": ys["Q"][:, :, 0], "R": ys["S"][:, :, 0], "v": ys["theta"]}, diverged, ok, t_end


def theory(scenario: Committee, t_max: float = 10.0, init=None, n_points: int = 101,
           rtol: float = 1e-8, atol: float = 1e-11, expectations: str = "closed", nodes: int | None = None) -> xr.Dataset:
    """One scenario's theory (`theory_batch` of one scenario).

    **Arguments:** `scenario`; `init`: None, or the overlaps of a simulation (a Dataset or dict, per seed); the
    rest as in `theory_batch`.

    **Returns:** a Dataset over (t, k, k2, m, m2), with a `seed` dimension when started from a simulation's
    overlaps."""
    inits, seeds = overlaps_from(scenario, init)
    ds = theory_batch([scenario] * len(inits), t_max, inits, n_points=n_points, rtol=rtol, atol=atol,
                      expectations=expectations, nodes=nodes)
    ds = ds.drop_vars(SCENARIO_COORDS)
    if seeds is None:
        return ds.isel(scenario=0, drop=True)
    return ds.rename({"scenario": "seed"}).assign_coords(seed=seeds)


def symmetric_groups(scenario: Committee) -> int:
    """p = K / M, the students per teacher of the symmetric manifold; ValueError naming the parameter
    that puts the scenario off it (the manifold needs T = I, v = v* = 1, lr_v = 0 and M dividing K)."""
    K, M = scenario.K, scenario.M
    if scenario.lr_v != 0:
        raise ValueError(f"lr_v: the symmetric manifold needs a fixed second layer, lr_v = 0; got {scenario.lr_v:g}")
    if not np.array_equal(np.array(scenario.T), np.eye(M)):
        raise ValueError("T: the symmetric manifold needs orthonormal teachers, T = I")
    if not np.array_equal(np.array(scenario.v), np.ones(K)):
        raise ValueError("v: the symmetric manifold needs the student's second layer v = 1")
    if not np.array_equal(np.array(scenario.v_teacher), np.ones(M)):
        raise ValueError("v_teacher: the symmetric manifold needs the teacher's second layer v* = 1")
    if K % M:
        raise ValueError(f"K: the symmetric manifold needs K = p M students, p per teacher; got K = {K}, M = {M}")
    return K // M


def expand_symmetric(values: dict, p: int, M: int) -> tuple[np.ndarray, np.ndarray]:
    """Q (..., K, K) and R (..., K, M) from the manifold variables (arrays of one shape), student i in group i // p."""
    K = p * M
    group = np.arange(K) // p
    x = {name: np.asarray(values[name], dtype=float)[..., None, None] for name in SYMMETRIC}
    Q = np.where(np.eye(K, dtype=bool), x["Q"], np.where(group[:, None] == group[None, :], x["C1"], x["C2"]))
    R = np.where(group[:, None] == np.arange(M)[None, :], x["R"], x["S"])
    return Q, R


def manifold_start(scenario: Committee, init, p: int) -> dict:
    """The manifold variables of `init`: None (the scenario's random-start limit), a dict of numbers among
    Q, C1, C2, R, S (the others 0), or a dict of matrices Q, R, ... (overlaps_from); ValueError naming the
    init entry that is off the manifold."""
    if isinstance(init, xr.Dataset):
        raise ValueError("init: the symmetric theory starts from one point of the manifold (None or a dict of Q, R); "
                         "a simulation's overlaps are not on it")
    if init is None:
        return {"Q": scenario.init_std ** 2, "C1": 0.0, "C2": 0.0, "R": 0.0, "S": 0.0}
    if isinstance(init, dict) and init and all(np.ndim(x) == 0 for x in init.values()):
        unknown = set(init) - set(SYMMETRIC)
        if unknown:
            raise ValueError(f"init: numbers given for {sorted(unknown)}; the manifold's are {', '.join(SYMMETRIC)}")
        values = {name: check.real(f"init {name}", init.get(name, 0.0)) for name in SYMMETRIC}
        if values["Q"] < max(abs(values["C1"]), abs(values["C2"])):
            raise ValueError(f"init Q: the squared norm Q must be at least |C1|, |C2|; got {values['Q']:g}")
        return values
    (o,), _ = overlaps_from(scenario, init)
    for name, target in (("T", np.eye(scenario.M)), ("v", np.ones(scenario.K)), ("v_teacher", np.ones(scenario.M))):
        if not np.array_equal(o[name], target):
            raise ValueError(f"init {name}: the symmetric manifold needs {name} = {'I' if name == 'T' else '1'}")
    M, present = scenario.M, symmetric_present(p, scenario.M)
    Q, R = o["Q"], o["R"]
    picks = {"Q": Q[0, 0], "C1": Q[0, 1] if present["C1"] else 0.0, "C2": Q[0, p] if present["C2"] else 0.0,
             "R": R[0, 0], "S": R[0, 1] if present["S"] else 0.0}
    values = {name: float(x) for name, x in picks.items()}
    Qs, Rs = expand_symmetric(values, p, M)
    scale = max(1.0, float(np.max(np.abs(Q))), float(np.max(np.abs(R), initial=0.0)))
    for name, given, on in (("Q", Q, Qs), ("R", R, Rs)):
        gap = float(np.max(np.abs(given - on)))
        if gap > 1e-12 * scale:
            raise ValueError(f"init {name}: not on the symmetric manifold (Q_ii = Q; Q_ik = C1 within and C2 across "
                             f"the groups of p = {p} students, student i in group i // p; R_in = R for the group's "
                             f"teacher n = i // p, S otherwise); off by {gap:.3g}")
    return values


def symmetric_theory(scenario: Committee, t_max: float = 10.0, init=None, n_points: int = 101, rtol: float = 1e-8,
                     atol: float = 1e-11, expand: bool = True) -> xr.Dataset:
    """The ODEs on the symmetric manifold of K = p M students, p per teacher (see hild.online.ode): five
    variables Q, C1, C2, R, S whatever K (Saad & Solla 1995; Goldt et al., arXiv 1906.08632).

    **Arguments:**
    - `scenario`: a Committee with T = I, v = v* = 1, lr_v = 0 and K a multiple of M (`symmetric_groups`).
    - `init`: None (the random-start limit: Q = init_std^2, the rest 0), a dict of the numbers Q, C1, C2, R, S
      (missing ones 0; nothing K x K is built), or a dict of overlap matrices Q, R on the manifold.
    - `expand`: also return Q (t, k, k2), R (t, k, m) and v (t, k) of the full theory (K^2 numbers per time).

    **Returns:** a Dataset with eg, T, v_teacher, diverged, t_diverged as `theory`, the manifold variables
    `sym_Q`, `sym_C1`, `sym_C2`, `sym_R`, `sym_S` over t (NaN where one does not exist: C1 at p = 1, C2 and S
    at M = 1), and with `expand` Q, R, v.
    """
    t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
    n_points = check.integer("n_points", n_points, 2)
    p = symmetric_groups(scenario)
    M, act = scenario.M, scenario.act
    start = manifold_start(scenario, init, p)
    y0 = {name: np.array([start[name]]) for name in SYMMETRIC}
    params = {"lr": np.array([scenario.lr]), "noise": np.array([scenario.noise]),
              "weight_decay": np.array([scenario.weight_decay]),
              "blowup": np.array([blowup_bound(np.eye(M), np.array([[start["Q"]]]))])}
    ts = np.linspace(0.0, t_max, n_points)
    with jax.enable_x64(True):
        ys, diverged, ok, t_end = integrate(act, jax.tree.map(jnp.asarray, y0), jax.tree.map(jnp.asarray, params), ts,
                                            rtol=rtol, atol=atol, max_steps=MAX_STEPS, groups=(p, M))
        ys = {name: a[0] for name, a in ys.items()}
        eg = np.asarray(jax.vmap(lambda s: symmetric_error(act, p, M, s))(ys))
        ys = {name: np.asarray(a) for name, a in ys.items()}
    check_budget(ok, t_end, t_max, batch=False)
    diverged = bool(np.asarray(diverged)[0])
    present = symmetric_present(p, M)
    data = {"eg": (("t",), eg), "T": (("m", "m2"), np.eye(M)), "v_teacher": (("m",), np.ones(M)),
            "diverged": ((), diverged), "t_diverged": ((), float(np.asarray(t_end)[0]) if diverged else np.nan)}
    for name in SYMMETRIC:
        data[f"sym_{name}"] = (("t",), ys[name] if present[name] else np.full(n_points, np.nan))
    coords = {"t": ts, "m": np.arange(M), "m2": np.arange(M)}
    if expand:
        K = scenario.K
        Q, R = expand_symmetric({name: np.where(np.isfinite(ys["Q"]), ys[name], np.nan) for name in SYMMETRIC}, p, M)
        data.update({"Q": (("t", "k", "k2"), Q), "R": (("t", "k", "m"), R),
                     "v": (("t", "k"), np.where(np.isfinite(ys["Q"])[:, None], 1.0, np.nan) * np.ones(K))})
        coords.update({"k": np.arange(K), "k2": np.arange(K)})
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(scenario.provenance("theory", dtype="float64",
                                        solver=f"diffrax Tsit5, PID rtol={rtol:g} atol={atol:g}",
                                        reduced=f"symmetric manifold, p = {p} students per teacher"))
    return ds


def linear_closed_form(scenario: Committee, t, init=None) -> np.ndarray:
    """Exact eg(t) for linear g with a fixed second layer and no weight decay.

    The student is the linear map u = sum_k v_k w_k; with E = 2 eg = |u - u*|^2 / d, online SGD gives
    dE/dt = -c E + lr^2 |v|^4 sigma^2 with c = lr |v|^2 (2 - lr |v|^2), so
    E(t) = E_inf + (E_0 - E_inf) exp(-c t), E_inf = lr |v|^2 sigma^2 / (2 - lr |v|^2).

    **Arguments:** `scenario`: linear activation, lr_v = 0, weight_decay = 0; `t`: the times; `init`: overlaps or
    None.

    **Returns:** eg at the times t (an array of t's shape)."""
    if scenario.act.name != "linear" or scenario.lr_v != 0 or scenario.weight_decay != 0:
        raise ValueError("linear_closed_form needs activation 'linear', lr_v = 0 and weight_decay = 0")
    (o,), _ = overlaps_from(scenario, init)
    v, vt = o["v"], o["v_teacher"]
    E0 = v @ o["Q"] @ v - 2 * v @ o["R"] @ vt + vt @ o["T"] @ vt
    a = scenario.lr * (v @ v)
    c = a * (2 - a)
    t = np.asarray(t, dtype=float)
    if c == 0:
        return 0.5 * (E0 + a * a * scenario.noise ** 2 * t)
    E_inf = a * a * scenario.noise ** 2 / c
    return 0.5 * (E_inf + (E0 - E_inf) * np.exp(-c * t))
