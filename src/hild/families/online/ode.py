"""Order-parameter ODEs of online SGD in soft committee machines.

Saad & Solla, PRL 74, 4337 (1995); Goldt, Advani, Saxe, Krzakala & Zdeborova (arXiv 1906.08632).
The local fields z = (lambda_1..lambda_K, rho_1..rho_M) are jointly Gaussian with covariance
C = [[Q, R], [R^T, T]]. With the signed second-layer weights w = (-v, v*), the error signal is
Delta = w . g(z) (+ label noise), and as d -> infinity at time t = steps / d:

    dR_in/dt = lr v_i sum_c w_c I3(i, n, c)                                   - kappa R_in
    dQ_ik/dt = lr v_i sum_c w_c I3(i, k, c) + (i <-> k)
             + lr^2 v_i v_k [ sum_cd w_c w_d I4(i, k, c, d) + sigma^2 J2(i, k) ]  - 2 kappa Q_ik
    dv_i/dt  = lr_v sum_c w_c I2(i, c)
    eg       = 1/2 sum_cd w_c w_d I2(c, d)

kappa is the weight decay (update -kappa/d w per step). Padded student units (mask 0, v = 0,
zero overlaps) stay frozen, which lets one compiled call integrate scenarios with different K.
I4 is symmetric in (i, k) and in (c, d), so the second moment is built from the pairs i <= k and
c <= d only (`_second_moment`), a quarter of the K^2 (K+M)^2 terms, in blocks of bounded size.
"""
from __future__ import annotations

import functools

import numpy as np

from hild.core import lazy
from hild.core.gaussian import Activation, hermite_points

diffrax = lazy.module("diffrax")
jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")


def covariance(Q, R, T):
    """C = [[Q, R], [R^T, T]], the covariance of the student and teacher local fields."""
    return jnp.block([[Q, R], [R.T, T]])


def generalisation_error(act: Activation, Q, R, T, v, v_teacher):
    """eg = 1/2 E[(y_student - y_teacher)^2] from the order parameters (noise-free labels).

    **Arguments:** `act`: the `Activation`; `Q` (..., K, K), `R` (..., K, M), `T` (..., M, M), `v` (..., K),
    `v_teacher` (..., M), broadcast over their leading axes.

    **Returns:** eg, a JAX array of the broadcast leading shape.
    """
    def one(Q, R, T, v, vt):
        f = np.arange(Q.shape[-1] + T.shape[-1])
        w = jnp.concatenate([-v, vt])
        return 0.5 * w @ act.I2(covariance(Q, R, T), f[:, None], f[None, :]) @ w

    arrays, cores = (Q, R, T, v, v_teacher), (2, 2, 2, 1, 1)
    lead = jnp.broadcast_shapes(*(a.shape[: a.ndim - c] for a, c in zip(arrays, cores)))
    flat = [jnp.broadcast_to(a, lead + a.shape[a.ndim - c:]).reshape((-1,) + a.shape[a.ndim - c:])
            for a, c in zip(arrays, cores)]
    return jax.vmap(one)(*flat).reshape(lead)


JOINT_POINTS = 2 ** 17
"""Points of the joint Gauss-Hermite rule over all K + M fields used for activations without closed forms."""


def joint_nodes(n: int) -> int:
    """Gauss-Hermite nodes per field of the joint rule over n fields: about JOINT_POINTS ** (1 / n), at least 3."""
    return max(3, int(round(JOINT_POINTS ** (1 / n))))


PAIR_BLOCK = 2 ** 18
"""Terms I4(i, k, c, d), i <= k and c <= d, evaluated at once in the second moment; more go in blocks of pairs."""


def _second_moment(act: Activation, C, w, K: int):
    """second[i, k] = sum_cd w_c w_d I4(i, k, c, d) from the distinct terms only: pairs i <= k (I4 is
    symmetric in (i, k); Activation.I4_contracted takes c <= d), in blocks of pairs under jax.lax.map
    once there are more than PAIR_BLOCK terms, so the compiled graph and the working memory do not grow as K^4."""
    n = C.shape[-1]
    i, k = np.triu_indices(K)
    blocks = -(-i.size * (n * (n + 1) // 2) // PAIR_BLOCK)
    if blocks <= 1:
        upper = act.I4_contracted(C, i, k, w)
    else:
        per_block = -(-i.size // blocks)
        pad = blocks * per_block - i.size
        pairs = np.stack([np.pad(i, (0, pad)), np.pad(k, (0, pad))], -1).reshape(blocks, per_block, 2)
        upper = jax.lax.map(lambda ik: act.I4_contracted(C, ik[:, 0], ik[:, 1], w), jnp.asarray(pairs))
        upper = upper.reshape(-1)[: i.size]
    return jnp.zeros((K, K), upper.dtype).at[i, k].set(upper).at[k, i].set(upper)


def error_moments(act: Activation, C, w, K: int):
    """Averages of the error signal Delta = w . g(z) that close the ODEs.

    Returns drive[i, b] = E[g'(lambda_i) z_b Delta], second[i, k] = E[g'(lambda_i) g'(lambda_k) Delta^2],
    J2[i, k] = E[g'(lambda_i) g'(lambda_k)] and out[i] = E[g(lambda_i) Delta]. Closed-form
    activations contract I2, I3, I4; any other activation uses one joint Gauss-Hermite rule over
    all K + M fields (JOINT_POINTS points), so g and g' are evaluated once per point.
    """
    n = C.shape[-1]
    i, f = np.arange(K), np.arange(n)
    if act.closed_form:
        drive = act.I3(C, i[:, None, None], f[None, :, None], f[None, None, :]) @ w
        second = _second_moment(act, C, w, K)
        J2 = act.J2(C, i[:, None], i[None, :])
        out = act.I2(C, i[:, None], f[None, :]) @ w
        return drive, second, J2, out
    z, weights = hermite_points(C, joint_nodes(n))
    weights = jnp.asarray(weights, z.dtype)
    gz, dg = act.g(z), act.dg(z[:, :K])
    delta = gz @ w
    drive = jnp.einsum("p,pi,pb->ib", weights * delta, dg, z)
    J2 = jnp.einsum("p,pi,pk->ik", weights, dg, dg)
    second = jnp.einsum("p,pi,pk->ik", weights * delta ** 2, dg, dg)
    out = jnp.einsum("p,pi->i", weights * delta, gz[:, :K])
    return drive, second, J2, out


def vector_field(act: Activation, state, p):
    """Right-hand side d(Q, R, v)/dt for one scenario (the equations in the module docstring)."""
    Q, R, v = state["Q"], state["R"], state["v"]
    K = R.shape[0]
    w = jnp.concatenate([-v, p["v_teacher"]])
    drive, second, J2, out = error_moments(act, covariance(Q, R, p["T"]), w, K)
    lin = p["lr"] * v[:, None] * drive[:, :K]
    dQ = (lin + lin.T + p["lr"] ** 2 * jnp.outer(v, v) * (second + p["noise"] ** 2 * J2)
          - 2 * p["weight_decay"] * Q)
    dR = p["lr"] * v[:, None] * drive[:, K:] - p["weight_decay"] * R
    dv = p["lr_v"] * out
    mask = p["mask"]
    return {"Q": dQ * jnp.outer(mask, mask), "R": dR * mask[:, None], "v": dv * mask}


# --------------------------------------------------------------------------- the symmetric manifold
# With T = I, v = v* = 1 and lr_v = 0, K = p M students in M groups of p (student i in group i // p,
# the group of teacher n = i // p), the overlaps
#     Q_ii = Q, Q_ik = C1 (same group), C2 (different groups), R_in = R (n the group's teacher), S (otherwise)
# form an invariant manifold of the ODEs (Saad & Solla 1995; Biehl, Riegler & Woehler 1996; Goldt et al.,
# arXiv 1906.08632): every sum over indices in the right-hand side is a sum over how the summed indices
# fall relative to the fixed ones (equal to one of them, a new student in a group already touched, a new
# group, ...), each pattern weighted by how many index tuples realise it, a polynomial in p and M. Each
# pattern is evaluated once on a canonical instance of SLOTS groups of SLOTS students, which holds every
# pattern of four indices, so the reduced right-hand side costs O(1) in K.

SLOTS = 4
"""Groups, and students per group, of the canonical instance: four indices touch at most four of each."""
SYMMETRIC = ("Q", "C1", "C2", "R", "S")
"""The variables of the symmetric manifold."""


def canonical_covariance(s):
    """The covariance [[Q, R], [R^T, I]] of SLOTS^2 students (in SLOTS groups) and SLOTS teachers on the manifold s."""
    group = np.arange(SLOTS * SLOTS) // SLOTS
    same_group = group[:, None] == group[None, :]
    QQ = jnp.where(np.eye(SLOTS * SLOTS, dtype=bool), s["Q"], jnp.where(same_group, s["C1"], s["C2"]))
    RR = jnp.where(group[:, None] == np.arange(SLOTS)[None, :], s["R"], s["S"])
    return jnp.block([[QQ, RR], [RR.T, jnp.eye(SLOTS, dtype=QQ.dtype)]])


def _teacher(g: int) -> int:
    """The canonical field of the teacher of group g."""
    return SLOTS * SLOTS + g


@functools.cache
def index_patterns(p: int, M: int, fixed: tuple[int, ...], n_free: int) -> tuple[np.ndarray, np.ndarray]:
    """How n_free summed indices, each over all K = p M students (weight w = -1) and M teachers (w = +1),
    fall relative to the `fixed` canonical fields (students g SLOTS + member, teachers `_teacher(g)`, groups
    numbered 0, 1, ... in order of appearance).

    Returns (fields, weights): fields (patterns, n_free), a representative tuple of canonical fields per
    pattern, and weights (patterns,), the number of index tuples of the pattern times the product of their w,
    so that sum over tuples of w_c ... f(fixed, c, ...) = sum_patterns weights f(fixed, fields). Patterns that
    no tuple realises (count 0) are left out.
    """
    used: dict[int, int] = {}  # group -> students of it used so far (members 0 .. used - 1)
    students: list[int] = []
    for f in fixed:
        g = f // SLOTS if f < SLOTS * SLOTS else f - SLOTS * SLOTS
        used.setdefault(g, 0)
        if f < SLOTS * SLOTS and f not in students:
            students.append(f)
            used[g] += 1
    out: list[tuple[tuple[int, ...], int]] = []

    def extend(used, students, chosen, weight):
        if len(chosen) == n_free:
            out.append((tuple(chosen), weight))
            return
        for f in students:  # equal to a student already in the tuple
            extend(used, students, chosen + [f], -weight)
        for g, n in used.items():  # a new student of a group already touched
            if p - n > 0:
                f = g * SLOTS + n
                extend({**used, g: n + 1}, students + [f], chosen + [f], -weight * (p - n))
        new = len(used)
        if M - new > 0:  # a new student of a new group
            f = new * SLOTS
            extend({**used, new: 1}, students + [f], chosen + [f], -weight * (M - new) * p)
        for g in used:  # the teacher of a group already touched
            extend(used, students, chosen + [_teacher(g)], weight)
        if M - new > 0:  # the teacher of a new group
            extend({**used, new: 0}, students, chosen + [_teacher(new)], weight * (M - new))

    extend(used, students, [], 1)
    fields = np.array([f for f, _ in out], dtype=int).reshape(len(out), n_free)
    return fields, np.array([w for _, w in out], dtype=float)


SYMMETRIC_FIELDS = {"Q": (0, 0), "C1": (0, 1), "C2": (0, SLOTS), "R": (0, _teacher(0)), "S": (0, _teacher(1))}
"""The canonical pair of fields (student i, student k or teacher n) of each manifold variable."""


def symmetric_present(p: int, M: int) -> dict[str, bool]:
    """Which manifold variables exist: C1 needs p >= 2 students per group, C2 and S need M >= 2 groups."""
    return {"Q": True, "C1": p >= 2, "C2": M >= 2, "R": True, "S": M >= 2}


def _pattern_sum(integral, C, fixed: tuple[int, ...], p: int, M: int, n_free: int):
    """sum over the n_free summed indices of w_c ... integral(C, *fixed, c, ...), by patterns."""
    fields, weights = index_patterns(p, M, fixed, n_free)
    args = [np.full(len(weights), f) for f in fixed] + list(fields.T)
    return integral(C, *args) @ weights


def symmetric_field(act: Activation, p: int, M: int, s, params):
    """Right-hand side d(Q, C1, C2, R, S)/dt on the symmetric manifold (equations in the module docstring
    with v = 1, w = (-1, 1), T = I); a variable that does not exist at this p, M (symmetric_present) stays put."""
    C = canonical_covariance(s)
    lr, kappa = params["lr"], params["weight_decay"]
    present = symmetric_present(p, M)
    out = {}
    for name, (i, k) in SYMMETRIC_FIELDS.items():
        if not present[name]:
            out[name] = jnp.zeros_like(s[name])
        elif k >= SLOTS * SLOTS:  # R_in, S_in
            out[name] = lr * _pattern_sum(act.I3, C, (i, k), p, M, 1) - kappa * s[name]
        else:
            drive = _pattern_sum(act.I3, C, (i, k), p, M, 1) + _pattern_sum(act.I3, C, (k, i), p, M, 1)
            second = _pattern_sum(act.I4, C, (i, k), p, M, 2) + params["noise"] ** 2 * act.J2(C, i, k)
            out[name] = lr * drive + lr ** 2 * second - 2 * kappa * s[name]
    return out


def symmetric_error(act: Activation, p: int, M: int, s):
    """eg = 1/2 sum_cd w_c w_d I2(c, d) on the manifold s (noise-free labels)."""
    return 0.5 * _pattern_sum(act.I2, canonical_covariance(s), (), p, M, 2)


def _diverged(state, p):
    """A run has diverged once an order parameter is not finite or a squared norm Q_ii passes `blowup`
    (state["Q"] is the matrix Q, or the common Q_ii of the symmetric manifold)."""
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(state)]))
    Q = state["Q"]
    return ~finite | ((jnp.max(jnp.diagonal(Q)) if Q.ndim == 2 else Q) > p["blowup"])


MAX_STEPS = 1_000_000
"""The solver's step budget per trajectory; a run that spends it is reported, not silently truncated."""


def integrate(act: Activation, y0, params, ts, rtol: float = 1e-8, atol: float = 1e-11, max_steps: int = MAX_STEPS,
              groups: tuple[int, int] | None = None):
    """Integrate the ODEs for a batch of scenarios (leading axis of y0 and params) on the grid ts.

    groups: None (the full ODEs in Q, R, v) or (p, M), the ODEs on the symmetric manifold in
    (Q, C1, C2, R, S) (`symmetric_field`). Returns (ys, diverged, ok, t_end): ys on ts (NaN after a
    divergence), a divergence flag, whether the solver finished, and the time integration stopped.
    Call inside `jax.enable_x64(True)`.
    """
    return _integrate_jit(act, y0, params, jnp.asarray(ts), rtol, atol, max_steps, groups)


@lazy.jit(static_argnums=(0, 4, 5, 6, 7))
def _integrate_jit(act, y0, params, ts, rtol, atol, max_steps, groups):
    if groups is None:
        term = diffrax.ODETerm(lambda t, y, p: vector_field(act, y, p))
    else:
        term = diffrax.ODETerm(lambda t, y, p: symmetric_field(act, *groups, y, p))
    event = diffrax.Event(lambda t, y, p, **kw: _diverged(y, p))
    return jax.vmap(lambda y, p: solve_on_grid(term, event, y, p, ts, rtol, atol, max_steps))(y0, params)


def solve_on_grid(term, event, y, p, ts, rtol: float, atol: float, max_steps: int, jump_ts=None):
    """One adaptive diffrax solve (Tsit5, PID controller stepping onto `jump_ts`) of `term` from y with args p,
    saved on the grid ts and stopped by `event` (a divergence). Returns (ys on ts, NaN after a stop; whether the
    event stopped it; whether the solver finished or stopped there; the time reached)."""
    sol = diffrax.diffeqsolve(
        term, diffrax.Tsit5(), t0=ts[0], t1=ts[-1], dt0=None, y0=y, args=p,
        saveat=diffrax.SaveAt(ts=ts, t1=True),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol, jump_ts=jump_ts),
        event=event, max_steps=max_steps, throw=False,
    )
    stopped = sol.result == diffrax.RESULTS.event_occurred
    ok = (sol.result == diffrax.RESULTS.successful) | stopped
    # after an event, diffrax writes the final state into the next free slot: keep grid slots only
    on_grid = sol.ts[:-1] == ts
    ys = jax.tree.map(lambda a: jnp.where(on_grid.reshape((-1,) + (1,) * (a.ndim - 1)) & jnp.isfinite(a[:-1]),
                                          a[:-1], jnp.nan), sol.ys)
    return ys, stopped, ok, jnp.max(jnp.where(jnp.isfinite(sol.ts), sol.ts, -jnp.inf))
