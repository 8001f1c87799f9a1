"""Curriculum learning of a sparse teacher: easy and hard examples of an online logistic perceptron.

Saglietti, Sarao Mannelli & Saxe, arXiv 2106.08068. The input x in R^d splits into rho d relevant
coordinates x_1 ~ N(0, I) and (1 - rho) d irrelevant ones x_2 ~ N(0, Delta I), where the example's
difficulty Delta is delta_easy or delta_hard. The teacher w* lives on the relevant block
(|w*|^2 = d) and labels y = sign(w* . x_1 / sqrt d). The student field is
h = (w_1 . x_1 + w_2 . x_2) / sqrt d, trained online on the logistic loss ln(1 + e^{-y h}) with an
L2 penalty:

    w <- w + (lr / sqrt d) y x / (1 + e^{y h}) - (lr weight_decay / d) w,        t = steps / d.

Order parameters R = w_1 . w* / d, Q1 = |w_1|^2 / d, Q2 = |w_2|^2 / d; the test error at difficulty
Delta is arccos(R / sqrt(Q1 + Delta Q2)) / pi. A protocol orders the difficulties over t_max with
easy fraction f: "curriculum" easy for t < f t_max then hard, "anti" hard for t < (1 - f) t_max
then easy, "random" the mixture with fraction f of easy examples throughout. The ODEs are the local-field
engine's (hild.families.online.local_field), their expectations by cubature split on the teacher field:
there is no closed form for the logistic coefficient.
"""
from __future__ import annotations

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

PROTOCOLS = ("curriculum", "anti", "random")
CONVENTION = ("w <- w + (lr/sqrt d) y x / (1 + exp(y h)) - (lr weight_decay/d) w, y = sign(w* . x_rel/sqrt d); "
              "t = steps/d (Saglietti, Sarao Mannelli & Saxe, arXiv 2106.08068; the paper's normalisation unverified)")
DEFAULT_START = {"R": 0.0, "Q1": 0.01, "Q2": 0.01}
"""The start of models.md section 8 (a small random student)."""


def logistic(lam, nu, c, aux, theta, p):
    """phi = lr y / (1 + e^{y lam}), y = sign(nu): the negative logistic-loss gradient, times lr."""
    y = jnp.sign(nu[:, :1])
    return p["lr"] * y * jax.nn.sigmoid(-y * lam)


@register
@dataclass(frozen=True, kw_only=True)
class Curriculum(LocalField):
    """An online logistic perceptron on a sparse teacher, with easy and hard examples (see the module docstring).

    **Arguments:**
    - `rho`: the fraction of relevant coordinates, in (0, 1).
    - `delta_easy`, `delta_hard`: the variance of the irrelevant coordinates in easy and hard examples, >= 0.
    - `lr`: the learning rate, > 0.
    - `weight_decay`: the L2 penalty lambda (decay lr lambda / d per step), >= 0.
    - `protocol`: "curriculum", "anti" or "random".
    - `easy_fraction`: the fraction f of easy examples, in [0, 1].
    """

    rho: float
    delta_easy: float
    delta_hard: float
    lr: float
    weight_decay: float = 0.0
    protocol: str
    easy_fraction: float = 0.5

    model = "curriculum"
    description = "Curriculum learning: an online logistic perceptron on easy and hard examples"
    papers = ("2106.08068",)
    convention = CONVENTION
    sweepable = ("rho", "delta_easy", "delta_hard", "lr", "weight_decay", "protocol", "easy_fraction")
    variables = ("R", "Q1", "Q2", "eg_easy", "eg_hard")
    init_names = ("R", "Q1", "Q2")

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        set_("rho", check.real("rho", self.rho, minimum=0.0, maximum=1.0, strict_minimum=True))
        if self.rho >= 1.0:
            raise ValueError(f"rho must be a finite number in (0, 1); got {self.rho:g}")
        for name in ("delta_easy", "delta_hard", "weight_decay"):
            set_(name, check.real(name, getattr(self, name), minimum=0.0))
        set_("lr", check.real("lr", self.lr, minimum=0.0, strict_minimum=True))
        set_("easy_fraction", check.real("easy_fraction", self.easy_fraction, minimum=0.0, maximum=1.0))
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(map(repr, PROTOCOLS))}; got {self.protocol!r}")

    @classmethod
    def example(cls) -> "Curriculum":
        """The setting of models.md section 8: rho 0.25, difficulties 0.1 and 2, lr 1, half the examples easy."""
        return cls(rho=0.25, delta_easy=0.1, delta_hard=2.0, lr=1.0, protocol="curriculum")

    def rule(self) -> Rule:
        """The logistic coefficient on one student field and the teacher field, split at the teacher's zero."""
        return Rule(coefficient=logistic, K=1, F=1, splits=(1,))

    def inputs(self, t_max: float) -> Inputs:
        """Two blocks (relevant, irrelevant), two components (easy, hard) with variances [[1, delta_easy],
        [1, delta_hard]], the teacher on the relevant block, the component probabilities of the protocol."""
        f = self.easy_fraction
        easy, hard = (1.0, 0.0), (0.0, 1.0)
        if self.protocol == "random":  # two equal rows: every protocol has the same shapes (one compiled ODE)
            probs, breaks = ((f, 1.0 - f),) * 2, (0.5 * t_max,)
        elif self.protocol == "curriculum":
            probs, breaks = (easy, hard), (f * t_max,)
        else:
            probs, breaks = (hard, easy), ((1.0 - f) * t_max,)
        return Inputs(fractions=(self.rho, 1.0 - self.rho), variances=((1.0, self.delta_easy), (1.0, self.delta_hard)),
                      gram=(((1.0,),), ((0.0,),)), means=((0.0,), (0.0,)), probs=probs, breaks=breaks)

    def parameters(self) -> dict:
        return {"lr": self.lr, "decay": self.lr * self.weight_decay, "delta_easy": self.delta_easy,
                "delta_hard": self.delta_hard}

    def start(self, init: dict | None) -> dict:
        """The engine state of overlaps R, Q1, Q2 (default: R = 0, Q1 = Q2 = 0.01); R^2 <= Q1 (the teacher's
        relevant norm is 1)."""
        init = {**DEFAULT_START, **(init or {})}
        R = check.real("R", float(np.asarray(init["R"])))
        Q1 = check.real("Q1", float(np.asarray(init["Q1"])), minimum=0.0)
        Q2 = check.real("Q2", float(np.asarray(init["Q2"])), minimum=0.0)
        if R * R > Q1 * (1 + 1e-12):
            raise ValueError(f"R must satisfy R^2 <= Q1 (Cauchy-Schwarz, |w*_rel|^2 / d = 1); got R = {R:g}, Q1 = {Q1:g}")
        return {"Q": np.array([[[Q1]], [[Q2]]]), "S": np.array([[[R]], [[0.0]]]), "theta": np.zeros(0)}

    def observe(self, state, p) -> dict:
        """R, Q1, Q2 and the test errors at both difficulties (hild.core.gaussian.sign_disagreement)."""
        R, Q1, Q2 = state["S"][0, 0, 0], state["Q"][0, 0, 0], state["Q"][1, 0, 0]
        return {"R": R, "Q1": Q1, "Q2": Q2, "eg_easy": sign_disagreement(R, Q1 + p["delta_easy"] * Q2),
                "eg_hard": sign_disagreement(R, Q1 + p["delta_hard"] * Q2)}
