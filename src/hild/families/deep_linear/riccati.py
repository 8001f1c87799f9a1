"""The exact gradient-flow solution of a lambda-balanced two-layer linear network (matrix Riccati equation).

With Q = [W1^T; W2] ((d_in + d_out) x width), whitened inputs and unit layer rates, gradient flow
reads Q' = F Q - W-terms; when the network is lambda-balanced (W2^T W2 - W1 W1^T = lam I) the
W-terms close on Q and [derived here; the form of Fukumizu 1998, Braun et al. 2022, Domine et al.,
arXiv 2409.14623]

    Q' = F Q - 1/2 Q Q^T Q,     F = [[-lam/2 I, Sigma^T], [Sigma, lam/2 I]]

so P = Q Q^T = [[W1^T W1, (W2 W1)^T], [W2 W1, W2 W2^T]] obeys the Riccati equation
P' = F P + P F - P^2, whose solution from P(0) = Q0 Q0^T is

    P(t) = e^{F t} Q0 [I + 1/2 Q0^T F^{-1} (e^{2 F t} - I) Q0]^{-1} Q0^T e^{F t}

(differentiate: B = e^{Ft} Q0 has B' = F B and the bracket M has M' = B^T B, so (B M^-1 B^T)' =
F P + P F - P^2; F^{-1}(e^{2Ft} - I) is the entire function (e^{2ft} - 1)/f of F, defined at f = 0).
The formula holds for any lambda-balanced start, aligned with the task or not, and any lam.
It is evaluated as its own flow map composed over the output grid (Q_{k+1} = e^{F dt} Q_k L^{-T},
M = L L^T): exact, with exponentials of one grid step only, so modes of very different speeds keep
full float64 precision. Per-layer rates rho reduce to this case with V_i = sqrt(c / rho_i) W_i,
c = sqrt(rho_1 rho_2), time c t and lam_V = c lam (W2 W1 = V2 V1).
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")


def riccati_matrix(sigma, lam):
    """F = [[-lam/2 I, Sigma^T], [Sigma, lam/2 I]] for Sigma (d_out x d_in) (jnp, traceable in lam).

    **Arguments:** `sigma`: Sigma_yx (d_out, d_in); `lam`: the balance. **Returns:** F, a JAX array
    (d_in + d_out, d_in + d_out)."""
    dout, din = sigma.shape
    top = jnp.concatenate([-lam / 2 * jnp.eye(din), sigma.T], axis=1)
    bottom = jnp.concatenate([sigma, lam / 2 * jnp.eye(dout)], axis=1)
    return jnp.concatenate([top, bottom], axis=0)


def _flow(Q0, sigma, lam, dt, n_steps: int):
    """Q at times 0, dt, ..., n_steps dt of the unit-rate lambda-balanced flow (Q Q^T exact)."""
    f, E = jnp.linalg.eigh(riccati_matrix(sigma, lam))
    fs = jnp.where(jnp.abs(f) * dt < 1e-12, 1.0, f)
    g = jnp.where(jnp.abs(f) * dt < 1e-12, 2 * dt * (1 + f * dt), jnp.expm1(2 * f * dt) / fs)
    step_exp = (E * jnp.exp(f * dt)) @ E.T
    step_int = (E * g) @ E.T
    h = Q0.shape[1]

    def step(Q, _):
        M = jnp.eye(h) + 0.5 * Q.T @ step_int @ Q
        L = jnp.linalg.cholesky(M)
        Qn = jax.scipy.linalg.solve_triangular(L, (step_exp @ Q).T, lower=True).T
        return Qn, Qn

    _, Qs = jax.lax.scan(step, Q0, None, length=n_steps)
    return jnp.concatenate([Q0[None], Qs])


@lazy.jit(static_argnames=("n_steps",))
def flow(Q0, sigma, lam, dt, n_steps: int):
    """Q(t) of the unit-rate lambda-balanced flow on the grid 0, dt, ..., n_steps dt, exact (module docstring).

    **Arguments:** `Q0`: [V1^T; V2] at t = 0 ((d_in + d_out, width), lambda-balanced); `sigma`: Sigma_yx
    (d_out, d_in); `lam`: the balance; `dt` > 0: the grid step; `n_steps` (static): grid steps.

    **Returns:** Q, a JAX array (n_steps + 1, d_in + d_out, width) (`from_unit` gives the observables)."""
    return _flow(Q0, sigma, lam, dt, n_steps)


@lazy.jit(static_argnames=("n_steps",))
def flow_batch(Q0s, sigma, lams, dt, n_steps: int):
    """`flow` for many lambda-balanced starts in one vectorised call.

    **Arguments:** `Q0s`: (n, d_in + d_out, width); `sigma`: (d_out, d_in); `lams`: (n,); `dt`, `n_steps`: as in
    `flow`.

    **Returns:** Q, a JAX array (n, n_steps + 1, d_in + d_out, width)."""
    return jax.vmap(_flow, in_axes=(0, None, 0, None, None))(Q0s, sigma, lams, dt, n_steps)


def balance_of(W1, W2, lr_scales, rtol: float = 1e-6) -> float:
    """lam with W2^T W2 / rho_2 - W1 W1^T / rho_1 = lam I.

    **Arguments:** `W1` (width, d_in), `W2` (d_out, width); `lr_scales`: (rho_1, rho_2); `rtol` (default 1e-6):
    the tolerance, relative to the largest squared weight.

    **Returns:** lam, a float; ValueError when the weights are not lambda-balanced."""
    C = W2.T @ W2 / lr_scales[1] - W1 @ W1.T / lr_scales[0]
    lam = float(np.trace(C) / C.shape[0])
    scale = max(np.abs(W1).max() ** 2 / lr_scales[0], np.abs(W2).max() ** 2 / lr_scales[1], abs(lam), 1e-300)
    off = float(np.abs(C - lam * np.eye(C.shape[0])).max())
    if off > rtol * scale:
        raise ValueError("the exact theory needs a lambda-balanced start (W2^T W2/rho_2 - W1 W1^T/rho_1 = lam I); "
                         f"these weights deviate from lam I by {off:.3g} (relative {off / scale:.3g}). "
                         "Use init 'aligned' or 'lambda', or simulate.")
    return lam


def to_unit(W1, W2, lr_scales):
    """(Q0, c): the unit-rate variables Q0 = [V1^T; V2], V_i = sqrt(c / rho_i) W_i, c = sqrt(rho_1 rho_2).

    **Arguments:** `W1` (width, d_in), `W2` (d_out, width); `lr_scales`: (rho_1, rho_2).

    **Returns:** (Q0 (d_in + d_out, width), c a float)."""
    rho1, rho2 = lr_scales
    c = np.sqrt(rho1 * rho2)
    return np.concatenate([np.sqrt(c / rho1) * W1.T, np.sqrt(c / rho2) * W2], axis=0), c


def from_unit(Qs, d_in, lr_scales):
    """(function, W1TW1, W2W2T, imbalance) time series from the unit-rate Q's.

    **Arguments:** `Qs` (..., d_in + d_out, width): the flow (`flow`); `d_in`; `lr_scales`: (rho_1, rho_2).

    **Returns:** arrays (..., d_out, d_in), (..., d_in, d_in), (..., d_out, d_out), (..., width, width)."""
    rho1, rho2 = lr_scales
    c = np.sqrt(rho1 * rho2)
    P = np.einsum("...ak,...bk->...ab", Qs, Qs)
    J = np.concatenate([-np.ones(d_in), np.ones(Qs.shape[-2] - d_in)])
    imbalance = np.einsum("...ak,a,...al->...kl", Qs, J, Qs) / c
    return P[..., d_in:, :d_in], rho1 / c * P[..., :d_in, :d_in], rho2 / c * P[..., d_in:, d_in:], imbalance
