"""Online label attacks on a linear learner: a constant attack pulls the labels towards a target teacher.

Margiotta, Goldt & Sanguinetti, arXiv 2305.11132, in the linear version of hild's models.md section 7.
A clean teacher f_0 and a target teacher f_1 (|f_j|^2 = d, overlap f_0 . f_1 / d = rho_t; rho_t = -1 is
label flipping) see x ~ N(0, I_d); the clean label is y = nu_0 + noise eps, the attacker replaces it by

    y_att = (1 - a) y + a nu_1,        a in [0, 1] the constant attack strength,

and the student lam = w . x / sqrt(d) learns y_att by online SGD on the squared error:

    w <- w + (lr / sqrt d) (y_att - lam) x,        t = steps / d.

Order parameters R = w . f_0 / d, S = w . f_1 / d, Q = |w|^2 / d obey (exact as d -> infinity)

    dR/dt = lr [(1 - a) + a rho_t - R],        dS/dt = lr [(1 - a) rho_t + a - S],
    dQ/dt = 2 lr [(1 - a) R + a S - Q] + lr^2 E[(y_att - lam)^2],

and the clean accuracy (sign agreement with f_0) is 1 - arccos(R / sqrt Q) / pi. For 0 < lr < 2 they
relax to `steady_state`; without noise the student becomes (1 - a) f_0 + a f_1, so under label
flipping the accuracy jumps from 1 to 0 at a = 1/2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hild.core import lazy, register
from hild.core import validation as check
from hild.core.gaussian import sign_disagreement
from hild.families.online.drift import field_statistics
from hild.families.online.inputs import Inputs
from hild.families.online.local_field import LocalField
from hild.families.online.rule import Rule

jnp = lazy.module("jax.numpy")

CONVENTION = ("w <- w + (lr/sqrt d)(y_att - w.x/sqrt d) x, y_att = (1 - a)(nu_0 + noise eps) + a nu_1; t = steps/d "
              "(linear learner of Margiotta, Goldt & Sanguinetti, arXiv 2305.11132; the paper's parameterisation "
              "unverified)")


def attacked(lam, nu, c, aux, theta, p):
    """phi = lr (y_att - lam), y_att = (1 - a)(nu_0 + noise eps) + a nu_1 (eps = aux[0])."""
    y = (1 - p["a"]) * (nu[:, :1] + p["noise"] * aux[0]) + p["a"] * nu[:, 1:2]
    return p["lr"] * (y - lam)


def attacked_moments(state, p, c):
    """The closed-form moments of `attacked`: with y_att - lam = g . Y + (1 - a) noise eps, g = (-1, 1 - a, a),
    phi_y = lr Sigma g and phiphi = lr^2 (g^T Sigma g + (1 - a)^2 noise^2), Sigma the fields' covariance."""
    _, cov, _, _ = field_statistics(state, p["inputs"], c)
    g = jnp.stack([-jnp.ones_like(p["a"]), 1 - p["a"], p["a"]])
    square = g @ cov @ g + ((1 - p["a"]) * p["noise"]) ** 2
    return {"phi_y": p["lr"] * (cov @ g)[None], "phi": jnp.zeros(1), "phiphi": (p["lr"] ** 2 * square)[None, None],
            "psi": jnp.zeros(0)}


def steady_state(a, rho_t, lr, noise=0.0) -> dict:
    """The fixed point of the ODEs (module docstring), attracting for 0 < lr < 2:

        R = (1 - a) + a rho_t,   S = (1 - a) rho_t + a,   Q = P + lr (1 - a)^2 noise^2 / (2 - lr),

    P = (1 - a)^2 + a^2 + 2 a (1 - a) rho_t = |(1 - a) f_0 + a f_1|^2 / d. Broadcasts over its arguments.

    **Returns:** dict R, S, Q, accuracy (NumPy arrays).
    """
    a, rho_t, lr, noise = (np.asarray(v, float) for v in (a, rho_t, lr, noise))
    P = (1 - a) ** 2 + a ** 2 + 2 * a * (1 - a) * rho_t
    R, S = (1 - a) + a * rho_t, (1 - a) * rho_t + a
    Q = P + lr * (1 - a) ** 2 * noise ** 2 / (2 - lr)
    return {"R": R, "S": S, "Q": Q, "accuracy": 1 - sign_disagreement(R, Q, xp=np)}


def optimal_attack(C, rho_t, lr=1.0, noise=0.0):
    """The constant attack that minimises the attacker's steady-state cost

        G(a) = C a^2 / 2 + |w_inf - f_1|^2 / (2 d) = C a^2 / 2 + (1 - a)^2 [(1 - rho_t) + g / 2],

    g = lr noise^2 / (2 - lr) (the steady fluctuation of w), C > 0 the weight of the action cost:

        a* = (2 (1 - rho_t) + g) / (2 (1 - rho_t) + g + C),

    a* = 2 (1 - rho_t) / (2 (1 - rho_t) + C) without noise (models.md section 7). Broadcasts.
    """
    C, rho_t, lr, noise = (np.asarray(v, float) for v in (C, rho_t, lr, noise))
    pull = 2 * (1 - rho_t) + lr * noise ** 2 / (2 - lr)
    return pull / (pull + C)


@register
@dataclass(frozen=True, kw_only=True)
class LabelAttack(LocalField):
    """A linear student learning online from labels under a constant attack (see the module docstring).

    **Arguments:**
    - `a`: the attack strength, in [0, 1] (0: clean labels, 1: the target's labels).
    - `rho_t`: the overlap of the target teacher with the clean one, in [-1, 1] (-1: label flipping).
    - `lr`: the learning rate, in (0, 2): the fluctuations of w relax at rate lr (2 - lr), so for lr >= 2
      there is no steady state and |w| grows without bound.
    - `noise`: the standard deviation of the clean labels' noise, >= 0.
    """

    a: float
    rho_t: float
    lr: float
    noise: float = 0.0

    model = "label_attack"
    description = "Online label attacks on a linear learner"
    papers = ("2305.11132",)
    convention = CONVENTION
    sweepable = ("a", "rho_t", "lr", "noise")
    variables = ("R", "S", "Q", "accuracy")
    variable_dims = {}
    init_names = ("R", "S", "Q")

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        set_("a", check.real("a", self.a, minimum=0.0, maximum=1.0))
        set_("rho_t", check.real("rho_t", self.rho_t, minimum=-1.0, maximum=1.0))
        lr = check.real("lr", self.lr, minimum=0.0, strict_minimum=True)
        if lr >= 2:
            raise ValueError(f"lr must be a finite number in (0, 2) (the steady state needs 0 < lr < 2); got {lr:g}")
        set_("lr", lr)
        set_("noise", check.real("noise", self.noise, minimum=0.0))

    @classmethod
    def example(cls) -> "LabelAttack":
        """The ODE-vs-simulation point of models.md section 7."""
        return cls(a=0.3, rho_t=0.2, lr=0.5, noise=0.5)

    def rule(self) -> Rule:
        return Rule(coefficient=attacked, K=1, F=2, n_aux=1, moments=attacked_moments)

    def inputs(self, t_max: float) -> Inputs:
        return Inputs.isotropic([[1.0, self.rho_t], [self.rho_t, 1.0]])

    def parameters(self) -> dict:
        return {"a": self.a, "lr": self.lr, "noise": self.noise, "decay": 0.0}

    def start(self, init: dict | None) -> dict:
        """The student's overlaps R, S, Q (default 0: the student starts at w = 0, as in models.md section 7); with
        the teachers' they must form a Gram matrix (positive semi-definite)."""
        init = {"R": 0.0, "S": 0.0, "Q": 0.0, **(init or {})}
        R, S, Q = (check.real(k, init[k]) for k in ("R", "S", "Q"))
        check.covariance("init (the Gram matrix of w, f_0, f_1)",
                         [[Q, R, S], [R, 1.0, self.rho_t], [S, self.rho_t, 1.0]], 3)
        return {"Q": np.array([[[Q]]]), "S": np.array([[[R, S]]]), "theta": np.zeros(0)}

    def observe(self, state, p) -> dict:
        R, S, Q = state["S"][0, 0, 0], state["S"][0, 0, 1], state["Q"][0, 0, 0]
        return {"R": R, "S": S, "Q": Q, "accuracy": 1 - sign_disagreement(R, Q)}

    def steady_state(self) -> dict:
        """The fixed point of this scenario's ODEs (module function `steady_state`)."""
        return steady_state(self.a, self.rho_t, self.lr, self.noise)
