"""Curricula for a two-layer network on the XOR Gaussian mixture (after arXiv 2406.01589).

Sarao Mannelli, Ivashynka, Saxe & Saglietti, arXiv 2406.01589 (only the abstract is known here; this
is hild's own fully specified version). The input x in R^d splits into rho d relevant coordinates and
(1 - rho) d irrelevant ones. Four clusters sit at +-mean f_1 / sqrt d (label y = +1) and
+-mean f_2 / sqrt d (label y = -1), with f_1, f_2 orthogonal on the relevant block (|f_j|^2 = d); the
relevant coordinates carry unit noise, the irrelevant ones noise of variance Delta, the example's
difficulty (delta_easy or delta_hard), as in arXiv 2106.08068. The XOR mixture and its scaling (means
of O(1) norm, noise of norm sqrt(d Delta)) follow Refinetti et al., arXiv 2102.11742.

The network is yhat = (1/K) sum_k v_k g(lam_k), lam_k = w_k . x / sqrt d, with the quadratic activation
g(x) = x^2, trained by online SGD on the square loss with the mean-field learning rates (per unit
lr K and lr_v K, so that every unit moves at a rate independent of K):

    w_k <- w_k + (lr / sqrt d) 2 v_k lam_k (y - yhat) x,     v_k <- v_k + (lr_v / d) lam_k^2 (y - yhat).

The activation is quadratic because the XOR labels are even in x: an odd activation without biases
(erf) cannot fit them, and with g = x^2 every moment of the ODEs is a Gaussian moment of quadratic forms,
exact at a cost O((K + 2)^3) (`quadratic_moments`).
The four clusters of each difficulty are the components of the engine's mixture; a protocol orders the
difficulties as in hild.families.online.curriculum.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hild.core import lazy, register
from hild.core import validation as check
from hild.families.online.curriculum import PROTOCOLS
from hild.families.online.drift import field_statistics
from hild.families.online.inputs import Inputs
from hild.families.online.local_field import LocalField
from hild.families.online.rule import Rule

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

CONVENTION = ("yhat = (1/K) sum_k v_k lam_k^2; w_k <- w_k + (lr/sqrt d) 2 v_k lam_k (y - yhat) x, "
              "v_k <- v_k + (lr_v/d) lam_k^2 (y - yhat) (mean-field rates lr K, lr_v K); t = steps/d "
              "(hild's model after arXiv 2406.01589; XOR mixture scaling of arXiv 2102.11742)")
LABELS = (1.0, 1.0, -1.0, -1.0)
"""The labels of the clusters +mean f_1, -mean f_1, +mean f_2, -mean f_2 (components c mod 4)."""
START_D = 1000
"""The dimension whose random draw gives the default start (`random_start`)."""


def labels(c):
    """The label of mixture component c (JAX integer)."""
    return jnp.asarray(LABELS)[c % 4]


def coefficient(lam, nu, c, aux, theta, p):
    """phi_k = lr 2 v_k lam_k (y - yhat), yhat = (1/K) sum_k v_k lam_k^2 (one input: lam (1, K))."""
    error = labels(c) - jnp.mean(theta * lam ** 2, axis=-1, keepdims=True)
    return p["lr"] * 2.0 * theta * lam * error


def readout(lam, nu, c, aux, theta, p):
    """psi_k = lr_v lam_k^2 (y - yhat)."""
    error = labels(c) - jnp.mean(theta * lam[0] ** 2)
    return p["lr_v"] * lam[0] ** 2 * error


def quadratic_averages(mean, cov, A) -> dict:
    """Gaussian averages of the quadratic form q = Y^T A Y, Y ~ N(m, S) (S may be singular), with a = S A m,
    b = S A a, S2 = S A S, S3 = S A S A S (the s-derivatives at 0 of the tilted law e^{s q} N(m, S)):

        E[q] = tr(A S) + m^T A m,      Var q = 2 tr(A S A S) + 4 m^T A S A m,      E[Y q] = E[q] m + 2 a,
        E[Y Y^T q]   = E[q] (S + m m^T) + 2 (S2 + a m^T + m a^T),
        E[Y Y^T q^2] = E[q^2] (S + m m^T) + 4 E[q] (S2 + a m^T + m a^T) + 8 (S3 + b m^T + m b^T + a a^T).

    **Returns:** dict q, q2 (scalars), y, yq (n,), yy, yyq, yyq2 (n, n).
    """
    m, S = mean, cov
    AS = A @ S
    a, S2 = S @ (A @ m), S @ AS
    b, S3 = S @ (A @ a), S2 @ AS
    q = jnp.trace(AS) + m @ A @ m
    q2 = 2 * jnp.trace(AS @ AS) + 4 * m @ A @ a + q ** 2
    second = S + jnp.outer(m, m)
    cross = S2 + jnp.outer(a, m) + jnp.outer(m, a)
    return {"q": q, "q2": q2, "y": m, "yq": q * m + 2 * a, "yy": second, "yyq": q * second + 2 * cross,
            "yyq2": q2 * second + 4 * q * cross + 8 * (S3 + jnp.outer(b, m) + jnp.outer(m, b) + jnp.outer(a, a))}


def _averages(state, inputs, c) -> tuple[dict, object]:
    """quadratic_averages of yhat = Y^T A Y, A = diag(v / K, 0), in component c, and the fields' mean."""
    mean, cov, _, _ = field_statistics(state, inputs, c)
    v = state["theta"]
    A = jnp.diag(jnp.concatenate([v / v.shape[0], jnp.zeros(mean.shape[0] - v.shape[0])]))
    return quadratic_averages(mean, cov, A), mean


def quadratic_moments(state, p, c):
    """The exact moments of the rule in component c (hild.families.online.moments), g(x) = x^2:
    phi = 2 lr v (y E[lam] - E[lam q]), phi_y = 2 lr v (y E[lam (Y - m)] - E[lam (Y - m) q]),
    phiphi = 4 lr^2 v v^T (y^2 E[lam lam^T] - 2 y E[lam lam^T q] + E[lam lam^T q^2]),
    psi = lr_v (y E[lam^2] - E[lam^2 q]), with q = yhat (`quadratic_averages`); O((K + 2)^3) operations."""
    E, mean = _averages(state, p["inputs"], c)
    v = state["theta"]
    K = v.shape[0]
    y, lr, lr_v = labels(c), p["lr"], p["lr_v"]
    centred = E["yy"][:K] - jnp.outer(E["y"][:K], mean)
    centred_q = E["yyq"][:K] - jnp.outer(E["yq"][:K], mean)
    return {"phi": 2 * lr * v * (y * E["y"][:K] - E["yq"][:K]),
            "phi_y": 2 * lr * v[:, None] * (y * centred - centred_q),
            "phiphi": 4 * lr ** 2 * jnp.outer(v, v) * (y ** 2 * E["yy"][:K, :K] - 2 * y * E["yyq"][:K, :K]
                                                      + E["yyq2"][:K, :K]),
            "psi": lr_v * (y * jnp.diagonal(E["yy"])[:K] - jnp.diagonal(E["yyq"])[:K])}


def square_loss(state, inputs, c):
    """E[(y - yhat)^2] / 2 in component c (`quadratic_averages`)."""
    E, _ = _averages(state, inputs, c)
    y = labels(c)
    return (y ** 2 - 2 * y * E["q"] + E["q2"]) / 2


def random_start(K: int, rho: float, d: int = START_D, seed: int = 0, init_std: float = 1.0, v=None) -> dict:
    """The overlaps of students w_k with i.i.d. N(0, init_std^2) entries drawn at dimension d, with f_j = sqrt(d) e_j:
    M (K, 2) = w^rel f^T / d (of order init_std / sqrt d), Q1 = w^rel w^rel^T / d (about rho init_std^2 I), Q2
    likewise on the irrelevant block, and v (alternating +-1 unless given). The finite-d fluctuation of M is what
    breaks the symmetry M = 0, a fixed point of the d -> infinity ODEs; the ODEs are exact at fixed overlaps, so
    from such a start the finite-d SGD noise, of the same order during the escape, shifts SGD's escape time
    somewhat against the ODE's (seen as a few per cent in the curriculum's benefit at K = 2, d = 1000)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, init_std, (K, d))
    d1 = max(2, int(round(rho * d)))
    rel, irr = W[:, :d1], W[:, d1:]
    return {"M": W[:, :2] * np.sqrt(d) / d, "Q1": rel @ rel.T / d, "Q2": irr @ irr.T / d,
            "v": np.array([(-1.0) ** k for k in range(K)]) if v is None else np.asarray(v, float)}


@register
@dataclass(frozen=True, kw_only=True)
class XorCurriculum(LocalField):
    """A two-layer network (g = x^2) on the XOR Gaussian mixture with easy and hard examples (module docstring).

    **Arguments:**
    - `K`: hidden units, >= 1.
    - `lr`, `lr_v`: first- and second-layer learning rates (mean-field: per unit lr K, lr_v K), lr > 0, lr_v >= 0.
    - `mean`: the cluster means' norm (along f_1, f_2), > 0.
    - `rho`: the relevant fraction of the coordinates, in (0, 1).
    - `delta_easy`, `delta_hard`: the variance of the irrelevant coordinates in easy and hard examples, >= 0.
    - `protocol`, `easy_fraction`: the order of the difficulties, as in `Curriculum`.
    - `init_std`: the std of the default random start's weights (`random_start`), > 0.
    """

    K: int
    lr: float
    lr_v: float = 0.0
    mean: float = 2.0
    rho: float = 0.5
    delta_easy: float = 0.1
    delta_hard: float = 2.0
    protocol: str = "random"
    easy_fraction: float = 0.5
    init_std: float = 0.3

    model = "xor_curriculum"
    description = "Curricula for a two-layer network on the XOR Gaussian mixture"
    papers = ("2406.01589", "2102.11742")
    convention = CONVENTION
    sweepable = ("K", "lr", "lr_v", "mean", "rho", "delta_easy", "delta_hard", "protocol", "easy_fraction",
                 "init_std")
    variables = ("M", "Q1", "Q2", "v", "loss_easy", "loss_hard")
    variable_dims = {"M": ("k", "j"), "Q1": ("k", "k2"), "Q2": ("k", "k2"), "v": ("k",)}
    init_names = ("M", "Q1", "Q2", "v")
    units = ("k", "k2", "j")

    def unit_sizes(self) -> dict[str, int]:
        """k, k2: the hidden units; j: the two mean directions (a sweep over K pads to the largest)."""
        return {"k": self.K, "k2": self.K, "j": 2}

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        set_("K", check.integer("K", self.K, 1))
        set_("lr", check.real("lr", self.lr, minimum=0.0, strict_minimum=True))
        set_("lr_v", check.real("lr_v", self.lr_v, minimum=0.0))
        set_("mean", check.real("mean", self.mean, minimum=0.0, strict_minimum=True))
        set_("init_std", check.real("init_std", self.init_std, minimum=0.0, strict_minimum=True))
        set_("rho", check.real("rho", self.rho, minimum=0.0, maximum=1.0, strict_minimum=True))
        if self.rho >= 1.0:
            raise ValueError(f"rho must be a finite number in (0, 1); got {self.rho:g}")
        for name in ("delta_easy", "delta_hard"):
            set_(name, check.real(name, getattr(self, name), minimum=0.0))
        set_("easy_fraction", check.real("easy_fraction", self.easy_fraction, minimum=0.0, maximum=1.0))
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(map(repr, PROTOCOLS))}; got {self.protocol!r}")

    @classmethod
    def example(cls) -> "XorCurriculum":
        """Two units, both layers trained, half the examples easy in random order."""
        return cls(K=2, lr=0.2, lr_v=0.2)

    def rule(self) -> Rule:
        """The square-loss SGD rule of the quadratic network, with the exact moments as the fast path."""
        return Rule(coefficient=coefficient, K=self.K, F=2, readout=readout, moments=quadratic_moments)

    def inputs(self, t_max: float) -> Inputs:
        """Two blocks (relevant, irrelevant); eight components: the four clusters, easy (c < 4) then hard."""
        m = self.mean
        centres = m * np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        f = self.easy_fraction
        easy, hard = (0.25,) * 4 + (0.0,) * 4, (0.0,) * 4 + (0.25,) * 4
        if self.protocol == "random":  # two equal rows: every protocol has the same shapes (one compiled ODE)
            probs, breaks = (tuple(0.25 * f for _ in range(4)) + tuple(0.25 * (1 - f) for _ in range(4)),) * 2, \
                (0.5 * t_max,)
        elif self.protocol == "curriculum":
            probs, breaks = (easy, hard), (f * t_max,)
        else:
            probs, breaks = (hard, easy), ((1.0 - f) * t_max,)
        return Inputs(fractions=(self.rho, 1.0 - self.rho),
                      variances=((1.0, self.delta_easy),) * 4 + ((1.0, self.delta_hard),) * 4,
                      gram=(np.eye(2), np.zeros((2, 2))), means=np.concatenate([centres, centres]),
                      probs=probs, breaks=breaks)

    def parameters(self) -> dict:
        return {"lr": self.lr, "lr_v": self.lr_v, "decay": 0.0}

    def start(self, init: dict | None) -> dict:
        """The engine state of M (K, 2), Q1, Q2 (K, K) and v (K,); default: `random_start` at d = START_D, seed 0."""
        K = self.K
        default = random_start(K, self.rho, init_std=self.init_std)
        init = {**default, **(init or {})}
        M = check.matrix("M", init["M"], (K, 2))
        Q1 = check.covariance("Q1", init["Q1"], K)
        Q2 = check.covariance("Q2", init["Q2"], K)
        v = check.vector("v", init["v"], K)
        gram = np.block([[Q1, M], [M.T, np.eye(2)]])
        if np.linalg.eigvalsh(gram).min() < -1e-10 * max(1.0, np.abs(gram).max()):
            raise ValueError("M, Q1: the overlaps of the relevant block must form a positive semi-definite Gram "
                             "matrix [[Q1, M], [M^T, I]]")
        return {"Q": np.stack([Q1, Q2]), "S": np.stack([M, np.zeros((K, 2))]), "theta": v}

    def observe(self, state, p) -> dict:
        """M, Q1, Q2, v and the square loss averaged over the four clusters of each difficulty (`square_loss`)."""
        inputs = p["inputs"]
        losses = jax.vmap(lambda c: square_loss(state, inputs, c))(jnp.arange(8))
        return {"M": state["S"][0], "Q1": state["Q"][0], "Q2": state["Q"][1], "v": state["theta"],
                "loss_easy": jnp.mean(losses[:4]), "loss_hard": jnp.mean(losses[4:])}
