"""The classic online perceptron rules learning a sign teacher (Engel & Van den Broeck 2001, ch. 9).

A teacher f (|f|^2 = d) labels x ~ N(0, I_d) by y = sign(nu), nu = f . x / sqrt(d); the student field is
lam = w . x / sqrt(d) and each example updates

    w <- w + (1 / sqrt d) phi(lam, y) x,        t = steps / d (alpha = examples / d in the book),

with the rule's coefficient (lr the learning rate, Theta(-y lam) = 1 on a mistake, y lam <= 0):

    hebb        phi = lr y
    perceptron  phi = lr y Theta(-y lam)                        (Rosenblatt: learn on mistakes)
    adatron     phi = -lr lam Theta(-y lam)                     (Anlauf & Biehl: jump to the boundary at lr = 1)
    logistic    phi = lr y / (1 + e^{y lam})                    (SGD on ln(1 + e^{-y lam}))
    hinge       phi = lr y Theta(margin - y lam)                (SGD on max(0, margin - y lam))

Order parameters R = w . f / d, Q = |w|^2 / d; the generalisation error is eg = arccos(R / sqrt Q) / pi.
Hebb, perceptron and AdaTron have closed-form moments (Gaussian integrals over the orthants of
(lam, nu), with theta = arccos(R / sqrt Q)), and so has hinge (normal cdfs and Owen's T): the engine's
cubature does not split at its jump y lam = margin and is off by ~10% there (its `cubature_error`).
Logistic goes through the cubature. Asymptotically (derived here from the ODEs; the exponents are those
of Biehl & Riegler, Europhys. Lett. 28, 525 (1994); the book's own equations were not read):
eg ~ 1/sqrt(2 pi t) (Hebb from w = 0), (2/3)^{1/3} / pi t^{-1/3} (perceptron, any lr),
3 / (lr (3 - lr) t) (AdaTron, smallest, 4 / (3 t), at lr = 3/2).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from hild.core import lazy, register
from hild.core import validation as check
from hild.core.gaussian import sign_disagreement
from hild.families.online.inputs import Inputs
from hild.families.online.local_field import LocalField
from hild.families.online.rule import Rule

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

RULES = ("hebb", "perceptron", "adatron", "logistic", "hinge")
CONVENTION = ("w <- w + (1/sqrt d) phi(w.x/sqrt d, y) x with phi of the rule (lr included), y = sign(f.x/sqrt d); "
              "t = steps/d = alpha (Engel & Van den Broeck, Statistical Mechanics of Learning (2001), ch. 9)")
DEFAULT_START = {"R": 0.0, "Q": 1.0}
"""A random student of unit norm (eg = 1/2); w = 0 would be a fixed point of the AdaTron rule."""


def _label(nu):
    return jnp.sign(nu[:, :1])


def hebb(lam, nu, c, aux, theta, p):
    """phi = lr y."""
    return p["lr"] * _label(nu) * jnp.ones_like(lam)


def perceptron(lam, nu, c, aux, theta, p):
    """phi = lr y Theta(-y lam): a step of lr along y x on every mistake."""
    y = _label(nu)
    return p["lr"] * y * (y * lam <= 0)


def adatron(lam, nu, c, aux, theta, p):
    """phi = -lr lam Theta(-y lam): on a mistake, lr times the step that puts x on the decision boundary."""
    y = _label(nu)
    return -p["lr"] * lam * (y * lam <= 0)


def logistic_loss(lam, nu, c, aux, theta, p):
    """ln(1 + e^{-y lam}); its SGD coefficient is phi = lr y / (1 + e^{y lam})."""
    return jnp.sum(jax.nn.softplus(-_label(nu) * lam))


def hinge_loss(lam, nu, c, aux, theta, p):
    """max(0, margin - y lam); its SGD coefficient is phi = lr y Theta(margin - y lam)."""
    return jnp.sum(jax.nn.relu(p["margin"] - _label(nu) * lam))


def _orthants(state, p):
    """sqrt Q, sqrt T, rho = R / sqrt(Q T) and theta = arccos(rho) of the student and the teacher."""
    Q, R, T = state["Q"][0, 0, 0], state["S"][0, 0, 0], p["inputs"]["gram"][0][0, 0]
    q, s = jnp.sqrt(jnp.maximum(Q, 0.0)), jnp.sqrt(T)
    rho = jnp.clip(jnp.where(Q > 0, R / (jnp.maximum(q, 1e-300) * s), 0.0), -1.0, 1.0)
    return q, s, rho, jnp.arccos(rho)


def _packed(lam_moment, nu_moment, square):
    return {"phi_y": jnp.stack([lam_moment, nu_moment])[None], "phi": jnp.zeros(1),
            "phiphi": square[None, None], "psi": jnp.zeros(0)}


def hebb_moments(state, p, c):
    """E[phi lam] = lr R sqrt(2 / pi T), E[phi nu] = lr sqrt(2 T / pi), E[phi^2] = lr^2, E[phi] = 0."""
    q, s, rho, _ = _orthants(state, p)
    lr, gauss = p["lr"], math.sqrt(2 / math.pi)
    return _packed(lr * gauss * q * rho, lr * gauss * s, jnp.square(lr))


def perceptron_moments(state, p, c):
    """On the mistakes (an angle theta of the (lam, nu) plane): E[phi lam] = -lr sqrt Q (1 - rho) / sqrt(2 pi),
    E[phi nu] = lr sqrt T (1 - rho) / sqrt(2 pi), E[phi^2] = lr^2 theta / pi, E[phi] = 0."""
    q, s, rho, angle = _orthants(state, p)
    lr, half = p["lr"], (1 - rho) / math.sqrt(2 * math.pi)
    return _packed(-lr * q * half, lr * s * half, lr ** 2 * angle / jnp.pi)


def adatron_moments(state, p, c):
    """E[phi lam] = -lr Q (theta - sin theta cos theta) / pi, E[phi nu] = lr sqrt(Q T) (sin theta -
    theta cos theta) / pi, E[phi^2] = lr^2 Q (theta - sin theta cos theta) / pi, E[phi] = 0."""
    q, s, rho, angle = _orthants(state, p)
    lr, sine = p["lr"], jnp.sin(angle)
    wedge = (angle - sine * rho) / jnp.pi
    return _packed(-lr * q ** 2 * wedge, lr * q * s * (sine - angle * rho) / jnp.pi, lr ** 2 * q ** 2 * wedge)


OWEN_NODES = 48
"""Gauss-Legendre nodes of Owen's T in `hinge_moments` (its integrand is smooth on [0, arctan a])."""


def owen_t(h, a_angle):
    """Owen's T(h, a) = (1 / 2 pi) int_0^{arctan a} exp(-h^2 / (2 cos^2 u)) du, given arctan a = a_angle."""
    x, w = np.polynomial.legendre.leggauss(OWEN_NODES)
    u = (x + 1) / 2 * a_angle
    return jnp.sum(w * jnp.exp(-h ** 2 / (2 * jnp.cos(u) ** 2))) * a_angle / (4 * jnp.pi)


def hinge_moments(state, p, c):
    """The hinge rule's moments, by the odd symmetry phi(-lam, -nu) = -phi twice those on nu > 0, where
    lam | v ~ N(r v, sigma^2) for v = nu / sqrt T (r = R / sqrt T, sigma^2 = Q - r^2): with k = margin, Phi the
    normal cdf, phi_0 = 1 / sqrt(2 pi) and b = Phi(k r / (sigma sqrt Q)) phi(k / sqrt Q),
    E[phi lam] = 2 lr [r phi_0 Phi(k / sigma) - sqrt Q b],
    E[phi nu] = 2 lr sqrt T [phi_0 Phi(k / sigma) - r b / sqrt Q],
    E[phi^2] = 2 lr^2 Pr[nu > 0, lam < k] = 2 lr^2 [Phi(k / sqrt Q) / 2 - T(k / sqrt Q, r / sigma)] (Owen's T),
    E[phi] = 0. margin = 0 gives the perceptron's moments."""
    from jax.scipy.special import ndtr

    Q, R, T = state["Q"][0, 0, 0], state["S"][0, 0, 0], p["inputs"]["gram"][0][0, 0]
    q, s, k, lr = jnp.sqrt(jnp.maximum(Q, 1e-300)), jnp.sqrt(T), p["margin"], p["lr"]
    r = R / s
    sigma = jnp.sqrt(jnp.maximum(Q - r ** 2, 1e-300))
    gauss = lambda z: jnp.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    edge = ndtr(k / sigma) / math.sqrt(2 * math.pi)
    b = ndtr(k * r / (sigma * q)) * gauss(k / q)
    lam_moment = 2 * lr * (r * edge - q * b)
    nu_moment = 2 * lr * s * (edge - r * b / q)
    square = 2 * lr ** 2 * (ndtr(k / q) / 2 - owen_t(k / q, jnp.arctan2(r, sigma)))
    return _packed(lam_moment, nu_moment, square)


@functools.cache
def rule_of(name: str) -> Rule:
    """The engine's Rule for one of RULES: split on the teacher's field (y jumps at nu = 0) and, where phi jumps
    or kinks at lam = 0, on the student's."""
    if name in ("logistic", "hinge"):  # theta is empty (no readout): lr_v is never used
        loss = logistic_loss if name == "logistic" else hinge_loss
        return Rule.from_loss(loss, K=1, F=1, lr="lr", lr_v="lr", splits=(1,),
                              moments=hinge_moments if name == "hinge" else None)
    coefficient, moments = {"hebb": (hebb, hebb_moments), "perceptron": (perceptron, perceptron_moments),
                            "adatron": (adatron, adatron_moments)}[name]
    return Rule(coefficient=coefficient, K=1, F=1, splits=(1,) if name == "hebb" else (0, 1), moments=moments)


def asymptote(rule: str, lr: float = 1.0) -> tuple[float, float]:
    """(x, A) of eg ~ A t^-x as t -> infinity, from the closed-form ODEs (derived; see the module docstring);
    NaN for logistic and hinge (no closed law derived; claims_perceptron measures their exponents)."""
    return {"hebb": (0.5, 1 / math.sqrt(2 * math.pi)), "perceptron": (1 / 3, (2 / 3) ** (1 / 3) / math.pi),
            "adatron": (1.0, 3 / (lr * (3 - lr)))}.get(rule, (math.nan, math.nan))


@register
@dataclass(frozen=True, kw_only=True)
class Perceptron(LocalField):
    """A perceptron learning a sign teacher online with one of the classic rules (see the module docstring).

    **Arguments:**
    - `algorithm`: the learning rule, one of 'hebb', 'perceptron', 'adatron', 'logistic', 'hinge'.
    - `lr`: the learning rate, > 0 (for 'adatron' below 3: eg decays like 3 / (lr (3 - lr) t)).
    - `margin`: the hinge loss's margin, >= 0 (read by 'hinge' only).
    """

    algorithm: str = "perceptron"
    lr: float = 1.0
    margin: float = 1.0

    model = "perceptron"
    description = "Classic online perceptron rules (Hebb, perceptron, AdaTron, logistic, hinge) on a sign teacher"
    papers = ("Engel & Van den Broeck, Statistical Mechanics of Learning (2001), ch. 9",
              "Biehl & Riegler, Europhys. Lett. 28, 525 (1994)")
    convention = CONVENTION
    sweepable = ("algorithm", "lr", "margin")
    variables = ("R", "Q", "eg")
    variable_dims = {}
    init_names = ("R", "Q")

    def __post_init__(self):
        if self.algorithm not in RULES:
            raise ValueError(f"algorithm must be one of {', '.join(map(repr, RULES))}; got {self.algorithm!r}")
        lr = check.real("lr", self.lr, minimum=0.0, strict_minimum=True)
        if self.algorithm == "adatron" and lr >= 3:
            raise ValueError(f"lr must be a finite number in (0, 3) for the AdaTron rule (eg decays like "
                             f"3 / (lr (3 - lr) t)); got {lr:g}")
        object.__setattr__(self, "lr", lr)
        object.__setattr__(self, "margin", check.real("margin", self.margin, minimum=0.0))

    @classmethod
    def example(cls) -> "Perceptron":
        return cls(algorithm="perceptron", lr=1.0)

    def rule(self) -> Rule:
        return rule_of(self.algorithm)

    def blowup_bound(self, t_max: float) -> float:
        """Raised by (1 + lr t_max)^2: the Hebb rule's norm grows as Q ~ (2/pi) lr^2 t^2 by design."""
        return super().blowup_bound(t_max) * (1 + self.lr * t_max) ** 2

    def inputs(self, t_max: float) -> Inputs:
        return Inputs.isotropic([[1.0]])

    def parameters(self) -> dict:
        return {"lr": self.lr, "margin": self.margin, "decay": 0.0}

    def start(self, init: dict | None) -> dict:
        """R, Q of the student (default DEFAULT_START); Q >= 0 and R^2 <= Q (the teacher has norm 1)."""
        init = {**DEFAULT_START, **(init or {})}
        Q = check.real("Q", float(init["Q"]), minimum=0.0)
        R = check.real("R", float(init["R"]), minimum=-math.sqrt(Q), maximum=math.sqrt(Q))
        return {"Q": np.array([[[Q]]]), "S": np.array([[[R]]]), "theta": np.zeros(0)}

    def observe(self, state, p) -> dict:
        R, Q = state["S"][0, 0, 0], state["Q"][0, 0, 0]
        return {"R": R, "Q": Q, "eg": sign_disagreement(R, Q)}
