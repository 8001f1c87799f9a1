"""A damped fixed-point solver with Anderson acceleration for a small vector of order parameters, with a
convergence status per point, several starting points and continuation along a grid, vmapped over grids.

One step is x <- (1 - eta) x + eta G(x) (damping eta), accelerated by Anderson's type-II mixing over the last
`memory` residuals f = G(x) - x (Walker & Ni, SIAM J. Numer. Anal. 49, 1715 (2011)): the mixing weights solve
min |sum_j c_j f_j|, sum_j c_j = 1, and x <- sum_j c_j (x_j + eta f_j). An accelerated step that leaves the
admissible set (non-finite, or `admissible(x)` False) is replaced by the plain damped step, which keeps an
admissible iterate admissible when G maps into a convex admissible set. optimistix offers neither damping
nor Anderson mixing (FixedPointIteration is the plain map), so both are written here; everything runs under
`jax.jit` and `jax.vmap`, in float64 when the caller enables it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

__all__ = ["Settings", "Solution", "continuation", "solve"]


@dataclass(frozen=True)
class Settings:
    """How a fixed point is solved.

    **Arguments:**
    - `damping` in (0, 1]: the weight eta of G(x) in a plain step.
    - `memory` (>= 0): the residuals Anderson mixing keeps (0: plain damped iteration).
    - `tol`: converged when max_i |G(x)_i - x_i| / (1 + |x_i|) <= tol.
    - `max_iter`: the iterations allowed from one start.
    """

    damping: float = 0.5
    memory: int = 5
    tol: float = 1e-9
    max_iter: int = 500


class Solution(NamedTuple):
    """A solve's outcome: the last iterate `x`, `converged` (bool), `residual` (the relative residual of the
    last iterate) and `iterations`, each with the batch shape of the call."""

    x: Any
    converged: Any
    residual: Any
    iterations: Any


def _residual(x, gx):
    return jnp.max(jnp.abs(gx - x) / (1.0 + jnp.abs(x)))


def _ok(x, admissible):
    good = jnp.all(jnp.isfinite(x))
    return good if admissible is None else good & admissible(x)


def solve(G: Callable, starts, params, settings: Settings = Settings(), admissible: Callable | None = None
          ) -> Solution:
    """The fixed point x = G(x, params) from several starts (shape (S, n)), tried in order in one loop: a start
    that has not converged after `settings.max_iter` iterations (or whose iterate is lost) is replaced by the
    next; the first that converges is kept (a convex problem has one fixed point; more starts only widen the
    basin). Vmap it over `params` for a grid.

    **Arguments:** `G(x, params) -> x'`; `starts`: shape (S, n); `params`: a pytree passed to G; `settings`;
    `admissible(x) -> bool` (None: every finite x).

    **Returns:** a `Solution`; `iterations` counts every start tried; with none converged, the last start's
    final iterate.
    """
    S, n = starts.shape
    k = max(int(settings.memory), 1)
    eta = settings.damping

    def fresh(x0):
        gx0 = G(x0, params)
        zeros = jnp.zeros((k, n), x0.dtype)
        return x0, gx0, zeros, zeros, jnp.asarray(0), _residual(x0, gx0)

    def body(state):
        start, total, (x, gx, X, F, i, r) = state
        f = gx - x
        X = jnp.roll(X, -1, axis=0).at[-1].set(x)
        F = jnp.roll(F, -1, axis=0).at[-1].set(f)
        plain = x + eta * f
        if settings.memory > 0:
            filled = jnp.arange(k) >= k - jnp.minimum(i + 1, k)  # the slots holding residuals
            dF = jnp.where(filled[:, None], F, 0.0)
            A = dF @ dF.T
            A = A + 1e-14 * jnp.trace(A) * jnp.eye(k) + jnp.diag(jnp.where(filled, 0.0, 1.0))
            c = jnp.where(filled, jnp.linalg.solve(A, filled.astype(x.dtype)), 0.0)
            c = c / jnp.sum(c)
            mixed = c @ (X + eta * F)
            good = jnp.all(jnp.isfinite(c)) & _ok(mixed, admissible)
            x_new = jnp.where(good, mixed, plain)
        else:
            x_new = plain
        gx_new = G(x_new, params)
        bad = ~_ok(gx_new, admissible)  # a step onto a point where G is lost falls back to the plain step
        x_new = jnp.where(bad, plain, x_new)
        gx_new = jnp.where(bad, G(plain, params), gx_new)
        inner = (x_new, gx_new, X, F, i + 1, _residual(x_new, gx_new))
        lost = ~jnp.isfinite(inner[-1]) | (inner[4] >= settings.max_iter)
        switch = lost & ~(inner[-1] <= settings.tol) & (start + 1 < S)
        nxt = fresh(starts[jnp.minimum(start + 1, S - 1)])
        inner = jax.tree_util.tree_map(lambda a, b: jnp.where(switch, a, b), nxt, inner)
        return start + switch, total + 1, inner

    def cond(state):
        start, _, (*_, i, r) = state
        return ~(r <= settings.tol) & (((i < settings.max_iter) & jnp.isfinite(r)) | (start + 1 < S))

    state = (jnp.asarray(0), jnp.asarray(0), fresh(starts[0]))
    start, total, (x, gx, *_, i, r) = jax.lax.while_loop(cond, body, state)
    return Solution(x, (r <= settings.tol) & _ok(x, admissible), r, total)


def continuation(G: Callable, starts, params, settings: Settings = Settings(),
                 admissible: Callable | None = None) -> Solution:
    """Fixed points along a path of points (`params` with a leading axis of P points, in order): each point
    starts from its converged predecessor, then from `starts` (shape (S, n)); the first point from `starts`
    only. Vmap it over a second grid axis for a 2D grid.

    **Returns:** a `Solution` whose fields have the leading axis P.
    """
    def step(carry, p):
        prev, prev_ok = carry
        first = jnp.where(prev_ok, prev, starts[0])
        sol = solve(G, jnp.concatenate([first[None], starts]), p, settings, admissible)
        keep = jnp.where(sol.converged, sol.x, prev)
        return (keep, prev_ok | sol.converged), sol

    _, sols = jax.lax.scan(step, (starts[0], jnp.asarray(False)), params)
    return sols
