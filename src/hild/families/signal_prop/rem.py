"""Softmax attention at initialisation as a Random Energy Model (Giorlandino & Goldt, arXiv 2505.24333).

For one query, the scores s_j = q.k_j / sqrt(d_H) over the T keys are Gaussian; their token-dependent
part has variance sigma^2 = beta^2 (1 - c) ln T when the query/key weights have variance
beta sqrt(ln T) / d and the tokens have cosine c (the part shared by all keys cancels in the softmax).
The attention row A_j = exp(s_j) / sum_k exp(s_k) is then the Gibbs measure of a REM with T = e^{ln T}
configurations, which freezes at beta_c(c) = sqrt(2 / (1 - c)):

    beta < beta_c:  entropy H = ln T (1 - beta^2 (1 - c) / 2) + o(ln T),  IPR = sum_j A_j^2 -> 0
    beta > beta_c:  the weights converge to a Poisson-Dirichlet law PD(m), m = beta_c / beta, so
                    sum_j A_j^2 -> 1 - m and H -> psi(1) - psi(1 - m) = O(1)  (entropy collapse).

IPR = sum_j A_j^2 is the inverse participation ratio of the row (Derrida's Y_2, called the participation
ratio in the REM literature): 1 / IPR is the effective number of attended tokens (T when uniform, 1 when
frozen on one token).

(The PD(m) averages follow from E sum_j f(A_j) = E f(X)/X, X ~ Beta(1 - m, m).) Both limits are reached
only slowly, in ln T; `finite_rem` gives the same statistics at finite T for i.i.d. Gaussian scores
(Monte Carlo over a fixed table of standard normals, common random numbers across sigma).
"""
from __future__ import annotations

import functools

import numpy as np

from hild.core import lazy

scipy_special = lazy.module("scipy.special")

EULER_PSI1 = -np.euler_gamma
"""psi(1) = -(the Euler-Mascheroni constant)."""


def beta_c(c):
    """The REM freezing point beta_c = sqrt(2 / (1 - c)) for tokens of cosine c (arXiv 2505.24333).

    **Arguments:** `c`: cosines (<= 1; an array).

    **Returns:** beta_c, a float64 array of the shape of `c` (inf at c = 1)."""
    c = np.asarray(c, dtype=float)
    with np.errstate(divide="ignore"):
        return np.sqrt(2.0 / np.maximum(1.0 - c, 0.0))


def inverse_participation_ratio(beta, c):
    """IPR = sum_j A_j^2 as T -> infinity: 1 - beta_c / beta above the freezing point, 0 below.

    **Arguments:** `beta` (>= 0), `c` (<= 1): arrays that broadcast.

    **Returns:** IPR in [0, 1), a float64 array of the broadcast shape."""
    m = beta_c(c) / np.maximum(np.asarray(beta, dtype=float), 1e-300)
    return np.where(m < 1.0, 1.0 - np.minimum(m, 1.0), 0.0)


participation_ratio = inverse_participation_ratio  # the earlier name (Derrida's "participation ratio" Y_2)


def entropy(beta, c, T):
    """The attention entropy per row in nats: ln T (1 - beta^2 (1 - c) / 2) below the freezing point,
    psi(1) - psi(1 - beta_c / beta) above it (its T -> infinity limits).

    **Arguments:** `beta` (>= 0), `c` (<= 1): arrays that broadcast; `T` (>= 2): tokens.

    **Returns:** the entropy in nats, a float64 array of the broadcast shape."""
    beta, c = np.asarray(beta, dtype=float), np.asarray(c, dtype=float)
    m = beta_c(c) / np.maximum(beta, 1e-300)
    low = np.log(T) * (1.0 - beta ** 2 * (1.0 - c) / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        high = EULER_PSI1 - scipy_special.digamma(1.0 - np.minimum(m, 1.0 - 1e-12))
    return np.where(m < 1.0, high, low)


@functools.lru_cache(maxsize=8)
def _table(T: int, rows: int, seed: int, points: int = 161, top: float = 16.0, corrs: int = 21):
    """Row entropy, inverse participation ratio and the overlap of two rows whose scores have correlation c, for
    softmax(sigma g) with g ~ N(0, I_T), on a grid of sigma x c (a fixed table of standard normals)."""
    rng = np.random.default_rng(seed)
    g, h = rng.standard_normal((rows, T)), rng.standard_normal((rows, T))
    sigma, c = np.linspace(0.0, top, points), np.linspace(0.0, 1.0, corrs)
    H, pr, X = np.empty(points), np.empty(points), np.empty((points, corrs))

    def softmax(z):
        w = np.exp(z - z.max(axis=-1, keepdims=True))
        return w / w.sum(axis=-1, keepdims=True)

    for k, s in enumerate(sigma):  # a fixed table built once per (T, rows, seed)
        w = softmax(s * g)
        H[k] = float(-(w * np.log(np.where(w > 0, w, 1.0))).sum(axis=1).mean())
        pr[k] = float((w ** 2).sum(axis=1).mean())
        w2 = softmax(s * (c[:, None, None] * g + np.sqrt(1 - c[:, None, None] ** 2) * h))
        X[k] = (w[None] * w2).sum(axis=-1).mean(axis=-1)
    return sigma, c, H, pr, X


def finite_rem(beta, c, T: int, rows: int = 256, seed: int = 0):
    """(entropy in nats, inverse participation ratio, row overlap X) of a finite-T REM: T i.i.d. Gaussian scores of
    variance beta^2 (1 - c) ln T per row, two rows' scores correlated by c (the tokens' cosine, as for
    queries of cosine c), averaged over `rows` draws (seed `seed`), interpolated in (sigma, c).

    **Arguments:** `beta` (>= 0), `c` (clipped to [0, 1]): arrays that broadcast; `T`: tokens (>= 2); `rows`
    (default 256); `seed` (default 0). ValueError where beta^2 (1 - c) ln T > 256 (the table's edge).

    **Returns:** (entropy, IPR, X), three float64 arrays of the broadcast shape."""
    from scipy.interpolate import RegularGridInterpolator

    beta, c = np.broadcast_arrays(np.asarray(beta, dtype=float), np.clip(np.asarray(c, dtype=float), 0.0, 1.0))
    sigma = beta * np.sqrt((1.0 - c) * np.log(T))
    grid, corr, H, pr, X = _table(int(T), int(rows), int(seed))
    if np.any(sigma > grid[-1]):
        raise ValueError(f"beta^2 (1 - c) ln T must be <= {grid[-1] ** 2:g} for the finite-T REM table; "
                         f"got {float(np.max(sigma)) ** 2:.4g}")
    x = RegularGridInterpolator((grid, corr), X)(np.stack([sigma.ravel(), c.ravel()], axis=-1)).reshape(sigma.shape)
    return np.interp(sigma, grid, H), np.interp(sigma, grid, pr), x
