"""Learners that look for the non-Gaussian direction u of the spiked cumulant / ICA model, vectorised over seeds.

Every learner sees inputs x = S (sqrt(beta) nu u + z) (hild.families.cumulants.data) and returns an
`xarray.Dataset` with the overlap m = <w, u> of its estimate over `seed` (and `iteration` or `step`)
(`jax.vmap` over seeds, `lax.scan` over iterations, steps and data chunks: the data are drawn on the fly in
chunks, so memory does not grow with n).

- FastICA (Hyvärinen's one-unit fixed point; Ricci, Bardone & Goldt, arXiv 2503.23896):
      w <- E_n[x G'(w.x)] - E_n[G''(w.x)] w,   w <- w / |w|,
  with n samples per iteration, a fresh batch every iteration (`fresh=True`) or the same batch.
- Online spherical SGD on the contrast E[G(w.x)] (one fresh sample per step; arXiv 2503.23896, 2404.08602):
      w <- (w + delta s G'(w.x) P_w x) / |.|,   P_w = I - w w^T,
  s = sign(kappa_4(nu) E G''''(g)) chooses ascent or descent so that u is the optimum (`contrast_sign`).
- Smoothed online SGD (Damian, Nichani, Ge & Lee 2023, as used in arXiv 2503.23896): the same step on the
  smoothed per-sample contrast E_z G(x . (w + lam z)/|w + lam z|), z uniform on the unit sphere of the tangent
  space at w, averaged exactly (closed form for a polynomial G, `smoothed`), gradient by `jax.grad` projected on
  the tangent space. With the Hermite contrast He_4/4 the average removes the He_2 noise, so the per-sample
  gradient shrinks to O(d^-1/2) at lam = d^(1/4) while the signal is 3 kappa_4 m / (lam^2 d): a step
  delta ~ d^-1/2 then escapes in ~ d^2 steps [derived here; the paper's exact smoothing is not checked].
- Spectral test (the fourth-moment matrix, a polynomial-time baseline): M = (1/n) sum_mu (|x_mu|^2 - d - 2)
  x_mu x_mu^T has E M = kappa_4 u u^T; the estimate is the eigenvector of the eigenvalue largest in modulus
  (`spectral_path`: at several n on nested samples, for the cost of the largest).

Initial conditions: w0 uniform on the sphere from the seed (so m0 ~ N(0, 1/d)), or m0 fixed (`init_overlap`).
Simulations run in float32.
"""
from __future__ import annotations

import functools

import numpy as np

from hild.core import lazy
from hild.core import validation as check
from hild.core.gaussian import hermite_rule
from hild.families.cumulants.data import (KURTOSIS, _mixed_cumulant, _spiked_cumulant, check_strength, check_latent,
                                 orthonormal_pair, spike)

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

CONTRASTS = ("logcosh", "kurtosis", "hermite")
POLYNOMIAL = {"kurtosis": (0.25, 0.0, 0.0), "hermite": (0.25, -1.5, 0.75)}  # G = c4 s^4 + c2 s^2 + c0
CHUNK = 2 ** 12  # samples drawn at once per seed; n is traced, so one compilation serves every n


def check_contrast(name: str) -> str:
    if name not in CONTRASTS:
        raise ValueError(f"contrast must be one of {', '.join(CONTRASTS)}; got {name!r}")
    return name


def G(name: str, s):
    """The contrast: log cosh s, s^4 / 4 (kurtosis) or He_4(s) / 4 = (s^4 - 6 s^2 + 3) / 4 (hermite)."""
    if name == "logcosh":
        return jnp.logaddexp(s, -s) - jnp.log(2.0)
    c4, c2, c0 = POLYNOMIAL[name]
    return c4 * s ** 4 + c2 * s ** 2 + c0


def dG(name: str, s):
    if name == "logcosh":
        return jnp.tanh(s)
    c4, c2, _ = POLYNOMIAL[name]
    return 4 * c4 * s ** 3 + 2 * c2 * s


def d2G(name: str, s):
    if name == "logcosh":
        return 1 - jnp.tanh(s) ** 2
    c4, c2, _ = POLYNOMIAL[name]
    return 12 * c4 * s ** 2 + 2 * c2


def smoothed(name: str, w, x, lam):
    """E_z G(x . (w + lam z)/|w + lam z|), z uniform on the unit sphere of the tangent space at w, in closed form
    for a polynomial contrast: x.z = sqrt(r) z_1 with r = |x|^2 - (w.x)^2, E z_1^2 = 1/(d-1),
    E z_1^4 = 3/((d-1)(d+1))."""
    c4, c2, c0 = POLYNOMIAL[name]
    d = x.shape[-1]
    a = x @ w
    r = x @ x - a ** 2
    cos2, sin2 = 1 / (1 + lam ** 2), lam ** 2 / (1 + lam ** 2)
    q2, q4 = 1 / (d - 1), 3 / ((d - 1) * (d + 1))
    m2 = cos2 * a ** 2 + sin2 * r * q2
    m4 = cos2 ** 2 * a ** 4 + 6 * cos2 * a ** 2 * sin2 * r * q2 + sin2 ** 2 * r ** 2 * q4
    return c4 * m4 + c2 * m2 + c0


def contrast_sign(contrast: str, latent: str) -> float:
    """+1 (ascent) or -1 (descent) on E G(w.x): sign(kappa_4(nu) E[G''''(g)]), g ~ N(0, 1), by Gauss-Hermite.

    The population contrast is E G(g) + kappa_4(x.u) E[G''''(g)] m^4 / 24 + O(m^6), so this sign makes m = +-1 the
    maximum. A Gaussian latent (kappa_4 = 0) has no preferred direction and is refused.

    **Arguments:** `contrast`: the contrast G's name; `latent`: the latent's name (not gaussian).

    **Returns:** +1.0 or -1.0; ValueError for a Gaussian latent."""
    check_contrast(contrast), check_latent(latent)
    if KURTOSIS[latent] == 0:
        raise ValueError(f"latent must be non-Gaussian (kappa_4 != 0) for a contrast to find it; got {latent!r}")
    return float(np.sign(KURTOSIS[latent] * g4_mean(contrast)))


def g4_mean(contrast: str) -> float:
    """E[G''''(g)], g ~ N(0, 1): 6 for s^4/4 and He_4/4; E[(1 - tanh^2 g)(g^2 - 1)] = -0.36360 for
    log cosh (Stein)."""
    if check_contrast(contrast) in POLYNOMIAL:  # s^4/4 and He_4/4
        return 6.0
    x, w = hermite_rule(120)
    return float(np.sum(w * (1 - np.tanh(x) ** 2) * (x ** 2 - 1)))


def _sum_chunks(n, body, init):
    """acc = body(acc, c, valid) over the chunks c = 0 .. ceil(n / CHUNK) - 1 (a while loop: n may be traced);
    valid masks the samples past n in the last chunk."""
    def step(c, acc):
        return body(acc, c, (c * CHUNK + jnp.arange(CHUNK)) < n)
    return jax.lax.fori_loop(0, (n + CHUNK - 1) // CHUNK, step, init)


def initial(d: int, seeds: np.ndarray, u, init_overlap: float | None):
    """One w0 per seed: uniform on the sphere, or with <w0, u> = init_overlap and a uniform orthogonal part."""
    def one(s):
        g = jax.random.normal(jax.random.fold_in(jax.random.key(s), 0xC0FFEE), (d,), jnp.float32)
        if init_overlap is None:
            return g / jnp.linalg.norm(g)
        perp = g - (g @ u) * u
        return init_overlap * u + np.sqrt(1 - init_overlap ** 2) * perp / jnp.linalg.norm(perp)
    return jax.vmap(one)(jnp.asarray(seeds))


def _keys(seeds: np.ndarray, stream: int):
    return jax.vmap(lambda s: jax.random.fold_in(jax.random.key(s), stream))(jnp.asarray(seeds))


# --- FastICA ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _fastica(iterations: int, contrast: str, latent: str, fresh: bool):
    def one(key, w0, u, beta, n):
        def moments(w, batch_key):
            def add(acc, c, valid):
                x = _spiked_cumulant(jax.random.fold_in(batch_key, c), CHUNK, u, beta, latent)
                s = x @ w
                return (acc[0] + jnp.where(valid, dG(contrast, s), 0.0) @ x,
                        acc[1] + jnp.sum(jnp.where(valid, d2G(contrast, s), 0.0)))
            a, b = _sum_chunks(n, add, (jnp.zeros_like(w), jnp.zeros((), w.dtype)))
            return a / n - (b / n) * w

        def step(w, t):
            w = moments(w, jax.random.fold_in(key, t if fresh else 0))
            w = w / jnp.linalg.norm(w)
            return w, w @ u

        _, m = jax.lax.scan(step, w0, jnp.arange(iterations))
        return jnp.concatenate([(w0 @ u)[None], m])

    return jax.jit(jax.vmap(one, in_axes=(0, 0, None, None, None)))


def fastica(d: int, n: int, beta: float, seeds=8, seed: int = 0, iterations: int = 20, contrast: str = "logcosh",
            latent: str = "rademacher", fresh: bool = True, init_overlap: float | None = None) -> xr.Dataset:
    """One-unit FastICA with n samples per iteration, for each integer seed seed, seed + 1, ...

    The spike is u = spike(d, 0); seed s draws w0 and the data of run s.

    **Returns:** a Dataset with `m` = <w_t, u> over (`seed`, `iteration` = 0 .. iterations)."""
    d, n, seeds, beta = check.integer("d", d, 2), check.integer("n", n, 1), _seeds(seeds, seed), check_strength(beta)
    iterations = check.integer("iterations", iterations, 1)
    check_contrast(contrast), check_latent(latent)
    u = spike(d, 0)
    run = _fastica(iterations, contrast, latent, bool(fresh))
    m = run(_keys(seeds, 1), initial(d, seeds, u, init_overlap), u, jnp.float32(beta), jnp.int32(n))
    return xr.Dataset({"m": (("seed", "iteration"), np.asarray(m, np.float64))},
                      coords={"seed": seeds, "iteration": np.arange(iterations + 1)}, attrs={"d": d, "n": n})


def _seeds(seeds, seed) -> np.ndarray:
    seeds = check.integer("seeds", seeds, 1)
    return np.arange(check.integer("seed", seed, 0), seed + seeds)


# --- online spherical SGD (plain and smoothed) -------------------------------------------------------

DATA_MODELS = ("spiked_cumulant", "independent", "correlated")  # the last two: the mixed cumulant model's latents


def _draw(model, key, n, U, betas, latent):
    if model == "spiked_cumulant":
        return _spiked_cumulant(key, n, U[0], betas[0], latent)
    return _mixed_cumulant(key, n, U[0], U[1], betas[0], betas[1], latent, model == "correlated")


@functools.lru_cache(maxsize=32)
def _sgd(block: int, records: int, contrast: str, latent: str, smooth: bool, model: str):
    def one(key, w0, U, betas, delta, sign, lam):
        def loss(w, x):
            return sign * (smoothed(contrast, w, x, lam) if smooth else G(contrast, x @ w))

        grad = jax.grad(loss)

        def step(w, x):
            g = grad(w, x)
            w = w + delta * (g - (g @ w) * w)
            return w / jnp.linalg.norm(w), None

        def record(w, r):
            k = jax.random.fold_in(key, r)
            x = _draw(model, k, block, U, betas, latent)
            w, _ = jax.lax.scan(step, w, x)
            return w, U @ w

        _, m = jax.lax.scan(record, w0, jnp.arange(records))
        return jnp.concatenate([(U @ w0)[None], m])

    return jax.jit(jax.vmap(one, in_axes=(0, 0, None, None, None, None, None)))


def _run_sgd(model, d, n, betas, lr, seeds, seed, records, contrast, latent, smoothing, init_overlap, sign):
    if model not in DATA_MODELS:
        raise ValueError(f"model must be one of {', '.join(DATA_MODELS)}; got {model!r}")
    d, n, seeds = check.integer("d", d, 2), check.integer("n", n, 1), _seeds(seeds, seed)
    lr = check.real("lr", lr, 0.0, strict_minimum=True)
    records = check.integer("records", records, 1)
    smoothing = check.real("smoothing", smoothing, 0.0)
    if smoothing > 0 and contrast not in POLYNOMIAL:
        raise ValueError(f"contrast must be polynomial ({', '.join(POLYNOMIAL)}) for smoothing; got {contrast!r}")
    block = -(-n // records)
    U = jnp.stack(orthonormal_pair(d, 0)) if model != "spiked_cumulant" else spike(d, 0)[None]
    run = _sgd(block, records, check_contrast(contrast), latent, smoothing > 0, model)
    m = run(_keys(seeds, 2), initial(d, seeds, U[0], init_overlap), U, jnp.asarray(betas, jnp.float32),
            jnp.float32(lr / d), jnp.float32(sign), jnp.float32(smoothing))
    steps = np.arange(records + 1) * block
    return xr.Dataset({"m": (("seed", "step", "spike"), np.asarray(m, np.float64))},
                      coords={"seed": seeds, "step": steps, "t": ("step", steps / d)},
                      attrs={"d": d, "n": int(steps[-1])})


def online_sgd(d: int, n: int, beta: float, lr: float, seeds=8, seed: int = 0, records: int = 50,
               contrast: str = "kurtosis", latent: str = "rademacher", smoothing: float = 0.0,
               init_overlap: float | None = None) -> xr.Dataset:
    """Online spherical SGD with step delta = lr / d on s E[G(w.x)] (smoothed with radius `smoothing` > 0).

    n samples in all (one per step, rounded up to a multiple of `records`).

    **Returns:** a Dataset with `m` = <w, u> over (`seed`, `step`): the record times 0, n/records, ..., n in
    samples seen, with the coordinate t = step / d."""
    beta = check_strength(beta)
    sign = contrast_sign(contrast, latent)
    out = _run_sgd("spiked_cumulant", d, n, [beta], lr, seeds, seed, records, contrast, latent, smoothing,
                   init_overlap, sign)
    return out.isel(spike=0)


def mixed_sgd(d: int, n: int, beta_u: float, beta_v: float, lr: float, correlated: bool, seeds=8, seed: int = 0,
              records: int = 50, latent: str = "laplace", init_overlap: float | None = None) -> xr.Dataset:
    """Online spherical SGD ascending E[(w.x)^4]/4 on the mixed cumulant model (arXiv 2404.08602), from a uniform
    w0 (or <w0, u> = init_overlap, the rest uniform); delta = lr / d. The latent must have positive excess
    kurtosis, so that both u and v are maxima of the contrast.

    **Returns:** a Dataset with `m_u` and `m_v`, the overlaps with u (the covariance spike) and v (the
    higher-order spike), over (`seed`, `step`) as in `online_sgd`."""
    check.real("beta_u", beta_u, 0.0, strict_minimum=True), check.real("beta_v", beta_v, 0.0, strict_minimum=True)
    if KURTOSIS[check_latent(latent)] <= 0:
        raise ValueError(f"latent must have positive excess kurtosis (laplace); got {latent!r}")
    out = _run_sgd("correlated" if correlated else "independent", d, n, [beta_u, beta_v], lr, seeds, seed,
                   records, "kurtosis", latent, 0.0, init_overlap, 1.0)
    return xr.Dataset({"m_u": out.m.isel(spike=0, drop=True), "m_v": out.m.isel(spike=1, drop=True)},
                      attrs=out.attrs)


# --- the spectral (fourth-moment) test ---------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _spectral(latent: str, null: bool):
    """Per seed, for increasing sample sizes ns: M accumulated over nested samples (chunk c always drawn from
    fold_in(key, c)), and at each n the eigenvalue of M / n largest in modulus and its eigenvector's overlap."""
    def one(key, u, beta, ns):
        d = u.shape[0]

        def segment(M, bounds):
            lo, hi = bounds

            def add(c, M):
                k = jax.random.fold_in(key, c)
                x = (jax.random.normal(k, (CHUNK, d), u.dtype) if null
                     else _spiked_cumulant(k, CHUNK, u, beta, latent))
                index = c * CHUNK + jnp.arange(CHUNK)
                weight = jnp.where((index >= lo) & (index < hi), jnp.sum(x ** 2, axis=1) - d - 2, 0.0)
                return M + (x * weight[:, None]).T @ x

            M = jax.lax.fori_loop(lo // CHUNK, (hi + CHUNK - 1) // CHUNK, add, M)
            lam, V = jnp.linalg.eigh(M / hi)
            top = jnp.argmax(jnp.abs(lam))
            return M, (lam[top], V[:, top] @ u)

        starts = jnp.concatenate([jnp.zeros(1, ns.dtype), ns[:-1]])
        return jax.lax.scan(segment, jnp.zeros((d, d), u.dtype), (starts, ns))[1]

    return jax.jit(jax.vmap(one, in_axes=(0, None, None, None)))


def spectral_path(d: int, ns, beta: float, seeds=8, seed: int = 0, latent: str = "rademacher",
                  null: bool = False) -> xr.Dataset:
    """The fourth-moment spectral test at each of the increasing sample sizes ns, on nested samples (the first n
    of one stream per seed: the same numbers as `spectral` at each n, for the cost of the largest n alone).

    **Returns:** a Dataset over (`seed`, `n`) with `lam` (the eigenvalue of M largest in modulus) and `m` (its
    eigenvector's overlap with u, sign arbitrary)."""
    d, seeds, beta = check.integer("d", d, 2), _seeds(seeds, seed), check_strength(beta)
    ns = [check.integer("n", int(n) if isinstance(n, (np.integer, int)) else n, 1) for n in np.atleast_1d(ns)]
    if np.any(np.diff(ns) <= 0):
        raise ValueError(f"ns must be increasing sample sizes; got {ns}")
    check_latent(latent)
    lam, m = _spectral(latent, bool(null))(_keys(seeds, 3), spike(d, 0), jnp.float32(beta),
                                           jnp.asarray(ns, jnp.int32))
    return xr.Dataset({"lam": (("seed", "n"), np.asarray(lam, np.float64)),
                       "m": (("seed", "n"), np.asarray(m, np.float64))},
                      coords={"seed": seeds, "n": ns}, attrs={"d": d})


def spectral(d: int, n: int, beta: float, seeds=8, seed: int = 0, latent: str = "rademacher",
             null: bool = False) -> xr.Dataset:
    """The fourth-moment spectral test on n samples. null=True draws the samples from N(0, I) instead (the
    test's null hypothesis).

    **Returns:** a Dataset over `seed` with `lam`, the eigenvalue of M largest in modulus, and `m`, the overlap
    of its eigenvector with u (sign arbitrary)."""
    n = check.integer("n", n, 1)
    return spectral_path(d, [n], beta, seeds, seed, latent, null).isel(n=0, drop=True).assign_attrs(n=n)
