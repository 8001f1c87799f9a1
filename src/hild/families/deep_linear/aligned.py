"""The exact gradient flow from a start aligned with the task, one imbalance per mode.

With Sigma_yx = U diag(s) V^T, an aligned start is W1 = sum_a a_a o_a V_a^T, W2 = sum_a b_a U_a o_a^T
with orthonormal hidden directions o_a (Saxe et al., arXiv 1312.6120). Gradient flow keeps every o_a
fixed, and mode a (a < r = min(d_in, d_out)) evolves alone with its own conserved imbalance
lam_a = b_a^2 / rho_2 - a_a^2 / rho_1, so that in the unit-rate variables of hild.deep_linear.riccati
(a~ = sqrt(c / rho_1) a, b~ = sqrt(c / rho_2) b, c = sqrt(rho_1 rho_2), time c t)

    u_a(t) = mode_trajectory(c t, s_a, a_a b_a, c lam_a)          (hild.deep_linear.modes)

and (a~, b~) = mode_weights(u_a, c lam_a). Directions beyond r (a_a for r <= a < d_in, b_a for
r <= a < d_out) meet no task and stay put. The imbalance C = W2^T W2 / rho_2 - W1 W1^T / rho_1 =
sum_a lam_a o_a o_a^T is conserved. For lam_a = lam for all a this is the lambda-balanced solution
restricted to aligned starts [derived here; checked against the Riccati flow map in the tests].
"""
from __future__ import annotations

import numpy as np

from hild.families.deep_linear.modes import mode_trajectory


def aligned_strengths(W1, W2, U, V, rtol: float = 1e-6):
    """(a, b): the strengths of an aligned start along the task's directions V_a (a: d_in values) and
    U_a (b: d_out values, signed so that u_a = a_a b_a), or None when (W1, W2) is not aligned.

    **Arguments:** `W1` (width, d_in), `W2` (d_out, width): the weights; `U` (d_out, d_out), `V` (d_in, d_in): the
    task's singular vectors; `rtol` (default 1e-6): the tolerance, relative to the largest strength.

    **Returns:** (a (d_in,), b (d_out,)), float64, or None."""
    A, B = W1 @ V, W2.T @ U  # column a: a_a o_a and b_a o_a
    h, din, dout = W1.shape[0], A.shape[1], B.shape[1]
    n = max(din, dout)
    cols_a = np.zeros((h, n))
    cols_b = np.zeros((h, n))
    cols_a[:, :din], cols_b[:, :dout] = A, B
    a, b = np.linalg.norm(cols_a, axis=0), np.linalg.norm(cols_b, axis=0)
    scale = max(np.abs(A).max(initial=0.0), np.abs(B).max(initial=0.0), 1e-300)
    tiny = rtol * scale
    o = np.where(a > tiny, cols_a / np.where(a > tiny, a, 1.0), cols_b / np.where(b > tiny, b, 1.0))
    live = (a > tiny) | (b > tiny)
    o[:, ~live] = 0.0
    b = np.where(np.einsum("ha,ha->a", o, cols_b) < 0, -b, b)
    gram = o.T @ o
    if (np.abs(cols_a - o * a).max() > tiny or np.abs(cols_b - o * b).max() > tiny
            or np.abs(gram - np.diag(live.astype(float))).max() > rtol):
        return None
    return a[:din], b[:dout]


def aligned_flow(a, b, s, ts, lr_scales, U, V):
    """(function, W1TW1, W2W2T) on times ts of the flow from the aligned strengths (a, b) (module docstring).

    **Arguments:** `a` (d_in,), `b` (d_out,): the strengths (`aligned_strengths`); `s`: the singular values
    (min(d_in, d_out),); `ts`: the times; `lr_scales`: (rho_1, rho_2); `U`, `V`: the task's singular vectors.

    **Returns:** float64 arrays (t, d_out, d_in), (t, d_in, d_in), (t, d_out, d_out)."""
    rho1, rho2 = lr_scales
    c = np.sqrt(rho1 * rho2)
    din, dout = a.size, b.size
    r = s.size
    at, bt = np.sqrt(c / rho1) * a[:r], np.sqrt(c / rho2) * b[:r]
    lam = bt ** 2 - at ** 2
    u = mode_trajectory(c * np.asarray(ts)[:, None], s[None, :], (at * bt)[None, :], lam[None, :])
    root = np.sqrt(lam ** 2 + 4 * u ** 2)
    at_t, bt_t = np.sqrt(np.clip((root - lam) / 2, 0, None)), np.sqrt(np.clip((root + lam) / 2, 0, None))
    a2 = np.concatenate([np.broadcast_to(rho1 / c * at_t ** 2, u.shape),
                         np.broadcast_to(a[r:] ** 2, (len(ts), din - r))], axis=1)
    b2 = np.concatenate([np.broadcast_to(rho2 / c * bt_t ** 2, u.shape),
                         np.broadcast_to(b[r:] ** 2, (len(ts), dout - r))], axis=1)
    function = np.einsum("oa,ta,ia->toi", U[:, :r], u, V[:, :r])
    return function, np.einsum("ia,ta,ja->tij", V, a2, V), np.einsum("oa,ta,pa->top", U, b2, U)
