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
panels (hild.core.gaussian.gaussian_points), so no node straddles the jump; the other fields are Gaussian
given them. The same rule on fewer nodes estimates the error (`cubature_error`).
"""
from __future__ import annotations


import numpy as np

from hild.core import lazy
from hild.core.gaussian import gaussian_points, hermite_grid

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

POINTS = 2 ** 17
"""The cubature points per mixture component and step of the automatic path (`nodes_for`)."""
MAX_NODES = 40
"""The most nodes per axis the automatic choice takes: for smooth rules in one or two dimensions 40 nodes are
exact to rounding, and more only slow the ODEs down."""
MAX_POINTS = 2 ** 22
"""The most points a rule may ask for; more is refused with the estimate."""


def dimensions(K: int, F: int, splits, episode: int, n_aux: int) -> tuple[int, int]:
    """(split axes, smooth axes) of a rule's cubature: E s and E (K + F - s) + A."""
    s = len(splits)
    return episode * s, episode * (K + F - s) + n_aux


def points(nodes: int, split_axes: int, smooth_axes: int) -> int:
    """Cubature points with `nodes` per smooth axis and per panel of a split axis."""
    return (2 * nodes) ** split_axes * nodes ** smooth_axes


def nodes_for(split_axes: int, smooth_axes: int, budget: int = POINTS) -> int:
    """The most nodes per axis (at least 3, at most MAX_NODES) whose rule keeps within `budget` points."""
    n = 3
    while n < MAX_NODES and points(n + 1, split_axes, smooth_axes) <= budget:
        n += 1
    return n


def cubature(rule, mean, cov, c, theta, p, nodes: int):
    """The moments (module docstring) of `rule` in one component: fields of mean (n,), covariance (n, n).

    **Returns:** dict phi_y (K, n), phi (K,), phiphi (K, K), psi (P,).
    """
    K, E = rule.K, rule.episode
    y, w = gaussian_points(mean, cov, rule.splits, nodes)
    N, n = y.shape
    # the episode's inputs and the auxiliary normals as a tensor product: index (i_1, .., i_E, a)
    idx = np.stack(np.meshgrid(*[np.arange(N)] * E, indexing="ij"), -1).reshape(-1, E)
    Y, W = y[idx], jnp.prod(w[idx], axis=-1)                             # (N^E, E, n), (N^E,)
    if rule.n_aux:
        a, wa = (jnp.asarray(x) for x in hermite_grid(rule.n_aux, nodes))
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
