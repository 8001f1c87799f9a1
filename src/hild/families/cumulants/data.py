"""Data models whose signal hides in the higher-order cumulants of the inputs, as JAX samplers.

Spiked cumulant model (Székely, Bardone, Gerace & Goldt, arXiv 2312.14922; the ICA model of Ricci,
Bardone & Goldt, arXiv 2503.23896): x = S (sqrt(beta) nu u + z), z ~ N(0, I_d), u a unit vector,
nu a latent with E nu = 0, E nu^2 = 1, and the exact (population) whitening

    S = I - (1 - 1/sqrt(1 + beta)) u u^T,   so that Cov x = I exactly,

so the spike sits only in the cumulants of order >= 3 (>= 4 for a symmetric latent): along u the
excess kurtosis is kappa_4(x . u) = beta^2 kappa_4(nu) / (1 + beta)^2 (`kurtosis_along_spike`).
Spiked Wishart contrast: x = sqrt(beta) g u + z with g ~ N(0, 1) and no whitening (the spike is in
the covariance, Cov x = I + beta u u^T).

Every sampler takes an explicit `jax.random` key and returns an (n, d) array (float32 unless `dtype`
says otherwise); n is static (one compilation per shape). Parameters are validated when they are
concrete Python numbers (ValueError naming the parameter); traced values inside a user's `jit` pass.
"""
from __future__ import annotations

import sys

import numpy as np

from hild.core import lazy
from hild.core import validation as check

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

LATENTS = ("rademacher", "gaussian", "uniform", "laplace")
KURTOSIS = {"rademacher": -2.0, "gaussian": 0.0, "uniform": -1.2, "laplace": 3.0}  # excess kurtosis E nu^4 - 3


def _concrete(value) -> bool:
    """Not a JAX tracer (no value is one before JAX is imported)."""
    return "jax" not in sys.modules or not isinstance(value, jax.core.Tracer)


def check_latent(name: str) -> str:
    if name not in LATENTS:
        raise ValueError(f"latent must be one of {', '.join(LATENTS)} (each with mean 0 and variance 1); got {name!r}")
    return name


def check_strength(beta):
    """The signal strength beta > 0 for a concrete number (a 0-d NumPy or JAX array counts); a traced beta
    passes unchecked."""
    if not _concrete(beta):
        return beta
    if getattr(beta, "shape", None) == () and not isinstance(beta, bool):
        beta = float(beta)
    return check.real("beta", beta, 0.0, strict_minimum=True)


def check_n(n) -> int:
    return check.integer("n", n, 1)


def check_spike(u) -> jax.Array:
    """u as a 1-d array; a concrete u must be a finite unit vector (|u| = 1 within 1e-4)."""
    u = jnp.asarray(u)
    if u.ndim != 1 or u.shape[0] < 1:
        raise ValueError(f"u must be a vector of length d >= 1; got shape {u.shape}")
    if _concrete(u):
        norm = float(np.linalg.norm(np.asarray(u, dtype=np.float64)))
        if not abs(norm - 1.0) <= 1e-4:
            raise ValueError(f"u must be a unit vector; got |u| = {norm:.6g}")
    return u


def spike(d: int, seed: int, dtype=np.float32) -> jax.Array:
    """A unit vector drawn uniformly on the sphere S^{d-1} from the integer `seed` (Gaussian, normalised).

    **Arguments:** `d` (>= 1); `seed`: an integer; `dtype`.

    **Returns:** u, a JAX array (d,) of norm 1."""
    d, seed = check.integer("d", d, 1), check.integer("seed", seed, 0)
    g = jax.random.normal(jax.random.fold_in(jax.random.key(seed), 0x5A1CE), (d,), jnp.float32)
    return (g / jnp.linalg.norm(g)).astype(dtype)


def latent(key, shape, name: str, dtype=np.float32) -> jax.Array:
    """Latent samples of the given shape with E nu = 0, E nu^2 = 1 (see LATENTS, excess kurtosis in KURTOSIS).

    rademacher: +-1; gaussian: N(0, 1); uniform: U(-sqrt 3, sqrt 3); laplace: density exp(-sqrt 2 |nu|)/sqrt 2.

    **Arguments:** `key`: a JAX PRNG key; `shape`; `name`: one of LATENTS; `dtype`.

    **Returns:** a JAX array of `shape`."""
    check_latent(name)
    if name == "rademacher":
        return jax.random.rademacher(key, shape, dtype)
    if name == "gaussian":
        return jax.random.normal(key, shape, dtype)
    if name == "uniform":
        return jax.random.uniform(key, shape, dtype, -np.sqrt(3.0), np.sqrt(3.0))
    return jax.random.laplace(key, shape, dtype) / np.sqrt(2.0)


_draw_latent = latent  # samplers below take a parameter named `latent`


def whiten(x: jax.Array, u: jax.Array, beta) -> jax.Array:
    """S x with S = I - (1 - 1/sqrt(1 + beta)) u u^T (rows of x), the exact whitening of a spike of strength beta.

    **Arguments:** `x` (n, d): samples as rows; `u` (d,): the unit spike; `beta` (>= 0).

    **Returns:** S x, a JAX array (n, d)."""
    c = 1.0 - 1.0 / jnp.sqrt(1.0 + beta)
    return x - c * (x @ u)[:, None] * u[None, :]


@lazy.jit(static_argnames=("n", "name"))
def _spiked_cumulant(key, n, u, beta, name):
    k_nu, k_z = jax.random.split(key)
    nu = latent(k_nu, (n,), name, u.dtype)
    z = jax.random.normal(k_z, (n, u.shape[0]), u.dtype)
    return whiten(jnp.sqrt(beta).astype(u.dtype) * nu[:, None] * u[None, :] + z, u, beta)


def spiked_cumulant(key, n: int, u, beta: float, latent: str = "rademacher", dtype=None) -> jax.Array:
    """(n, d) samples x = S (sqrt(beta) nu u + z) of the spiked cumulant model (arXiv 2312.14922), Cov x = I.

    **Arguments:** `key`; `n` (>= 1); `u` (d,): the unit spike; `beta` (>= 0); `latent`: nu's name (LATENTS);
    `dtype` (default: u's).

    **Returns:** the samples, a JAX array (n, d)."""
    n, beta, u = check_n(n), check_strength(beta), check_spike(u)
    check_latent(latent)
    u = u.astype(dtype or u.dtype)
    return _spiked_cumulant(key, n, u, jnp.asarray(beta, u.dtype), latent)


@lazy.jit(static_argnames=("n",))
def _spiked_wishart(key, n, u, beta):
    k_g, k_z = jax.random.split(key)
    g = jax.random.normal(k_g, (n,), u.dtype)
    return jnp.sqrt(beta).astype(u.dtype) * g[:, None] * u[None, :] + jax.random.normal(k_z, (n, u.shape[0]), u.dtype)


def spiked_wishart(key, n: int, u, beta: float, dtype=None) -> jax.Array:
    """(n, d) samples x = sqrt(beta) g u + z, g ~ N(0, 1), no whitening: Cov x = I + beta u u^T (arXiv 2312.14922).

    **Arguments:** `key`; `n` (>= 1); `u` (d,): the unit spike; `beta` (>= 0); `dtype` (default: u's).

    **Returns:** the samples, a JAX array (n, d)."""
    n, beta, u = check_n(n), check_strength(beta), check_spike(u)
    u = u.astype(dtype or u.dtype)
    return _spiked_wishart(key, n, u, jnp.asarray(beta, u.dtype))


def isotropic(key, n: int, d: int, dtype=np.float32) -> jax.Array:
    """(n, d) samples of N(0, I_d), the null hypothesis.

    **Arguments:** `key`: a JAX PRNG key; `n`, `d` (>= 1); `dtype`.

    **Returns:** a JAX array (n, d)."""
    return jax.random.normal(key, (check_n(n), check.integer("d", d, 1)), dtype)


def kurtosis_along_spike(beta: float, latent: str = "rademacher") -> float:
    """Excess kurtosis of x . u in the spiked cumulant model: beta^2 kappa_4(nu) / (1 + beta)^2.

    **Arguments:** `beta` (>= 0): the spike's strength; `latent`: its name (LATENTS).

    **Returns:** the excess kurtosis (float)."""
    beta = check_strength(beta)
    return beta ** 2 * KURTOSIS[check_latent(latent)] / (1 + beta) ** 2


def orthonormal_pair(d: int, seed: int, dtype=np.float32) -> tuple[jax.Array, jax.Array]:
    """Two orthonormal vectors (u, v) drawn uniformly from the integer `seed` (Gram-Schmidt on Gaussians).

    **Arguments:** `d` (>= 2); `seed`: an integer; `dtype`.

    **Returns:** (u, v), two JAX arrays (d,)."""
    d, seed = check.integer("d", d, 2), check.integer("seed", seed, 0)
    g = np.asarray(jax.random.normal(jax.random.fold_in(jax.random.key(seed), 0x5EED), (2, d), jnp.float32), float)
    u = g[0] / np.linalg.norm(g[0])
    v = g[1] - (g[1] @ u) * u
    return jnp.asarray(u, dtype), jnp.asarray(v / np.linalg.norm(v), dtype)


def correlation(latent: str) -> float:
    """E[lambda nu] of the correlated latents nu = sign(lambda) |nu'|: sqrt(2/pi) E|nu'|.

    **Arguments:** `latent`: a latent's name (LATENTS).

    **Returns:** E[lambda nu] (float)."""
    mean_abs = {"rademacher": 1.0, "gaussian": np.sqrt(2 / np.pi), "uniform": np.sqrt(3.0) / 2,
                "laplace": 1 / np.sqrt(2.0)}[check_latent(latent)]
    return float(np.sqrt(2 / np.pi) * mean_abs)


@lazy.jit(static_argnames=("n", "name", "correlated"))
def _mixed_cumulant(key, n, u, v, beta_u, beta_v, name, correlated):
    k_lam, k_nu, k_z = jax.random.split(key, 3)
    lam = jax.random.normal(k_lam, (n,), u.dtype)
    nu = latent(k_nu, (n,), name, u.dtype)
    if correlated:
        nu = jnp.sign(lam) * jnp.abs(nu)
    z = jax.random.normal(k_z, (n, u.shape[0]), u.dtype)
    hoc = whiten(jnp.sqrt(beta_v) * nu[:, None] * v[None, :] + z, v, beta_v)
    return jnp.sqrt(beta_u) * lam[:, None] * u[None, :] + hoc


def mixed_cumulant(key, n: int, u, v, beta_u: float, beta_v: float, latent: str = "laplace",
                   correlated: bool = False, dtype=None) -> jax.Array:
    """(n, d) samples of the mixed cumulant model (after Bardone & Goldt, arXiv 2404.08602):

        x = sqrt(beta_u) lambda u + S_v (sqrt(beta_v) nu v + z),   S_v = I - (1 - 1/sqrt(1 + beta_v)) v v^T,

    u and v orthonormal, lambda ~ N(0, 1) (a covariance spike along u), nu a unit-variance latent (a whitened
    higher-order spike along v), z ~ N(0, I). Independent latents: lambda and nu independent. Correlated latents:
    nu = sign(lambda) |nu'| with nu' drawn from `latent` (the same marginal for a symmetric latent), so
    E[lambda nu] = `correlation(latent)` and the covariance gains sqrt(beta_u beta_v / (1 + beta_v)) E[lambda nu]
    (u v^T + v u^T): the correlation puts a second-order trace of v next to u. The paper's mean spike and labels
    are left out; its exact parametrisation was not checked against the paper.

    **Arguments:** `key`; `n` (>= 1); `u`, `v` (d,): orthonormal; `beta_u`, `beta_v` (>= 0): the spikes' strengths;
    `latent`: nu's name (LATENTS); `correlated`: nu = sign(lambda) |nu'|; `dtype` (default: u's).

    **Returns:** the samples, a JAX array (n, d)."""
    n, u = check_n(n), check_spike(u)
    v = check_spike(v)
    check.real("beta_u", beta_u, 0.0, strict_minimum=True), check.real("beta_v", beta_v, 0.0, strict_minimum=True)
    check_latent(latent)
    if abs(float(jnp.dot(u.astype(jnp.float32), v.astype(jnp.float32)))) > 1e-4:
        raise ValueError("u and v must be orthogonal")
    dt = dtype or u.dtype
    return _mixed_cumulant(key, n, u.astype(dt), v.astype(dt), jnp.asarray(beta_u, dt), jnp.asarray(beta_v, dt),
                           latent, bool(correlated))


def ica(key, n: int, A, latent: str = "rademacher", dtype=np.float32) -> jax.Array:
    """(n, d) samples of the noisy ICA model x = A s + (I - A A^T) z with A (d x k) orthonormal columns (the
    independent components), s_i i.i.d. unit-variance latents and z ~ N(0, I): Cov x = I, non-Gaussian along the
    k columns of A only (k = 1 is the spiked cumulant model at beta -> infinity; arXiv 2503.23896).

    **Arguments:** `key`: a JAX PRNG key; `n` (>= 1); `A` (d, k): orthonormal columns; `latent`: the latents'
    name (LATENTS); `dtype`.

    **Returns:** the samples, a JAX array (n, d)."""
    n = check_n(n)
    check_latent(latent)
    A = jnp.asarray(A, dtype)
    if A.ndim != 2 or A.shape[1] > A.shape[0]:
        raise ValueError(f"A must be a d x k matrix with k <= d; got shape {A.shape}")
    gram = np.asarray(A.T @ A, np.float64)
    if not np.allclose(gram, np.eye(A.shape[1]), atol=1e-4):
        raise ValueError("A must have orthonormal columns")
    k_s, k_z = jax.random.split(key)
    s = _draw_latent(k_s, (n, A.shape[1]), latent, dtype)
    z = jax.random.normal(k_z, (n, A.shape[0]), dtype)
    return s @ A.T + z - (z @ A) @ A.T
