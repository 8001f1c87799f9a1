"""The real random transformer stack at finite width d (JAX): forward signal, attention statistics, gradients.

Inputs (`_inputs`): T tokens built from one shared direction z and T independent directions xi_i, all standard
Gaussian in R^d; xi_i is made orthogonal to z, both are normalised, and token i is
x_i = sqrt(d) (sqrt(p0) z / |z| + sqrt(1 - p0) xi_i / |xi_i|), then LayerNorm'ed (centred over features,
root mean square 1). So |x_i|^2 = d and x_i . x_k / d = p0 + (1 - p0) xi_i . xi_k / (|xi_i| |xi_k|): every pair's
cosine is p0 up to O(1 / sqrt d), their mean p0 up to O(1 / (T sqrt d)) (and O(1 / d) from the centring).

Weights are drawn per block from keys folded from (seed, block) inside a `lax.scan` over the L blocks; the
whole stack is vmapped over seeds and over hyper-parameter points (same shapes: one compilation). Per layer:
the mean, standard deviation and quantiles of the T(T - 1)/2 off-diagonal token cosines and the mean squared
norm per dimension q; per block, on the layer it produces: the mean token cosine after the attention sub-block
(cos_attn), the attention entropy and the inverse participation ratio sum_j A_ij^2 (mean over rows and heads);
gradients: the norm of d loss / d x_l for the token-mean readout loss = r . mean_i x_L,i (r ~ N(0, I_d / d)), by
backpropagation (jax.grad with respect to zero shifts added to every layer's output), relative to the top
layer. Float32 by default.
"""
from __future__ import annotations

import functools

import numpy as np

from hild.core import validation as check
from hild.core import lazy, resources
from hild.core.resources import Need, array
from hild.families.signal_prop.theory import HYPER

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

QUANTILES = (0.05, 0.5, 0.95)
DTYPES = ("float32", "float64")
PER_BLOCK = ("cos_attn", "entropy", "attention_ipr")
"""The per-block records, put on the layer each block produces (NaN at layer 0)."""


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
    """One block; returns its output, the mean token cosine after the attention sub-block, entropy and IPR."""
    w = _weights(key, x.shape[-1], heads, x.dtype)
    if norm == "post":
        o, H, ipr = _attention(w, x, hp, T, heads)
        x = _layer_norm(hp["alpha_A"] * x + o)
        c_attn = _geometry(x)[0]
        if mlp is not None:
            x = _layer_norm(hp["alpha_M"] * x + _mlp(w, x, hp, _activation(mlp)))
    else:
        o, H, ipr = _attention(w, _layer_norm(x), hp, T, heads)
        x = hp["alpha_A"] * x + o
        c_attn = _geometry(x)[0]
        if mlp is not None:
            x = hp["alpha_M"] * x + _mlp(w, _layer_norm(x), hp, _activation(mlp))
    return x, c_attn, H, ipr


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
    """T tokens sqrt(d) (sqrt(p0) z / |z| + sqrt(1 - p0) xi_i / |xi_i|), xi_i made orthogonal to z, then
    LayerNorm'ed: squared norms d and cosines p0 + (1 - p0) xi_i . xi_k / (|xi_i| |xi_k|), of mean p0 up to
    O(1 / (T sqrt d)) (and LN's centring, O(1 / d)); see the module docstring."""
    d = z.shape[0]
    z = z / jnp.linalg.norm(z)
    xi = xi - (xi @ z)[:, None] * z
    xi = xi / jnp.linalg.norm(xi, axis=1, keepdims=True)
    return _layer_norm(jnp.sqrt(d) * (jnp.sqrt(p0) * z + jnp.sqrt(1 - p0) * xi))


@lazy.jit(static_argnames=("T", "d", "L", "heads", "mlp", "norm", "dtype", "full"))
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
                x, c_attn, H, ipr = _block(k, x, hp, T, heads, mlp, norm)
                x = x + shift
                return x, (x, c_attn, H, ipr)
            xL, (xs, c_attn, H, ipr) = jax.lax.scan(step, x0 + shifts[0], (layer_keys, shifts[1:]))
            return readout @ xL.mean(0), (jnp.concatenate([x0[None], xs]), c_attn, H, ipr)

        shifts = jnp.zeros((L + 1, T, d), dtype)
        grads, (xs, c_attn, H, ipr) = jax.grad(forward, has_aux=True)(shifts)
        cos, sd, q = jax.vmap(_geometry)(xs)
        gnorm = jnp.sqrt((grads ** 2).sum((-2, -1)))
        out = {"cos": cos, "cos_sd": sd, "q": q, "cos_attn": c_attn, "entropy": H, "attention_ipr": ipr,
               "grad_ratio": gnorm / gnorm[-1]}
        if full:
            out["cosines"] = jax.vmap(_cosines)(xs)
        return out

    return jax.vmap(lambda ks, h: jax.vmap(lambda k: one(k, h))(ks))(keys, hp)


def needs(sc, d: int, seeds: int, points: int = 1, dtype: str = "float32", full: bool = False) -> list[Need]:
    """The memory and work of simulating `sc` at width d, `seeds` seeds at each of `points` points (valid
    arguments), as hild.core.resources Needs.

    Memory: what the stack keeps for backpropagation, points x seeds x L blocks x twice (the block's draw of
    5 d^2 + 3 d weights, its T d outputs and heads T^2 attention weights) numbers of `dtype` (measured:
    signal_prop.critical_residual at paper size, 28 points x 3 seeds x 64 blocks at d = 256, T = 128, peaks at
    13 GB resident against this estimate's 16 GB); with `full`, every layer's T x T cosines (device, host and
    the pairs of the quantiles); the per-layer records. Work: about 30 T d^2 + 24 T^2 d + 50 d^2 operations per
    block and run (projections, attention, MLP, the cosines, and the backward pass).

    **Arguments:** `sc`: a RandomTransformer; `d`: the width; `seeds`, `points` (default 1): runs; `dtype`:
    'float32' or 'float64'; `full`: with every layer's T x T cosines.

    **Returns:** a list of `Need`s for `hild.core.resources.admit`."""
    runs, T, L = float(points) * seeds, float(sc.T), float(sc.L)
    item = np.dtype(dtype).itemsize
    per_block = 2 * (5.0 * d * d + 3 * d + T * d + sc.heads * T * T)
    many = ("points",) if points > 1 else ()
    out = [Need("the weights and activations kept for backpropagation", ("d", "seeds", "L") + many,
                runs * L * per_block * item),
           Need("the per-layer records", ("seeds", "L") + many, array(runs, L + 1, 12), result=True),
           Need("the forward and backward passes", ("d", "T", "seeds", "L") + many,
                operations=runs * L * (30 * T * d * d + 24 * T * T * d + 50.0 * d * d))]
    if full:
        out.append(Need("every layer's T x T token cosines", ("T", "seeds", "L") + many,
                        array(runs, L + 1, T, T, itemsize=item + 16)))
    return out


def check_arguments(sc, d: int, seeds: int, seed: int, dtype: str) -> None:
    """Raise ValueError naming the argument if a simulation of `sc` at width d is invalid.

    **Arguments:** `sc`: a RandomTransformer; `d` (an integer >= 2, a multiple of sc.heads); `seeds` (>= 1);
    `seed` (>= 0); `dtype` ('float32' or 'float64'). **Returns:** None."""
    check.integer("d", d, 2)
    if d % sc.heads:
        raise ValueError(f"d must be a multiple of heads = {sc.heads}; got {d}")
    check.integer("seeds", seeds, 1)
    check.integer("seed", seed, 0)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")


def run_points(sc, points: dict, seeds: int = 1, seed: int = 0, dtype: str = "float32", full: bool = False,
               d: int | None = None) -> xr.Dataset:
    """Simulate the scenario `sc` at G hyper-parameter points, `seeds` seeds each, in one compiled call.

    **Arguments:**
    - `points`: a dict of equal-length arrays overriding sc's beta, sigma_v2, sigma_w2, sigma_b2, alpha_A,
      alpha_M, p0 ({} : the scenario itself, G = 1).
    - `seeds`, `seed`: seed s of every point uses the integer key seed + s.
    - `d`: the width (default the scenario's field d).
    - `full`: also every layer's T x T cosine matrix (`cosines`, dims layer, token, token_).

    **Returns:** a Dataset over (point, seed, layer) with cos, cos_sd, q, grad_ratio and, per block on the layer
    it produces (NaN at layer 0), cos_attn, entropy, entropy_ratio, attention_ipr; the points' parameters as
    coordinates along `point`. No divergence flags and no provenance (`RandomTransformer.simulate` adds both).
    """
    d = sc.d if d is None else d
    unknown = set(points) - set(HYPER + ("p0",))
    if unknown:
        raise ValueError(f"points may only set {', '.join(HYPER + ('p0',))}; got {sorted(unknown)}")
    G = len(next(iter(points.values()))) if points else 1
    check_arguments(sc, d, seeds, seed, dtype)
    resources.admit("signal_prop simulate", needs(sc, d, seeds, G, dtype, full))
    hp = {k: np.broadcast_to(np.asarray(points.get(k, getattr(sc, k)), dtype=float), (G,)) for k in HYPER + ("p0",)}
    for k, v in hp.items():
        if np.any(v < 0) or not np.all(np.isfinite(v)) or (k == "p0" and np.any(v >= 1)):
            raise ValueError(f"{k} must be finite numbers >= 0{' and < 1' if k == 'p0' else ''}; got {v.tolist()}")
    base = jax.vmap(jax.random.PRNGKey)(jnp.arange(seed, seed + seeds))
    keys = jnp.broadcast_to(base, (G,) + base.shape)
    with jax.enable_x64(dtype == "float64"):
        out = _run(keys, {k: jnp.asarray(v, dtype) for k, v in hp.items()}, T=sc.T, d=d, L=sc.L,
                   heads=sc.heads, mlp=sc.mlp_or_none, norm=sc.norm, dtype=dtype, full=full)
        out = {k: np.asarray(v, dtype=float) for k, v in out.items()}
    dims = ("point", "seed", "layer")
    pad = lambda a: np.concatenate([np.full((G, seeds, 1), np.nan), a], axis=-1)  # noqa: E731
    data = {k: (dims, out[k]) for k in ("cos", "cos_sd", "q", "grad_ratio")}
    data.update({k: (dims, pad(out[k])) for k in PER_BLOCK})
    data["entropy_ratio"] = (dims, pad(out["entropy"] / np.log(sc.T)))
    if full:
        data["cosines"] = (dims + ("token", "token_"), out["cosines"])
    coords = {"point": np.arange(G), "seed": np.arange(seed, seed + seeds), "layer": np.arange(sc.L + 1),
              **{k: ("point", hp[k]) for k in points}}
    return xr.Dataset(data, coords=coords)


def simulate(sc, seeds: int = 1, seed: int = 0, dtype: str = "float32", d: int | None = None) -> xr.Dataset:
    """The real stack at the scenario's hyper-parameters and width d (default the field d): a Dataset over
    (seed, layer) with the variables of `run_points` and cos_quantile (the QUANTILES of the pairwise cosines); no
    flags or provenance (`RandomTransformer.simulate` adds both).

    **Arguments:** `sc`: a `RandomTransformer`; `seeds` (>= 1), `seed` (>= 0); `dtype`: 'float32' or 'float64';
    `d`: the width (None: the field d).

    **Returns:** a Dataset over (seed, layer): `cos`, `cos_sd`, `q`, `grad_ratio`, `cos_attn`, `entropy`,
    `entropy_ratio`, `attention_ipr`, and `cos_quantile` (seed, layer, quantile)."""
    ds = run_points(sc, {}, seeds, seed, dtype, full=True, d=d).isel(point=0, drop=True)
    iu = np.triu_indices(sc.T, 1)
    pairs = ds["cosines"].values[..., iu[0], iu[1]]
    q = np.moveaxis(np.quantile(pairs, QUANTILES, axis=-1), 0, -1)
    ds = ds.drop_vars("cosines")
    ds["cos_quantile"] = (("seed", "layer", "quantile"), q)
    return ds.assign_coords(quantile=list(QUANTILES))
