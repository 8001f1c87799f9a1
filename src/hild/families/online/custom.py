"""A user's own online rule: a loss (or an update coefficient) of the local fields, and hild does the rest.

    import jax.numpy as jnp
    from hild.online import OnlineRule
    logistic = lambda lam, nu, c, aux, theta, p: jnp.sum(jnp.log1p(jnp.exp(-jnp.sign(nu[:, 0]) * lam[:, 0])))
    s = OnlineRule(loss=logistic, lr=1.0, splits=(1,))
    hild.compare(s.theory(t_max=20), s.simulate(d=1000, seeds=4, t_max=20))

K students learn from M teachers of Gram T on inputs x ~ N(0, I_d); the update is
w_k <- w_k - (lr / sqrt d) dloss/dlam_k x (or + (1/sqrt d) coefficient x), and the ODEs of Q and R
come from the local-field engine (hild.families.online.drift) by cubature.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from hild.core import Blowup, lazy
from hild.core import validation as check
from hild.families.online.local_field import LocalField

jnp = lazy.module("jax.numpy")


@dataclass(frozen=True, kw_only=True)
class OnlineRule(LocalField):
    """Online learning with a user's rule (see the module docstring).

    **Arguments:**
    - `loss`: loss(lam (E, K), nu (E, M), c, aux, theta, p) -> scalar, whose gradient in lam gives the
      update (phi = -lr dloss/dlam), or
    - `coefficient`: (same arguments) -> phi (E, K), the update's coefficient itself (lr not applied).
    - `K`, `M`: students and teachers; `T`: the teachers' Gram (M, M), identity by default.
    - `lr`: the learning rate (p["lr"]); `decay`: weight decay, w <- w - (decay/d) w per step.
    - `splits`: field indices (lam_0 .. lam_{K-1}, nu_0 .. nu_{M-1}) where the rule jumps at zero.
    - `n_aux`: standard normals per step passed as aux (label noise ...); `episode`: inputs per step.
    - `error`: None, or error(lam (K,), nu (M,), p) -> scalar, averaged over a fresh input into `eg`.

    Results have Q (k, k2), R (k, m) (and eg); `init` takes Q and R (default Q = I, R = 0).
    """

    loss: Callable | None = None
    coefficient: Callable | None = None
    K: int = 1
    M: int = 1
    T: Any = None
    lr: float = 0.5
    decay: float = 0.0
    splits: tuple = ()
    n_aux: int = 0
    episode: int = 1
    error: Callable | None = None

    model = "online_rule"
    description = "A user's online learning rule on the local-field engine"
    convention = "w <- w + (1/sqrt d) phi x - (decay/d) w, phi = -lr dloss/dlam; t = steps/d"
    init_names = ("Q", "R")
    divergence = Blowup(("Q", "R"), np.inf)
    variable_dims = {"Q": ("k", "k2"), "R": ("k", "m")}

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        if (self.loss is None) == (self.coefficient is None):
            raise ValueError("loss, coefficient: give exactly one of them")
        for name in ("K", "M", "episode"):
            set_(name, check.integer(name, getattr(self, name), 1))
        set_("n_aux", check.integer("n_aux", self.n_aux, 0))
        set_("lr", check.real("lr", self.lr, minimum=0.0, strict_minimum=True))
        set_("decay", check.real("decay", self.decay, minimum=0.0))
        T = np.eye(self.M) if self.T is None else check.covariance("T", self.T, self.M)
        set_("T", tuple(map(tuple, T.tolist())))
        set_("splits", tuple(int(i) for i in self.splits))
        self.rule()  # validates splits

    @property
    def variables(self):
        return ("Q", "R") + (("eg",) if self.error is not None else ())

    @classmethod
    def example(cls) -> "OnlineRule":
        """The logistic perceptron learning a sign teacher."""
        return cls(loss=_logistic, lr=1.0, splits=(1,), error=_disagree)

    def rule(self):
        from hild.families.online.rule import Rule

        options = dict(K=self.K, F=self.M, episode=self.episode, n_aux=self.n_aux, splits=self.splits)
        if self.loss is not None:
            return Rule.from_loss(self.loss, **options)
        return Rule(coefficient=self.coefficient, **options)

    def inputs(self, t_max: float):
        from hild.families.online.inputs import Inputs

        return Inputs.isotropic(np.array(self.T))

    def parameters(self) -> dict:
        return {"lr": self.lr, "lr_v": 0.0, "decay": self.decay}

    def start(self, init: dict | None) -> dict:
        init = init or {}
        Q = np.asarray(init.get("Q", np.eye(self.K)), float).reshape(self.K, self.K)
        R = np.asarray(init.get("R", np.zeros((self.K, self.M))), float).reshape(self.K, self.M)
        check.covariance("init Q", Q, self.K)
        return {"Q": Q[None], "S": R[None], "theta": np.zeros(0)}

    def observe(self, state, p) -> dict:
        out = {"Q": state["Q"][0], "R": state["S"][0]}
        if self.error is not None:
            from hild.core.gaussian import expect
            from hild.families.online import drift

            mean, cov, _, _ = drift.field_statistics(state, p["inputs"], 0)
            n = self.K + self.M
            splits = tuple(range(n)) if n <= 3 else self.splits
            f = lambda y: self.error(y[:self.K], y[self.K:], p)  # noqa: E731
            out["eg"] = expect(f, mean, cov, splits, 24 if n <= 3 else 8)
        return out


def _logistic(lam, nu, c, aux, theta, p):
    """log(1 + exp(-y lam)) with the sign teacher y = sign(nu)."""
    return jnp.sum(jnp.logaddexp(0.0, -jnp.sign(nu[:, 0]) * lam[:, 0]))


def _disagree(lam, nu, p):
    """1 where the student's sign differs from the teacher's."""
    return (jnp.sign(lam[0]) != jnp.sign(nu[0])).astype(lam.dtype)
