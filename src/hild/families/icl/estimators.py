"""In-context linear regression (Raventos, Paul, Chen, Ganguli, arXiv 2306.15063): tasks, sequences and the two
Bayes estimators of a task from a context.

Tasks w ~ N(0, I_d); a pretraining pool holds M of them. A sequence (x_1, y_1, ..., x_K, y_K) has
x_i ~ N(0, I_d) and y_i = w . x_i + eps_i, eps_i ~ N(0, sigma^2). At position k an estimator predicts
y_k = w_hat_k . x_k from the prefix of the k - 1 earlier pairs:

- dMMSE (posterior mean for the uniform prior on the pool):
  w_hat = sum_m w_m softmax_m(-sum_{i<k} (y_i - w_m . x_i)^2 / (2 sigma^2)), computed in log space;
- ridge (posterior mean for the Gaussian prior): w_hat = A^{-1} X^T y, A = X^T X + sigma^2 I over the prefix.

Given the prefix and the task, the error at position k averaged over the query x_k and its noise is
sigma^2 + |w - w_hat_k|^2; for ridge it is also exact over the labels given the design X:
sigma^2 + sigma^4 w^T A^{-2} w + sigma^2 tr A^{-1} - sigma^4 tr A^{-2}, whose mean over w ~ N(0, I_d) is
sigma^2 + sigma^2 tr A^{-1}. Every function works on a batch of sequences and all K positions at once.
"""
from __future__ import annotations

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

POOL_STREAM = 0x706F6F6C
"""The tag folded into the pool's seed: the pool is drawn from its own stream, apart from the sequences."""


def pool(M: int, d: int, pool_seed: int, dtype="float32") -> jax.Array:
    """The pool of M tasks w_m ~ N(0, I_d), (M, d), drawn in float32 whatever `dtype` (the same tasks in theory and
    simulation); nested: the first M' tasks of a larger pool are the pool of M'."""
    key = jax.random.fold_in(jax.random.key(pool_seed), POOL_STREAM)
    draw = jax.vmap(lambda m: jax.random.normal(jax.random.fold_in(key, m), (d,), jnp.float32))
    return draw(jnp.arange(M)).astype(dtype)


def sequences(key: jax.Array, tasks: jax.Array, batch: int, K: int, noise: float, M=None):
    """`batch` sequences of K pairs, each on a pool task (uniform over the first M tasks; None: all) and on a new
    task w ~ N(0, I_d), sharing the inputs and the label noise. **Returns:** x (batch, K, d), the pool tasks and
    the new tasks (batch, d), and the labels y_pool, y_new (batch, K)."""
    d = tasks.shape[1]
    pick, draw = jax.random.split(key)
    z = jax.random.normal(draw, (batch, K * (d + 1) + d), tasks.dtype)  # one draw: one compiled sampler
    x = z[:, :K * d].reshape(batch, K, d)
    e = noise * z[:, K * d:K * (d + 1)]
    w_new = z[:, K * (d + 1):]
    w_pool = tasks[jax.random.randint(pick, (batch,), 0, tasks.shape[0] if M is None else M)]
    return x, w_pool, w_new, jnp.einsum("bkd,bd->bk", x, w_pool) + e, jnp.einsum("bkd,bd->bk", x, w_new) + e


def dmmse(x: jax.Array, y: jax.Array, tasks: jax.Array, noise: float, M=None) -> jax.Array:
    """The dMMSE estimates at every position: (batch, K, d), position k from the k - 1 earlier pairs (k = 1: the
    pool mean); with M, the pool is the first M tasks (the others masked out). Memory: batch x K x len(tasks)."""
    residual = (y[:, :, None] - jnp.einsum("bkd,md->bkm", x, tasks)) ** 2
    before = jnp.cumsum(residual, axis=1) - residual  # sum over i < k
    logits = -before / (2 * noise ** 2)
    if M is not None:
        logits = jnp.where(jnp.arange(tasks.shape[0]) < M, logits, -jnp.inf)
    weights = jax.nn.softmax(logits, axis=-1)
    return jnp.einsum("bkm,md->bkd", weights, tasks)


def ridge_system(x: jax.Array, noise: float) -> jax.Array:
    """P_k = A_k^{-1}, A_k = sum_{i<k} x_i x_i^T + sigma^2 I, at every position (batch, K, d, d): from
    P_1 = I / sigma^2 by the rank-one (Sherman-Morrison) updates of recursive least squares, O(d^2) per position."""
    batch, K, d = x.shape
    start = jnp.broadcast_to(jnp.eye(d, dtype=x.dtype) / noise ** 2, (batch, d, d))

    def step(P, xi):
        Px = jnp.einsum("bij,bj->bi", P, xi)
        return P - Px[:, :, None] * Px[:, None, :] / (1 + jnp.sum(xi * Px, -1))[:, None, None], P

    _, P = jax.lax.scan(step, start, jnp.swapaxes(x, 0, 1))
    return jnp.swapaxes(P, 0, 1)


def ridge(x: jax.Array, y: jax.Array, P: jax.Array) -> jax.Array:
    """The ridge estimates A_k^{-1} sum_{i<k} y_i x_i at every position: (batch, K, d)."""
    xy = y[:, :, None] * x
    return jnp.einsum("bkij,bkj->bki", P, jnp.cumsum(xy, axis=1) - xy)


def ridge_error(w: jax.Array | None, P: jax.Array, noise: float) -> jax.Array:
    """Ridge's error at every position, exact over the query, the query's noise and the labels given the design:
    sigma^2 + sigma^4 |A^{-1} w|^2 + sigma^2 tr A^{-1} - sigma^4 tr A^{-2} for the tasks w (batch, d), or with
    w None its mean over w ~ N(0, I_d), sigma^2 (1 + tr A^{-1}). **Returns:** (batch, K)."""
    s2 = noise ** 2
    trace = jnp.trace(P, axis1=-2, axis2=-1)
    if w is None:
        return s2 * (1 + trace)
    Pw = jnp.einsum("bkij,bj->bki", P, w)
    return s2 + s2 ** 2 * jnp.sum(Pw ** 2, -1) + s2 * trace - s2 ** 2 * jnp.sum(P ** 2, (-2, -1))


def task_error(w: jax.Array, w_hat: jax.Array, noise: float) -> jax.Array:
    """sigma^2 + |w - w_hat_k|^2, the error at each position averaged over the query and its noise: (batch, K)."""
    return noise ** 2 + jnp.sum((w[:, None, :] - w_hat) ** 2, -1)


def query_error(x: jax.Array, y: jax.Array, w_hat: jax.Array) -> jax.Array:
    """(y_k - w_hat_k . x_k)^2, the squared error on the sequence's own k-th pair: (batch, K)."""
    return (y - jnp.einsum("bkd,bkd->bk", x, w_hat)) ** 2
