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
"""
from __future__ import annotations

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

    Broadcasts over leading axes: Q (..., K, K), R (..., K, M), T (..., M, M), v (..., K), v_teacher (..., M).
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
        i4 = act.I4(C, i[:, None, None, None], i[None, :, None, None], f[None, None, :, None], f[None, None, None, :])
        second = jnp.einsum("ikcd,c,d->ik", i4, w, w)
        J2 = act.J2(C, i[:, None], i[None, :])
        out = act.I2(C, i[:, None], f[None, :]) @ w
        return drive, second, J2, out
    z, weights = hermite_points(C, max(3, int(round(JOINT_POINTS ** (1 / n)))))
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


def _diverged(state, p):
    """A run has diverged once an order parameter is not finite or a squared norm Q_ii passes `blowup`."""
    finite = jnp.all(jnp.isfinite(state["Q"])) & jnp.all(jnp.isfinite(state["R"])) & jnp.all(jnp.isfinite(state["v"]))
    return ~finite | (jnp.max(jnp.diagonal(state["Q"])) > p["blowup"])


MAX_STEPS = 1_000_000
"""The solver's step budget per trajectory; a run that spends it is reported, not silently truncated."""


def integrate(act: Activation, y0, params, ts, rtol: float = 1e-8, atol: float = 1e-11, max_steps: int = MAX_STEPS):
    """Integrate the ODEs for a batch of scenarios (leading axis of y0 and params) on the grid ts.

    Returns (ys, diverged, t_end): ys on ts (NaN after a divergence), a divergence flag and the
    time integration stopped. Call inside `jax.enable_x64(True)`.
    """
    return _integrate_jit(act, y0, params, jnp.asarray(ts), rtol, atol, max_steps)


@lazy.jit(static_argnums=(0, 4, 5, 6))
def _integrate_jit(act, y0, params, ts, rtol, atol, max_steps):
    term = diffrax.ODETerm(lambda t, y, p: vector_field(act, y, p))
    event = diffrax.Event(lambda t, y, p, **kw: _diverged(y, p))

    def one(y, p):
        sol = diffrax.diffeqsolve(
            term, diffrax.Tsit5(), t0=ts[0], t1=ts[-1], dt0=None, y0=y, args=p,
            saveat=diffrax.SaveAt(ts=ts, t1=True),
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            event=event, max_steps=max_steps, throw=False,
        )
        diverged = sol.result == diffrax.RESULTS.event_occurred
        ok = (sol.result == diffrax.RESULTS.successful) | diverged
        # after an event, diffrax writes the final state into the next free slot: keep grid slots only
        on_grid = sol.ts[:-1] == ts
        ys = jax.tree.map(lambda a: jnp.where(on_grid.reshape((-1,) + (1,) * (a.ndim - 1)) & jnp.isfinite(a[:-1]),
                                              a[:-1], jnp.nan), sol.ys)
        return ys, diverged, ok, jnp.max(jnp.where(jnp.isfinite(sol.ts), sol.ts, -jnp.inf))

    return jax.vmap(one)(y0, params)
