"""The registered scenarios of the family: one learner of the spiked cumulant model each, theory (d -> infinity)
against the real learner at finite d on a shared axis, size parameter d.

| model | learner | axis | theory (exact as d -> infinity) |
| --- | --- | --- | --- |
| `cumulants.spectral` | fourth-moment spectral test on n = alpha d^2 samples | `alpha` = n / d^2 | BBP overlap |
| `cumulants.fastica` | one-unit FastICA, fresh batches of n = alpha d samples | `iteration` | `fastica_map` |
| `cumulants.sgd` | online spherical SGD, one fresh sample per step | `t` = samples / d | `overlap_ode` |
| `cumulants.mixed` | the same neuron on the mixed cumulant model | `t` = samples / d | `mixed_ode` |

Each axis is the sample count in the scaling at which the d -> infinity limit is taken (so that the theory does
not depend on d): the spectral test at n ~ d^2, FastICA and SGD at n ~ d from a macroscopic initial overlap.
Weak recovery from a random start (n ~ d^2 ... d^4) is measured by the sample-complexity sweeps of
hild.families.cumulants.complexity, not by these scenarios (no exact curve exists there). The network experiments
(networks.classification) are not (yet) a scenario.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hild.core import Blowup, Scenario, lazy, register
from hild.core import validation as check
from hild.core import resources
from hild.core.resources import Need, array
from hild.core.divergence import check as check_divergence
from hild.families.cumulants import learners, theory
from hild.families.cumulants.data import KURTOSIS, check_latent, check_strength, kurtosis_along_spike

xr = lazy.module("xarray")

OVERLAP = Blowup(("m",), 1.01)
"""An overlap of unit vectors: |m| <= 1 (1.01 leaves float32 rounding), finite."""
LATENT_NODES = {"rademacher": 2, "uniform": 60, "laplace": 120}
"""The nodes of each latent's quadrature rule (theory._latent_rule), times the 80 Gauss-Hermite nodes of the
population averages: their size and cost."""


def _set(obj, name, value):
    object.__setattr__(obj, name, value)


def _spike_fields(obj) -> None:
    """Validate beta and a non-Gaussian latent (a Gaussian latent has no direction to find)."""
    _set(obj, "beta", check_strength(obj.beta))
    if not isinstance(obj.latent, str):
        raise ValueError(f"latent must be one of rademacher, uniform, laplace; got {obj.latent!r}")
    check_latent(obj.latent)
    if KURTOSIS[obj.latent] == 0:
        raise ValueError(f"latent must be non-Gaussian (rademacher, uniform or laplace); got {obj.latent!r}")


def _size(d, seeds, seed, minimum: int = 4) -> tuple[int, int, int]:
    return check.integer("d", d, minimum), check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)


def _sample_needs(what: str, seeds, rows, d, n_samples, per_sample: float, rows_from: tuple[str, ...] = (),
                  samples_from: tuple[str, ...] = ()) -> list[Need]:
    """What a learner that draws `rows` x d float32 samples at once per seed (all seeds vmapped) needs (the
    samples, their Gaussian part and two products: 4 such arrays, as measured), and n_samples samples per seed
    drawn and used at `per_sample` operations each (drawing one costs about 20 d); `rows_from`, `samples_from`:
    the arguments that set `rows` and `n_samples`, besides seeds and d."""
    return [Need(f"the samples {what} draws at once (every seed)", ("seeds", "d") + rows_from,
                 4 * array(seeds, rows, d, itemsize=4)),
            Need(f"drawing and using the samples of {what}", ("d", "seeds") + samples_from,
                 operations=float(seeds) * n_samples * (20.0 * d + per_sample))]


def _ode_needs(n_points, rate: float) -> list[Need]:
    """The RK4 solve of hild.families.cumulants.theory: about 4000 + n_points steps of `rate` operations and the
    time of about 2e4 operations per output interval (a scan step), its records."""
    return [Need("the overlaps at every time", ("n_points",), array(n_points, 4), result=True),
            Need("the solver's intervals and copies of the records", ("n_points",), 6 * array(n_points)),
            Need("the RK4 steps", ("n_points",), operations=(4000.0 + n_points) * (4 * rate + 2e4))]


def _result_needs(seeds, points, variables: int, axis: str = "n_points") -> Need:
    """The recorded overlaps: `variables` per seed and point of the axis (set by the argument `axis`), and its
    coordinate."""
    return Need("the recorded overlaps", ("seeds", axis), array(seeds, points, variables + 1), result=True)


def _overlap_figure(self, th, sim, title=""):
    """The overlap m = |<w, u>| of the learner's estimate w with the spike u along the axis (figure.overlap)."""
    from hild.families.cumulants.figure import overlap
    from hild.plot import scenario_title

    return overlap(th, sim, self.axis, title=title or scenario_title(self),
                   ylabel=r"overlap $m = |\langle w, u \rangle|$")


# --- the spectral test ---------------------------------------------------------------------------------------

@register
@dataclass(frozen=True, kw_only=True)
class SpectralTest(Scenario):
    """The fourth-moment spectral test on the spiked cumulant model: the top eigenvector (largest |eigenvalue|) of
    M = (1/n) sum (|x|^2 - d - 2) x x^T from n = alpha d^2 samples, against BBP (arXiv 2312.14922).

    Theory (d -> infinity at fixed alpha): m = sqrt(max(0, 1 - alpha_c / alpha)), alpha_c = 2 / kappa_4^2, and
    the threshold `alpha_c` itself. At finite d the simulated overlap lies below BBP by terms of relative order
    E (x.u)^6 / (2d) (large for heavy tails: theory.spectral_overlap, finite_d=True, keeps them).

    **Arguments:** `beta` (> 0): the spike strength; `latent`: rademacher, uniform or laplace.
    """

    model: ClassVar[str] = "cumulants.spectral"
    axis: ClassVar[str] = "alpha"
    size: ClassVar[str] = "d"
    sweepable: ClassVar[tuple[str, ...]] = ("beta",)
    convention: ClassVar[str] = ("x = S (sqrt(beta) nu u + z), Cov x = I; M = (1/n) sum (|x|^2 - d - 2) x x^T with "
                                 "n = round(alpha d^2); m = |<v_top(M), u>| (arXiv 2312.14922)")
    divergence: ClassVar[Blowup | None] = OVERLAP
    description: ClassVar[str] = "fourth-moment spectral test on the spiked cumulant model: overlap vs n / d^2 (BBP)"
    papers: ClassVar[tuple[str, ...]] = ("2312.14922",)

    beta: float = 5.0
    latent: str = "rademacher"

    def __post_init__(self):
        _spike_fields(self)

    @classmethod
    def example(cls) -> "SpectralTest":
        return cls()

    @staticmethod
    def _check_grid(alpha_min=0.5, alpha_max=8.0, n_points=9) -> tuple[float, float, int]:
        alpha_min = check.real("alpha_min", alpha_min, 0.0, strict_minimum=True)
        return alpha_min, check.real("alpha_max", alpha_max, alpha_min), check.integer("n_points", n_points, 1)

    @staticmethod
    def _grid(alpha_min, alpha_max, n_points) -> np.ndarray:
        return np.geomspace(*SpectralTest._check_grid(alpha_min, alpha_max, n_points))

    def check_theory(self, **options) -> None:
        super().check_theory(**options)
        self._check_grid(**options)

    @staticmethod
    def _check_samples(alpha: np.ndarray, d: int) -> np.ndarray:
        """n = round(alpha d^2) at each grid point, in float64 (no d overflows); ValueError when two are equal."""
        n = np.maximum(1.0, np.round(alpha * float(d) * d))
        if np.any(np.diff(n) <= 0):
            raise ValueError(f"n_points: the grid alpha = {alpha[0]:g} .. {alpha[-1]:g} gives repeated sample sizes "
                             f"n = round(alpha d^2) at d = {d}; use fewer points or a larger d")
        return n

    @staticmethod
    def _samples(alpha: np.ndarray, d: int) -> np.ndarray:
        return SpectralTest._check_samples(alpha, d).astype(int)

    def theory(self, alpha_min: float = 0.5, alpha_max: float = 8.0, n_points: int = 9) -> xr.Dataset:
        """BBP: m over alpha (geometric grid from alpha_min to alpha_max, n_points values) and alpha_c.

        **Arguments:** `alpha_min`, `alpha_max` (0 < alpha_min < alpha_max); `n_points` (>= 2).

        **Returns:** a Dataset with m over `alpha` and the scalar alpha_c."""
        alpha = self._grid(alpha_min, alpha_max, n_points)
        alpha_c = 2 / kurtosis_along_spike(self.beta, self.latent) ** 2
        ds = xr.Dataset({"m": ("alpha", np.sqrt(np.clip(1 - alpha_c / alpha, 0.0, None))), "alpha_c": alpha_c},
                        coords={"alpha": alpha}, attrs=self.provenance("theory", dtype="float64"))
        return check_divergence(ds, self.axis, self.divergence)

    def check_simulation(self, d: int = 16, seeds: int = 1, seed: int = 0, alpha_min: float = 0.5,
                         alpha_max: float = 8.0, n_points: int = 9, **extra) -> None:
        super().check_simulation(d=d, seeds=seeds, seed=seed, alpha_min=alpha_min, alpha_max=alpha_max,
                                 n_points=n_points, **extra)
        d, seeds, _ = _size(d, seeds, seed)
        self._check_grid(alpha_min, alpha_max, n_points)
        resources.admit(f"{self.model} simulate", [Need("the grid of sample sizes", ("n_points",),
                                                         array(n_points, itemsize=32))])
        self._check_samples(self._grid(alpha_min, alpha_max, n_points), d)

    def theory_needs(self, n_points, **_) -> list[Need]:
        return [Need("the overlap at every alpha", ("n_points",), array(n_points, 4), result=True)]

    def simulation_needs(self, d, seeds, alpha_max, n_points, **_) -> list[Need]:
        """Every seed's d x d matrix M and its eigendecomposition (float32, all seeds at once), the chunks of
        samples; each sample adds 2 d^2 operations to M, each grid point an eigendecomposition (10 d^3)."""
        n = max(1.0, round(alpha_max * d * d))
        return _sample_needs("the spectral test", seeds, learners.CHUNK, d, n, 2.0 * d * d,
                             samples_from=("alpha_max",)) + [
            Need("every seed's matrix M and its eigenvectors", ("d", "seeds"), 4 * array(seeds, d, d, itemsize=4),
                 operations=10.0 * seeds * n_points * d ** 3),
            _result_needs(seeds, n_points, 3)]

    def simulate(self, *, d: int = 16, seeds: int = 1, seed: int = 0, alpha_min: float = 0.5,
                 alpha_max: float = 8.0, n_points: int = 9) -> xr.Dataset:
        """The test at dimension d on n = round(alpha d^2) samples at each grid point (nested: the first n of one
        stream per seed), for the integer seeds seed, seed + 1, ... (float32). Variables over (seed, alpha):
        m = |<v_top, u>| and lam (its eigenvalue).

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `alpha_min`, `alpha_max`, `n_points` as in `theory`.

        **Returns:** a Dataset with m, lam over (seed, alpha)."""
        self.check_simulation(d=d, seeds=seeds, seed=seed, alpha_min=alpha_min, alpha_max=alpha_max,
                              n_points=n_points)
        alpha = self._grid(alpha_min, alpha_max, n_points)
        n = self._samples(alpha, d)
        run = learners.spectral_path(d, n, self.beta, seeds, seed, self.latent)  # nested samples, one pass
        ds = xr.Dataset({"m": abs(run.m), "lam": run.lam}).rename(n="alpha").assign_coords(
            alpha=alpha, n=("alpha", n)).assign_attrs(
            self.provenance("simulation", dtype="float32", seeds=range(seed, seed + seeds), size=d))
        return check_divergence(ds, self.axis, self.divergence)

    def figure(self, theory, simulation, title=""):
        """The overlap against alpha (figure.overlap), BBP drawn on a fine grid over the theory's range (it is
        closed form, and its kink at alpha_c falls between the grid points)."""
        if theory is not None and theory.sizes["alpha"] > 1:
            alpha = theory.alpha.values
            theory = self.theory(alpha_min=float(alpha.min()), alpha_max=float(alpha.max()), n_points=400)
        return _overlap_figure(self, theory, simulation, title)


# --- FastICA -------------------------------------------------------------------------------------------------

@register
@dataclass(frozen=True, kw_only=True)
class FastICA(Scenario):
    """One-unit FastICA (w <- E_n[x G'(w.x)] - E_n[G''(w.x)] w, normalised) with a fresh batch of n = alpha d
    samples every iteration, from a start with overlap init_overlap, on the spiked cumulant model
    (arXiv 2503.23896).

    Theory: `theory.fastica_map`, |m_{t+1}| = |h(m_t)| / sqrt(h(m_t)^2 + C(m_t) / alpha), exact as d -> infinity
    at fixed alpha and init_overlap (derived here).

    **Arguments:** `beta` (> 0); `latent` (rademacher, uniform, laplace); `contrast` (logcosh, kurtosis,
    hermite); `alpha` (> 0): samples per iteration / d; `init_overlap` in (0, 1].
    """

    model: ClassVar[str] = "cumulants.fastica"
    axis: ClassVar[str] = "iteration"
    size: ClassVar[str] = "d"
    sweepable: ClassVar[tuple[str, ...]] = ("beta", "alpha", "init_overlap")
    convention: ClassVar[str] = ("w <- E_n[x G'(w.x)] - E_n[G''(w.x)] w, w <- w/|w|, a fresh batch of "
                                 "n = round(alpha d) samples per iteration; m = |<w, u>| (arXiv 2503.23896)")
    divergence: ClassVar[Blowup | None] = OVERLAP
    description: ClassVar[str] = "one-unit FastICA with fresh batches of alpha d samples: overlap per iteration"
    papers: ClassVar[tuple[str, ...]] = ("2503.23896",)

    beta: float = 5.0
    latent: str = "rademacher"
    contrast: str = "kurtosis"
    alpha: float = 500.0
    init_overlap: float = 0.5

    def __post_init__(self):
        _spike_fields(self)
        if not isinstance(self.contrast, str):
            raise ValueError(f"contrast must be one of {', '.join(learners.CONTRASTS)}; got {self.contrast!r}")
        learners.check_contrast(self.contrast)
        _set(self, "alpha", check.real("alpha", self.alpha, 0.0, strict_minimum=True))
        _set(self, "init_overlap", check.real("init_overlap", self.init_overlap, 0.0, 1.0, strict_minimum=True))

    @classmethod
    def example(cls) -> "FastICA":
        return cls()

    def theory(self, iterations: int = 8) -> xr.Dataset:
        """m = |<w, u>| over iteration = 0 .. iterations (theory.fastica_map).

        **Arguments:** `iterations` (>= 0).

        **Returns:** a Dataset with m over `iteration`."""
        ds = theory.fastica_map(self.init_overlap, self.alpha, iterations, self.beta, self.latent, self.contrast)
        return check_divergence(ds.assign_attrs(self.provenance("theory", dtype="float64")), self.axis,
                                self.divergence)

    def check_simulation(self, d: int = 64, seeds: int = 1, seed: int = 0, iterations: int = 8, **extra) -> None:
        super().check_simulation(d=d, seeds=seeds, seed=seed, iterations=iterations, **extra)
        d, seeds, _ = _size(d, seeds, seed)
        check.integer("iterations", iterations, 1)

    def check_theory(self, **options) -> None:
        super().check_theory(**options)
        check.integer("iterations", options.get("iterations", 8), 1)

    def theory_needs(self, iterations, **_) -> list[Need]:
        """One population average (the latent's quadrature times 80 Gauss-Hermite nodes) per iteration, in Python:
        the time of about 2e6 + 3e5 nodes operations each (measured)."""
        return [Need("the overlap at every iteration", ("iterations",), array(iterations, 6), result=True),
                Need("the population averages", ("iterations",),
                     operations=iterations * (2e6 + 3e5 * LATENT_NODES[self.latent]))]

    def simulation_needs(self, d, seeds, iterations, **_) -> list[Need]:
        """The chunks of samples (all seeds at once); round(alpha d) fresh samples per iteration, each used in
        two d-vector products."""
        n = max(1.0, round(self.alpha * d))
        return _sample_needs("FastICA", seeds, learners.CHUNK, d, iterations * n, 6.0 * d,
                             samples_from=("iterations",)) + [
            _result_needs(seeds, iterations + 1, 1, "iterations")]

    def simulate(self, *, d: int = 64, seeds: int = 1, seed: int = 0, iterations: int = 8) -> xr.Dataset:
        """FastICA at dimension d, n = round(alpha d) samples per iteration, integer seeds seed, seed + 1, ...
        (float32; w0 with <w0, u> = init_overlap). Variable m = |<w, u>| over (seed, iteration).

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `iterations` (>= 0).

        **Returns:** a Dataset with m over (seed, iteration)."""
        self.check_simulation(d=d, seeds=seeds, seed=seed, iterations=iterations)
        n = max(1, int(round(self.alpha * d)))
        run = learners.fastica(d, n, self.beta, seeds, seed, iterations, self.contrast, self.latent,
                               init_overlap=self.init_overlap)
        ds = xr.Dataset({"m": abs(run.m)}, coords={"n": n}).assign_attrs(
            self.provenance("simulation", dtype="float32", seeds=range(seed, seed + seeds), size=d))
        return check_divergence(ds, self.axis, self.divergence)

    figure = _overlap_figure


# --- online spherical SGD ------------------------------------------------------------------------------------

@register
@dataclass(frozen=True, kw_only=True)
class OnlineSGD(Scenario):
    """A single neuron trained by online spherical SGD on s E[G(w.x)] (w <- (w + (lr/d) s G'(w.x) P_w x)/|.|,
    one fresh sample per step, s = contrast_sign), from a start with overlap init_overlap, on the spiked cumulant
    model (arXiv 2503.23896, 2404.08602).

    Theory: `theory.overlap_ode` in t = steps / d, exact as d -> infinity at fixed lr and init_overlap (the
    online-SGD limit of Ben Arous, Gheissari & Jagannath 2021). From a random start (m0 ~ d^-1/2) the escape
    takes t ~ d^2 (information exponent 4): a sample-complexity sweep, not this curve. Smoothed SGD (radius
    d^(1/4)) has no d -> infinity curve at fixed t and is run by the sweeps only.

    **Arguments:** `beta` (> 0); `latent` (rademacher, uniform, laplace); `contrast` (logcosh, kurtosis,
    hermite); `lr` (> 0): the step is lr / d; `init_overlap` in (0, 1].
    """

    model: ClassVar[str] = "cumulants.sgd"
    axis: ClassVar[str] = "t"
    size: ClassVar[str] = "d"
    sweepable: ClassVar[tuple[str, ...]] = ("beta", "lr", "init_overlap")
    convention: ClassVar[str] = ("w <- (w + (lr/d) s G'(w.x) (I - w w^T) x)/|.|, one fresh sample per step, "
                                 "s = sign(kappa_4 E G''''(g)); t = steps/d (arXiv 2503.23896)")
    divergence: ClassVar[Blowup | None] = OVERLAP
    description: ClassVar[str] = "single neuron, online spherical SGD on the spiked cumulant model: overlap ODE"
    papers: ClassVar[tuple[str, ...]] = ("2503.23896", "2404.08602")

    beta: float = 5.0
    latent: str = "rademacher"
    contrast: str = "kurtosis"
    lr: float = 0.02
    init_overlap: float = 0.6

    def __post_init__(self):
        _spike_fields(self)
        if not isinstance(self.contrast, str):
            raise ValueError(f"contrast must be one of {', '.join(learners.CONTRASTS)}; got {self.contrast!r}")
        learners.check_contrast(self.contrast)
        _set(self, "lr", check.real("lr", self.lr, 0.0, strict_minimum=True))
        _set(self, "init_overlap", check.real("init_overlap", self.init_overlap, 0.0, 1.0, strict_minimum=True))

    @classmethod
    def example(cls) -> "OnlineSGD":
        return cls()

    @staticmethod
    def _check_times(t_max=200.0, n_points=9) -> tuple[float, int]:
        return check.real("t_max", t_max, 0.0, strict_minimum=True), check.integer("n_points", n_points, 2)

    @staticmethod
    def _times(t_max, n_points) -> np.ndarray:
        return np.linspace(0.0, *OnlineSGD._check_times(t_max, n_points))

    def check_theory(self, **options) -> None:
        super().check_theory(**options)
        self._check_times(**options)

    def theory(self, t_max: float = 200.0, n_points: int = 9) -> xr.Dataset:
        """m over t (n_points times from 0 to t_max) from the overlap ODE.

        **Arguments:** `t_max` (> 0); `n_points` (>= 2).

        **Returns:** a Dataset with m over `t`."""
        t = self._times(t_max, n_points)
        ds = theory.overlap_ode(self.init_overlap, self.lr, t, self.beta, self.latent, self.contrast)
        return check_divergence(ds.assign_attrs(self.provenance("theory", dtype="float64")), self.axis,
                                self.divergence)

    def check_simulation(self, d: int = 64, seeds: int = 1, seed: int = 0, t_max: float = 200.0,
                         n_points: int = 9, **extra) -> None:
        super().check_simulation(d=d, seeds=seeds, seed=seed, t_max=t_max, n_points=n_points, **extra)
        d, seeds, _ = _size(d, seeds, seed)
        self._check_times(t_max, n_points)

    def theory_needs(self, n_points, **_) -> list[Need]:
        """The population averages on the ODE's 4001-point grid of overlaps (the latent's quadrature times 80
        Gauss-Hermite nodes, NumPy: about 6 arrays of that size and 400 operations a node, measured) and the
        RK4 solve."""
        nodes = 4001.0 * 80 * LATENT_NODES[self.latent]
        return [Need("the population averages on the grid of overlaps", ("latent",), 6 * array(nodes),
                     operations=400 * nodes)] + _ode_needs(n_points, 200.0)

    def simulation_needs(self, d, seeds, t_max, n_points, **_) -> list[Need]:
        """One block of samples per record, drawn at once for every seed (float32); one SGD step per sample."""
        return _online_needs(d, seeds, t_max, n_points, 1)

    def simulate(self, *, d: int = 64, seeds: int = 1, seed: int = 0, t_max: float = 200.0,
                 n_points: int = 9) -> xr.Dataset:
        """SGD at dimension d for ceil(t_max d) steps (rounded up to a multiple of n_points - 1), integer seeds
        seed, seed + 1, ... (float32). Variable m = <w, u> over (seed, t).

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `t_max` (> 0); `n_points` (>= 2).

        **Returns:** a Dataset with m over (seed, t)."""
        self.check_simulation(d=d, seeds=seeds, seed=seed, t_max=t_max, n_points=n_points)
        run = learners.online_sgd(d, int(np.ceil(t_max * d)), self.beta, self.lr, seeds, seed, n_points - 1,
                                  self.contrast, self.latent, init_overlap=self.init_overlap)
        ds = run.swap_dims(step="t").assign_attrs(
            self.provenance("simulation", dtype="float32", seeds=range(seed, seed + seeds), size=d))
        return check_divergence(ds, self.axis, self.divergence)

    figure = _overlap_figure


def _online_needs(d, seeds, t_max, n_points, spikes: int) -> list[Need]:
    """Online SGD for ceil(t_max d) steps, rounded up to blocks of one record each: the block's samples for
    every seed at once, an SGD step of about 20 d operations per sample, the overlaps with `spikes` spikes."""
    block = -(-int(np.ceil(t_max * d)) // (n_points - 1))
    return _sample_needs("online SGD", seeds, block, d, float(block) * (n_points - 1), 20.0 * d,
                         ("t_max", "n_points"), ("t_max",)) + [
        _result_needs(seeds, n_points, spikes + 1)]


# --- the single neuron on the mixed cumulant model -----------------------------------------------------------

MIXED_OVERLAPS = Blowup(("m_u", "m_v"), 1.01)
"""Overlaps of a unit vector with two orthonormal spikes: finite, |m| <= 1."""


@register
@dataclass(frozen=True, kw_only=True)
class MixedCumulant(Scenario):
    """A single neuron trained by online spherical SGD on E(w.x)^4 / 4 on the mixed cumulant model (covariance
    spike u, whitened Laplace spike v; data.mixed_cumulant), from <w0, u> = init_overlap (arXiv 2404.08602).

    Theory: `theory.mixed_ode` for (m_u, m_v) in t = steps / d, exact as d -> infinity at fixed lr and
    init_overlap (derived here). With correlated latents the neuron, once on u, is pulled towards v (m_v rises to
    a plateau near 0.3 at the defaults); with independent latents m_v stays at its O(d^-1/2) start.

    **Arguments:** `beta_u`, `beta_v` (> 0): the two spike strengths; `correlated`: the latents'
    correlation; `lr` (> 0): the step is lr / d; `init_overlap` in (0, 1].
    """

    model: ClassVar[str] = "cumulants.mixed"
    axis: ClassVar[str] = "t"
    size: ClassVar[str] = "d"
    sweepable: ClassVar[tuple[str, ...]] = ("beta_u", "beta_v", "lr", "init_overlap")
    convention: ClassVar[str] = ("w <- (w + (lr/d) (w.x)^3 (I - w w^T) x)/|.|, one fresh sample per step; "
                                 "t = steps/d; m_u = <w, u>, m_v = <w, v> (arXiv 2404.08602)")
    divergence: ClassVar[Blowup | None] = MIXED_OVERLAPS
    description: ClassVar[str] = "single neuron, online SGD on the mixed cumulant model: overlaps with u and v"
    papers: ClassVar[tuple[str, ...]] = ("2404.08602",)

    beta_u: float = 1.0
    beta_v: float = 5.0
    correlated: bool = True
    lr: float = 0.02
    init_overlap: float = 0.3

    def __post_init__(self):
        _set(self, "beta_u", check.real("beta_u", self.beta_u, 0.0, strict_minimum=True))
        _set(self, "beta_v", check.real("beta_v", self.beta_v, 0.0, strict_minimum=True))
        if not isinstance(self.correlated, (bool, np.bool_)):
            raise ValueError(f"correlated must be true or false; got {self.correlated!r}")
        _set(self, "correlated", bool(self.correlated))
        _set(self, "lr", check.real("lr", self.lr, 0.0, strict_minimum=True))
        _set(self, "init_overlap", check.real("init_overlap", self.init_overlap, 0.0, 1.0, strict_minimum=True))

    @classmethod
    def example(cls) -> "MixedCumulant":
        return cls()

    def theory(self, t_max: float = 40.0, n_points: int = 9) -> xr.Dataset:
        """m_u and m_v over t (n_points times from 0 to t_max) from the overlap ODE.

        **Arguments:** `t_max` (> 0); `n_points` (>= 2).

        **Returns:** a Dataset with m_u, m_v over `t`."""
        t = OnlineSGD._times(t_max, n_points)
        ds = theory.mixed_ode(self.init_overlap, self.lr, t, self.beta_u, self.beta_v, self.correlated)
        return check_divergence(ds.assign_attrs(self.provenance("theory", dtype="float64")), self.axis,
                                self.divergence)

    def check_simulation(self, d: int = 64, seeds: int = 1, seed: int = 0, t_max: float = 40.0,
                         n_points: int = 9, **extra) -> None:
        super().check_simulation(d=d, seeds=seeds, seed=seed, t_max=t_max, n_points=n_points, **extra)
        d, seeds, _ = _size(d, seeds, seed)
        OnlineSGD._check_times(t_max, n_points)

    def check_theory(self, **options) -> None:
        super().check_theory(**options)
        OnlineSGD._check_times(**options)

    def theory_needs(self, n_points, **_) -> list[Need]:
        return _ode_needs(n_points, 500.0)

    def simulation_needs(self, d, seeds, t_max, n_points, **_) -> list[Need]:
        """One block of samples per record, drawn at once for every seed (float32); one SGD step per sample."""
        return _online_needs(d, seeds, t_max, n_points, 2)

    def simulate(self, *, d: int = 64, seeds: int = 1, seed: int = 0, t_max: float = 40.0,
                 n_points: int = 9) -> xr.Dataset:
        """SGD at dimension d for ceil(t_max d) steps (rounded up to a multiple of n_points - 1), integer seeds
        seed, seed + 1, ... (float32). Variables m_u and m_v over (seed, t).

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `t_max` (> 0); `n_points` (>= 2).

        **Returns:** a Dataset with m_u, m_v over (seed, t)."""
        self.check_simulation(d=d, seeds=seeds, seed=seed, t_max=t_max, n_points=n_points)
        run = learners.mixed_sgd(d, int(np.ceil(t_max * d)), self.beta_u, self.beta_v, self.lr, self.correlated,
                                 seeds, seed, n_points - 1, init_overlap=self.init_overlap)
        ds = run.swap_dims(step="t").assign_attrs(
            self.provenance("simulation", dtype="float32", seeds=range(seed, seed + seeds), size=d))
        return check_divergence(ds, self.axis, self.divergence)

    def figure(self, theory, simulation, title=""):
        """The overlaps m_u = <w, u> and m_v = <w, v> along t (figure.overlap), one color each."""
        from hild.families.cumulants.figure import overlap
        from hild.plot import scenario_title

        title = title or scenario_title(self)
        fig = overlap(theory, simulation, self.axis, "m_u", title=title, label=r"$m_u = \langle w, u \rangle$")
        return overlap(theory, simulation, self.axis, "m_v", title=title, ax=fig.axes[0], color="C1",
                       label=r"$m_v = \langle w, v \rangle$")


__all__ = ["FastICA", "MixedCumulant", "OnlineSGD", "SpectralTest"]
