"""The Gaussian moments of a learning rule that close its order-parameter ODEs, by cubature.

In mixture component c the fields of one input, Y = (lam_1..lam_K, nu_1..nu_F), are Gaussian with
mean m and covariance Sigma (hild.families.online.drift). The ODEs need, summed over the E inputs
of a step (independent copies of Y) and with the auxiliary normals a,

    phi_y[k]     = sum_e E[phi_{e,k} (Y_e - m)]      (K, K + F)
    phi[k]       = sum_e E[phi_{e,k}]                (K,)
    phiphi[k, l] = sum_e E[phi_{e,k} phi_{e,l}]      (K, K)
    psi          = E[psi]                            (P,)

The rule's fields are laid out in principal axes: Y = m + L z for the smooth directions, with
Gauss-Hermite nodes per axis. A rule that jumps where a field crosses zero (a sign teacher, a
perceptron's step) declares that field in `splits`: the split fields come first, conditioned one
after another (Cholesky), and each is integrated on the two sides of its zero with Gauss-Legendre
panels, so the jump costs no accuracy; the other fields are Gaussian given them. The same rule on
fewer nodes estimates the error (`cubature_error`).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from hild.core import lazy
from hild.core.gaussian import hermite_rule

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

POINTS = 2 ** 16
"""The cubature points per mixture component and step of the automatic path (`nodes_for`)."""
MAX_POINTS = 2 ** 22
"""The most points a rule may ask for; more is refused with the estimate."""
EDGE = 9.0
"""Split fields are integrated over [-EDGE, EDGE] standard deviations (the tails beyond weigh < 3e-19)."""


def dimensions(K: int, F: int, splits, episode: int, n_aux: int) -> tuple[int, int]:
    """(split axes, smooth axes) of a rule's cubature: E s and E (K + F - s) + A."""
    s = len(splits)
    return episode * s, episode * (K + F - s) + n_aux


def points(nodes: int, split_axes: int, smooth_axes: int) -> int:
    """Cubature points with `nodes` per smooth axis and per panel of a split axis."""
    return (2 * nodes) ** split_axes * nodes ** smooth_axes


def nodes_for(split_axes: int, smooth_axes: int, budget: int = POINTS) -> int:
    """The most nodes per axis (at least 3) whose rule keeps within `budget` points."""
    n = 3
    while points(n + 1, split_axes, smooth_axes) <= budget:
        n += 1
    return n


@functools.cache
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


def _split_points(L, m, nodes: int):
    """Points z (N, s) of the split fields' standard coordinates and weights (N,): field j is
    m_j + sum_{i <= j} L_ji z_i, and axis j is cut where that crosses zero, each side a panel."""
    s = L.shape[0]
    x, w = (jnp.asarray(a) for a in _legendre(nodes))
    z = jnp.zeros((1, 0))
    weight = jnp.ones(1)
    for j in range(s):
        cut = -(m[j] + z @ L[j, :j]) / jnp.where(L[j, j] > 0, L[j, j], 1.0)
        cut = jnp.clip(jnp.where(L[j, j] > 0, cut, EDGE), -EDGE, EDGE)  # a degenerate field has no cut
        lo = jnp.stack([jnp.full_like(cut, -EDGE), cut], -1)            # (N, 2) panel starts
        hi = jnp.stack([cut, jnp.full_like(cut, EDGE)], -1)
        half = (hi - lo) / 2
        zj = (lo + half)[..., None] + half[..., None] * x                # (N, 2, nodes)
        wj = half[..., None] * w * jnp.exp(-zj ** 2 / 2) / math.sqrt(2 * math.pi)
        z = jnp.concatenate([jnp.repeat(z, 2 * nodes, axis=0), zj.reshape(-1, 1)], axis=1)
        weight = (weight[:, None] * wj.reshape(weight.size, -1)).reshape(-1)
    return z, weight


PRUNE = 1e-12
"""Tensor Gauss-Hermite points whose weight is below PRUNE x the largest are dropped: at 16 nodes in four
dimensions this keeps 31824 of 65536 points and changes the committee's moments by < 1e-14."""


@functools.cache
def _hermite_grid(axes: int, nodes: int):
    """Tensor-product Gauss-Hermite rule for N(0, I_axes), pruned (PRUNE): points (N, axes), weights (N,)."""
    x, w = hermite_rule(nodes)
    grid = np.stack(np.meshgrid(*[x] * axes, indexing="ij"), -1).reshape(-1, axes)
    weights = np.prod(np.stack(np.meshgrid(*[w] * axes, indexing="ij"), -1).reshape(-1, axes), -1)
    keep = weights >= PRUNE * weights.max() if axes else np.ones(1, bool)
    return grid[keep], weights[keep]


def input_points(mean, cov, splits: tuple[int, ...], nodes: int):
    """Cubature for the fields Y ~ N(mean, cov) of one input: points (N, n) and weights (N,)."""
    n = mean.shape[0]
    order = np.array(list(splits) + [i for i in range(n) if i not in splits])
    s = len(splits)
    m, C = mean[order], cov[np.ix_(order, order)]
    scale = jnp.maximum(jnp.max(jnp.abs(jnp.diagonal(C))), 1e-300)
    if s:
        Css = C[:s, :s] + 1e-13 * scale * jnp.eye(s)
        L = jnp.linalg.cholesky(Css)
        zs, ws = _split_points(L, m[:s], nodes)
        ys = m[:s] + zs @ L.T
        gain = jnp.linalg.solve(Css, C[:s, s:]).T                       # E[rest | split] = m_r + gain (y_s - m_s)
        rest = C[s:, s:] - gain @ C[:s, s:]
    else:
        ys, ws = jnp.zeros((1, 0)), jnp.ones(1)
        gain, rest = jnp.zeros((n, 0)), C
    e, U = jnp.linalg.eigh((rest + rest.T) / 2)
    root = U * jnp.sqrt(jnp.maximum(e, 0.0))
    zr, wr = (jnp.asarray(a) for a in _hermite_grid(n - s, nodes))
    yr = m[s:] + (ys - m[:s]) @ gain.T                                  # (Ns, n - s)
    y = jnp.concatenate([jnp.repeat(ys, zr.shape[0], 0),
                         (yr[:, None, :] + (zr @ root.T)[None]).reshape(-1, n - s)], axis=1)
    weights = (ws[:, None] * wr[None]).reshape(-1)
    return y[:, np.argsort(order)], weights


def cubature(rule, mean, cov, c, theta, p, nodes: int):
    """The moments (module docstring) of `rule` in one component: fields of mean (n,), covariance (n, n).

    **Returns:** dict phi_y (K, n), phi (K,), phiphi (K, K), psi (P,).
    """
    K, E = rule.K, rule.episode
    y, w = input_points(mean, cov, rule.splits, nodes)
    N, n = y.shape
    # the episode's inputs and the auxiliary normals as a tensor product: index (i_1, .., i_E, a)
    idx = np.stack(np.meshgrid(*[np.arange(N)] * E, indexing="ij"), -1).reshape(-1, E)
    Y, W = y[idx], jnp.prod(w[idx], axis=-1)                             # (N^E, E, n), (N^E,)
    if rule.n_aux:
        a, wa = (jnp.asarray(x) for x in _hermite_grid(rule.n_aux, nodes))
        Y = jnp.repeat(Y, a.shape[0], 0)
        A = jnp.tile(a, (idx.shape[0], 1))
        W = (W[:, None] * wa[None]).reshape(-1)
    else:
        A = jnp.zeros((Y.shape[0], 0))

    def at(Yp, ap):
        lam, nu = Yp[:, :K], Yp[:, K:]
        phi = rule.coefficient(lam, nu, c, ap, theta, p)
        psi = rule.readout(lam, nu, c, ap, theta, p) if rule.readout is not None else jnp.zeros(theta.shape)
        return phi, psi

    phi, psi = jax.vmap(at)(Y, A)                                          # (P, E, K), (P, P)
    centred = Y - mean
    return {"phi_y": jnp.einsum("p,pek,pen->kn", W, phi, centred),
            "phi": jnp.einsum("p,pek->k", W, phi),
            "phiphi": jnp.einsum("p,pek,pel->kl", W, phi, phi),
            "psi": jnp.einsum("p,pq->q", W, psi)}
