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
    """A solve's outcome, each field with the batch shape of the call.

    **Returns:** (its fields) `x`, the last iterate; `converged` (bool); `residual`, the relative residual
    max_i |G(x)_i - x_i| / (1 + |x_i|) of the last iterate; `iterations`, the steps taken over every start."""

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

    def propose(x, gx, X, F, i, plain_only):
        """The next candidate from the accepted iterate x (G(x) = gx) and the residual history (X, F)."""
        plain = x + eta * (gx - x)
        if settings.memory == 0:
            return plain
        filled = jnp.arange(k) >= k - jnp.minimum(i + 1, k)  # the slots holding residuals
        dF = jnp.where(filled[:, None], F, 0.0)
        A = dF @ dF.T
        A = A + 1e-14 * jnp.trace(A) * jnp.eye(k) + jnp.diag(jnp.where(filled, 0.0, 1.0))
        c = jnp.where(filled, jnp.linalg.solve(A, filled.astype(x.dtype)), 0.0)
        c = c / jnp.sum(c)
        mixed = c @ (X + eta * F)
        good = jnp.all(jnp.isfinite(c)) & _ok(mixed, admissible) & ~plain_only
        return jnp.where(good, mixed, plain)

    # One evaluation of G per pass, at `cand`: a start (restart True), or a step from the accepted iterate x. A
    # step onto a point where G is lost is rejected and the next pass takes the plain damped step instead.
    def body(state):
        start, total, restart, cand, (x, gx, X, F, i, r), plain_only = state
        gc = G(cand, params)
        accept = restart | _ok(gc, admissible)
        zeros = jnp.zeros((k, n), cand.dtype)
        X, F = jnp.where(restart, zeros, X), jnp.where(restart, zeros, F)
        i = jnp.where(restart, 0, i + 1)
        x, gx = jnp.where(accept, cand, x), jnp.where(accept, gc, gx)
        r = jnp.where(accept, _residual(x, gx), r)
        X = jnp.where(accept, jnp.roll(X, -1, axis=0).at[-1].set(x), X)
        F = jnp.where(accept, jnp.roll(F, -1, axis=0).at[-1].set(gx - x), F)
        total = total + ~restart
        lost = ~jnp.isfinite(r) | (i >= settings.max_iter) | (~accept & plain_only)  # even the plain step lost
        switch = lost & ~(r <= settings.tol) & (start + 1 < S)
        nxt = propose(x, gx, X, F, i, ~accept)
        cand = jnp.where(switch, starts[jnp.minimum(start + 1, S - 1)], nxt)
        return start + switch, total, switch, cand, (x, gx, X, F, i, r), ~accept

    def cond(state):
        start, _, restart, _, (*_, i, r), _ = state
        return restart | (~(r <= settings.tol) & (((i < settings.max_iter) & jnp.isfinite(r)) | (start + 1 < S)))

    zeros = jnp.zeros((k, n), starts.dtype)
    inner = (starts[0], starts[0], zeros, zeros, jnp.asarray(0), jnp.asarray(jnp.inf, starts.dtype))
    state = (jnp.asarray(0), jnp.asarray(0), jnp.asarray(True), starts[0], inner, jnp.asarray(False))
    _, total, _, _, (x, *_, r), _ = jax.lax.while_loop(cond, body, state)
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
