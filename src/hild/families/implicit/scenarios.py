"""The registered scenarios of the implicit-bias family: the optimiser's own dynamics, exact theory against the
real SGD on the same variables.

| model | what | axis | theory |
| --- | --- | --- | --- |
| `implicit.stochastic_collapse` | SGD, 1D quartic model (2306.04251) | `step` | Lyapunov exponent, SDE rate |
| `implicit.linear_regression_sgd` | minibatch SGD, least squares (2107.09133) | `lag` | stationary S, displacement |
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from hild.core import Blowup, Scenario, lazy, register
from hild.core import validation as check
from hild.core.divergence import check as check_divergence
from hild.core.resources import Need, array
from hild.families.implicit import collapse

xr = lazy.module("xarray")

COLLAPSED = 1e-8
"""A run has collapsed when |theta| < COLLAPSED at its last step (models.md section 10)."""


def _set(obj, name, value):
    object.__setattr__(obj, name, value)


def _run_size(steps, every, seeds=1, seed=0) -> tuple[int, int, int, int]:
    steps, every = check.integer("steps", steps, 1), check.integer("every", every, 1)
    if steps % every:
        raise ValueError(f"every must divide steps = {steps}; got {every}")
    return steps, every, check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)


@register
@dataclass(frozen=True, kw_only=True)
class StochasticCollapse(Scenario):
    """SGD on the per-sample loss -xi theta^2 / 2 + theta^4 / 4, xi ~ N(m, s^2) afresh each step:
    theta <- theta (1 + lr xi) - lr theta^3 (Chen, Kunin, Yamamura, Ganguli, arXiv 2306.04251).

    Theory (collapse.py): `lyapunov` = E ln|1 + lr xi| per step (exact for the linearisation at the invariant set
    {0}: the runs collapse iff it is negative), `sde_rate` = m - lr s^2 / 2 (the continuous-time log-drift per unit
    lr x steps, its small-lr limit), and `log_theta` = ln|theta0| + lyapunov x step, the exact mean of ln|theta|
    of the linearised SGD. The axis is `step` because that mean trajectory is what theory and simulation share
    (its slope is the measured exponent); the exponent itself is a value at one lr, swept over lr for the window.
    The quartic term only pulls theta back, so a collapsing run follows the linearisation; an escaping one
    leaves it where |theta| ~ sqrt(m) (or blows up, at large lr).

    **Arguments:** `m` (finite): the mean curvature of the invariant set's maximum; `s` (>= 0): the noise;
    `lr` (> 0): the learning rate.
    """

    model: ClassVar[str] = "implicit.stochastic_collapse"
    axis: ClassVar[str] = "step"
    size: ClassVar[str] = "steps"
    sweepable: ClassVar[tuple[str, ...]] = ("m", "s", "lr")
    convention: ClassVar[str] = ("theta <- theta - lr dl/dtheta, l = -xi theta^2 / 2 + theta^4 / 4, xi ~ N(m, s^2) "
                                 "per step; sde_rate per unit tau = lr x steps (arXiv 2306.04251)")
    divergence: ClassVar[Blowup | None] = Blowup(("log_theta",), math.inf)
    description: ClassVar[str] = "stochastic collapse of SGD to an invariant set in 1D: Lyapunov exponent vs lr"
    papers: ClassVar[tuple[str, ...]] = ("2306.04251",)

    m: float = 0.25
    s: float = 2.0
    lr: float = 0.2

    def __post_init__(self):
        _set(self, "m", check.real("m", self.m))
        _set(self, "s", check.real("s", self.s, 0.0))
        _set(self, "lr", check.real("lr", self.lr, 0.0, strict_minimum=True))

    @classmethod
    def example(cls) -> "StochasticCollapse":
        return cls()

    def check_theory(self, steps: int = 1000, every: int = 10, theta0: float = 0.01) -> None:
        super().check_theory(steps=steps, every=every, theta0=theta0)
        _run_size(steps, every)
        check.real("theta0", theta0, 0.0, strict_minimum=True)

    def theory_needs(self, steps, every, **_) -> list[Need]:
        return [Need("the mean of ln|theta| at every record", ("steps", "every"), array(steps // every + 1),
                     result=True)]

    def theory(self, steps: int = 1000, every: int = 10, theta0: float = 0.01) -> xr.Dataset:
        """`lyapunov`, `sde_rate` (scalars) and `log_theta` = ln theta0 + lyapunov x step over step = 0, every,
        ..., steps (float64).

        **Arguments:** `steps` (>= 1); `every` (>= 1, divides steps); `theta0` (> 0).

        **Returns:** the Dataset above."""
        step = np.arange(0, steps + 1, every)
        rate = float(collapse.lyapunov(self.lr, self.m, self.s))
        ds = xr.Dataset({"log_theta": ("step", math.log(theta0) + rate * step), "lyapunov": rate,
                         "sde_rate": float(collapse.sde_rate(self.lr, self.m, self.s))},
                        coords={"step": step}, attrs=self.provenance("theory", dtype="float64"))
        return check_divergence(ds, self.axis, self.divergence)

    def check_simulation(self, steps: int = 1000, seeds: int = 1, seed: int = 0, every: int = 10,
                         theta0: float = 0.01) -> None:
        super().check_simulation(steps=steps, seeds=seeds, seed=seed, every=every, theta0=theta0)
        _run_size(steps, every, seeds, seed)
        check.real("theta0", theta0, 0.0, strict_minimum=True)

    def simulation_needs(self, steps, seeds, every, **_) -> list[Need]:
        return [Need("ln|theta| of every seed at every record", ("seeds", "steps", "every"),
                     3 * array(seeds, steps // every + 1), result=True),
                Need("the noise of every seed, a block at a time", ("seeds", "every"), 2 * array(seeds, every)),
                Need("the SGD steps", ("seeds", "steps"), operations=40.0 * seeds * steps)]

    def simulate(self, *, steps: int = 1000, seeds: int = 1, seed: int = 0, every: int = 10,
                 theta0: float = 0.01) -> xr.Dataset:
        """SGD from theta0 for the integer seeds seed, seed + 1, ... (all in one compiled call, float64, carried as
        ln|theta|, collapse.log_theta_runs). Variables: `log_theta` (seed, step) and `collapsed` (seed):
        |theta| < COLLAPSED at the last step. A run that blows up is marked diverged.

        **Arguments:** `steps`, `every` as in `theory`; `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `theta0` (> 0).

        **Returns:** the Dataset above."""
        seeds_used = np.arange(seed, seed + seeds)
        runs = collapse.log_theta_runs([self.lr], self.m, self.s, seeds_used, steps, every, theta0)[0]
        ds = xr.Dataset({"log_theta": (("seed", "step"), runs),
                         "collapsed": ("seed", runs[:, -1] < math.log(COLLAPSED))},
                        coords={"seed": seeds_used, "step": np.arange(0, steps + 1, every)},
                        attrs=self.provenance("simulation", dtype="float64", seeds=seeds_used, size=steps))
        return check_divergence(ds, self.axis, self.divergence)


def _positive_definite(K) -> None:
    lowest, highest = np.linalg.eigvalsh(K)[[0, -1]]
    if not lowest > 1e-12 * max(highest, 1e-300):
        raise ValueError(f"X, weight_decay: the Hessian X^T X / n + weight_decay I must be positive definite (a unique "
                         f"minimum); its smallest eigenvalue is {lowest:.3g}: use n >= d independent rows or "
                         f"weight_decay > 0")


@register
@dataclass(frozen=True, kw_only=True)
class LinearRegressionSGD(Scenario):
    """Minibatch SGD with heavy-ball momentum and weight decay on least squares, around its minimum (Kunin et al.,
    "Limiting dynamics of SGD", arXiv 2107.09133).

    Theory (limiting.stationary, exact): the stationary covariance `S` (i, j) of w around the minimum w* with the
    iterate-dependent minibatch noise, solving C = A C A^T + b Sigma(S) b^T; `S_frozen` (the noise frozen at the
    minimum) and `S_continuous` (the small-lr limit K S + S K = lr Sigma0 / (1 - momentum)), which differ from it
    measurably; their traces; and the stationary mean squared displacement `msd` = E|w(t0 + l) - w(t0)|^2 on the
    axis `lag` (l in steps), saturating at 2 tr S. A point with no stationary second moment (lr too large for the
    batch) is marked `converged` False and blanked.

    **Arguments:** `X` (n, d), `y` (n,): the training set (Hessian X^T X / n + weight_decay I positive definite);
    `lr` (> 0); `batch` (>= 1): indices drawn uniformly with replacement; `momentum` in [0, 1): v <- momentum v + g,
    w <- w - lr v; `weight_decay` (>= 0).
    """

    model: ClassVar[str] = "implicit.linear_regression_sgd"
    axis: ClassVar[str] = "lag"
    size: ClassVar[str] = "steps"
    sweepable: ClassVar[tuple[str, ...]] = ("lr", "batch", "momentum", "weight_decay")
    convention: ClassVar[str] = ("L = (1/2n) sum (y_i - w.x_i)^2 + (weight_decay / 2)|w|^2; batch indices uniform with "
                                 "replacement; v <- momentum v + g, w <- w - lr v; lag in steps (arXiv 2107.09133)")
    divergence: ClassVar[Blowup | None] = Blowup(("msd",), math.inf)
    description: ClassVar[str] = "stationary covariance and displacement of minibatch SGD on least squares"
    papers: ClassVar[tuple[str, ...]] = ("2107.09133",)

    X: np.ndarray = field(repr=False, compare=False)
    y: np.ndarray = field(repr=False, compare=False)
    lr: float = 0.1
    batch: int = 4
    momentum: float = 0.0
    weight_decay: float = 0.0

    def __post_init__(self):
        X = np.array(self.X, dtype=float)  # a copy: made read-only below, the caller's array is left as it is
        if X.ndim != 2 or min(X.shape) < 1 or not np.all(np.isfinite(X)):
            raise ValueError(f"X must be a finite n x d matrix with n, d >= 1; got shape {X.shape}")
        y = check.vector("y", self.y, X.shape[0]).copy()
        _set(self, "lr", check.real("lr", self.lr, 0.0, strict_minimum=True))
        _set(self, "batch", check.integer("batch", self.batch, 1))
        _set(self, "momentum", check.real("momentum", self.momentum, 0.0, 1.0))
        if self.momentum == 1.0:
            raise ValueError("momentum must be a finite number in [0, 1); got 1")
        _set(self, "weight_decay", check.real("weight_decay", self.weight_decay, 0.0))
        _positive_definite(X.T @ X / X.shape[0] + self.weight_decay * np.eye(X.shape[1]))
        X.flags.writeable = y.flags.writeable = False
        _set(self, "X", X)
        _set(self, "y", y)

    @classmethod
    def gaussian(cls, n: int = 64, d: int = 8, p: float = 0.0, noise: float = 0.5, seed: int = 0,
                 exact_spectrum: bool = False, **hyperparameters) -> "LinearRegressionSGD":
        """A random training set from the integer seed: rows x = diag(k^(-p/2)) z, z ~ N(0, I_d), k = 1 .. d (the
        population Hessian has eigenvalues k^-p), or with `exact_spectrum` X = sqrt(n) Q diag(k^(-p/2)) with Q
        (n x d) orthonormal columns (the training Hessian X^T X / n is exactly diag(k^-p); n >= d); and
        y = x.w0 + noise eps, w0 ~ N(0, I_d / d), eps ~ N(0, 1)."""
        n, d, seed = check.integer("n", n, 1), check.integer("d", d, 1), check.integer("seed", seed, 0)
        p, noise = check.real("p", p, 0.0), check.real("noise", noise, 0.0)
        if exact_spectrum and n < d:
            raise ValueError(f"n must be >= d = {d} with exact_spectrum; got {n}")
        rng = np.random.default_rng(seed)
        scale = np.arange(1, d + 1) ** (-p / 2)
        Z = rng.standard_normal((n, d))
        X = np.sqrt(n) * np.linalg.qr(Z)[0] * scale if exact_spectrum else Z * scale
        y = X @ (rng.standard_normal(d) / np.sqrt(d)) + noise * rng.standard_normal(n)
        return cls(X=X, y=y, **hyperparameters)

    @classmethod
    def example(cls) -> "LinearRegressionSGD":
        return cls.gaussian(n=32, d=4)

    @staticmethod
    def lags(max_lag: int = 1000, n_lags: int = 16) -> np.ndarray:
        """The lags: n_lags (or fewer, where rounding repeats) integers geometrically spaced from 1 to max_lag."""
        max_lag, n_lags = check.integer("max_lag", max_lag, 1), check.integer("n_lags", n_lags, 1)
        return np.unique(np.round(np.geomspace(1, max_lag, n_lags)).astype(int))

    def check_theory(self, max_lag: int = 1000, n_lags: int = 16) -> None:
        super().check_theory(max_lag=max_lag, n_lags=n_lags)
        self.lags(max_lag, n_lags)

    def theory_needs(self, max_lag, n_lags, **_) -> list[Need]:
        """The n x n fourth-moment system (its matrix, solve and eigenvalues: n^2 d^2 + 10 n^3 operations), the
        pair blocks (d^2 4 x 4 solves), the lag powers."""
        n, d = self.X.shape
        return [Need("the n x n fourth-moment system", ("X",), 3 * array(n, n) + 2 ** 26,
                     operations=float(n) ** 2 * d * d + 10.0 * float(n) ** 3),
                Need("the pair blocks of the Lyapunov equation", ("X",), 40 * array(d, d), operations=200.0 * d * d),
                Need("the displacement at every lag", ("X", "n_lags"), array(n_lags, d, 4), result=True)]

    def theory(self, max_lag: int = 1000, n_lags: int = 16) -> xr.Dataset:
        """The exact stationary statistics (float64): `S`, `S_frozen`, `S_continuous` (i, j), `w_star` (i), `trace`,
        `trace_frozen`, `trace_continuous`, `msd`, `msd_frozen`, `msd_continuous` (lag), the mean dynamics' spectral
        radius `radius` and the fourth-moment feedback `feedback` (limiting.stationary), `converged`.

        **Arguments:** `max_lag` (>= 1): the largest lag in steps; `n_lags` (>= 1): lags on a geometric grid.

        **Returns:** the Dataset above."""
        from hild.core.divergence import unconverged
        from hild.families.implicit.limiting import stationary

        lag = self.lags(max_lag, n_lags)
        out = stationary(self.X, self.y, self.lr, self.batch, self.momentum, self.weight_decay, lag)
        ij = ("i", "j")
        ds = xr.Dataset({"S": (ij, out["S"]), "S_frozen": (ij, out["S_frozen"]),
                         "S_continuous": (ij, out["S_continuous"]), "w_star": ("i", out["w_star"]),
                         "trace": np.trace(out["S"]), "trace_frozen": np.trace(out["S_frozen"]),
                         "trace_continuous": np.trace(out["S_continuous"]),
                         "msd": ("lag", out["msd"]), "msd_frozen": ("lag", out["msd_frozen"]),
                         "msd_continuous": ("lag", out["msd_continuous"]),
                         "radius": out["radius"], "feedback": out["feedback"]},
                        coords={"lag": lag, "i": np.arange(self.X.shape[1]), "j": np.arange(self.X.shape[1])},
                        attrs=self.provenance("theory", dtype="float64"))
        ds = unconverged(ds, out["stable"], keep=("radius", "feedback"))
        return check_divergence(ds, self.axis, self.divergence)

    def _check_run(self, steps, seeds, seed, burn_in, max_lag, n_lags) -> None:
        max_lag = int(self.lags(max_lag, n_lags).max())
        _run_size(steps, 1, seeds, seed)
        for name, value in (("steps", steps), ("burn_in", burn_in)):
            if check.integer(name, value, max_lag) % max_lag:
                raise ValueError(f"{name} must be a multiple of max_lag = {max_lag} (the chunk of the simulation); "
                                 f"got {value}")

    def check_simulation(self, steps: int = 20000, seeds: int = 1, seed: int = 0, burn_in: int = 2000,
                         max_lag: int = 1000, n_lags: int = 16) -> None:
        super().check_simulation(steps=steps, seeds=seeds, seed=seed, burn_in=burn_in, max_lag=max_lag,
                                 n_lags=n_lags)
        self._check_run(steps, seeds, seed, burn_in, max_lag, n_lags)

    def simulation_needs(self, steps, seeds, burn_in, max_lag, n_lags, **_) -> list[Need]:
        n, d = self.X.shape
        return [Need("the ring buffer of past iterates of every seed", ("seeds", "max_lag"),
                     2 * array(seeds, max_lag, d)),
                Need("the second moments and displacements of every seed", ("seeds",),
                     2 * array(seeds, d * d + n_lags), result=True),
                Need("the SGD steps (about 1 us per seed and step at n = 64, d = 8, batch 4, measured)",
                     ("seeds", "steps", "burn_in"),
                     operations=float(seeds) * (steps + burn_in) * (4.0 * self.batch * d + 2.0 * d * d + 2 * n_lags * d
                                                                     + 1000))]

    def simulate(self, *, steps: int = 20000, seeds: int = 1, seed: int = 0, burn_in: int = 2000,
                 max_lag: int = 1000, n_lags: int = 16) -> xr.Dataset:
        """Minibatch SGD from w* for the integer seeds seed, seed + 1, ... (one compiled call, float64,
        minibatch.minibatch_runs): `burn_in` steps, then `steps` measured (both multiples of max_lag). Variables:
        `S` (i, j) over
        all seeds and measured steps, `trace` (seed): the mean |w - w*|^2 of each seed, `msd` (seed, lag).

        **Arguments:** `steps`, `burn_in`: multiples of max_lag; `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `max_lag`, `n_lags` as in `theory`.

        **Returns:** the Dataset above."""
        from hild.families.implicit.limiting import minimum
        from hild.families.implicit.minibatch import minibatch_runs

        lag = self.lags(max_lag, n_lags)
        seeds_used = np.arange(seed, seed + seeds)
        w_star = minimum(self.X, self.y, self.weight_decay)[0]
        run = minibatch_runs(self.X, self.y, w_star, [self.lr], self.batch, self.momentum, self.weight_decay,
                             seeds_used, steps, burn_in, lag)
        S, msd = run["S"][0], run["msd"][0]
        d = self.X.shape[1]
        ds = xr.Dataset({"S": (("i", "j"), S.mean(0)), "trace": ("seed", np.trace(S, axis1=1, axis2=2)),
                         "msd": (("seed", "lag"), msd)},
                        coords={"seed": seeds_used, "lag": lag, "i": np.arange(d), "j": np.arange(d)},
                        attrs=self.provenance("simulation", dtype="float64", seeds=seeds_used, size=steps,
                                              burn_in=burn_in))
        return check_divergence(ds, self.axis, self.divergence)


@register
@dataclass(frozen=True, kw_only=True)
class ModifiedFlow(Scenario):
    """Gradient descent on the two-layer linear factorisation L(a, b) = (a.b - target)^2 / 2 (K hidden units)
    against the modified flow of L + (lr/4)|grad L|^2 (Barrett & Dherin, arXiv 2009.11162; modified_flow.py).

    Theory: the modified flow (diffrax, float64) on t = lr x steps: `loss`, `theta` (t, p), and plain gradient flow
    `loss_gradient_flow`, `theta_gradient_flow`; GD stays O(lr^2) from the first and O(lr) from the second. The
    start theta0 = scale z, z ~ N(0, I) is drawn from an integer seed (theory: `seed`; simulation: each seed's own).

    **Arguments:** `K` (>= 1); `target` (finite); `lr` (> 0); `scale` (> 0): the size of the start.
    """

    model: ClassVar[str] = "implicit.modified_flow"
    axis: ClassVar[str] = "t"
    size: ClassVar[str] = "steps"
    units: ClassVar[tuple[str, ...]] = ("p",)
    sweepable: ClassVar[tuple[str, ...]] = ("target", "lr", "scale")
    convention: ClassVar[str] = ("theta <- theta - lr grad L, t = lr x steps; modified loss L + (lr/4)|grad L|^2 "
                                 "(arXiv 2009.11162)")
    divergence: ClassVar[Blowup | None] = Blowup(("loss",), 1e12)
    description: ClassVar[str] = "gradient descent against its modified flow (implicit gradient regularisation)"
    papers: ClassVar[tuple[str, ...]] = ("2009.11162",)

    K: int = 4
    target: float = 1.0
    lr: float = 0.1
    scale: float = 0.5

    def __post_init__(self):
        _set(self, "K", check.integer("K", self.K, 1))
        _set(self, "target", check.real("target", self.target))
        _set(self, "lr", check.real("lr", self.lr, 0.0, strict_minimum=True))
        _set(self, "scale", check.real("scale", self.scale, 0.0, strict_minimum=True))

    @classmethod
    def example(cls) -> "ModifiedFlow":
        return cls()

    def unit_sizes(self) -> dict[str, int]:
        return {"p": 2 * self.K}

    def _grid(self, steps, n_points) -> tuple[int, np.ndarray]:
        """(every, t): `steps` GD steps recorded every steps / (n_points - 1), at t = lr x steps."""
        steps, n_points = check.integer("steps", steps, 1), check.integer("n_points", n_points, 2)
        if steps % (n_points - 1):
            raise ValueError(f"n_points: n_points - 1 must divide steps = {steps}; got n_points = {n_points}")
        every = steps // (n_points - 1)
        return every, np.arange(0, steps + 1, every) * self.lr

    def check_theory(self, steps: int = 40, n_points: int = 5, seed: int = 0) -> None:
        super().check_theory(steps=steps, n_points=n_points, seed=seed)
        self._grid(steps, n_points)
        check.integer("seed", seed, 0)

    def theory_needs(self, steps, n_points, **_) -> list[Need]:
        return [Need("the two flows at every record", ("n_points",), 4 * array(n_points, 2 * self.K + 1), result=True)]

    def theory(self, steps: int = 40, n_points: int = 5, seed: int = 0) -> xr.Dataset:
        """The modified flow and gradient flow from the start of `seed` on t = 0 .. lr steps (n_points records).

        **Arguments:** `steps` (>= 1); `n_points` (>= 2); `seed`: the start's integer seed.

        **Returns:** a Dataset over (t, p): theta of the modified flow and of gradient flow, and their losses."""
        from hild.families.implicit import modified_flow as mf

        _, t = self._grid(steps, n_points)
        start = mf.initial(self.K, self.scale, [seed])
        out = {}
        for name, modified in (("", True), ("_gradient_flow", False)):
            theta = mf.flow(start, self.target, self.lr, t, modified)[0]
            out[f"theta{name}"] = (("t", "p"), theta)
            out[f"loss{name}"] = ("t", 0.5 * (np.sum(theta[:, :self.K] * theta[:, self.K:], 1) - self.target) ** 2)
        ds = xr.Dataset(out, coords={"t": t, "p": np.arange(2 * self.K)},
                        attrs=self.provenance("theory", dtype="float64", seed=seed))
        return check_divergence(ds, self.axis, self.divergence)

    def check_simulation(self, steps: int = 40, seeds: int = 1, seed: int = 0, n_points: int = 5) -> None:
        super().check_simulation(steps=steps, seeds=seeds, seed=seed, n_points=n_points)
        self._grid(steps, n_points)
        _run_size(1, 1, seeds, seed)

    def simulation_needs(self, steps, seeds, n_points, **_) -> list[Need]:
        return [Need("theta of every seed at every record (the compiled output, its NumPy copy, the result)",
                     ("seeds", "n_points"), 4 * array(seeds, n_points, 2 * self.K + 1), result=True),
                Need("the GD steps (about 1 us each at K = 4, measured)", ("seeds", "steps"),
                     operations=float(seeds) * steps * (20.0 * self.K + 1000))]

    def simulate(self, *, steps: int = 40, seeds: int = 1, seed: int = 0, n_points: int = 5) -> xr.Dataset:
        """GD from each integer seed's start (seed, seed + 1, ...), float64, one compiled call: `theta`
        (seed, t, p) and `loss` (seed, t).

        **Arguments:** `steps` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `n_points` (>= 2).

        **Returns:** the Dataset above."""
        from hild.families.implicit import modified_flow as mf

        every, t = self._grid(steps, n_points)
        seeds_used = np.arange(seed, seed + seeds)
        theta = mf.gradient_descent(mf.initial(self.K, self.scale, seeds_used), self.target, self.lr, steps, every)
        loss = 0.5 * (np.sum(theta[..., :self.K] * theta[..., self.K:], -1) - self.target) ** 2
        ds = xr.Dataset({"theta": (("seed", "t", "p"), theta), "loss": (("seed", "t"), loss)},
                        coords={"seed": seeds_used, "t": t, "p": np.arange(2 * self.K)},
                        attrs=self.provenance("simulation", dtype="float64", seeds=seeds_used, size=steps))
        return check_divergence(ds, self.axis, self.divergence)
