"""The limiting dynamics of minibatch SGD on least squares (Kunin et al., arXiv 2107.09133): the exact stationary
covariance of the iterates around the minimum, with the iterate-dependent minibatch noise, heavy-ball momentum and
weight decay, and the stationary mean squared displacement; derived here (models.md section 16).

Loss L(w) = (1/2n) sum_i (y_i - w.x_i)^2 + (wd / 2)|w|^2, minimum w*, Hessian K = H + wd I, H = X^T X / n. A
minibatch of B indices drawn uniformly with replacement gives g = K delta + noise (delta = w - w*), whose
covariance given w is (1/B) E_i[(A_i delta + e_i)(A_i delta + e_i)^T], A_i = x_i x_i^T - H,
e_i = x_i (x_i.w* - y_i) + wd w*. At stationarity E delta = 0, so the noise covariance averaged over the iterate is

    Sigma(S) = Sigma0 + (1/B)(M4(S) - H S H),   Sigma0 = Cov_i(e_i) / B,   M4(S) = (1/n) sum_i (x_i.S x_i) x_i x_i^T.

Heavy ball v <- beta v + g, w <- w - lr v is z <- A z + b noise with z = (delta, v), A = [[I - lr K, -lr beta I],
[K, beta I]], b = (-lr I, I); its stationary second moment solves C = A C A^T + b Sigma(S) b^T, S = C_dd, exactly.
In the eigenbasis of H every pair of modes (a, b) is a 4 x 4 Lyapunov block, the H S H term is diagonal in pairs,
and M4 has rank <= n: S is solved exactly by one n x n linear system in s_i = x_i.S x_i (`stationary`).
Freezing the noise at Sigma0 (the usual linearisation) is not exact; the small-lr continuous-time limit solves
K S + S K = lr Sigma0 / (1 - beta) (effective rate lr / (1 - beta)). The stationary displacement is
E|w(t + l) - w(t)|^2 = 2 tr S - 2 tr (A^l C)_dd: it saturates at 2 tr S.
"""
from __future__ import annotations

import numpy as np

__all__ = ["minimum", "pair_responses", "stationary", "transition"]


def minimum(X, y, weight_decay):
    """The regularised least-squares minimum w* = K^{-1} X^T y / n, with H = X^T X / n and K = H + wd I.

    **Arguments:** `X` (n, d); `y` (n,); `weight_decay` (>= 0).

    **Returns:** (w*, H, K): arrays (d,), (d, d), (d, d)."""
    n, d = X.shape
    H = X.T @ X / n
    K = H + weight_decay * np.eye(d)
    return np.linalg.solve(K, X.T @ y / n), H, K


def transition(k, lr, momentum):
    """The heavy-ball transition of each mode of curvature k: the matrices [[1 - lr k, -lr beta], [k, beta]]
    acting on (delta, v) (v <- beta v + k delta, delta <- delta - lr v).

    **Arguments:** `k`: the curvatures (any shape); `lr` (> 0); `momentum` beta in [0, 1).

    **Returns:** an array of shape k.shape + (2, 2)."""
    k = np.asarray(k, float)
    A = np.empty(k.shape + (2, 2))
    A[..., 0, 0], A[..., 0, 1] = 1 - lr * k, -lr * momentum
    A[..., 1, 0], A[..., 1, 1] = k, momentum
    return A


def pair_responses(k, lr, momentum):
    """The stationary 2 x 2 block C_ab = A_a C_ab A_b^T + b b^T of every pair of modes (a, b) under a unit noise
    source (b = (-lr, 1)): (modes, modes, 2, 2), from one batched 4 x 4 solve (row-major vec: vec(A C B^T) =
    (A kron B) vec C).

    **Arguments:** `k`: the d curvatures; `lr`; `momentum` (as in `transition`).

    **Returns:** an array (d, d, 2, 2): C_ab for every pair of modes."""
    A = transition(k, lr, momentum)
    d = A.shape[0]
    kron = np.einsum("aij,bkl->abikjl", A, A).reshape(d, d, 4, 4)
    source = np.array([lr * lr, -lr, -lr, 1.0])
    system = np.eye(4) - kron
    return np.linalg.solve(system, np.broadcast_to(source, (d, d, 4))[..., None])[..., 0].reshape(d, d, 2, 2)


def _fourth_moment_system(Xt, G, batch, block_bytes=2 ** 25):
    """The n x n matrix M_ji = sum_ab G_ab (x_j x_i)_a (x_j x_i)_b / (B n) (eigenbasis rows Xt), in row blocks."""
    n, d = Xt.shape
    M = np.empty((n, n))
    rows = max(1, int(block_bytes // (8 * n * d)))
    for start in range(0, n, rows):
        P = Xt[start:start + rows, None, :] * Xt[None, :, :]
        M[start:start + rows] = np.einsum("jia,jia->ji", P @ G, P)
    return M / (batch * n)


def stationary(X, y, lr: float, batch: int, momentum: float = 0.0, weight_decay: float = 0.0, lags=()):
    """The exact stationary statistics of minibatch heavy-ball SGD on least squares (module docstring).

    **Arguments:** `X` (n, d), `y` (n,): the training set; `lr`, `batch`, `momentum`, `weight_decay` as in the
    loss and updates above; `lags`: the lags (steps) of the displacement.

    **Returns:** a dict of float64 arrays: `w_star` (d,); `S`, `S_frozen` (noise frozen at Sigma0),
    `S_continuous` (the small-lr limit) (d, d); `msd`, `msd_frozen`, `msd_continuous` over `lags`;
    `radius` (the largest |eigenvalue| of the mean dynamics), `feedback` (the spectral radius of the n x n
    fourth-moment system: a stationary second moment exists only below 1), `stable` (bool: both below 1 and S
    positive semi-definite).
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    n, d = X.shape
    w_star, H, K = minimum(X, y, weight_decay)
    h, U = np.linalg.eigh(H)
    k = h + weight_decay
    E = X * (X @ w_star - y)[:, None] + weight_decay * w_star
    Sigma0 = U.T @ (E.T @ E / n) @ U / batch
    Xt = X @ U
    A = transition(k, lr, momentum)
    radius = float(np.max(np.abs(np.linalg.eigvals(A))))
    unit = pair_responses(k, lr, momentum)
    r = unit[..., 0, 0]
    G = r / (1 + r * np.outer(h, h) / batch)
    M = _fourth_moment_system(Xt, G, batch)
    s = np.linalg.solve(np.eye(n) - M, np.einsum("ja,ab,jb->j", Xt, G * Sigma0, Xt))
    feedback = float(np.max(np.abs(np.linalg.eigvals(M))))
    noise = Sigma0 + (Xt.T * s) @ Xt / (batch * n)
    St = G * noise
    source = noise - np.outer(h, h) * St / batch
    lags = np.asarray(lags, int)
    powers = np.stack([np.linalg.matrix_power(A, int(lag)) for lag in lags]) if lags.size else np.zeros((0, d, 2, 2))

    def displacement(diagonal_source, trace):
        C = diagonal_source[:, None, None] * unit[np.arange(d), np.arange(d)]
        return 2 * trace - 2 * np.einsum("lai,ai->l", powers[..., 0, :], C[..., :, 0])

    frozen = r * Sigma0
    continuous = lr * Sigma0 / ((1 - momentum) * (k[:, None] + k[None, :]))
    rotate = lambda M_: U @ M_ @ U.T  # noqa: E731
    rate = lr * k / (1 - momentum)
    out = {"w_star": w_star, "S": rotate(St), "S_frozen": rotate(frozen), "S_continuous": rotate(continuous),
           "msd": displacement(np.diag(source), np.trace(St)),
           "msd_frozen": displacement(np.diag(Sigma0), np.trace(frozen)),
           "msd_continuous": 2 * np.sum(np.diag(continuous) * (1 - np.exp(-np.outer(lags, rate))), axis=1),
           "radius": radius, "feedback": feedback}
    out["stable"] = bool(radius < 1 and feedback < 1 and np.linalg.eigvalsh(out["S"]).min() >= -1e-12 * np.trace(St))
    return out
