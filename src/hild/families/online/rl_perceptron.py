"""The RL perceptron (Patel, Lee, Sarao Mannelli, Goldt, Saxe, arXiv 2306.10404; Phys. Rev. X 15, 021051 (2025)).

A teacher f (|f|^2 = d) and a student w see an episode of T decisions on fresh inputs x_e ~ N(0, I_d).
The student acts y_e = sign(lam_e), lam_e = w . x_e / sqrt(d); decision e is right iff y_e = sign(nu_e),
nu_e = f . x_e / sqrt(d). The episode is rewarded (r = 1) iff at least n of its T decisions are right,
and one episode updates (the authors' notebook ODEs_simulations.ipynb, github.com/nishp99/RL_Perceptron)

    w <- w + (lr1 r - lr2 (1 - r)) (1 / (T sqrt d)) sum_e y_e x_e,        t = episodes / d,

lr2 >= 0 the penalty on failed episodes. Order parameters R = w . f / d, Q = |w|^2 / d, c = R / sqrt(Q),
eg = arccos(c) / pi (the error per decision). As d -> infinity, with P = 1 - eg, A = (1 + c) / sqrt(2 pi),
B = (1 - c) / sqrt(2 pi) and the binomial tails S+ = Pr[Bin(T-1, P) >= n-1], S- = Pr[Bin(T-1, P) >= n],
Pi = Pr[Bin(T, P) >= n] (derived from the notebook; ../shared/research/models.md section 6):

    dR/dt = (lr1 + lr2)(A S+ - B S-) - lr2 c sqrt(2/pi)
    dQ/dt = 2 sqrt(Q) [(lr1 + lr2)(A S+ + B S-) - lr2 sqrt(2/pi)] + [(lr1^2 - lr2^2) Pi + lr2^2] / T

These are the rule's closed-form moments (`moments_of`); the engine's cubature over the episode's 2T fields
reproduces them.
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

jnp = lazy.module("jax.numpy")
special = lazy.module("jax.scipy.special")

CONVENTION = ("w <- w + (lr1 r - lr2 (1 - r)) (1/(T sqrt d)) sum_e sign(w.x_e/sqrt d) x_e, r = 1 iff >= n of the T "
              "decisions are right; t = episodes/d (Patel et al., arXiv 2306.10404, the authors' notebook)")
DEFAULT_START = {"R": 0.0, "Q": 1.0}
"""The notebook's start: a random student of norm |w|^2 = d, uncorrelated with the teacher (c = 0)."""


def coefficient(lam, nu, c, aux, theta, p):
    """phi_e = (lr1 r - lr2 (1 - r)) y_e / T for the episode's fields lam, nu (T, 1); r = 1 iff at least
    p['n'] decisions y_e = sign(lam_e) agree with sign(nu_e)."""
    y = jnp.sign(lam)
    right = jnp.sum(y == jnp.sign(nu))
    r = right >= p["n"]
    return jnp.where(r, p["lr1"], -p["lr2"]) * y / lam.shape[0]


def binomial_tail(m: int, k, P):
    """Pr[Bin(m, P) >= k] for a static m >= 0 (k may be traced; 1 for k <= 0, 0 for k > m)."""
    j = np.arange(m + 1)
    log_pmf = (math.lgamma(m + 1) - np.array([math.lgamma(i + 1) + math.lgamma(m - i + 1) for i in j])
               + special.xlogy(j, P) + special.xlog1py(m - j, -P))
    return jnp.sum(jnp.where(j >= k, jnp.exp(log_pmf), 0.0))


@functools.cache
def moments_of(T: int):
    """The closed-form moments (state, p, c) -> dict(phi_y (1, 2), phi (1,), phiphi (1, 1), psi (0,)) of an
    episode of T decisions, summed over its inputs (module docstring): E[sum_e phi_e lam_e] = dQ/dt's drift
    over 2, E[sum_e phi_e nu_e] = dR/dt, E[sum_e phi_e^2] = [(lr1^2 - lr2^2) Pi + lr2^2] / T, E[phi] = 0 (the
    rule is odd under (lam, nu) -> -(lam, nu)). The teacher's norm is 1 (Inputs.isotropic([[1]]))."""
    def moments(state, p, c):
        Q, R = state["Q"][0, 0, 0], state["S"][0, 0, 0]
        q = jnp.sqrt(jnp.maximum(Q, 0.0))
        cos = jnp.clip(jnp.where(Q > 0, R / jnp.maximum(q, 1e-300), 0.0), -1.0, 1.0)
        P = 1 - jnp.arccos(cos) / jnp.pi
        n, lr1, lr2 = p["n"], p["lr1"], p["lr2"]
        A, B = (1 + cos) / math.sqrt(2 * math.pi), (1 - cos) / math.sqrt(2 * math.pi)
        plus, minus = binomial_tail(T - 1, n - 1, P), binomial_tail(T - 1, n, P)
        rewarded = binomial_tail(T, n, P)
        gauss = math.sqrt(2 / math.pi)
        lam = q * ((lr1 + lr2) * (A * plus + B * minus) - lr2 * gauss)
        nu = (lr1 + lr2) * (A * plus - B * minus) - lr2 * cos * gauss
        square = ((lr1 ** 2 - lr2 ** 2) * rewarded + lr2 ** 2) / T
        return {"phi_y": jnp.stack([lam, nu])[None], "phi": jnp.zeros(1), "phiphi": square[None, None],
                "psi": jnp.zeros(0)}
    return moments


@functools.cache
def rule_of(T: int) -> Rule:
    """The engine's Rule of episodes of T decisions (one per T, so compiled code is shared): both fields of
    every input split at 0 (y = sign(lam), correctness sign(lam) = sign(nu))."""
    return Rule(coefficient=coefficient, K=1, F=1, episode=T, splits=(0, 1), moments=moments_of(T))


@register
@dataclass(frozen=True, kw_only=True)
class RLPerceptron(LocalField):
    """The RL perceptron: episodes of T sign decisions, rewarded iff at least n are right (module docstring).

    **Arguments:**
    - `T`: decisions per episode, an integer >= 1.
    - `n`: the stringency, an integer in [1, T] (n = T: all-or-nothing reward).
    - `lr1`: the learning rate on rewarded episodes, > 0.
    - `lr2`: the penalty on failed episodes, >= 0.

    **Variables:** R = w . f / d, Q = |w|^2 / d, c = R / sqrt(Q), eg = arccos(c) / pi. `init` takes R and Q
    (default R = 0, Q = 1).
    """

    T: int
    n: int
    lr1: float
    lr2: float = 0.0

    model = "rl_perceptron"
    description = "The RL perceptron: n-of-T rewarded episodes of sign decisions, with a penalty on failures"
    papers = ("2306.10404",)
    convention = CONVENTION
    sweepable = ("T", "n", "lr1", "lr2")
    variables = ("R", "Q", "c", "eg")
    variable_dims = {}
    init_names = ("R", "Q")

    def __post_init__(self):
        T = check.integer("T", self.T, 1)
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or not 1 <= self.n <= T:
            raise ValueError(f"n must be an integer in [1, T] = [1, {T}]; got {self.n!r}")
        object.__setattr__(self, "T", T)
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "lr1", check.real("lr1", self.lr1, minimum=0.0, strict_minimum=True))
        object.__setattr__(self, "lr2", check.real("lr2", self.lr2, minimum=0.0))

    @classmethod
    def example(cls) -> "RLPerceptron":
        """All-or-nothing episodes of T = 3 decisions, lr1 = 1, no penalty."""
        return cls(T=3, n=3, lr1=1.0)

    def rule(self) -> Rule:
        return rule_of(self.T)

    def inputs(self, t_max: float) -> Inputs:
        return Inputs.isotropic([[1.0]])

    def parameters(self) -> dict:
        return {"n": float(self.n), "lr1": self.lr1, "lr2": self.lr2, "decay": 0.0}

    def start(self, init: dict | None) -> dict:
        """R, Q of the student (default DEFAULT_START); Q > 0 and R^2 <= Q (the teacher has norm 1)."""
        init = {**DEFAULT_START, **(init or {})}
        Q = check.real("Q", float(init["Q"]), minimum=0.0, strict_minimum=True)
        R = check.real("R", float(init["R"]), minimum=-math.sqrt(Q), maximum=math.sqrt(Q))
        return {"Q": np.array([[[Q]]]), "S": np.array([[[R]]]), "theta": np.zeros(0)}

    def blowup_bound(self, t_max: float) -> float:
        """The engine's divergence bound raised by (1 + (lr1 + lr2) t_max)^2: without weight decay |w| grows
        linearly in t (d sqrt(Q)/dt <= (lr1 + lr2) sqrt(2/pi) + O(1/sqrt Q)), so Q ~ t^2 is no divergence
        (Q(400) = 7e4 at T = 8, n = 6)."""
        return super().blowup_bound(t_max) * (1 + (self.lr1 + self.lr2) * t_max) ** 2

    def observe(self, state, p) -> dict:
        """R, Q, c = R / sqrt(Q) (clipped to [-1, 1]) and eg = arccos(c) / pi."""
        R, Q = state["S"][0, 0, 0], state["Q"][0, 0, 0]
        c = jnp.clip(R / jnp.sqrt(Q), -1.0, 1.0)
        return {"R": R, "Q": Q, "c": c, "eg": sign_disagreement(R, Q)}
