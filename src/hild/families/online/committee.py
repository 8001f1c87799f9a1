"""The soft committee machine scenario: teacher y = v* . g(W* x / sqrt d) + sigma zeta, student v . g(W x / sqrt d).

Online SGD on the squared error, one fresh Gaussian input per step (Saad & Solla 1995; Goldt et al.,
arXiv 1906.08632), with the learning-rate convention of 1906.08632:

    w_k <- w_k + (lr / sqrt d) v_k g'(lambda_k) Delta x - (weight_decay / d) w_k
    v_k <- v_k + (lr_v / d) g(lambda_k) Delta

and time t = steps / d. lr_v = 0 keeps the second layer fixed (the Saad-Solla machine when v = 1).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from hild.core import Blowup, Scenario, lazy, register
from hild.core import validation as check
from hild.core.gaussian import ACTIVATIONS, Activation, activation as make_activation
from hild.core.resources import Need, array

xr = lazy.module("xarray")

LR_CONVENTION = ("w <- w + (lr/sqrt d) v g'(lambda) Delta x - (weight_decay/d) w; "
                 "v <- v + (lr_v/d) g(lambda) Delta; t = steps/d (Goldt et al., arXiv 1906.08632)")
STEPS_PER_LR = 0.05
"""A lower bound on the ODE solver's steps per unit time and unit learning rate (see Committee.check_theory)."""
BLOWUP = 100.0
"""A run diverges once a squared norm Q_ii exceeds BLOWUP x norm_scale (see `norm_scale`)."""


def norm_scale(T, Q0) -> np.ndarray:
    """max(1, max_n T_nn, max_i Q_ii(0)): the scale of a run's squared norms, for T (..., M, M) and Q0 (..., K, K)."""
    diag = lambda A: np.nanmax(np.diagonal(np.asarray(A), axis1=-2, axis2=-1), -1)  # noqa: E731
    return np.maximum(1.0, np.maximum(diag(T), diag(Q0)))


def _scale_of(ds: xr.Dataset) -> xr.DataArray:
    """max(1, T_nn, Q_ii(0)) of each run of a result"""
    dims = [d for d in ("seed", "scenario") if d in ds["T"].dims]
    return xr.DataArray(norm_scale(ds["T"].values, ds["Q"].isel(t=0).values), dims=dims)


def _coefficient(act: Activation, lam, nu, c, aux, theta, p):
    """phi_k = lr v_k g'(lambda_k) Delta, Delta = v* . g(nu) - v . g(lambda) + sigma zeta (masked units frozen)."""
    delta = act.g(nu) @ p["v_teacher"] - act.g(lam) @ theta
    if aux.shape[-1]:
        delta = delta + p["noise"] * aux[..., 0]
    return p["lr"] * (p["mask"] * theta) * act.dg(lam) * delta[..., None]


def _readout(act: Activation, lam, nu, c, aux, theta, p):
    """psi_k = lr_v g(lambda_k) Delta (the second layer's drift, times d)."""
    delta = act.g(nu[0]) @ p["v_teacher"] - act.g(lam[0]) @ theta
    if aux.shape[-1]:
        delta = delta + p["noise"] * aux[0]
    return p["lr_v"] * p["mask"] * act.g(lam[0]) * delta


@functools.cache
def committee_rule(act: Activation, K: int, M: int, noisy: bool):
    """The committee's SGD as a rule of the local-field engine (hild.families.online.rule): its ODEs from the
    automatic path (cubature) reproduce the closed-form ones (hild.families.online.ode). One Rule per
    (activation, K, M, noisy), so that scenarios share compiled code."""
    from hild.families.online.rule import Rule

    return Rule(coefficient=functools.partial(_coefficient, act), readout=functools.partial(_readout, act),
                K=K, F=M, n_aux=int(noisy))


@register
@dataclass(frozen=True, kw_only=True)
class Committee(Scenario):
    """A teacher-student soft committee machine trained by online SGD.

    K, M: student and teacher hidden units. activation: 'erf' (g = erf(x/sqrt 2)), 'relu', 'linear'
    or an elementwise JAX function. lr, lr_v: first- and second-layer learning rates (lr_v = 0 fixes
    the second layer). noise: std of the label noise sigma. weight_decay: kappa. v_teacher, T: teacher
    second layer (ones) and overlaps W* W*^T / d (identity). v: the student's initial second layer
    (ones). init_std: std of the student's initial weights (w ~ N(0, init_std^2 I)).

    **Arguments:** `K`, `M` (>= 1); `activation`; `lr`, `lr_v`, `noise`, `weight_decay`, `init_std` (>= 0);
    `v_teacher` (M,), `T` (M, M, a covariance), `v` (K,), or None for the defaults above.

    **Returns** (its theory and simulation): Datasets over `t` (t = steps / d) with `Q` (k, k2), `R` (k, m),
    `T` (m, m2), `v` (k), `eg` (arXiv 1906.08632 conventions, `convention`).
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

    model = "committee"
    axis = "t"
    size = "d"
    units = ("k", "k2", "m", "m2")
    sweepable = ("K", "M", "activation", "lr", "lr_v", "noise", "weight_decay", "init_std")
    convention = LR_CONVENTION
    divergence = Blowup(("Q", "R"), BLOWUP, scale=_scale_of)
    description = "Online SGD in teacher-student soft committee machines"
    papers = ("Saad & Solla, PRL 74, 4337 (1995)", "1906.08632", "1901.09085")

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

    @classmethod
    def example(cls) -> "Committee":
        """K = M = 2 erf units at lr 0.5: the symmetric plateau of Saad & Solla."""
        return cls(K=2, M=2, activation="erf", lr=0.5)

    def unit_sizes(self) -> dict[str, int]:
        return {"k": self.K, "k2": self.K, "m": self.M, "m2": self.M}

    def batch_key(self):
        """Scenarios of one activation and one M share a compiled ODE call (K is padded)."""
        return (self.act, self.M)

    @classmethod
    def theory_batch(cls, scenarios, t_max: float = 10.0, n_points: int = 101, inits=None, rtol: float = 1e-8,
                     atol: float = 1e-11):
        """The ODEs of many scenarios in one compiled call (see hild.online.theory.theory_batch)."""
        from hild.families.online.theory import theory_batch
        return theory_batch(scenarios, t_max=t_max, inits=inits, n_points=n_points, rtol=rtol, atol=atol)

    def rule(self):
        """This scenario's SGD as a local-field rule (`committee_rule`)."""
        return committee_rule(self.act, self.K, self.M, self.noise > 0)

    def initial_overlaps(self) -> dict:
        """The d -> infinity overlaps of a random start: Q = init_std^2 I, R = 0, the scenario's v and teacher."""
        return {"Q": self.init_std ** 2 * np.eye(self.K), "R": np.zeros((self.K, self.M)),
                "T": np.array(self.T), "v": np.array(self.v), "v_teacher": np.array(self.v_teacher)}

    def theory(self, t_max: float = 10.0, n_points: int = 101, init=None, rtol: float = 1e-8, atol: float = 1e-11,
               reduced: bool = False, expectations: str = "closed", nodes: int | None = None):
        """Integrate the order-parameter ODEs to t_max (see hild.online.ode).

        init: None (the random-start limit, `initial_overlaps`), a dict with Q, R and optionally v, T,
        v_teacher (these override the scenario's teacher), or a simulation Dataset, whose every
        seed's initial overlaps start one ODE (the result then has a `seed` dimension).
        reduced: integrate the five ODEs of the symmetric manifold instead, at a cost independent of K
        (hild.online.theory.symmetric_theory; needs T = I, v = v* = 1, lr_v = 0, K = p M and init on it).
        expectations: 'closed' (the activation's tables, hild.families.online.ode) or 'cubature' (the
        local-field engine's automatic path, `committee_rule`, with `nodes` Gauss-Hermite nodes per field).

        **Arguments:** `t_max` (> 0); `n_points` (>= 2); `init`, `reduced`, `expectations`, `nodes` as above; `rtol`,
        `atol`: the ODE solver's tolerances.

        **Returns:** a Dataset over (t, k, k2, m, m2) with Q, R, T, v, eg (a `seed` dimension when started from a
        simulation), `diverged` and `t_diverged`.
        """
        from hild.families.online.theory import symmetric_theory, theory
        if expectations not in ("closed", "cubature"):
            raise ValueError(f"expectations must be 'closed' or 'cubature'; got {expectations!r}")
        if reduced:
            if expectations != "closed":
                raise ValueError("expectations: the reduced (symmetric-manifold) ODEs use the closed forms only")
            return symmetric_theory(self, t_max=t_max, init=init, n_points=n_points, rtol=rtol, atol=atol)
        return theory(self, t_max=t_max, init=init, n_points=n_points, rtol=rtol, atol=atol,
                      expectations=expectations, nodes=nodes)

    def matching_theory(self, simulation, **options):
        """The ODEs started from each seed's own initial overlaps (exact at fixed overlaps as d -> infinity)."""
        return self.theory(init=simulation, **options)

    def check_simulation(self, **arguments) -> None:
        super().check_simulation(**arguments)
        from hild.families.online.simulate import check_run
        a = {"d": 500, "seeds": 1, "seed": 0, "t_max": 10.0, "n_points": 101, "n_test": 0, **arguments}
        check_run(self, a["d"], a["seeds"], a["seed"], a["t_max"], a["n_points"], a["n_test"])

    def check_theory(self, **options) -> None:
        """Refuse a t_max that the explicit solver cannot reach within its step budget: once converged, its
        steps stay bounded by the relaxation rate, about 0.3-0.7 lr per unit time at K, M <= 4 (measured),
        so at least STEPS_PER_LR lr t_max steps are needed."""
        super().check_theory(**options)
        from hild.families.online.ode import MAX_STEPS

        t_max = check.real("t_max", options.get("t_max", 10.0), minimum=0.0, strict_minimum=True)
        steps = STEPS_PER_LR * max(self.lr, self.lr_v) * t_max
        if steps > MAX_STEPS:
            raise ValueError(f"t_max: the ODEs to t_max = {t_max:.4g} need at least ~{steps:.2g} solver steps at lr "
                             f"{max(self.lr, self.lr_v):g}, beyond the step budget of {MAX_STEPS:.0e}; lower t_max")

    def simulation_needs(self, d, seeds, t_max, n_points, n_test, dtype, **_) -> list[Need]:
        """Host weights and records (float64), the device state, one input block per seed batch (the seeds run
        one at a time on each CPU core, all together on an accelerator), the held-out set; (4K + 2M + 10) d
        operations per SGD step (fields, update, drawing x)."""
        from hild.families.online.simulate import block_limit, seed_layout

        K, M, item = self.K, self.M, 8 if dtype == "float64" else 4
        units = K * K + K * M + K + 2
        cores, batch = seed_layout(seeds)
        block = block_limit(d, K, M, item)
        return [Need("the student and teacher weights", ("seeds", "d", "K"), array(seeds, K + M, d, itemsize=16 + item)),
                Need("one input block per seed batch", ("d",), array(cores * batch, block, d, itemsize=item) * 2),
                Need("the recorded order parameters", ("seeds", "n_points", "K"), array(seeds, n_points, units) * 4,
                     result=True),
                Need("the held-out inputs", ("seeds", "n_test", "d"), array(seeds, n_test, d) * 2),
                Need("the SGD steps", ("t_max", "d", "seeds"),
                     operations=float(seeds) * float(d) * float(t_max) * (4 * K + 2 * M + 10) * d)]

    def theory_needs(self, n_points, init=None, reduced=False, **_) -> list[Need]:
        """The trajectory of every start (a simulation's seeds), and the compiled right-hand side's largest
        terms, a few times over: I4 over the pairs i <= k and c <= d, at most PAIR_BLOCK (+ one row) at once
        (x RELU_I4_NODES for ReLU's integral), I3 over (K, K+M, K+M), or the joint Gauss-Hermite rule of an
        activation without closed forms. On the symmetric manifold (reduced) the right-hand side is O(1) in K."""
        from hild.core.gaussian import RELU_I4_NODES
        from hild.families.online.ode import PAIR_BLOCK, joint_nodes

        K, M, n = self.K, self.M, self.K + self.M
        starts = init.sizes.get("seed", 1) if hasattr(init, "sizes") else 1  # a simulation Dataset
        recorded = Need("the recorded order parameters", ("n_points", "K"),
                        array(starts, n_points, K * K + K * M + K + 2) * 4, result=True)
        if reduced:
            return [recorded]
        if self.act.closed_form:
            pairs, terms = K * (K + 1) // 2, n * (n + 1) // 2
            block = min(pairs * terms, PAIR_BLOCK + terms) * (RELU_I4_NODES if self.act.name == "relu" else 1)
            return [recorded, Need("the ODE right-hand side (I4 over pairs i <= k, c <= d, in blocks; I3)", ("K",),
                                   array(starts, max(block, K * n * n)) * 8)]
        points = float(joint_nodes(n)) ** n
        return [recorded, Need("the ODE right-hand side (a joint Gauss-Hermite rule over K + M fields)", ("K",),
                               array(starts, points, n) * 4)]

    def figure(self, theory, simulation, title: str = ""):
        """Generalisation error and order parameters: theory lines, simulation seed means with bands."""
        from hild.plot import trajectories
        title = title or (f"committee K={self.K} M={self.M} {self.act.name}, lr={self.lr:g}, lr_v={self.lr_v:g}, "
                          f"noise={self.noise:g}, weight decay={self.weight_decay:g}")
        return trajectories(theory, simulation, title=title)

    def simulate(self, d: int = 500, seeds: int = 1, t_max: float = 10.0, seed: int = 0, n_points: int = 101,
                 init=None, n_test: int = 0, dtype: str = "float32", progress: bool = False):
        """Run online SGD at input dimension d for `seeds` repetitions (integer seeds seed, seed+1, ...).

        init: None (random student weights w ~ N(0, init_std^2 I)) or a dict of overlaps Q, R (and
        optionally T, v, v_teacher) that the initial weights then have exactly. n_test > 0 adds
        `eg_test`, the error on a held-out set of that many inputs. See hild.online.simulate.

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `t_max` (> 0); `n_points` (>= 2); `init`, `n_test` as above;
        `dtype`: "float32" or "float64"; `progress`.

        **Returns:** a Dataset over (seed, t, k, k2, m) with Q, R, v, eg (eg_test), `diverged`, `t_diverged`.
        """
        from hild.families.online.simulate import simulate
        return simulate(self, d=d, seeds=seeds, t_max=t_max, seed=seed, n_points=n_points, init=init,
                        n_test=n_test, dtype=dtype, progress=progress)
