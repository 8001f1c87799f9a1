"""The soft committee machine scenario: teacher y = v* . g(W* x / sqrt d) + sigma zeta, student v . g(W x / sqrt d).

Online SGD on the squared error, one fresh Gaussian input per step (Saad & Solla 1995; Goldt et al.,
arXiv 1906.08632), with the learning-rate convention of 1906.08632:

    w_k <- w_k + (lr / sqrt d) v_k g'(lambda_k) Delta x - (weight_decay / d) w_k
    v_k <- v_k + (lr_v / d) g(lambda_k) Delta

and time t = steps / d. lr_v = 0 keeps the second layer fixed (the Saad-Solla machine when v = 1).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from hild.core import validation as check
from hild.core.gaussian import ACTIVATIONS, Activation, activation as make_activation

LR_CONVENTION = ("w <- w + (lr/sqrt d) v g'(lambda) Delta x - (weight_decay/d) w; "
                 "v <- v + (lr_v/d) g(lambda) Delta; t = steps/d (Goldt et al., arXiv 1906.08632)")


@dataclass(frozen=True, kw_only=True)
class Committee:
    """A teacher-student soft committee machine trained by online SGD.

    K, M: student and teacher hidden units. activation: 'erf' (g = erf(x/sqrt 2)), 'relu', 'linear'
    or an elementwise JAX function. lr, lr_v: first- and second-layer learning rates (lr_v = 0 fixes
    the second layer). noise: std of the label noise sigma. weight_decay: kappa. v_teacher, T: teacher
    second layer (ones) and overlaps W* W*^T / d (identity). v: the student's initial second layer
    (ones). init_std: std of the student's initial weights (w ~ N(0, init_std^2 I)).
    """

    K: int
    M: int
    activation: str | Callable = "erf"
    lr: float
    lr_v: float = 0.0
    noise: float = 0.0
    weight_decay: float = 0.0
    v_teacher: Any = None
    T: Any = None
    v: Any = None
    init_std: float = 1e-3
    act: Activation = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        set_("K", check.integer("K", self.K, 1))
        set_("M", check.integer("M", self.M, 1))
        if isinstance(self.activation, str) and self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))} or a JAX function; "
                             f"got {self.activation!r}")
        set_("act", make_activation(self.activation))
        for name in ("lr", "lr_v", "noise", "weight_decay", "init_std"):
            set_(name, check.real(name, getattr(self, name), minimum=0.0))
        vt = np.ones(self.M) if self.v_teacher is None else check.vector("v_teacher", self.v_teacher, self.M)
        T = np.eye(self.M) if self.T is None else check.covariance("T", self.T, self.M)
        v = np.ones(self.K) if self.v is None else check.vector("v", self.v, self.K)
        set_("v_teacher", tuple(vt.tolist()))
        set_("T", tuple(map(tuple, T.tolist())))
        set_("v", tuple(v.tolist()))

    @property
    def params(self) -> dict:
        """All parameters as plain JSON-able values."""
        return {"K": self.K, "M": self.M, "activation": self.act.name, "lr": self.lr, "lr_v": self.lr_v,
                "noise": self.noise, "weight_decay": self.weight_decay, "v_teacher": list(self.v_teacher),
                "T": [list(r) for r in self.T], "v": list(self.v), "init_std": self.init_std}

    def attrs(self, kind: str) -> dict:
        from hild import __version__
        return {"model": "committee", "kind": kind, "params": json.dumps(self.params),
                "hild_version": __version__, "lr_convention": LR_CONVENTION}

    def initial_overlaps(self) -> dict:
        """The d -> infinity overlaps of a random start: Q = init_std^2 I, R = 0, the scenario's v and teacher."""
        return {"Q": self.init_std ** 2 * np.eye(self.K), "R": np.zeros((self.K, self.M)),
                "T": np.array(self.T), "v": np.array(self.v), "v_teacher": np.array(self.v_teacher)}

    def theory(self, t_max: float, init=None, n_points: int = 301, rtol: float = 1e-8, atol: float = 1e-11):
        """Integrate the order-parameter ODEs to t_max (see hild.online.ode).

        init: None (the random-start limit, `initial_overlaps`), a dict with Q, R and optionally v, T,
        v_teacher (these override the scenario's teacher), or a simulation Dataset, whose every
        seed's initial overlaps start one ODE (the result then has a `seed` dimension).
        """
        from hild.families.online.theory import theory
        return theory(self, t_max=t_max, init=init, n_points=n_points, rtol=rtol, atol=atol)

    def simulate(self, d: int, seeds: int = 1, t_max: float = 10.0, seed: int = 0, n_points: int = 101,
                 init=None, n_test: int = 0, dtype: str = "float32", progress: bool = False):
        """Run online SGD at input dimension d for `seeds` repetitions (integer seeds seed, seed+1, ...).

        init: None (random student weights w ~ N(0, init_std^2 I)) or a dict of overlaps Q, R (and
        optionally T, v, v_teacher) that the initial weights then have exactly. n_test > 0 adds
        `eg_test`, the error on a held-out set of that many inputs. See hild.online.simulate.
        """
        from hild.families.online.simulate import simulate
        return simulate(self, d=d, seeds=seeds, t_max=t_max, seed=seed, n_points=n_points, init=init,
                        n_test=n_test, dtype=dtype, progress=progress)
