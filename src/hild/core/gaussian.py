"""Gaussian expectations of activations of correlated local fields.

The ODEs of online SGD in soft committee machines (Saad & Solla 1995; Goldt et al. 2019,
arXiv 1906.08632) close on four averages over jointly Gaussian fields z ~ N(0, C):

    I2(a, b)       = E[g(z_a) g(z_b)]
    J2(a, b)       = E[g'(z_a) g'(z_b)]
    I3(a, b, c)    = E[g'(z_a) z_b g(z_c)]
    I4(a, b, c, d) = E[g'(z_a) g'(z_b) g(z_c) g(z_d)]

``C`` is a full (n, n) covariance, positive semi-definite: indices may repeat, fields may
coincide, and a field with C_aa = 0 is identically zero (padded units). ``a, b, c, d`` are
static integer index arrays that broadcast against each other; results have their broadcast
shape. Every method is pure JAX and works under ``jax.jit`` and ``jax.vmap`` over ``C``.

erf and linear use closed forms (arXiv 1906.08632, appendix; Saad & Solla 1995). ReLU uses
closed forms for I2, J2, I3 and a one-dimensional Price-theorem integral with a closed-form
integrand for I4 (see ``_relu_i4``), with g'(0) = H(0) = 1/2. Any other elementwise JAX
function is integrated by tensor-product Gauss-Hermite cubature (``CUBATURE_NODES``).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, ClassVar, Mapping

import numpy as np

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

__all__ = ["ACTIVATIONS", "Activation", "activation", "expect", "gauss_hermite", "gaussian_points", "hermite_grid",
           "hermite_points", "hermite_rule", "normal_panels", "sign_disagreement"]

ACTIVATIONS: tuple[str, ...] = ("erf", "relu", "linear")

#: Gauss-Hermite nodes per dimension of the generic activation's cubature, by dimension
#: (I2 and J2: 2, I3: 3, I4: 4; the cost of I4 is 24^4 points per index tuple). With
#: erf(x / sqrt 2) passed as a plain function and field variances in [0.3, 1.2] these
#: reproduce the erf closed forms to 1e-10 (I2), 2e-9 (J2), 2e-8 (I3) and, for I4, 2e-8 with
#: distinct fields and 1e-5 with repeated ones (narrower integrands such as g'(z)^2 g(z)^2).
CUBATURE_NODES: Mapping[int, int] = MappingProxyType({2: 32, 3: 28, 4: 24})

#: Gauss-Legendre nodes of the ReLU I4 integral. For unit variances, against a 400-node
#: rule: relative error <= 4e-9 where |I4| > 1e-4 and absolute error <= 1e-10 (the rounding
#: floor of exactly coinciding fields), including fields that coincide, are opposite, or
#: nearly so (correlations +-(1 - 1e-2) ... +-(1 - 1e-12)).
RELU_I4_NODES = 20

_TWO_PI = 2.0 * math.pi


# --------------------------------------------------------------------------- cubature
@functools.cache
def hermite_rule(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights for E over N(0, 1).

    **Arguments:** `n_nodes`: the number of nodes (>= 1).

    **Returns:** (nodes, weights), two float64 arrays (n_nodes,), the weights summing to 1."""
    x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    return x, w / math.sqrt(2.0 * math.pi)


def hermite_points(C, n_nodes: int) -> tuple[jax.Array, np.ndarray]:
    """Tensor-product Gauss-Hermite rule for z ~ N(0, C): points (..., n_nodes**n, n) and weights.

    ``C`` has shape (..., n, n) and may be singular: z = U sqrt(max(lambda, 0)) x with
    C = U diag(lambda) U^T (eigh), x on ``n_nodes`` standard-normal nodes per dimension, so
    that sum_p weights[p] f(z[..., p, :]) approximates E[f(z)].

    **Arguments:** `C`: covariances (..., n, n), positive semi-definite; `n_nodes`: nodes per dimension.

    **Returns:** (points (..., N, n), a JAX array; weights (N,), NumPy, summing to 1), N = n_nodes**n.
    """
    C = jnp.asarray(C)
    C = C.astype(jnp.result_type(C.dtype, float))
    grid, weights = hermite_grid(C.shape[-1], n_nodes, prune=0.0)
    lam, U = jnp.linalg.eigh(C)
    L = U * jnp.sqrt(jnp.maximum(lam, 0.0))[..., None, :]
    return jnp.asarray(grid, C.dtype) @ jnp.swapaxes(L, -1, -2), weights


def gauss_hermite(f: Callable, C, n_nodes: int) -> jax.Array:
    """E[f(z)] for z ~ N(0, C) by tensor-product Gauss-Hermite cubature (see ``hermite_points``).

    **Arguments:** `f`: maps points of shape (..., n) to values of shape (...); `C`: covariances (..., n, n),
    positive semi-definite; `n_nodes`: nodes per dimension.

    **Returns:** a JAX array of C's leading shape (...).
    """
    z, weights = hermite_points(C, n_nodes)
    return jnp.sum(f(z) * weights, axis=-1)


def sign_disagreement(R, Q, T=1.0, xp=None):
    """P(sign lam != sign nu) = arccos(R / sqrt(Q T)) / pi for centred Gaussian fields of variances Q, T and
    covariance R (Sheppard 1899): the test error of a sign student against a sign teacher; 1/2 where Q = 0.

    **Arguments:** `R`: the covariance; `Q`, `T` (default 1): the variances (>= 0); arrays that broadcast;
    `xp`: jax.numpy (default) or numpy.

    **Returns:** the probability in [0, 1], an array of the broadcast shape (of `xp`'s kind)."""
    xp = jnp if xp is None else xp
    V = Q * T
    cosine = xp.where(V > 0, R / xp.sqrt(xp.maximum(V, 1e-300)), 0.0)
    return xp.arccos(xp.clip(cosine, -1.0, 1.0)) / np.pi


# --------------------------------------------------------------------------- fields with jumps
EDGE = 9.0
"""Split fields are integrated over [-EDGE, EDGE] standard deviations (the tails beyond weigh < 3e-19)."""


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


def normal_panels(std, cuts, nodes: int):
    """A rule for E[f(omega)], omega ~ N(0, std^2), exact on each side of the points `cuts` where f has a kink or
    a jump: [-EDGE std, EDGE std] cut at each of `cuts` (sorted, clipped into it), each panel by `nodes`
    Gauss-Legendre nodes, so that no node straddles a cut (a Gauss-Hermite rule converges only algebraically
    across one). Pure JAX (std and cuts may be traced).

    **Arguments:** `std` (> 0); `cuts` (k,): the cut points; `nodes`: nodes per panel.

    **Returns:** points and weights, each ((k + 1) nodes,); the weights sum to 1 up to the tails beyond EDGE."""
    x, w = (jnp.asarray(a) for a in _legendre(nodes))
    edge = EDGE * jnp.asarray(std)
    inner = jnp.sort(jnp.clip(jnp.asarray(cuts, edge.dtype), -edge, edge))
    edges = jnp.concatenate([-edge[None], inner, edge[None]])
    lo, half = edges[:-1], (edges[1:] - edges[:-1]) / 2
    points = (lo + half)[:, None] + half[:, None] * x
    weights = half[:, None] * w * jnp.exp(-points ** 2 / (2 * std ** 2)) / (math.sqrt(2 * math.pi) * std)
    return points.reshape(-1), weights.reshape(-1)


PRUNE = 1e-10
"""Tensor Gauss-Hermite points whose weight is below PRUNE x the largest are dropped: in four dimensions this
keeps 23360 of 65536 points at 16 nodes and 38032 of 160000 at 20, and changes the committee's moments
(erf, K = M = 2) by 3e-10 and 2e-10, below the rules' own errors (7e-8 and 1e-9)."""


@functools.cache
def hermite_grid(axes: int, nodes: int, prune: float = PRUNE) -> tuple[np.ndarray, np.ndarray]:
    """Tensor-product Gauss-Hermite rule for N(0, I_axes) without the points whose weight is below prune x the
    largest (PRUNE), the rest renormalised to sum to 1.

    **Arguments:** `axes`: the dimension (>= 0); `nodes`: nodes per axis; `prune` (default PRUNE): the relative
    weight below which points are dropped.

    **Returns:** points (N, axes) and weights (N,), NumPy float64."""
    if axes == 0:
        return np.zeros((1, 0)), np.ones(1)
    x, w = hermite_rule(nodes)
    grid = np.stack(np.meshgrid(*[x] * axes, indexing="ij"), -1).reshape(-1, axes)
    weights = np.prod(np.stack(np.meshgrid(*[w] * axes, indexing="ij"), -1).reshape(-1, axes), -1)
    keep = weights >= prune * weights.max()
    return grid[keep], weights[keep] / weights[keep].sum()


def gaussian_points(mean, cov, splits: tuple[int, ...], nodes: int):
    """A cubature rule for Y ~ N(mean, cov) (n,), exact on each side of zero of the fields `splits`.

    The split fields come first, conditioned one after another (Cholesky), each integrated over
    [-EDGE, EDGE] standard deviations with two Gauss-Legendre panels of `nodes` nodes that meet where
    the field crosses zero, so that no node straddles a jump there (each panel is long, so a split axis needs
    more nodes than a smooth one: about 16 per panel for 1e-6 on polynomial integrands); the other fields are
    Gaussian given them, on `nodes` pruned Gauss-Hermite nodes per principal axis (`hermite_grid`).
    Pure JAX (mean and cov may be traced). **Returns:** points (N, n) and weights (N,) summing to 1.
    """
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
    if s == n:
        return ys[:, np.argsort(order)], ws
    e, U = jnp.linalg.eigh((rest + rest.T) / 2)
    root = U * jnp.sqrt(jnp.maximum(e, 0.0))
    zr, wr = (jnp.asarray(a) for a in hermite_grid(n - s, nodes))
    yr = m[s:] + (ys - m[:s]) @ gain.T                                  # (Ns, n - s)
    y = jnp.concatenate([jnp.repeat(ys, zr.shape[0], 0),
                         (yr[:, None, :] + (zr @ root.T)[None]).reshape(-1, n - s)], axis=1)
    weights = (ws[:, None] * wr[None]).reshape(-1)
    return y[:, np.argsort(order)], weights





def expect(f: Callable, mean, cov, splits: tuple[int, ...] = (), nodes: int = 24):
    """E[f(Y)] for Y ~ N(mean, cov) by `gaussian_points`.

    **Arguments:** `f`: maps one point (n,) to a scalar or an array (vmapped over points); `mean` (n,), `cov`
    (n, n): the Gaussian; `splits`: the fields at whose zero f jumps; `nodes` (default 24): nodes per axis.

    **Returns:** a JAX array of the shape of f's value."""
    y, w = gaussian_points(mean, cov, splits, nodes)
    return jnp.tensordot(w, jax.vmap(f)(y), axes=1)


def _subcovariance(C, *idx) -> jax.Array:
    """Covariance of the fields (z_idx[0], z_idx[1], ...): shape (broadcast shape, k, k)."""
    stacked = np.stack(np.broadcast_arrays(*map(np.asarray, idx)), axis=-1)
    return C[stacked[..., :, None], stacked[..., None, :]]


def _shape(*idx) -> tuple[int, ...]:
    return np.broadcast_shapes(*(np.shape(i) for i in idx))


def _unordered_pairs(n: int, w):
    """The pairs c <= d of n fields and their weights w_c w_d (x 2 off the diagonal), so that a sum over all
    ordered pairs of a term symmetric in (c, d) is the weighted sum over these."""
    c, d = np.triu_indices(n)
    return c, d, w[c] * w[d] * np.where(c == d, 1.0, 2.0)


# --------------------------------------------------------------------------- activations
@dataclass(frozen=True)
class Activation:
    """An activation g with the Gaussian averages I2, J2, I3, I4 of the committee ODEs.

    The base class integrates any elementwise JAX function ``fn`` by Gauss-Hermite
    cubature (``CUBATURE_NODES``), with g' = ``jax.grad(fn)`` applied elementwise.

    **Arguments:** `name`: its name (in parameters and figures); `fn`: an elementwise JAX function.

    **Returns:** `I2(C, a, b)`, `J2`, `I3`, `I4` give JAX arrays of the broadcast shape of the index arrays.
    """

    name: str
    fn: Callable
    closed_form: ClassVar[bool] = False
    """True where I2, J2, I3, I4 are closed forms (or exact 1-D integrals), not cubature."""

    def g(self, x):
        return self.fn(x)

    def dg(self, x):
        return jnp.vectorize(jax.grad(self.fn))(x)

    def _cubature(self, f, C, *idx):
        return gauss_hermite(f, _subcovariance(C, *idx), CUBATURE_NODES[len(idx)])

    def I2(self, C, a, b):
        """E[g(z_a) g(z_b)]."""
        return self._cubature(lambda z: self.g(z[..., 0]) * self.g(z[..., 1]), C, a, b)

    def J2(self, C, a, b):
        """E[g'(z_a) g'(z_b)]."""
        return self._cubature(lambda z: self.dg(z[..., 0]) * self.dg(z[..., 1]), C, a, b)

    def I3(self, C, a, b, c):
        """E[g'(z_a) z_b g(z_c)]."""
        return self._cubature(lambda z: self.dg(z[..., 0]) * z[..., 1] * self.g(z[..., 2]),
                              C, a, b, c)

    def I4(self, C, a, b, c, d):
        """E[g'(z_a) g'(z_b) g(z_c) g(z_d)]."""
        return self._cubature(
            lambda z: self.dg(z[..., 0]) * self.dg(z[..., 1]) * self.g(z[..., 2]) * self.g(z[..., 3]),
            C, a, b, c, d)

    def I4_contracted(self, C, a, b, w):
        """sum_{c,d} w_c w_d I4(a, b, c, d) over all n fields of C, for index arrays a, b of one shape.

        I4 is symmetric in (c, d): each unordered pair is evaluated once, with weight 2 off the
        diagonal. a, b may be traced (for jax.lax.map over blocks of pairs); w has shape (n,).
        Returns an array of the shape of a.
        """
        c, d, weight = _unordered_pairs(C.shape[-1], w)
        return jnp.sum(self.I4(C, a[..., None], b[..., None], c, d) * weight, axis=-1)


def _erf_fn(x):
    return jax.scipy.special.erf(x / math.sqrt(2.0))


@dataclass(frozen=True)
class _Erf(Activation):
    """g(x) = erf(x / sqrt 2): closed forms of Saad & Solla 1995 (arXiv 1906.08632, app. B)."""

    closed_form: ClassVar[bool] = True

    def dg(self, x):
        return math.sqrt(2.0 / math.pi) * jnp.exp(-0.5 * jnp.square(x))

    def I2(self, C, a, b):
        """(2/pi) arcsin(C_ab / sqrt((1 + C_aa)(1 + C_bb)))."""
        arg = C[a, b] / jnp.sqrt((1.0 + C[a, a]) * (1.0 + C[b, b]))
        return jnp.broadcast_to(2.0 / math.pi * jnp.arcsin(jnp.clip(arg, -1.0, 1.0)), _shape(a, b))

    def J2(self, C, a, b):
        """(2/pi) / sqrt((1 + C_aa)(1 + C_bb) - C_ab^2)."""
        lam4 = (1.0 + C[a, a]) * (1.0 + C[b, b]) - jnp.square(C[a, b])
        return jnp.broadcast_to(2.0 / math.pi / jnp.sqrt(lam4), _shape(a, b))

    def I3(self, C, a, b, c):
        """(2/pi) [C_bc (1 + C_aa) - C_ab C_ac] / [(1 + C_aa) sqrt(Lambda3)],
        Lambda3 = (1 + C_aa)(1 + C_cc) - C_ac^2."""
        one_aa = 1.0 + C[a, a]
        lam3 = one_aa * (1.0 + C[c, c]) - jnp.square(C[a, c])
        val = 2.0 / math.pi * (C[b, c] * one_aa - C[a, b] * C[a, c]) / (one_aa * jnp.sqrt(lam3))
        return jnp.broadcast_to(val, _shape(a, b, c))

    def I4(self, C, a, b, c, d):
        """(4/pi^2) Lambda4^{-1/2} arcsin(Lambda0 / sqrt(Lambda1 Lambda2)), Lambda_i as in
        arXiv 1906.08632 eq. (B.8)."""
        one_aa, one_bb = 1.0 + C[a, a], 1.0 + C[b, b]
        ab, ac, ad, bc, bd = C[a, b], C[a, c], C[a, d], C[b, c], C[b, d]
        lam4 = one_aa * one_bb - jnp.square(ab)
        lam0 = (lam4 * C[c, d] - bc * bd * one_aa - ac * ad * one_bb
                + ab * ac * bd + ab * ad * bc)
        lam1 = lam4 * (1.0 + C[c, c]) - jnp.square(bc) * one_aa - jnp.square(ac) * one_bb + 2.0 * ab * ac * bc
        lam2 = lam4 * (1.0 + C[d, d]) - jnp.square(bd) * one_aa - jnp.square(ad) * one_bb + 2.0 * ab * ad * bd
        arg = jnp.clip(lam0 / jnp.sqrt(lam1 * lam2), -1.0, 1.0)
        return jnp.broadcast_to(4.0 / math.pi**2 * jnp.arcsin(arg) / jnp.sqrt(lam4), _shape(a, b, c, d))

    def I4_contracted(self, C, a, b, w):
        """sum_{c,d} w_c w_d I4(a, b, c, d) through the fields conditioned on (z_a, z_b): with
        S = 1 + C on the block (a, b) and Sigma = C - C_{., ab} S^{-1} C_{ab, .}, eq. (B.8)'s
        Lambda0 = det(S) Sigma_cd and Lambda1 = det(S) (1 + Sigma_cc), so

            I4 = (4/pi^2) det(S)^{-1/2} arctan(Sigma_cd / sqrt((1 + Sigma_cc)(1 + Sigma_dd) - Sigma_cd^2)),

        one arctan per unordered pair c <= d (weight 2 off the diagonal) and pair (a, b).
        """
        c, d, weight = _unordered_pairs(C.shape[-1], w)
        one_aa, one_bb, ab = 1.0 + C[a, a], 1.0 + C[b, b], C[a, b]
        det = one_aa * one_bb - jnp.square(ab)
        Xa, Xb = C[a], C[b]                                               # (..., n)
        Ya = (one_bb[..., None] * Xa - ab[..., None] * Xb) / det[..., None]  # S^{-1} X
        Yb = (one_aa[..., None] * Xb - ab[..., None] * Xa) / det[..., None]
        L = 1.0 + jnp.diagonal(C) - Xa * Ya - Xb * Yb                     # 1 + Sigma_cc
        sig = C[c, d] - Xa[..., c] * Ya[..., d] - Xb[..., c] * Yb[..., d]  # Sigma_cd, c <= d
        angle = jnp.arctan(sig / jnp.sqrt(L[..., c] * L[..., d] - jnp.square(sig)))
        return 4.0 / math.pi**2 * jnp.sum(angle * weight, axis=-1) / jnp.sqrt(det)


def _linear_fn(x):
    return jnp.asarray(x)


@dataclass(frozen=True)
class _Linear(Activation):
    """g(x) = x: I2 = C_ab, J2 = 1, I3 = C_bc, I4 = C_cd."""

    closed_form: ClassVar[bool] = True

    def dg(self, x):
        return jnp.ones_like(x)

    def I2(self, C, a, b):
        return jnp.broadcast_to(C[a, b], _shape(a, b))

    def J2(self, C, a, b):
        return jnp.ones(_shape(a, b), dtype=C.dtype)

    def I3(self, C, a, b, c):
        return jnp.broadcast_to(C[b, c], _shape(a, b, c))

    def I4(self, C, a, b, c, d):
        return jnp.broadcast_to(C[c, d], _shape(a, b, c, d))

    def I4_contracted(self, C, a, b, w):
        """w^T C w for every pair (a, b)."""
        return jnp.broadcast_to(w @ C @ w, jnp.shape(a))


# --------------------------------------------------------------------------- ReLU
# Every ReLU average is computed on standardised fields Z = z / sigma, sigma^2 = C_aa, with
# correlations r_ab = C_ab / (sigma_a sigma_b). A zero-variance field gets r = 0 with every
# other field, so its Heaviside factor averages to 1/2 = H(0): the value for a field that is
# identically zero, with the convention g'(0) = 1/2 used by ``dg``. The same convention
# (H(0) = 1/2, which makes H(x) delta(x) = delta(x) / 2) resolves every degenerate
# conditional distribution below.

def _sigma(C, a):
    return jnp.sqrt(jnp.maximum(C[a, a], 0.0))


def _corr(C, a, b):
    """Correlation of z_a and z_b, 0 if either variance vanishes (exactly 1 for a == b)."""
    den = jnp.sqrt(jnp.maximum(C[a, a] * C[b, b], 0.0))
    pos = den > 0
    return jnp.where(pos, jnp.clip(C[a, b] / jnp.where(pos, den, 1.0), -1.0, 1.0), 0.0)


def _orthant2(r):
    """P(X > 0, Y > 0) for standard normals with correlation r: 1/4 + arcsin(r) / (2 pi)."""
    return 0.25 + jnp.arcsin(jnp.clip(r, -1.0, 1.0)) / _TWO_PI


def _relu_pair(r):
    """E[X+ Y+] for standard normals with correlation r: [sqrt(1 - r^2) + r (pi/2 + arcsin r)] / 2 pi."""
    r = jnp.clip(r, -1.0, 1.0)
    return (jnp.sqrt(1.0 - jnp.square(r)) + r * (0.5 * math.pi + jnp.arcsin(r))) / _TWO_PI


def _conditional_corr(spp, sqq, spq, spm, sqm, smm):
    """Correlation of Y_p, Y_q given Y_m = 0, in the determinant form
    (spq smm - spm sqm) / sqrt((spp smm - spm^2)(sqq smm - sqm^2)), which is exactly 0/0 for
    exactly dependent fields; the value is then 0. If smm = 0, the unconditional correlation."""
    pos = smm > 0
    num = jnp.where(pos, spq * smm - spm * sqm, spq)
    den = jnp.sqrt(jnp.maximum(jnp.where(pos, spp * smm - spm * spm, spp), 0.0)
                   * jnp.maximum(jnp.where(pos, sqq * smm - sqm * sqm, sqq), 0.0))
    ok = den > 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def _over_sigma(s, smm):
    """s / sqrt(smm), 0 when smm vanishes (then s vanishes too)."""
    pos = smm > 0
    return jnp.where(pos, s / jnp.sqrt(jnp.where(pos, smm, 1.0)), 0.0)


def _heaviside2_relu(s11, s22, s33, s12, s13, s23):
    """E[H(Y1) H(Y2) Y3+] for Y ~ N(0, S), by Stein's lemma on Y3:
    sum_m S_3m E[delta(Y_m) prod_{p != m} H(Y_p)]
      = (2 pi)^{-1/2} sum_m S_3m S_mm^{-1/2} P(Y_p > 0, Y_q > 0 | Y_m = 0)."""
    t1 = _over_sigma(s13, s11) * _orthant2(_conditional_corr(s22, s33, s23, s12, s13, s11))
    t2 = _over_sigma(s23, s22) * _orthant2(_conditional_corr(s11, s33, s13, s12, s23, s22))
    t3 = jnp.sqrt(jnp.maximum(s33, 0.0)) * _orthant2(_conditional_corr(s11, s22, s12, s13, s23, s33))
    return (t1 + t2 + t3) / math.sqrt(_TWO_PI)


@functools.cache
def _relu_i4_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of int_0^1 dt: Gauss-Legendre in s with t = 1 - s^4, which makes
    the (1 - t)^{+-1/2} behaviour at t = 1 of coinciding fields smooth and keeps nearly
    coinciding ones (a singularity just beyond t = 1) a distance ~ (1 - r^2)^{1/4} away."""
    x, w = np.polynomial.legendre.leggauss(n)
    s = 0.5 * (x + 1.0)
    return 1.0 - s**4, 2.0 * w * s**3


@lazy.jit
def _relu_i4(r12, r13, r14, r23, r24, r34):
    """E[H(Z1) H(Z2) Z3+ Z4+] for unit-variance Z with correlations r_pq.

    Scale the cross correlations r_pq (p in {1,2}, q in {3,4}) by t in [0, 1]. At t = 0 the
    pairs decouple: P(Z1 > 0, Z2 > 0) E[Z3+ Z4+]. Price's theorem, dE[f]/dr_pq = E[d_p d_q f],
    gives the derivative along t in closed form:

        I4 = P2(r12) E[Z3+ Z4+] + int_0^1 dt sum_{p,q} r_pq E_t[delta(Z_p) H(Z_p') H(Z_q) Z_q'+],

    p' the other of {1,2} and q' the other of {3,4}. Given Z_p = 0, (Z_p', Z_q, Z_q') is
    Gaussian, so each term is phi(0) times the Stein average ``_heaviside2_relu``.
    Quadrature: ``_relu_i4_rule``. Jitted so that eager calls compile once per shape.
    """
    r12, r13, r14, r23, r24, r34 = jnp.broadcast_arrays(r12, r13, r14, r23, r24, r34)
    t, w = _relu_i4_rule(RELU_I4_NODES)
    dtype = jnp.result_type(r12)
    t, w = jnp.asarray(t, dtype), jnp.asarray(w, dtype)
    r12, r34 = r12[..., None], r34[..., None]
    r = {(1, 3): r13[..., None] * t, (1, 4): r14[..., None] * t,
         (2, 3): r23[..., None] * t, (2, 4): r24[..., None] * t}

    def term(p, p2, q, q2):
        # Covariance of (Z_p', Z_q, Z_q') given Z_p = 0.
        return _heaviside2_relu(1.0 - r12 * r12, 1.0 - r[p, q] ** 2, 1.0 - r[p, q2] ** 2,
                                r[p2, q] - r12 * r[p, q], r[p2, q2] - r12 * r[p, q2],
                                r34 - r[p, q] * r[p, q2])

    integrand = (r13[..., None] * term(1, 2, 3, 4) + r14[..., None] * term(1, 2, 4, 3)
                 + r23[..., None] * term(2, 1, 3, 4) + r24[..., None] * term(2, 1, 4, 3))
    return (_orthant2(r12[..., 0]) * _relu_pair(r34[..., 0])
            + jnp.sum(integrand * w, axis=-1) / math.sqrt(_TWO_PI))


def _relu_fn(x):
    return jnp.maximum(x, 0.0)


@dataclass(frozen=True)
class _ReLU(Activation):
    """g(x) = max(0, x), g'(x) = H(x) with H(0) = 1/2."""

    closed_form: ClassVar[bool] = True

    def dg(self, x):
        return jnp.heaviside(x, 0.5)

    def I2(self, C, a, b):
        """sigma_a sigma_b [sqrt(1 - r^2) + r (pi/2 + arcsin r)] / 2 pi, r = r_ab."""
        val = _sigma(C, a) * _sigma(C, b) * _relu_pair(_corr(C, a, b))
        return jnp.broadcast_to(val, _shape(a, b))

    def J2(self, C, a, b):
        """1/4 + arcsin(r_ab) / 2 pi."""
        return jnp.broadcast_to(_orthant2(_corr(C, a, b)), _shape(a, b))

    def I3(self, C, a, b, c):
        """Stein's lemma on z_b: C_ab E[delta(z_a) z_c+] + C_bc E[H(z_a) H(z_c)]
        = sigma_b sigma_c [r_ab sqrt(1 - r_ac^2) / 2 pi + r_bc (1/4 + arcsin(r_ac) / 2 pi)]."""
        r_ac = _corr(C, a, c)
        val = _sigma(C, b) * _sigma(C, c) * (
            _corr(C, a, b) * jnp.sqrt(1.0 - jnp.square(r_ac)) / _TWO_PI + _corr(C, b, c) * _orthant2(r_ac))
        return jnp.broadcast_to(val, _shape(a, b, c))

    def I4(self, C, a, b, c, d):
        """sigma_c sigma_d E[H(Z_a) H(Z_b) Z_c+ Z_d+] by a Price-theorem integral (``_relu_i4``)."""
        return _sigma(C, c) * _sigma(C, d) * _relu_i4(
            _corr(C, a, b), _corr(C, a, c), _corr(C, a, d), _corr(C, b, c), _corr(C, b, d), _corr(C, c, d))


_BUILTIN: dict[str, Activation] = {
    "erf": _Erf("erf", _erf_fn),
    "relu": _ReLU("relu", _relu_fn),
    "linear": _Linear("linear", _linear_fn),
}


def activation(spec: str | Callable | Activation) -> Activation:
    """The Activation for a built-in name, an elementwise JAX function, or an Activation.

    **Arguments:** `spec`: 'erf', 'relu', 'linear' (closed forms), an elementwise JAX function (cubature) or an
    Activation (returned as is).

    **Returns:** an `Activation`; ValueError for another name."""
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        if spec in _BUILTIN:
            return _BUILTIN[spec]
    elif callable(spec):
        return Activation(getattr(spec, "__name__", type(spec).__name__), spec)
    allowed = ", ".join(repr(name) for name in ACTIVATIONS)
    raise ValueError(f"activation must be one of {allowed} or a JAX function; got {spec!r}")


# =========================================================================== single fields
# Averages over one or two equal-variance Gaussian fields, in NumPy float64, vectorised over
# arrays of variances and covariances: the MLP moments of the signal-propagation layer map
# (hild.families.signal_prop.theory; Poole et al., arXiv 1606.05340; Giorlandino & Goldt,
# arXiv 2505.24333). Owned by the signal_prop family; the committee code above is unchanged.

__all__ += ["UNIFORM_NODES", "expect_1d", "expect_pair", "relu_kernel", "relu_step_kernel", "uniform_rule"]

#: Nodes of the uniform rule on [-7, 7] of `uniform_rule`. For tanh(s u), s <= 4, it reproduces
#: E[tanh(s u)^2] and E[tanh(s u) tanh(s v)] to ~1e-10 (4e-10 at s = 4), and the narrower
#: E[tanh'(s u)^2] to 1e-9 up to s = 3 (2e-8 at s = 4; tests/core/test_gaussian.py); a
#: Gauss-Hermite rule of as many nodes does not, because the integrand's poles at u = i pi / (2 s)
#: lie close to the real axis. (The trapezoid rule converges geometrically for integrands analytic
#: in a strip; the Gaussian weight makes the truncation at |u| = 7 negligible, e^{-24.5}.)
UNIFORM_NODES = 141


@functools.cache
def uniform_rule(n_nodes: int = UNIFORM_NODES, half_width: float = 7.0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes x and weights w of E[f(x)], x ~ N(0, 1), as the trapezoid rule on a uniform grid of
    [-half_width, half_width] with weights exp(-x^2 / 2), normalised to sum to 1 (E[1] = 1 exactly).

    **Arguments:** `n_nodes` (default UNIFORM_NODES); `half_width` (default 7).

    **Returns:** (x, w), two float64 arrays (n_nodes,)."""
    x = np.linspace(-half_width, half_width, n_nodes)
    w = np.exp(-x ** 2 / 2)
    return x, w / w.sum()


def expect_1d(f: Callable, q) -> np.ndarray:
    """E[f(u)] for u ~ N(0, q), by the uniform rule (`uniform_rule`).

    **Arguments:**
    - `f`: an elementwise NumPy function.
    - `q`: the variance (array, >= 0).

    **Returns:** an array of the shape of `q`.
    """
    x, w = uniform_rule()
    s = np.sqrt(np.asarray(q, dtype=float))[..., None]
    return f(s * x) @ w


def expect_pair(f: Callable, q, p, g: Callable | None = None) -> np.ndarray:
    """E[f(u) g(v)] for (u, v) Gaussian of variances q, q and covariance p (g defaults to f):
    v = c u + sqrt(1 - c^2) w with c = p / q and w independent, on the product of two uniform rules.

    **Arguments:**
    - `f`, `g`: elementwise NumPy functions.
    - `q`, `p`: variance and covariance (arrays that broadcast; |p| <= q; q = 0 gives c = 1).

    **Returns:** an array of the broadcast shape of `q` and `p`.
    """
    x, w = uniform_rule()
    q, p = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(p, dtype=float))
    c = np.clip(np.where(q > 0, p / np.where(q > 0, q, 1.0), 1.0), -1.0, 1.0)[..., None, None]
    s = np.sqrt(q)[..., None, None]
    u = s * x[:, None]
    v = s * (c * x[:, None] + np.sqrt(1.0 - c ** 2) * x[None, :])
    fu = f(u[..., 0])
    return np.einsum("...i,...ij,i,j->...", fu, (g or f)(v), w, w)


def relu_kernel(c) -> np.ndarray:
    """rho(c) = E[relu(u) relu(v)] / E[relu(u)^2] = (sqrt(1 - c^2) + c (pi - arccos c)) / pi for Gaussian
    fields of equal variance and correlation c (the degree-1 arc-cosine kernel, Cho & Saul 2009;
    E[relu(u)^2] = q / 2). rho(1) = 1, rho(0) = 1 / pi.

    **Arguments:** `c`: correlations (an array; clipped to [-1, 1]).

    **Returns:** rho, a float64 array of the shape of `c`."""
    c = np.clip(np.asarray(c, dtype=float), -1.0, 1.0)
    return (np.sqrt(1.0 - c ** 2) + c * (np.pi - np.arccos(c))) / np.pi


def relu_step_kernel(c) -> np.ndarray:
    """E[relu'(u) relu'(v)] = P(u > 0, v > 0) = (pi - arccos c) / (2 pi) for fields of correlation c
    (the degree-0 arc-cosine kernel, halved); 1/2 at c = 1, 1/4 at c = 0.

    **Arguments:** `c`: correlations (an array; clipped to [-1, 1]).

    **Returns:** a float64 array of the shape of `c`."""
    c = np.clip(np.asarray(c, dtype=float), -1.0, 1.0)
    return (np.pi - np.arccos(c)) / (2 * np.pi)
