"""Learning rules of the local-field engine: the coefficient of the input in each student update.

A step of online learning sees E inputs x_e (E = 1, or the T decisions of an RL episode) and updates

    w_k <- w_k + (1/sqrt d) sum_e phi_{e,k} x_e - (decay/d) w_k,        theta <- theta + psi / d,

where phi (E, K) and psi (P,) are functions of the local fields of the step's inputs only:
lam (E, K) = w . x / sqrt(d) of the students, nu (E, F) = f . x / sqrt(d) of the fixed vectors
(teachers, cluster means), the mixture component c, auxiliary standard normals aux (A,) (label
noise) and the O(1) readout parameters theta (a second layer). phi carries the learning rate. This
is the skeleton of every model of online learning in the teacher-student literature (Saad & Solla
1995; Biehl & Schwarze 1995; Engel & Van den Broeck 2001, ch. 9), and what makes its overlaps obey
closed ODEs as d -> infinity (hild.families.online.drift).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")


@dataclass(frozen=True)
class Rule:
    """An online learning rule, phi = coefficient(lam, nu, c, aux, theta, p) (see the module docstring).

    **Arguments:**
    - `coefficient`: (lam (E, K), nu (E, F), c, aux (A,), theta (P,), p) -> phi (E, K), pure JAX.
    - `K`, `F`: student and fixed vectors.
    - `episode`: E, the inputs seen per step (1 unless an episode of decisions).
    - `n_aux`: A, the auxiliary standard normals per step (e.g. 1 for additive label noise).
    - `readout`: None, or (same arguments) -> psi (P,), the drift of theta.
    - `splits`: indices into one input's fields (lam_0 .. lam_{K-1}, nu_0 .. nu_{F-1}) at whose zero
      phi (or psi) jumps, e.g. a sign teacher; the cubature integrates each side separately.
    - `moments`: None, or the closed-form fast path (state, p, c) -> dict(phi_y, phi, phiphi, psi), the
      moments in mixture component c (a traced integer) with the shapes of
      `hild.families.online.moments.cubature`; the automatic path (the cubature) checks it.
    """

    coefficient: Callable
    K: int
    F: int
    episode: int = 1
    n_aux: int = 0
    readout: Callable | None = None
    splits: tuple[int, ...] = ()
    moments: Callable | None = None

    def __post_init__(self):
        n = self.K + self.F
        for name in ("K", "F", "episode"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < (0 if name == "F" else 1):
                raise ValueError(f"{name} must be a positive integer; got {getattr(self, name)!r}")
        if not isinstance(self.n_aux, int) or self.n_aux < 0:
            raise ValueError(f"n_aux must be an integer >= 0; got {self.n_aux!r}")
        if any(not isinstance(i, int) or not 0 <= i < n for i in self.splits) or len(set(self.splits)) < len(self.splits):
            raise ValueError(f"splits must be distinct field indices in [0, {n}); got {self.splits!r}")

    @classmethod
    def from_loss(cls, loss: Callable, K: int, F: int, lr: str = "lr", lr_v: str = "lr_v", **options) -> "Rule":
        """The SGD rule of a per-sample loss(lam, nu, c, aux, theta, p) -> scalar (summed over the episode):
        phi = -p[lr] dloss/dlam and psi = -p[lr_v] dloss/dtheta, both by jax.grad. With the fields
        lam = w . x / sqrt(d), this is w <- w - p[lr] dloss/dw and theta <- theta - (p[lr_v] / d) dloss/dtheta.
        `options` are the other fields of Rule (episode, n_aux, splits, moments). The same arguments give the
        same Rule object, so that its compiled ODEs and simulations are reused."""
        return _loss_rule(cls, loss, K, F, lr, lr_v, tuple(sorted(options.items())))


@functools.cache
def _loss_rule(cls, loss, K, F, lr, lr_v, options) -> Rule:
    def coefficient(lam, nu, c, aux, theta, p):
        return -p[lr] * jax.grad(loss)(lam, nu, c, aux, theta, p)

    def readout(lam, nu, c, aux, theta, p):
        return -p[lr_v] * jax.grad(loss, argnums=4)(lam, nu, c, aux, theta, p)

    return cls(coefficient=coefficient, K=K, F=F, readout=readout, **dict(options))
