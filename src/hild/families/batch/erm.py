"""Empirical risk minimisation at finite d for the batch family's classifiers: minimise
sum_mu l(y_mu, w.x_mu / sqrt(d)) + (lam / 2) |w|^2 exactly, vmapped over seeds, in float64.

Smooth losses by Newton's method with a backtracking (Armijo) line search (the Hessian X^T D X / d + lam I is
solved directly: d <= a few thousand); the hinge loss by its dual, the box-constrained quadratic programme
max_a sum a - |sum_mu a_mu y_mu x_mu / sqrt(d)|^2 / (2 lam), 0 <= a <= 1, w = sum_mu a_mu y_mu x_mu / (lam sqrt(d)),
by accelerated projected gradient (FISTA) with its duality gap as the stopping test."""
from __future__ import annotations

from hild.core import lazy
from hild.families.batch.prox import Hinge, Loss

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

__all__ = ["fit", "newton", "svm_dual"]

NEWTON_STEPS = 60
GRADIENT_TOL = 1e-10
HALVINGS = 30
DUAL_STEPS = 20000


def objective(loss: Loss, X, y, w, lam):
    d = X.shape[1]
    return jnp.sum(loss.value(y, X @ w / jnp.sqrt(d))) + 0.5 * lam * jnp.sum(w ** 2)


def newton(loss: Loss, X, y, lam, steps: int = NEWTON_STEPS):
    """Newton's method with Armijo backtracking from w = 0 for a twice-differentiable loss, until the gradient
    norm is below GRADIENT_TOL sqrt(n) (at most `steps` steps).
    **Returns:** (w, the final gradient norm)."""
    n, d = X.shape
    fn = loss.fn
    d1 = jax.vmap(jax.grad(fn, argnums=1))
    d2 = jax.vmap(jax.grad(jax.grad(fn, argnums=1), argnums=1))
    sd = jnp.sqrt(d)

    def grad_hess(w):
        h = X @ w / sd
        g = X.T @ d1(y, h) / sd + lam * w
        H = (X.T * d2(y, h)) @ X / d + lam * jnp.eye(d, dtype=X.dtype)
        return g, H

    def step(state):
        w, _, i = state
        g, H = grad_hess(w)
        delta = -jnp.linalg.solve(H, g)
        f0 = objective(loss, X, y, w, lam)
        ts = 0.5 ** jnp.arange(HALVINGS)
        fs = jax.vmap(lambda t: objective(loss, X, y, w + t * delta, lam))(ts)
        ok = fs <= f0 + 1e-4 * ts * jnp.dot(g, delta)
        t = jnp.where(jnp.any(ok), ts[jnp.argmax(ok)], 0.0)
        return w + t * delta, jnp.linalg.norm(g), i + 1

    def cond(state):
        _, gnorm, i = state
        return (i < steps) & (gnorm > GRADIENT_TOL * jnp.sqrt(n))

    w, _, _ = jax.lax.while_loop(cond, step, (jnp.zeros(d, X.dtype), jnp.asarray(jnp.inf, X.dtype), 0))
    return w, jnp.linalg.norm(grad_hess(w)[0])


def svm_dual(X, y, lam, steps: int = DUAL_STEPS):
    """The hinge loss's ERM through its dual (module docstring), by FISTA.
    **Returns:** (w, the relative duality gap)."""
    n, d = X.shape
    Z = (y[:, None] * X) / jnp.sqrt(d)  # rows y_mu x_mu / sqrt(d)
    L = jnp.linalg.norm(Z, 2) ** 2 / lam
    w_of = lambda a: Z.T @ a / lam
    primal = lambda w: jnp.sum(jnp.maximum(0.0, 1 - Z @ w)) + 0.5 * lam * jnp.sum(w ** 2)
    dual = lambda a: jnp.sum(a) - 0.5 * lam * jnp.sum(w_of(a) ** 2)

    def body(_, state):
        a, b, t = state
        grad = 1.0 - Z @ w_of(b)
        a_new = jnp.clip(b + grad / L, 0.0, 1.0)
        t_new = (1 + jnp.sqrt(1 + 4 * t ** 2)) / 2
        return a_new, a_new + (t - 1) / t_new * (a_new - a), t_new

    a0 = jnp.zeros(n, X.dtype)
    a, _, _ = jax.lax.fori_loop(0, steps, body, (a0, a0, jnp.asarray(1.0, X.dtype)))
    w = w_of(a)
    P, D = primal(w), dual(a)
    return w, (P - D) / jnp.maximum(jnp.abs(P), 1e-300)


def fit(loss: Loss, X, y, lam):
    """The minimiser for `loss` (hinge: `svm_dual`; otherwise `newton`) and its accuracy (gradient norm or
    relative duality gap)."""
    if isinstance(loss, Hinge):
        return svm_dual(X, y, lam)
    return newton(loss, X, y, lam)
