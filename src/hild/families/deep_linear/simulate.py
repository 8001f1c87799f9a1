"""Gradient descent / SGD on the real two-layer linear network, many seeds in one compiled call.

Each seed draws its initial weights (and its data set, when n_samples is set) from NumPy's PCG64
seeded by the integer seed, and its SGD batches from jax.random.key(seed). The steps run in a
`lax.scan` (records) of `lax.scan` (steps between records), vmapped over seeds (and over scenarios
of one shape in `simulate_batch`): one compilation per shape, no Python loop per step.
Float64 by default (the exact comparisons at lr 1e-3 are tighter than float32 rounding over 10^4 steps).
The training set size `n_samples` is the size parameter: None trains on the population loss.
"""
from __future__ import annotations

import functools

import numpy as np

from hild.core import lazy
from hild.core import validation as check
from hild.core.divergence import check as check_divergence
from hild.families.deep_linear.measures import DIMS, observables

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")


def _one(W1, W2, Sxx, Syx, X, Y, rates, key, per: int, n_rec: int, batch: int):
    def grads(W1, W2, k):
        if batch:
            idx = jax.random.randint(k, (batch,), 0, X.shape[0])
            Xb, Yb = X[idx], Y[idx]
            sxx, syx = Xb.T @ Xb / batch, Yb.T @ Xb / batch
        else:
            sxx, syx = Sxx, Syx
        E = syx - W2 @ W1 @ sxx
        return -W2.T @ E, -E @ W1.T

    def step(carry, k):
        W1, W2 = carry
        g1, g2 = grads(W1, W2, k)
        return (W1 - rates[0] * g1, W2 - rates[1] * g2), None

    def record(carry, r):
        keys = jax.random.split(jax.random.fold_in(key, r), per)
        carry, _ = jax.lax.scan(step, carry, keys)
        return carry, carry

    _, (W1s, W2s) = jax.lax.scan(record, (W1, W2), jnp.arange(n_rec))
    return jnp.concatenate([W1[None], W1s]), jnp.concatenate([W2[None], W2s])


@functools.lru_cache(maxsize=16)
def _runner(per: int, n_rec: int, batch: int):
    one = functools.partial(_one, per=per, n_rec=n_rec, batch=batch)
    return jax.jit(jax.vmap(one))


def _data(scenario, n_samples: int | None, seed: int):
    """(Sxx, Syx, X, Y) of one seed: the population statistics, or n_samples drawn inputs."""
    din, dout = scenario.d_in, scenario.d_out
    if n_samples is None:
        return np.eye(din), scenario.sigma, np.zeros((1, din)), np.zeros((1, dout))
    rng = np.random.default_rng([seed, 1])
    n = n_samples
    X = rng.standard_normal((n, din))
    if scenario.whiten:
        w, E = np.linalg.eigh(X.T @ X / n)
        X = X @ (E / np.sqrt(w)) @ E.T
    Y = X @ scenario.sigma.T + scenario.noise * rng.standard_normal((n, dout))
    return X.T @ X / n, Y.T @ X / n, X, Y


def check_run(scenario, n_samples, seeds, seed, t_max, n_points, dtype):
    """The run arguments validated (ValueError naming the argument).

    **Arguments:** `scenario`: a DeepLinear; `n_samples` (None or >= d_in; None needs batch_size None and noise 0),
    `seeds` (>= 1), `seed` (>= 0), `t_max` (> 0), `n_points` (>= 2), `dtype` ('float32' or 'float64').

    **Returns:** (n_samples, seeds, seed, t_max, n_points), n_samples None replaced by the scenario's own."""
    n_samples = scenario.n_samples if n_samples is None else scenario._n_samples(n_samples)
    if n_samples is None and scenario.batch_size is not None:
        raise ValueError(f"batch_size needs n_samples (SGD draws batches from a finite data set); got batch_size "
                         f"{scenario.batch_size} and n_samples None")
    if n_samples is None and scenario.noise != 0:
        raise ValueError(f"noise must be 0 on the population loss (n_samples None); got {scenario.noise:g}")
    seeds = check.integer("seeds", seeds, 1)
    seed = check.integer("seed", seed, 0)
    t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
    n_points = check.integer("n_points", n_points, 2)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    return n_samples, seeds, seed, t_max, n_points


def simulate_batch(scenarios, seeds: int = 1, t_max: float = 10.0, seed: int = 0, n_points: int = 101,
                   dtype: str = "float64", n_samples: int | None = None) -> list[xr.Dataset]:
    """Simulate scenarios of one shape (d_in, d_out, width, n_samples, batch_size) and one lr in one call.

    **Arguments:** as `simulate`, for every scenario. **Returns:** one simulation per scenario."""
    scenarios = list(scenarios)
    s0 = scenarios[0]
    runs = [check_run(s, n_samples, seeds, seed, t_max, n_points, dtype) for s in scenarios]
    shape = lambda s, run: (s.d_in, s.d_out, s.width, run[0], s.batch_size, s.lr)  # noqa: E731
    if any(shape(s, run) != shape(s0, runs[0]) for s, run in zip(scenarios, runs)):
        raise ValueError("simulate_batch needs one d_in, d_out, width, n_samples, batch_size and lr across scenarios")
    n_samples, seeds, seed, t_max, n_points = runs[0]
    steps = max(1, int(round(t_max / s0.lr)))
    per = max(1, int(round(steps / (n_points - 1))))
    n_rec = n_points - 1
    ts = s0.lr * per * np.arange(n_points)
    seed_list = list(range(seed, seed + seeds))
    items = [(s, k) for s in scenarios for k in seed_list]
    inits = [s.initial_weights(k) for s, k in items]
    data = [_data(s, n_samples, k) for s, k in items]
    with jax.enable_x64(dtype == "float64"):
        arr = lambda xs: jnp.asarray(np.stack(xs), dtype=dtype)  # noqa: E731
        W1s, W2s = _runner(per, n_rec, s0.batch_size or 0)(
            arr([w[0] for w in inits]), arr([w[1] for w in inits]), *(arr([d[j] for d in data]) for j in range(4)),
            arr([[s.lr * s.lr_scales[0], s.lr * s.lr_scales[1]] for s, _ in items]),
            jnp.stack([jax.random.key(k) for _, k in items]))
        W1s, W2s = np.asarray(W1s, np.float64), np.asarray(W2s, np.float64)
    out = []
    for j, s in enumerate(scenarios):
        sl = slice(j * seeds, (j + 1) * seeds)
        out.append(_dataset(s, W1s[sl], W2s[sl], ts, seed_list, dtype, n_samples))
    return out


def _dataset(scenario, W1s, W2s, ts, seed_list, dtype, n_samples) -> xr.Dataset:
    rho1, rho2 = scenario.lr_scales
    U, _, V = scenario.svd()
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        per_seed = [observables(np.einsum("tok,tki->toi", b, a), np.einsum("tki,tkj->tij", a, a),
                                np.einsum("tok,tpk->top", b, b),
                                np.einsum("tok,tol->tkl", b, b) / rho2 - np.einsum("tki,tli->tkl", a, a) / rho1,
                                scenario.sigma, scenario.lr_scales, U, V) for a, b in zip(W1s, W2s)]
        obs = {k: np.stack([o[k] for o in per_seed]) for k in per_seed[0]}
        dist = np.sqrt(((W1s - W1s[:, :1]) ** 2).sum((-2, -1)) + ((W2s - W2s[:, :1]) ** 2).sum((-2, -1)))
    dims = {k: ("seed", "t") + DIMS[k] for k in obs}
    ds = xr.Dataset({k: (dims[k], v) for k, v in obs.items()}, coords={"seed": seed_list, "t": ts})
    ds["weight_distance"] = (("seed", "t"), dist)
    ds["W1_init"] = (("seed", "k", "i"), W1s[:, 0])
    ds["W2_init"] = (("seed", "o", "k"), W2s[:, 0])
    ds = check_divergence(ds, "t", scenario.divergence)
    attrs = scenario.provenance("simulation", dtype=dtype, seeds=seed_list, size=n_samples,
                                steps=int(round(ts[-1] / scenario.lr)))
    if n_samples is None:  # the population loss: no integer size to record
        attrs.update(size=scenario.size, n_samples="population")
    return ds.assign_attrs(attrs)


def simulate(scenario, n_samples: int | None = None, seeds: int = 1, t_max: float = 10.0, seed: int = 0,
             n_points: int = 101, dtype: str = "float64") -> xr.Dataset:
    """GD / SGD for `seeds` seeds (integer seeds seed, seed+1, ...) over t = lr * steps in [0, t_max].

    **Arguments:** `n_samples` (None: the scenario's own, itself None: the population loss), `seeds`,
    `t_max`, `seed`, `n_points`, `dtype` ('float64' or 'float32').

    **Returns:** records at n_points times, multiples of lr * (steps between records): the variables
    of hild.deep_linear.measures, plus weight_distance, W1_init, W2_init, and `diverged`, `t_diverged`
    (the scenario's `divergence` rule: non-finite, or an entry of W1^T W1, W2 W2^T or W2 W1 above
    1e12; the diverged tail is NaN).
    """
    return simulate_batch([scenario], seeds=seeds, t_max=t_max, seed=seed, n_points=n_points, dtype=dtype,
                          n_samples=n_samples)[0]
