"""Minibatch heavy-ball SGD on least squares, simulated: every seed and every learning rate in one compiled call
(arXiv 2107.09133; the conventions of hild.families.implicit.limiting).

Each step draws `batch` indices uniformly with replacement (a chunk of steps' indices at once),
g = X_b^T (X_b w - y_b) / B + wd w, v <- beta v + g, w <- w - lr v, from w = w*, v = 0. The steps run in chunks
of the largest lag (`burn_in` and `steps` are multiples of it), whose trajectories are kept two at a time: after
`burn_in` steps it accumulates, over `steps` further steps, the second moment of delta = w - w* and the squared
displacement |w(t) - w(t - l)|^2 at each lag l (one lag at a time).
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

__all__ = ["minibatch_runs"]

_CACHE: dict = {}


def minibatch_runs(X, y, w_star, lrs, batch: int, momentum: float, weight_decay: float, seeds, steps: int,
                   burn_in: int, lags) -> dict[str, np.ndarray]:
    """Run minibatch SGD for every lr in `lrs` and every integer seed in `seeds` (float64, one compiled call per
    shape). The minibatch draws of a seed are the same at every lr.

    **Returns:** `S` (lrs, seeds, d, d): the mean of delta delta^T over the measured steps; `msd` (lrs, seeds,
    lags): the mean of |w(t) - w(t - l)|^2 over them.
    """
    lags = np.asarray(lags, int)
    max_lag = int(lags.max())
    with jax.enable_x64(True):
        run = _compiled(int(batch), max_lag, len(lags))
        S, msd = run(jnp.asarray(X, jnp.float64), jnp.asarray(y, jnp.float64), jnp.asarray(w_star, jnp.float64),
                     jnp.asarray(lrs, jnp.float64), float(momentum), float(weight_decay),
                     jnp.asarray(seeds, jnp.uint32), jnp.asarray(lags), int(steps), int(burn_in))
        return {"S": np.asarray(S), "msd": np.asarray(msd)}


def _compiled(batch, max_lag, n_lags):
    """The jitted runs for one batch size and lag layout: the step counts are traced (no compilation per run
    length)."""
    key_ = (batch, max_lag, n_lags)
    if key_ in _CACHE:
        return _CACHE[key_]

    def one(X, y, w_star, lr, beta, wd, keys, lags, steps, burn_in):
        """Every seed at one lr, batched by hand (seeds, d)."""
        n, d = X.shape
        seeds = keys.shape[0]

        def sgd(state, index):
            w, v = state
            Xb, yb = X[index], y[index]
            g = jnp.einsum("sbi,sb->si", Xb, jnp.einsum("sbi,si->sb", Xb, w) - yb) / batch + wd * w
            v = beta * v + g
            return (w - lr * v, v), w - lr * v

        def chunk(w, v, c):
            """Chunk c: max_lag steps with its minibatch indices drawn at once; the final state and the trajectory
            (max_lag, seeds, d)."""
            draw = lambda k: jax.random.randint(jax.random.fold_in(k, c), (max_lag, batch), 0, n)  # noqa: E731
            (w, v), path = jax.lax.scan(sgd, (w, v), jnp.swapaxes(jax.vmap(draw)(keys), 0, 1))
            return w, v, path

        def measure(c, state):
            w, v, previous, S, msd = state
            w, v, path = chunk(w, v, burn_in // max_lag + c)
            both = jnp.concatenate([previous, path])
            rows = max_lag + jnp.arange(max_lag)
            for_lag = lambda lag: jnp.sum((both[rows] - both[rows - lag]) ** 2, axis=(0, 2))  # noqa: E731
            delta = path - w_star
            return (w, v, path, S + jnp.einsum("tsi,tsj->sij", delta, delta),
                    msd + jax.lax.map(for_lag, lags).T)

        start = jnp.broadcast_to(w_star, (seeds, d))
        w, v, path = jax.lax.fori_loop(0, burn_in // max_lag, lambda c, state: chunk(*state[:2], c),
                                       (start, jnp.zeros_like(start), jnp.zeros((max_lag, seeds, d))))
        zeros = (jnp.zeros((seeds, d, d)), jnp.zeros((seeds, n_lags)))
        _, _, _, S, msd = jax.lax.fori_loop(0, steps // max_lag, measure, (w, v, path, *zeros))
        return S / steps, msd / steps

    def runs(X, y, w_star, lrs, beta, wd, seeds, lags, steps, burn_in):
        keys = jax.vmap(jax.random.PRNGKey)(seeds)
        return jax.vmap(one, in_axes=(None, None, None, 0, None, None, None, None, None, None))(
            X, y, w_star, lrs, beta, wd, keys, lags, steps, burn_in)

    _CACHE[key_] = jax.jit(runs)
    return _CACHE[key_]
