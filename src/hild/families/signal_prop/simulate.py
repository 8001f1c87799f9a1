"""The real random transformer stack at finite width (JAX): forward signal, attention statistics, gradients.

Weights are drawn per block from keys folded from (seed, block) inside a `lax.scan` over the L blocks; the
whole stack is vmapped over seeds and over hyper-parameter points (same shapes: one compilation).
Inputs: T tokens of mean cosine p0 (see _inputs). Per layer: the mean, standard deviation and quantiles of the
T(T - 1)/2 off-diagonal token cosines and the mean squared norm per dimension q; per block: the attention
entropy and participation ratio sum_j A_ij^2 (mean over rows and heads); gradients: the norm of d loss / d x_l for the token-mean readout
loss = r . mean_i x_L,i (r ~ N(0, I_d / d)), by backpropagation (jax.grad with respect to zero shifts added
to every layer's output), relative to the top layer. Float32 by default.
"""
from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from hild.core import validation as check

QUANTILES = (0.05, 0.5, 0.95)
HYPER = ("beta", "sigma_v2", "sigma_w2", "sigma_b2", "alpha_A", "alpha_M")


def _layer_norm(x):
    x = x - x.mean(-1, keepdims=True)
    return x * jax.lax.rsqrt((x ** 2).mean(-1, keepdims=True) + 1e-12)


def _activation(name: str):
    return {"relu": jax.nn.relu, "tanh": jnp.tanh, "gelu": functools.partial(jax.nn.gelu, approximate=False)}[name]


def _weights(key, d: int, heads: int, dtype):
    """All Gaussian weights of one block from a single draw (a single random-number kernel to compile)."""
    sizes = {"Wq": d * d, "Wk": d * d, "Wv": d * d, "bv": d, "W1": d * d, "b1": d, "W2": d * d, "b2": d}
    flat = jax.random.normal(key, (sum(sizes.values()),), dtype)
    out, start = {}, 0
    for name, n in sizes.items():
        out[name] = flat[start:start + n]
        start += n
    dh = d // heads
    for name in ("Wq", "Wk", "Wv"):
        out[name] = out[name].reshape(d, heads, dh)
    out["W1"], out["W2"] = out["W1"].reshape(d, d), out["W2"].reshape(d, d)
    return out


def _attention(w, x, hp, T: int, heads: int):
    d = x.shape[-1]
    dh = d // heads
    s = jnp.sqrt(hp["beta"] * jnp.sqrt(jnp.log(T)) / d)
    q, k = (jnp.einsum("td,dhe->hte", x, w[n]) * s for n in ("Wq", "Wk"))
    v = jnp.einsum("td,dhe->hte", x, w["Wv"]) * jnp.sqrt(hp["sigma_v2"] / d)
    logits = jnp.einsum("hte,hse->hts", q, k) / jnp.sqrt(dh)
    A = jax.nn.softmax(logits, axis=-1)
    logA = jax.nn.log_softmax(logits, axis=-1)
    out = jnp.einsum("hts,hse->the", A, v).reshape(T, d) + w["bv"] * jnp.sqrt(hp["sigma_b2"])
    return out, -(A * logA).sum(-1).mean(), (A ** 2).sum(-1).mean()


def _mlp(w, x, hp, act):
    d = x.shape[-1]
    sw, sb = jnp.sqrt(hp["sigma_w2"] / d), jnp.sqrt(hp["sigma_b2"])
    h = act(x @ w["W1"] * sw + w["b1"] * sb)
    return h @ w["W2"] * sw + w["b2"] * sb


def _block(key, x, hp, T, heads, mlp, norm):
    w = _weights(key, x.shape[-1], heads, x.dtype)
    if norm == "post":
        o, H, pr = _attention(w, x, hp, T, heads)
        x = _layer_norm(hp["alpha_A"] * x + o)
        if mlp is not None:
            x = _layer_norm(hp["alpha_M"] * x + _mlp(w, x, hp, _activation(mlp)))
    else:
        o, H, pr = _attention(w, _layer_norm(x), hp, T, heads)
        x = hp["alpha_A"] * x + o
        if mlp is not None:
            x = hp["alpha_M"] * x + _mlp(w, _layer_norm(x), hp, _activation(mlp))
    return x, H, pr


def _cosines(x):
    n = jnp.sqrt((x ** 2).sum(-1, keepdims=True))
    return (x / n) @ (x / n).T


def _geometry(x):
    T = x.shape[0]
    C = _cosines(x)
    off = (C.sum() - jnp.trace(C)) / (T * (T - 1))
    sq = ((C ** 2).sum() - (jnp.diagonal(C) ** 2).sum()) / (T * (T - 1))
    return off, jnp.sqrt(jnp.maximum(sq - off ** 2, 0.0)), (x ** 2).mean()


def _inputs(z, xi, p0):
    """T tokens sqrt(p0) z + sqrt(1 - p0) xi_i with |z|^2 = |xi_i|^2 = d and xi_i orthogonal to z: norms d and
    cosines p0 + (1 - p0) xi_i . xi_k / d, of mean p0 up to O(1 / sqrt(d T)) (and LN's centring)."""
    d = z.shape[0]
    z = z / jnp.linalg.norm(z)
    xi = xi - (xi @ z)[:, None] * z
    xi = xi / jnp.linalg.norm(xi, axis=1, keepdims=True)
    return _layer_norm(jnp.sqrt(d) * (jnp.sqrt(p0) * z + jnp.sqrt(1 - p0) * xi))


@functools.partial(jax.jit, static_argnames=("T", "d", "L", "heads", "mlp", "norm", "dtype", "full"))
def _run(keys, hp, *, T, d, L, heads, mlp, norm, dtype, full=False):
    """keys (G, S, 2); hp: dict of (G,) arrays (HYPER and p0). Returns per-(G, S) layer records."""

    def one(key, hp):
        kin, kw = jax.random.split(key)
        g = jax.random.normal(kin, ((T + 2) * d,), dtype)
        x0 = _inputs(g[:d], g[d:(T + 1) * d].reshape(T, d), hp["p0"])
        readout = g[(T + 1) * d:] / jnp.sqrt(d)
        layer_keys = jax.random.split(kw, L)

        def forward(shifts):
            def step(x, inp):
                k, shift = inp
                x, H, pr = _block(k, x, hp, T, heads, mlp, norm)
                x = x + shift
                return x, (x, H, pr)
            xL, (xs, H, pr) = jax.lax.scan(step, x0 + shifts[0], (layer_keys, shifts[1:]))
            return readout @ xL.mean(0), (jnp.concatenate([x0[None], xs]), H, pr)

        shifts = jnp.zeros((L + 1, T, d), dtype)
        grads, (xs, H, pr) = jax.grad(forward, has_aux=True)(shifts)
        cos, sd, q = jax.vmap(_geometry)(xs)
        gnorm = jnp.sqrt((grads ** 2).sum((-2, -1)))
        out = {"cos": cos, "cos_sd": sd, "q": q, "entropy": H, "pr": pr, "grad_ratio": gnorm / gnorm[-1]}
        if full:
            out["cosines"] = jax.vmap(_cosines)(xs)
        return out

    return jax.vmap(lambda ks, h: jax.vmap(lambda k: one(k, h))(ks))(keys, hp)


def run_points(sc, points: dict, seeds: int = 1, seed: int = 0, dtype: str = "float32", full: bool = False) -> dict:
    """Simulate the scenario `sc` at G hyper-parameter points (dict of equal-length arrays overriding sc's
    beta, sigma_v2, sigma_w2, sigma_b2, alpha_A, alpha_M, p0) and `seeds` seeds each: numpy arrays with leading
    axes (G, seed). Seed s of every point uses key (seed + s). full: also every layer's T x T cosine matrix."""
    seeds, seed = check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    unknown = set(points) - set(HYPER + ("p0",))
    if unknown:
        raise ValueError(f"points may only set {', '.join(HYPER + ('p0',))}; got {sorted(unknown)}")
    G = len(next(iter(points.values()))) if points else 1
    hp = {k: np.broadcast_to(np.asarray(points.get(k, getattr(sc, k)), dtype=float), (G,)) for k in HYPER + ("p0",)}
    for k, v in hp.items():
        if np.any(v < 0) or not np.all(np.isfinite(v)) or (k == "p0" and np.any(v >= 1)):
            raise ValueError(f"{k} must be finite numbers >= 0{' and < 1' if k == 'p0' else ''}; got {v.tolist()}")
    base = jax.vmap(jax.random.PRNGKey)(jnp.arange(seed, seed + seeds))
    keys = jnp.broadcast_to(base, (G,) + base.shape)
    ctx = jax.enable_x64(True) if dtype == "float64" else jax.enable_x64(False)
    with ctx:
        out = _run(keys, {k: jnp.asarray(v, dtype) for k, v in hp.items()}, T=sc.T, d=sc.d, L=sc.L,
                   heads=sc.heads, mlp=sc.mlp_or_none, norm=sc.norm, dtype=dtype, full=full)
        return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def simulate(sc, seeds: int = 1, seed: int = 0, dtype: str = "float32") -> xr.Dataset:
    """The real stack at the scenario's hyper-parameters, as a Dataset with a seed dimension."""
    out = {k: v[0] for k, v in run_points(sc, {}, seeds, seed, dtype, full=True).items()}
    iu = np.triu_indices(sc.T, 1)
    out["cos_quantile"] = np.moveaxis(np.quantile(out.pop("cosines")[..., iu[0], iu[1]], QUANTILES, axis=-1), 0, -1)
    layer, blocks = np.arange(sc.L + 1), np.arange(1, sc.L + 1)
    finite = np.all(np.isfinite(out["cos"]), axis=1) & np.all(np.isfinite(out["grad_ratio"]), axis=1)
    ds = xr.Dataset(
        {"cos": (("seed", "layer"), out["cos"]), "cos_sd": (("seed", "layer"), out["cos_sd"]),
         "cos_quantile": (("seed", "layer", "quantile"), out["cos_quantile"]), "q": (("seed", "layer"), out["q"]),
         "grad_ratio": (("seed", "layer"), out["grad_ratio"]), "entropy": (("seed", "block"), out["entropy"]),
         "entropy_ratio": (("seed", "block"), out["entropy"] / np.log(sc.T)), "pr": (("seed", "block"), out["pr"]),
         "diverged": ("seed", ~finite)},
        coords={"seed": np.arange(seed, seed + seeds), "layer": layer, "block": blocks,
                "quantile": list(QUANTILES)},
        attrs=sc.attrs("simulation"))
    ds.attrs.update({"d": sc.d, "seeds": json.dumps(list(range(seed, seed + seeds))), "dtype": dtype})
    return ds
