"""Deeper balanced linear networks: D layers W_D ... W_1 from an aligned, balanced start (Saxe et al.,
arXiv 1312.6120, section on deeper networks).

With whitened inputs, Sigma_yx = U diag(s) V^T and every layer carrying the same strength a_alpha on mode
alpha (W_1 = O_1 diag(a) V^T, W_l = O_l diag(a) O_{l-1}^T, W_D = U diag(a) O_{D-1}^T), gradient flow on
L = 1/2 ||Sigma_yx - W_D ... W_1||_F^2 keeps the modes decoupled and balanced, a' = a^{D-1} (s - a^D), so the
mode strength u = a^D obeys

    u' = D u^{2 - 2/D} (s - u)        (t = lr * steps)

which is Saxe's sigmoid for D = 2. `mode_trajectory_deep` integrates it (diffrax, float64); `simulate_deep`
runs GD on the real D-layer network (a `lax.scan` over steps, seeds vmapped) and records the same modes.
"""
from __future__ import annotations

import functools

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from hild.core import validation as check


def mode_trajectory_deep(t, s, u0: float, depth: int) -> np.ndarray:
    """u(t) (len(t) x len(s)) of the modes of a balanced, aligned depth-D network, from u(0) = u0 (float64)."""
    depth = check.integer("depth", depth, 2)
    t, s = np.asarray(t, float), np.atleast_1d(np.asarray(s, float))
    u0 = check.real("u0", u0, minimum=0.0, strict_minimum=True)
    with jax.enable_x64(True):
        # in a = u^{1/D}, the layer strength, the flow is a' = a^{D-1} (s - a^D): smooth at small a
        field = diffrax.ODETerm(lambda _, a, s: a ** (depth - 1) * (s - a ** depth))
        sol = diffrax.diffeqsolve(field, diffrax.Tsit5(), t0=0.0, t1=float(t[-1]), dt0=None,
                                  y0=jnp.full(s.shape, u0 ** (1 / depth)), args=jnp.asarray(s),
                                  saveat=diffrax.SaveAt(ts=jnp.asarray(t)),
                                  stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-14),
                                  max_steps=1_000_000)
        return np.asarray(sol.ys) ** depth


def _product(Ws):
    out = Ws[0]
    for W in Ws[1:]:
        out = W @ out
    return out


@functools.lru_cache(maxsize=8)
def _gd(depth: int, per: int, n_rec: int):
    def loss(Ws, sigma):
        return 0.5 * jnp.sum((sigma - _product(Ws)) ** 2)

    def run(Ws, sigma, lr, U, V):
        def step(Ws, _):
            g = jax.grad(loss)(Ws, sigma)
            return [W - lr * gW for W, gW in zip(Ws, g)], None

        def record(Ws, _):
            Ws, _ = jax.lax.scan(step, Ws, None, length=per)
            return Ws, jnp.diagonal(U.T @ _product(Ws) @ V)

        _, modes = jax.lax.scan(record, Ws, None, length=n_rec)
        return jnp.concatenate([jnp.diagonal(U.T @ _product(Ws) @ V)[None], modes])

    return jax.jit(jax.vmap(run, in_axes=(0, None, None, None, None)))


def simulate_deep(singular_values, depth: int, lr: float = 1e-3, u0: float = 1e-3, t_max: float = 10.0,
                  n_points: int = 101, seeds: int = 1, seed: int = 0) -> xr.Dataset:
    """GD on a D-layer linear network (width = number of modes) from the balanced, aligned start with mode
    strengths u0; the seed draws the hidden bases O_l, which leave the modes unchanged. Returns `modes`
    (seed, t, mode), float64."""
    s = np.asarray(singular_values, float)
    if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError(f"singular_values must be finite numbers >= 0; got {np.asarray(singular_values).tolist()!r}")
    depth = check.integer("depth", depth, 2)
    lr = check.real("lr", lr, minimum=0.0, strict_minimum=True)
    u0 = check.real("u0", u0, minimum=0.0, strict_minimum=True)
    t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
    n_points, seeds = check.integer("n_points", n_points, 2), check.integer("seeds", seeds, 1)
    seed = check.integer("seed", seed, 0)
    n = s.size
    per = max(1, int(round(t_max / lr / (n_points - 1))))
    a = u0 ** (1 / depth)
    starts = []
    for k in range(seed, seed + seeds):
        rng = np.random.default_rng(k)
        O = [np.linalg.qr(rng.standard_normal((n, n)))[0] for _ in range(depth - 1)]
        bases = [np.eye(n)] + O + [np.eye(n)]  # V = U = I: Sigma_yx = diag(s)
        starts.append([a * bases[l + 1] @ bases[l].T for l in range(depth)])
    with jax.enable_x64(True):
        Ws = [jnp.asarray(np.stack([w[l] for w in starts])) for l in range(depth)]
        modes = np.asarray(_gd(depth, per, n_points - 1)(Ws, jnp.diag(jnp.asarray(s)), lr, jnp.eye(n), jnp.eye(n)))
    t = lr * per * np.arange(n_points)
    return xr.Dataset({"modes": (("seed", "t", "mode"), modes)},
                      coords={"seed": np.arange(seed, seed + seeds), "t": t},
                      attrs={"model": "deep_linear", "kind": "simulation", "depth": depth, "lr": lr, "u0": u0})
