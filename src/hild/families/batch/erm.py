"""Empirical risk minimisation at finite d for the batch family's classifiers: minimise
sum_mu l(y_mu, w.x_mu / sqrt(d)) + (lam / 2) |w|^2 exactly, vmapped over seeds, in float64.

Smooth losses by L-BFGS (optax, zoom line search), finished by Newton's method with a backtracking (Armijo)
line search (the Hessian X^T D X / d + lam I solved directly: d <= a few thousand) where L-BFGS has not reached
the gradient tolerance within LBFGS_STEPS (ill-conditioned points near separability); the hinge loss by its dual, the box-constrained quadratic programme
max_a sum a - |sum_mu a_mu y_mu x_mu / sqrt(d)|^2 / (2 lam), 0 <= a <= 1, w = sum_mu a_mu y_mu x_mu / (lam sqrt(d)),
by accelerated projected gradient (FISTA) with its duality gap as the stopping test."""
from __future__ import annotations

from hild.core import lazy
from hild.families.batch.prox import Hinge, Loss

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

__all__ = ["fit", "lbfgs", "newton", "svm_dual"]

LBFGS_STEPS = 500
LBFGS_MEMORY = 20
NEWTON_STEPS = 60
GRADIENT_TOL = 1e-10
HALVINGS = 30
DUAL_STEPS = 20000


def objective(loss: Loss, X, y, w, lam):
    d = X.shape[1]
    return jnp.sum(loss.value(y, X @ w / jnp.sqrt(d))) + 0.5 * lam * jnp.sum(w ** 2)


def _tolerance(n):
    return GRADIENT_TOL * jnp.sqrt(n)


def lbfgs(loss: Loss, X, y, lam, steps: int = LBFGS_STEPS):
    """L-BFGS (optax.lbfgs, memory LBFGS_MEMORY) from w = 0 until the gradient norm is below GRADIENT_TOL sqrt(n)
    (at most `steps` steps).

    **Arguments:** `loss`: a smooth `Loss` (`value` differentiable in z); `X` (n, d); `y` (n,); `lam` (> 0);
    `steps`.

    **Returns:** (w, the final gradient norm)."""
    import optax

    n, d = X.shape
    f = lambda w: objective(loss, X, y, w, lam)
    opt = optax.lbfgs(memory_size=LBFGS_MEMORY)
    value_and_grad = optax.value_and_grad_from_state(f)

    def step(state):
        w, opt_state, _, i = state
        value, g = value_and_grad(w, state=opt_state)
        update, opt_state = opt.update(g, opt_state, w, value=value, grad=g, value_fn=f)
        return optax.apply_updates(w, update), opt_state, jnp.linalg.norm(g), i + 1

    def cond(state):
        *_, gnorm, i = state
        return (i < steps) & (gnorm > _tolerance(n))

    w0 = jnp.zeros(d, X.dtype)
    w, *_ = jax.lax.while_loop(cond, step, (w0, opt.init(w0), jnp.asarray(jnp.inf, X.dtype), 0))
    return w, jnp.linalg.norm(jax.grad(f)(w))


def newton(loss: Loss, X, y, lam, steps: int = NEWTON_STEPS, w0=None):
    """Newton's method with Armijo backtracking from `w0` (default 0) for a twice-differentiable loss, until the
    gradient norm is below GRADIENT_TOL sqrt(n) (at most `steps` steps; none if `w0` already meets it).

    **Arguments:** `loss`: a `Smooth` loss; `X` (n, d); `y` (n,); `lam` (> 0); `steps`; `w0` (d,) or None.

    **Returns:** (w, the final gradient norm)."""
    n, d = X.shape
    fn = loss.fn
    d1 = jax.vmap(jax.grad(fn, argnums=1))
    d2 = jax.vmap(jax.grad(jax.grad(fn, argnums=1), argnums=1))
    sd = jnp.sqrt(d)
    gradient = lambda w: X.T @ d1(y, X @ w / sd) / sd + lam * w

    def step(state):
        w, g, i = state
        H = (X.T * d2(y, X @ w / sd)) @ X / d + lam * jnp.eye(d, dtype=X.dtype)
        delta = -jnp.linalg.solve(H, g)
        f0 = objective(loss, X, y, w, lam)
        ts = 0.5 ** jnp.arange(HALVINGS)
        fs = jax.vmap(lambda t: objective(loss, X, y, w + t * delta, lam))(ts)
        ok = fs <= f0 + 1e-4 * ts * jnp.dot(g, delta)
        t = jnp.where(jnp.any(ok), ts[jnp.argmax(ok)], 0.0)
        w = w + t * delta
        return w, gradient(w), i + 1

    def cond(state):
        _, g, i = state
        return (i < steps) & (jnp.linalg.norm(g) > _tolerance(n))

    w0 = jnp.zeros(d, X.dtype) if w0 is None else w0
    w, g, _ = jax.lax.while_loop(cond, step, (w0, gradient(w0), 0))
    return w, jnp.linalg.norm(g)


def svm_dual(X, y, lam, steps: int = DUAL_STEPS):
    """The hinge loss's ERM through its dual (module docstring), by FISTA.

    **Arguments:** `X` (n, d); `y` (n,) in {-1, 1}; `lam` (> 0); `steps`: FISTA's iterations.

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
    """The minimiser of sum_mu l(y_mu, w.x_mu / sqrt(d)) + (lam / 2)|w|^2 (hinge: `svm_dual`; otherwise `lbfgs`,
    then `newton` from its result).

    **Arguments:** `loss`: a `Loss`; `X` (n, d); `y` (n,); `lam` (> 0).

    **Returns:** (w, its accuracy: the gradient norm, or the hinge's relative duality gap)."""
    if isinstance(loss, Hinge):
        return svm_dual(X, y, lam)
    return newton(loss, X, y, lam, w0=lbfgs(loss, X, y, lam)[0])
