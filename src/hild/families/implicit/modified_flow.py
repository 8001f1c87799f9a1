"""The modified flow of gradient descent (implicit gradient regularisation, Barrett & Dherin, arXiv 2009.11162).

GD theta <- theta - lr grad L stays O(lr^2) per unit time t = lr x steps closer to the flow of the modified loss

    L~ = L + (lr / 4) |grad L|^2,

than to plain gradient flow (O(lr)): at a fixed time, |theta_GD - theta_GF| = O(lr) and |theta_GD - theta_MF| =
O(lr^2) (backward error analysis). The loss here is the scalar factorisation of a two-layer linear network with K
hidden units, L(a, b) = (a.b - target)^2 / 2, whose rescaling symmetry makes the implicit regulariser visible
(|grad L|^2 = (a.b - target)^2 (|a|^2 + |b|^2) favours balanced, small-norm solutions).
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

__all__ = ["gradient_descent", "flow", "initial", "loss"]


def loss(theta, target):
    """L(a, b) = (a.b - target)^2 / 2 with theta = (a, b) (each of length K).

    **Arguments:** `theta` (2K,); `target` (real).

    **Returns:** the loss (a JAX scalar)."""
    a, b = jnp.split(theta, 2)
    return 0.5 * (jnp.dot(a, b) - target) ** 2


def _modified(theta, target, lr):
    g = jax.grad(loss)(theta, target)
    return loss(theta, target) + 0.25 * lr * jnp.dot(g, g)


def initial(K: int, scale: float, seeds) -> np.ndarray:
    """Each integer seed's start theta0 = scale z, z ~ N(0, I_2K), drawn by NumPy's default_rng(seed).

    **Arguments:** `K` (>= 1): the width; `scale` (> 0); `seeds`: the integer seeds.

    **Returns:** an array (len(seeds), 2K)."""
    return np.stack([scale * np.random.default_rng(int(s)).standard_normal(2 * K) for s in seeds])


def gradient_descent(theta0, target: float, lr: float, steps: int, every: int) -> np.ndarray:
    """Gradient descent theta <- theta - lr grad L from every start, in float64. One compilation per number of
    records and shape (lr, target and every are traced).

    **Arguments:** `theta0` (seeds, 2K); `target`; `lr` (> 0); `steps`; `every`: the record interval (divides
    steps).

    **Returns:** theta at steps 0, every, ..., steps: an array (seeds, steps // every + 1, 2K)."""
    with jax.enable_x64(True):
        return np.asarray(_descent(steps // every)(jnp.asarray(theta0, jnp.float64), target, lr, every))


def flow(theta0, target: float, lr: float, ts, modified: bool, rtol: float = 1e-11, atol: float = 1e-13):
    """Gradient flow (modified=False) or the modified flow of L + (lr/4)|grad L|^2 (modified=True) from every start
    in theta0, by diffrax (Dopri8, adaptive, float64; arXiv 2009.11162 for the modified flow).

    **Arguments:** `theta0` (seeds, 2K); `target`; `lr` (> 0): enters only the modified flow; `ts`: the times
    (lr x steps); `modified`; `rtol`, `atol`: the step controller's tolerances.

    **Returns:** theta at the times ts: an array (seeds, len(ts), 2K)."""
    with jax.enable_x64(True):
        return np.asarray(_flow(bool(modified), rtol, atol)(jnp.asarray(theta0, jnp.float64), target, lr,
                                                             jnp.asarray(ts, jnp.float64)))


_CACHE: dict = {}


def _descent(records: int):
    if ("gd", records) not in _CACHE:
        def run(theta, target, lr, every):
            def block(theta, _):
                theta = jax.lax.fori_loop(0, every, lambda _, th: th - lr * jax.grad(loss)(th, target), theta)
                return theta, theta
            _, path = jax.lax.scan(block, theta, None, length=records)
            return jnp.concatenate([theta[None], path])
        _CACHE[("gd", records)] = jax.jit(jax.vmap(run, in_axes=(0, None, None, None)))
    return _CACHE[("gd", records)]


def _flow(modified: bool, rtol: float, atol: float):
    import diffrax

    key = ("flow", modified, rtol, atol)
    if key not in _CACHE:
        objective = _modified if modified else (lambda th, target, lr: loss(th, target))
        term = diffrax.ODETerm(lambda t, th, args: -jax.grad(objective)(th, *args))
        controller = diffrax.PIDController(rtol=rtol, atol=atol)

        def solve(theta, target, lr, ts):
            return diffrax.diffeqsolve(term, diffrax.Dopri8(), ts[0], ts[-1], None, theta, args=(target, lr),
                                       saveat=diffrax.SaveAt(ts=ts), max_steps=None,
                                       stepsize_controller=controller).ys
        _CACHE[key] = jax.jit(jax.vmap(solve, in_axes=(0, None, None, None)))
    return _CACHE[key]
