"""The replica-symmetric fixed point of a generalised linear model learnt by empirical risk minimisation on the
Gaussian covariate model (Loureiro et al., arXiv 2102.08127; Aubin et al., arXiv 2006.06560).

A student w in R^p (ridge penalty (lam / 2) |w|^2, any convex loss l) sees features v of covariance Omega and
fields lam_mu = w.v_mu / sqrt(p) on n = alpha p samples; the labels come from a teacher field nu (variance rho)
through a channel. In Omega's eigenbasis write E[nu v] = Omega c / sqrt(p): direction i has eigenvalue omega_i,
teacher weight t_i = (omega_i c_i)^2 and density weight pi_i (1/p for a p-point spectrum, a quadrature weight for
a continuous one). Then m = w.Omega c / p, q = w.Omega w / p and, with the proximal point
z = prox_{V l(y, .)}(omega) and f = (z - omega) / V (omega ~ N(0, q), E[omega nu] = m):

    channel:  mhat = alpha E[f (nu - m omega / q)] / (rho - m^2 / q),  qhat = alpha E[f^2],
              Vhat = alpha E[(1 - dz / domega) / V]
    prior:    V = sum_i pi_i omega_i / (lam + Vhat omega_i),   m = mhat sum_i pi_i t_i / (lam + Vhat omega_i),
              q = sum_i pi_i (mhat^2 t_i + qhat omega_i) omega_i / (lam + Vhat omega_i)^2

(mhat in Stein's form, equal to the paper's derivative form for a Gaussian teacher field). Isotropic data, a given
spectrum with its teacher components and random features by Gaussian equivalence are all this one prior
(`Spectrum`). The channel expectations are Gauss-Hermite sums (hild.core.gaussian.hermite_rule): over
(omega, y) for a linear teacher y = nu + noise xi (y | omega Gaussian), over omega with y = +-1 summed in closed
form (Phi, phi of the teacher's conditional field) for a sign teacher whose labels are flipped with probability
noise; for a sign teacher and a loss with kinks (the hinge) omega is integrated by Gauss-Legendre panels that
meet at the kinks (hild.core.gaussian.normal_panels), which a Gauss-Hermite sum converges across only slowly.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hild.core import lazy
from hild.core.gaussian import hermite_rule, normal_panels
from hild.families.batch import solver
from hild.families.batch.prox import Loss, Square

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
jsp = lazy.module("jax.scipy.special")

__all__ = ["CHANNELS", "NODES", "Spectrum", "channel_nodes", "fixed_points", "kinks_at", "observables", "saddle_map"]

CHANNELS = ("linear", "sign")
NODES = {"omega": 96, "y": 32}
"""Gauss-Hermite nodes of the channel sums: over omega, and over y | omega for a linear teacher (square loss:
exact, a polynomial; logistic on a sign teacher at alpha <= 10: changes below 1e-6 in eg from 64 to 96 nodes)."""
PANEL_NODES = 24
"""Gauss-Legendre nodes per panel of omega between a loss's kinks (sign teacher): E[max(0, 1 - omega)] to 1e-15."""
STARTS = np.array([[0.1, 0.5, 1.0], [0.5, 1.0, 10.0], [0.01, 0.05, 0.1], [0.9, 1.0, 1000.0]])
"""Starting points (m / rho, q / rho, V) tried in order after a continuation's predecessor."""


class Spectrum(NamedTuple):
    """The prior side in Omega's eigenbasis: eigenvalues `omega` (K,), teacher weights `teacher` t_i (K,),
    density weights `weight` pi_i (K,), and `rho` = E[nu^2], the teacher field's variance
    (>= sum pi t / omega; the excess is the part of the teacher no linear student can see).

    **Arguments:** `omega`, `teacher`, `weight`: arrays (K,) (or (B, K) for one spectrum per grid row); `rho`.
    Build one with `Spectrum.isotropic` or `Spectrum.components`."""

    omega: np.ndarray
    teacher: np.ndarray
    weight: np.ndarray
    rho: float

    @staticmethod
    def isotropic(teacher_norm: float = 1.0) -> "Spectrum":
        """Omega = I and a teacher of |w*|^2 / p = teacher_norm: one eigenvalue."""
        r = float(teacher_norm)
        return Spectrum(np.ones(1), np.array([r]), np.ones(1), r)

    @staticmethod
    def components(eigenvalues, teacher) -> "Spectrum":
        """Covariance eigenvalues s_i and the teacher's components theta_i in that basis (p of each):
        t_i = s_i^2 theta_i^2, pi_i = 1 / p, rho = sum s_i theta_i^2 / p."""
        s, th = np.asarray(eigenvalues, float), np.asarray(teacher, float)
        p = s.size
        return Spectrum(s, s ** 2 * th ** 2, np.full(p, 1.0 / p), float(np.sum(s * th ** 2) / p))


def _sign_nodes(m, q, rho, flip, omega, w):
    """Sign teacher, each label flipped with probability `flip`: nodes `omega` and weights `w` (N, 2) of
    omega ~ N(0, q) for y = +1 (column 0) and y = -1 (column 1); P(y | omega) = flip + (1 - 2 flip) Phi(y a),
    a = (m / q) omega / s, s^2 = rho - m^2 / q; the Stein weight of y is (1 - 2 flip) y phi(a) / s."""
    s = jnp.sqrt(jnp.maximum(rho - m ** 2 / q, 1e-14 * rho))
    a = (m / q) * omega / s
    ys = jnp.array([1.0, -1.0])
    y = jnp.broadcast_to(ys, omega.shape)
    weight = w * (flip + (1 - 2 * flip) * jsp.ndtr(ys * a))
    score = w * (1 - 2 * flip) * ys * jnp.exp(-a ** 2 / 2) / (math.sqrt(2 * math.pi) * s)
    return y, omega, weight, score


def _linear_nodes(m, q, rho, noise, x, w, xy, wy):
    """Linear teacher y = nu + noise xi: y | omega ~ N((m / q) omega, s^2), s^2 = rho - m^2 / q + noise^2; the
    Stein weight (y - (m / q) omega) / s^2 makes E[f (nu - m omega / q)] / (rho - m^2 / q) of mhat."""
    s = jnp.sqrt(jnp.maximum(rho - m ** 2 / q, 0.0) + noise ** 2)
    om = jnp.sqrt(q) * x[:, None]
    y = (m / q) * om + s * xy[None, :]
    omega = jnp.broadcast_to(om, y.shape)
    weight = w[:, None] * wy[None, :]
    score = weight * xy[None, :] / s
    return y, omega, weight, score


def channel_nodes(channel: str, m, q, p, kinks=None):
    """The channel's quadrature at (m, q): arrays y, omega (the training field), weight and Stein score of equal
    shape, so that E[g(y, omega)] = sum weight g and E[g (nu - m omega / q)] / (rho - m^2 / q) = sum score g.
    For a sign teacher and a loss whose prox has kinks, omega is integrated by Gauss-Legendre panels
    (hild.core.gaussian.normal_panels, PANEL_NODES each) that meet at the kinks, separately for y = +1 and -1;
    otherwise by Gauss-Hermite nodes.

    **Arguments:** `channel` ("linear" or "sign"); `m`, `q`: the overlaps; `p`: holds rho and noise (the linear
    channel's standard deviation; the sign channel's flip probability); `kinks(y) -> (k,)`: where in omega the
    integrand is not smooth for label y (`Loss.kinks` at the point's V), or None.

    **Returns:** (y, omega, weight, score), arrays of one shape."""
    x, w = (jnp.asarray(a) for a in hermite_rule(NODES["omega"]))
    if channel == "sign":
        if kinks is None:
            omega = jnp.broadcast_to(jnp.sqrt(q) * x[:, None], (x.size, 2))
            w = jnp.broadcast_to(w[:, None], omega.shape)
        else:
            panels = [normal_panels(jnp.sqrt(q), kinks(y), PANEL_NODES) for y in (1.0, -1.0)]
            omega, w = (jnp.stack(a, axis=-1) for a in zip(*panels))
        return _sign_nodes(m, q, p["rho"], p["noise"], omega, w)
    xy, wy = (jnp.asarray(a) for a in hermite_rule(NODES["y"]))
    return _linear_nodes(m, q, p["rho"], p["noise"], x, w, xy, wy)


def _square_linear(m, q, V, p):
    """The square loss on a linear teacher in closed form: f = (y - omega) / (1 + V), E (y - omega)^2 =
    rho + noise^2 - 2m + q, so mhat = Vhat = alpha / (1 + V), qhat = alpha E (y - omega)^2 / (1 + V)^2."""
    a = p["alpha"]
    e2 = p["rho"] + p["noise"] ** 2 - 2 * m + q
    return a / (1 + V), a * e2 / (1 + V) ** 2, a / (1 + V)


def kinks_at(loss: Loss, V):
    """`channel_nodes`' kinks argument for `loss` at V.

    **Arguments:** `loss`: a `Loss`; `V` (> 0).

    **Returns:** the function y -> loss.kinks(y, V), or None for a loss without kinks."""
    return None if loss.kinks(1.0, V) is None else (lambda y: loss.kinks(y, V))


def _hats(loss: Loss, channel: str, m, q, V, p):
    if isinstance(loss, Square) and channel == "linear":
        return _square_linear(m, q, V, p)
    y, omega, weight, score = channel_nodes(channel, m, q, p, kinks_at(loss, V))
    z, dz = loss.prox(y, omega, V)
    f = (z - omega) / V
    a = p["alpha"]
    return a * jnp.sum(score * f), a * jnp.sum(weight * f ** 2), a * jnp.sum(weight * (1 - dz) / V)


def _prior(mhat, qhat, Vhat, p):
    om, t, pi, lam = p["omega"], p["teacher"], p["weight"], p["lam"]
    den = lam + Vhat * om
    V = jnp.sum(pi * om / den)
    m = mhat * jnp.sum(pi * t / den)
    q = jnp.sum(pi * (mhat ** 2 * t + qhat * om) * om / den ** 2)
    return m, q, V


def saddle_map(loss: Loss, channel: str):
    """G(x, p): one pass of the saddle-point equations on x = (m, log q, log V) (logarithms: q and V stay
    positive, and V ~ 1 / lam at small ridge is iterated on its own scale), p the point's parameters (alpha,
    lam, noise and the `Spectrum` fields omega, teacher, weight, rho).

    **Arguments:** `loss`: a `Loss`; `channel`: "linear" or "sign".

    **Returns:** the map G(x, p) -> x' (JAX, vmappable)."""
    def G(x, p):
        m, q, V = _natural(x)
        mhat, qhat, Vhat = _hats(loss, channel, m, q, V, p)
        m, q, V = _prior(mhat, qhat, Vhat, p)
        return jnp.stack([m, jnp.log(q), jnp.log(V)])
    return G


def _natural(x):
    return x[0], jnp.exp(x[1]), jnp.exp(x[2])


def _solver_variables(m, q, V):
    return jnp.stack([m, jnp.log(q), jnp.log(V)], axis=-1)


TRAIN_ERROR_NODES = 96
"""Gauss-Legendre nodes of the sign channel's training error (an integral over one side of a threshold)."""


def _sign_train_error(loss: Loss, m, q, V, p):
    """P(y z < 0) for a sign teacher: the prox is increasing in omega and crosses 0 at omega_0 = V l'(y, 0), so
    y z < 0 where y omega < y omega_0; sum_y of the integral of P(y | omega) over that half-line of omega ~ N(0, q)
    (cut at 10 sqrt(q)), by Gauss-Legendre (the indicator on the Gauss-Hermite nodes would be a staircase)."""
    u, wu = (jnp.asarray(a) for a in np.polynomial.legendre.leggauss(TRAIN_ERROR_NODES))
    s = jnp.sqrt(q)
    flip = p["noise"]
    sd = jnp.sqrt(jnp.maximum(p["rho"] - m ** 2 / q, 1e-14 * p["rho"]))
    total = 0.0
    for y in (1.0, -1.0):
        w0 = V * jax.grad(lambda z: loss.value(jnp.asarray(y), z))(jnp.asarray(0.0, u.dtype))
        lo, hi = (-10 * s, jnp.clip(w0, -10 * s, 10 * s)) if y > 0 else (jnp.clip(w0, -10 * s, 10 * s), 10 * s)
        om = lo + (hi - lo) * (u + 1) / 2
        density = jnp.exp(-om ** 2 / (2 * q)) / jnp.sqrt(2 * jnp.pi * q)
        label = flip + (1 - 2 * flip) * jsp.ndtr(y * (m / q) * om / sd)
        total = total + (hi - lo) / 2 * jnp.sum(wu * density * label)
    return total


def observables(loss: Loss, channel: str, x, p) -> dict:
    """What a fixed point x = (m, q, V) predicts: the conjugates, `eg` (excess risk rho - 2m + q for a linear
    teacher, noise excluded; P(wrong sign) = arccos(m / sqrt(rho q)) / pi for a sign teacher), the training loss
    per sample `train_loss` = E[l(y, z)] and error `train_error` (E[(y - z)^2] for a linear teacher, P(y z < 0)
    for a sign teacher), and `test_loss` = E[l(y, lam)] on a fresh sample.

    **Arguments:** `loss`; `channel`; `x` = (m, log q, log V): a fixed point of `saddle_map`; `p`: its parameters.

    **Returns:** a dict of JAX scalars: m, q, V, mhat, qhat, Vhat, eg, train_error, train_loss, test_loss."""
    m, q, V = _natural(x)
    mhat, qhat, Vhat = _hats(loss, channel, m, q, V, p)
    y, omega, weight, _ = channel_nodes(channel, m, q, p, kinks_at(loss, V))
    z, _ = loss.prox(y, omega, V)
    rho = p["rho"]
    if channel == "sign":
        eg = jnp.arccos(jnp.clip(m / jnp.sqrt(rho * q), -1.0, 1.0)) / jnp.pi
        train_error = _sign_train_error(loss, m, q, V, p)
    else:
        eg = rho - 2 * m + q
        train_error = jnp.sum(weight * (y - z) ** 2)
    return {"m": m, "q": q, "V": V, "mhat": mhat, "qhat": qhat, "Vhat": Vhat, "eg": eg,
            "train_error": train_error, "train_loss": jnp.sum(weight * loss.value(y, z)),
            "test_loss": jnp.sum(weight * loss.value(y, omega))}


@dataclass(frozen=True)
class _Problem:
    loss: Loss
    channel: str
    damping: float
    memory: int


@functools.lru_cache(maxsize=64)
def _compiled(problem: _Problem, continuation: bool):
    """The jitted solve of a grid of points (arrays of shape (B, P)): continuation along P, vmapped over B;
    one per problem (JAX then compiles once per shape; max_iter and tol are arguments, not constants)."""
    G = saddle_map(problem.loss, problem.channel)

    def one_path(pp, max_iter, tol):
        settings = solver.Settings(problem.damping, problem.memory, tol, max_iter)
        rho = pp["rho"][0]
        S = jnp.asarray(STARTS)
        starts = _solver_variables(S[:, 0] * rho, S[:, 1] * rho, S[:, 2])
        if continuation:
            sol = solver.continuation(G, starts, pp, settings)
        else:
            sol = jax.vmap(lambda q: solver.solve(G, starts, q, settings))(pp)
        obs = jax.vmap(lambda x, q: observables(problem.loss, problem.channel, x, q))(sol.x, pp)
        return obs, sol.converged, sol.residual, sol.iterations

    return jax.jit(jax.vmap(one_path, in_axes=(0, None, None)))


def fixed_points(loss: Loss, channel: str, spectrum: Spectrum, alpha, lam, noise=0.0,
                 settings: solver.Settings = solver.Settings(), continuation: bool = True) -> dict:
    """The fixed points on a grid of points (float64): `alpha`, `lam`, `noise` broadcast to one shape (B, P);
    with `continuation`, each row is solved along its last axis from the converged neighbour.

    **Arguments:** `loss`; `channel` ("linear" or "sign"); `spectrum` (one `Spectrum` for every point, or a
    Spectrum whose fields have a leading axis of B rows); `alpha` = n / p; `lam`; `noise` (linear teacher: the
    label noise's standard deviation; sign teacher: the probability of a flipped label); `settings`; `continuation`.

    **Returns:** a dict of NumPy arrays of shape (B, P): the observables (see `observables`), `converged`,
    `residual`, `iterations`.
    """
    with jax.enable_x64(True):
        alpha, lam, noise = np.broadcast_arrays(*(np.asarray(a, float) for a in (alpha, lam, noise)))
        if alpha.ndim != 2:
            raise ValueError(f"alpha, lam, noise must broadcast to a (rows, points) grid; got shape {alpha.shape}")
        B, P = alpha.shape
        fields = {}
        for name in ("omega", "teacher", "weight"):
            arr = np.asarray(getattr(spectrum, name), float)
            arr = np.broadcast_to(arr if arr.ndim == 2 else arr[None], (B, arr.shape[-1]))
            fields[name] = np.broadcast_to(arr[:, None, :], (B, P, arr.shape[-1]))
        rho = np.broadcast_to(np.asarray(spectrum.rho, float).reshape(-1, 1), (B, P))
        p = {"alpha": alpha, "lam": lam, "noise": noise, "rho": rho, **fields}
        p = jax.tree_util.tree_map(jnp.asarray, p)
        obs, converged, residual, iterations = _compiled(_Problem(loss, channel, settings.damping, settings.memory),
                                                      continuation)(p, jnp.asarray(settings.max_iter),
                                                                    jnp.asarray(settings.tol))
        out = {k: np.asarray(v) for k, v in obs.items()}
        out.update(converged=np.asarray(converged), residual=np.asarray(residual),
                   iterations=np.asarray(iterations))
        return out
