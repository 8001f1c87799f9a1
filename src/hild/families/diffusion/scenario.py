"""The linear diffusion scenario: DDPM with a linear noise predictor per diffusion step.

Merger & Goldt, "Generalization dynamics of linear diffusion models", arXiv 2505.24769.

Data: N samples x_mu ~ N(0, Sigma) in d dimensions, centred by their empirical mean mu_0 before
training (samples are shifted back by mu_0). The training set is drawn by each simulated seed
(default), fixed (drawn once by `training_seed`, given as `training_set`, or built from given
empirical moments `training_mean`, `training_covariance`: hild.families.diffusion.data.from_moments).
Model: eps_theta(x, t) = W_t x + b_t for t = 1..T. Loss at step t (the denoising score-matching loss
of Ho et al., arXiv 2006.11239, summed over the d components, as in the paper's
L = sum_t <||eps - eps_theta(x_t, t)||^2>):

    L_t = (1/N) sum_mu E_eps ||eps - W_t x_t - b_t||^2 + ridge ||W_t||_F^2,
    x_t = sqrt(alpha_bar_t) x_mu + sqrt(1 - alpha_bar_t) eps

Training (learning-rate convention): W_t, b_t start at 0; one GD step is theta <- theta - lr grad L_t,
the expectation over eps replaced by `draws` fresh noise vectors per training point and step;
tau = lr * steps. steps = None is the minimiser of L_t (training to convergence); an integer is
early stopping. ema > 0 uses the exponential moving average of the iterates (decay ema, started at
0), as DDPM training does. GD converges when lr < 1 / (max(lam_hat_max, 1) + ridge).
Sampling: DDPM (v_{t-1} = (v_t - beta_t eps_theta / sqrt(1 - alpha_bar_t)) / sqrt(1 - beta_t)
+ sqrt(beta_t) z, the noise kept at t = 1 unless final_noise is False) or 'flow', the deterministic
DDIM (eta = 0) discretisation of the probability-flow ODE (Song et al., arXiv 2010.02502), in the
coordinates v_t = x_t - sqrt(alpha_bar_t) mu_0 of the centred data; the generated points are v_0 + mu_0.
Start: 'centred' (v_T ~ N(0, I), the default: the generated mean is mu_0 exactly) or 'raw', the
standard DDPM start x_T ~ N(0, I) in raw coordinates (v_T ~ N(-sqrt(alpha_bar_T) mu_0, I)). Both are
exactly the raw-coordinate sampler with the denoiser eps = W_t (x - sqrt(alpha_bar_t) mu_0) + b_t
(the affine minimiser on the raw data), since sqrt(alpha_bar_t / (1 - beta_t)) = sqrt(alpha_bar_{t-1});
the raw start moves the generated mean to mu_0 - sqrt(alpha_bar_T) V diag(prod_t c_t) V^T mu_0
(hild.families.diffusion.theory), the variance is the same.

Protocol: axis `t` (the diffusion step; per-step losses and denoisers, and the generated law of
x_{t-1} along sampling), size `n_samples` (the generated samples and, by default, the Monte Carlo
samples of the losses: the sampled law and losses converge to the exact ones as n_samples grows;
trained denoisers add SGD noise, set by draws and lr, on top).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hild.core import Blowup, Scenario, register
from hild.core import validation as check
from hild.core import resources
from hild.core.resources import Need, array
from hild.families.diffusion import schedule
from hild.families.diffusion.data import SPECTRA, Moments, Target, from_moments, moments, target, training_moments

SAMPLERS = ("ddpm", "flow")
STARTS = ("centred", "raw")
CONVENTION = ("L_t = E||eps - W_t x_t - b_t||^2 (sum over d components) + ridge ||W_t||_F^2 on data centred by "
              "their empirical mean; GD theta <- theta - lr grad L_t from 0 with `draws` fresh noise vectors per "
              "point and step; tau = lr * steps; KL in nats over all d dimensions (Merger & Goldt, arXiv 2505.24769)")
BLOWUP = Blowup(("w",), 1e6)
"""Diverged where an eigenvalue w of a denoiser (diag V^T W_t V; NaN where W_t or b_t is not finite) is not
finite or |w| > 1e6: GD on L_t is unstable (lr >= 1 / (alpha_bar lam_hat + 1 - alpha_bar + ridge))."""


def _array(name: str, value):
    """An array field: None, array-like, or the path of a .npy or whitespace-separated text file."""
    if value is None or not isinstance(value, (str, Path)):
        return value
    path = Path(value)
    try:
        return np.load(path) if path.suffix == ".npy" else np.loadtxt(path, ndmin=1)
    except (OSError, ValueError) as e:
        raise ValueError(f"{name}: cannot read {str(path)!r} as a .npy or text array ({e})") from None


def _numbers(name: str, value, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers (or a .npy / text file); got {value!r}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array of numbers; got shape {arr.shape}")
    return arr


@register
@dataclass(frozen=True, kw_only=True)
class LinearDiffusion(Scenario):
    """DDPM with linear denoisers trained on N Gaussian samples in d dimensions.

    **Arguments:**
    - `d`, `N`: dimension and number of training samples.
    - `spectrum`: 'isotropic' (Sigma = I), 'power_law' (lambda_k proportional to k^-exponent, tr Sigma = d)
      or 'given' (`covariance`, a d x d positive semi-definite matrix or its .npy / text file).
    - `T`, `beta_min`, `beta_max`: the linear schedule (T None: 1000), or `betas`, a given schedule in (0, 1).
    - `ridge`, `lr`, `steps`, `ema`, `draws`: training (see the module docstring).
    - `sampler`: 'ddpm' or 'flow'; `final_noise`: add the sampler's noise at t = 1 (the floor beta_1 of the
      generated variance); `start`: 'centred' or 'raw' (the standard x_T ~ N(0, I); see the module docstring).
    - The training set (at most one of): `training_seed` (the set drawn by this integer seed, the same for
      every simulated seed), `training_set` (N x d points), `training_mean` and `training_covariance` (its
      empirical moments mu_0, Sigma_0, normalised by N, rank <= N - 1); none: each simulated seed draws its own.
    """

    model: ClassVar[str] = "diffusion"
    axis: ClassVar[str] = "t"
    size: ClassVar[str] = "n_samples"
    units: ClassVar[tuple[str, ...]] = ("mode",)
    sweepable: ClassVar[tuple[str, ...]] = ("d", "N", "spectrum", "exponent", "beta_min", "beta_max", "ridge", "lr",
                                            "steps", "ema", "draws", "sampler", "final_noise", "start",
                                            "training_seed")
    convention: ClassVar[str] = CONVENTION
    divergence: ClassVar[Blowup] = BLOWUP
    description: ClassVar[str] = ("DDPM with linear denoisers on N Gaussian samples: exact training, losses, "
                                  "generated law and KL per training set")
    papers: ClassVar[tuple[str, ...]] = ("2505.24769",)

    d: int
    N: int
    spectrum: str = "isotropic"
    exponent: float = 1.0
    covariance: Any = None
    T: int | None = None
    beta_min: float = 1e-4
    beta_max: float = 1e-2
    betas: Any = None
    ridge: float = 0.0
    lr: float = 0.05
    steps: int | None = None
    ema: float = 0.0
    draws: int = 1
    sampler: str = "ddpm"
    final_noise: bool = True
    start: str = "centred"
    training_seed: int | None = None
    training_set: Any = None
    training_mean: Any = None
    training_covariance: Any = None
    target: Target = field(init=False, repr=False, compare=False)
    beta: np.ndarray = field(init=False, repr=False, compare=False)
    given: Moments | None = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        set_("d", check.integer("d", self.d, 1))
        set_("N", check.integer("N", self.N, 1))
        if self.spectrum not in SPECTRA:
            raise ValueError(f"spectrum must be one of {', '.join(map(repr, SPECTRA))}; got {self.spectrum!r}")
        resources.admit("diffusion scenario", self._data_needs())
        set_("exponent", check.real("exponent", self.exponent, minimum=0.0))
        set_("covariance", _array("covariance", self.covariance))
        if (self.spectrum == "given") != (self.covariance is not None):
            given = "None" if self.covariance is None else "a matrix"
            raise ValueError("covariance must be given exactly when spectrum is 'given' "
                             f"(got spectrum {self.spectrum!r} and covariance {given})")
        if self.covariance is not None:
            cov = check.covariance("covariance", _numbers("covariance", self.covariance, 2), self.d)
            set_("covariance", tuple(map(tuple, cov.tolist())))
        set_("target", target(self.spectrum, self.d, self.exponent, self.covariance))
        set_("betas", _array("betas", self.betas))
        if self.betas is not None:
            betas = schedule.check_betas("betas", _numbers("betas", np.atleast_1d(self.betas), 1))
            if self.T is not None and self.T != len(betas):
                raise ValueError(f"T must be None or len(betas) = {len(betas)} when betas is given; got {self.T!r}")
            resources.admit("diffusion scenario", self._schedule_needs(len(betas), ("betas",)))
            set_("betas", tuple(betas.tolist()))
        else:
            set_("T", check.integer("T", 1000 if self.T is None else self.T, 1))
            lo, hi = schedule.check_beta("beta_min", self.beta_min), schedule.check_beta("beta_max", self.beta_max)
            if lo > hi:
                raise ValueError(f"beta_max must be >= beta_min = {lo:g}; got {hi:g}")
            resources.admit("diffusion scenario", self._schedule_needs(self.T, ("T",)))
            betas = schedule.linear(self.T, lo, hi)
        set_("T", len(betas))
        set_("beta", betas)
        set_("ridge", check.real("ridge", self.ridge, minimum=0.0))
        set_("lr", check.real("lr", self.lr, minimum=0.0, strict_minimum=True))
        if self.steps is not None:
            set_("steps", check.integer("steps", self.steps, 0))
        ema = check.real("ema", self.ema, minimum=0.0)
        if ema >= 1:
            raise ValueError(f"ema must be a finite number in [0, 1); got {ema:g}")
        set_("ema", ema)
        set_("draws", check.integer("draws", self.draws, 1))
        for name, allowed in (("sampler", SAMPLERS), ("start", STARTS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {getattr(self, name)!r}")
        if not isinstance(self.final_noise, (bool, np.bool_)):
            raise ValueError(f"final_noise must be True or False; got {self.final_noise!r}")
        set_("final_noise", bool(self.final_noise))
        set_("given", self._training_set())

    def _data_needs(self) -> list[Need]:
        """What building the target and a fixed training set allocates: the spectrum (a given covariance: its
        copies and eigenvectors, d x d), the N x d training set with its moments, and for given moments the
        N x N basis that builds a training set with exactly them (hild.families.diffusion.data.from_moments)."""
        d, N = self.d, self.N
        given = self.spectrum == "given"
        needs = [Need("the target's covariance and eigenvectors" if given else "the target's spectrum", ("d",),
                      6 * array(d, d) if given else 2 * array(d), operations=10.0 * d ** 3 if given else 0.0)]
        if self.training_seed is not None or self.training_set is not None:
            needs.append(Need("the fixed training set and its moments", ("N", "d"),
                              4 * array(N, d) + 2 * array(d, d), operations=2.0 * N * d * d + 10.0 * d ** 3))
        elif self.training_mean is not None:
            needs.append(Need("the training set built from the given moments (an N x N basis)", ("N", "d"),
                              2 * array(N, N) + 2 * array(N, d) + 2 * array(d, d), operations=4.0 * N * N * d))
        return needs

    def _schedule_needs(self, T: int, parameters: tuple[str, ...]) -> list[Need]:
        """The schedule beta_t (float64) with alpha_bar_t, which every call computes from it, and the T x d
        arrays that even the smallest theory of the scenario holds (theory(denoisers=False): about 4, the
        denoisers w* per (t, mode), their contractions and products; measured): a scenario whose theory
        cannot fit is refused when it is built."""
        return [Need("the noise schedule beta_t and alpha_bar_t", parameters, 3 * array(T)),
                Need("the T x d arrays of its smallest theory", parameters + ("d",), 4 * array(T, self.d))]

    def _training_set(self) -> Moments | None:
        """Validate the training-set fields; the fixed training set's moments (None: drawn per seed)."""
        for name in ("training_set", "training_mean", "training_covariance"):
            object.__setattr__(self, name, _array(name, getattr(self, name)))
        sources = [name for name in ("training_seed", "training_set", "training_mean")
                   if getattr(self, name) is not None]
        if (self.training_mean is None) != (self.training_covariance is None):
            raise ValueError("training_mean and training_covariance must be given together "
                             f"(got training_mean {'None' if self.training_mean is None else 'an array'} and "
                             f"training_covariance {'None' if self.training_covariance is None else 'an array'})")
        if len(sources) > 1:
            raise ValueError(f"the training set is given twice ({' and '.join(sources)}); give at most one of "
                             "training_seed, training_set, training_mean with training_covariance")
        if self.training_seed is not None:
            object.__setattr__(self, "training_seed", check.integer("training_seed", self.training_seed, 0))
            return training_moments(self.target, self.N, self.training_seed)
        if self.training_set is not None:
            X = check.matrix("training_set", _numbers("training_set", self.training_set, 2), (self.N, self.d))
            object.__setattr__(self, "training_set", tuple(map(tuple, X.tolist())))
            return moments(X)
        if self.training_mean is not None:
            mu0 = check.vector("training_mean", _numbers("training_mean", self.training_mean, 1), self.d)
            S0 = check.covariance("training_covariance",
                                  _numbers("training_covariance", self.training_covariance, 2), self.d)
            object.__setattr__(self, "training_mean", tuple(mu0.tolist()))
            object.__setattr__(self, "training_covariance", tuple(map(tuple, S0.tolist())))
            return from_moments(mu0, S0, self.N)
        return None

    @classmethod
    def example(cls) -> "LinearDiffusion":
        """d = 6, N = 12, the standard schedule, the exact minimiser, one fixed training set (seed 0)."""
        return cls(d=6, N=12, training_seed=0)

    def unit_sizes(self) -> dict[str, int]:
        return {"mode": self.d}

    @property
    def fixed_training_set(self) -> bool:
        """Whether the training set is fixed (the same for every seed) rather than drawn by each seed."""
        return self.given is not None

    def moments(self, seed: int = 0) -> Moments:
        """The training set and its empirical moments: the fixed one, else the one drawn by integer `seed`
        (the same for theory and simulation)."""
        seed = check.integer("seed", seed, 0)
        return self.given if self.given is not None else training_moments(self.target, self.N, seed)

    def record_count(self, n_points: int) -> int:
        """len(record_steps(n_points)), validated, without building it: min(n_points - 1, steps) + 1."""
        if self.steps is None:
            raise ValueError("steps must be an integer to record training; steps=None is the minimiser itself")
        return min(check.integer("n_points", n_points, 2) - 1, self.steps) + 1

    def record_steps(self, n_points: int) -> np.ndarray:
        """The GD steps at which training is recorded: 0, p, 2p, ..., steps with p = steps // (n_points - 1)."""
        resources.admit(f"{self.model} record", [Need("the recorded GD steps", ("n_points",),
                                                       array(self.record_count(n_points)))])
        per = max(1, self.steps // (n_points - 1))
        inner = np.arange(min(n_points - 1, self.steps)) * per  # (more points than steps: one per step)
        return np.concatenate([inner[inner < self.steps], [self.steps]]).astype(int)

    def theory(self, *, seeds: int = 1, seed: int = 0, n_points: int | None = None, denoisers: bool = True):
        """The exact theory (hild.families.diffusion.theory) for the training sets of the seeds seed, ...,
        seed + seeds - 1 (a `seed` dimension), or of the fixed training set (no `seed` dimension).

        **Arguments:**
        - `seeds`, `seed`: the training sets drawn by these integer seeds (ignored for a fixed training set).
        - `n_points`: also the mean GD trajectory of the denoisers at record_steps(n_points) (`w_path`).
        - `denoisers`: keep the (t, mode) variables w, w_star, h_sampling, mean_sampling (large for many seeds).

        **Returns:** an xarray.Dataset on the axis t."""
        from hild.families.diffusion.theory import theory
        seeds, seed = check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
        return theory(self, seeds=range(seed, seed + seeds), n_points=n_points, denoisers=denoisers)

    def matching_theory(self, simulation, **options):
        """The theory of the simulation's training sets (its seeds, or the fixed training set)."""
        from hild.families.diffusion.theory import theory
        seeds = [int(s) for s in simulation["seed"].values] if "seed" in simulation.dims else [0]
        options.pop("seeds", None)
        options.pop("seed", None)
        if "n_points" not in options and "step" in simulation.dims:
            options["n_points"] = simulation.sizes["step"]
        return theory(self, seeds=seeds, **options)

    def simulate(self, *, n_samples: int = 1000, seeds: int = 1, seed: int = 0, times=None,
                 n_points: int | None = None, n_loss: int | None = None, n_nn: int = 1_000,
                 denoiser: str | None = None, dtype: str = "float32", progress: bool = False):
        """Train the denoisers by GD with fresh noise and sample from them, at finite d
        (hild.families.diffusion.simulate).

        **Arguments:**
        - `n_samples`: generated samples per seed (the size parameter; 0: no sampling, else > d).
        - `seeds`, `seed`: the integer seeds seed, ..., seed + seeds - 1 (each draws the training set unless
          it is fixed, and the GD and sampling noise).
        - `times`: the diffusion steps trained (default all; sampling needs all).
        - `n_points`: record the GD path at record_steps(n_points).
        - `n_loss`: Monte Carlo samples per loss (None: n_samples; 0: no losses); `n_nn`: samples for the
          nearest-neighbour distances.
        - `denoiser`: 'trained' or 'exact' (the theory's denoisers); None: 'trained' when steps is set.
        - `dtype`: 'float32' or 'float64'.

        **Returns:** an xarray.Dataset with a `seed` dimension, on the axis t."""
        from hild.families.diffusion.simulate import simulate
        return simulate(self, seeds=seeds, seed=seed, times=times, n_points=n_points, n_samples=n_samples,
                        n_loss=n_loss, n_nn=n_nn, denoiser=denoiser, dtype=dtype, progress=progress)

    def check_simulation(self, **arguments) -> None:
        """Raise ValueError if `simulate(**arguments)` is invalid, before anything is allocated."""
        from hild.families.diffusion.simulate import check_run
        super().check_simulation(**arguments)
        bound = inspect.signature(self.simulate).bind(**arguments)
        bound.apply_defaults()
        args = dict(bound.arguments)
        args.pop("progress")
        check_run(self, **args)

    def _moment_needs(self, seeds: int) -> list[Need]:
        """One training set drawn and its moments (per seed, one at a time), unless the training set is fixed."""
        if self.fixed_training_set:
            return []
        d, N = float(self.d), float(self.N)
        return [Need("one seed's training set and its moments", ("N", "d"), 3 * array(N, d) + 2 * array(d, d),
                     operations=seeds * (2 * N * d * d + 10 * d ** 3))]

    def check_theory(self, **options) -> None:
        super().check_theory(**options)
        check.integer("seeds", options["seeds"], 1)
        check.integer("seed", options["seed"], 0)
        if options["n_points"] is not None:
            self.record_count(options["n_points"])

    def theory_needs(self, seeds, n_points, denoisers, **_) -> list[Need]:
        """Every training set's variables (the (t, mode) ones with `denoisers`, the GD path w_path with n_points)
        and their stacked copy, and one training set's working arrays (about 5 T x d, and 3 per recorded
        step); about 700 operations per (t, mode) and 150 per (step, t, mode) as measured (NumPy)."""
        S = 1 if self.fixed_training_set else seeds
        T, d = float(self.T), float(self.d)
        rec = 0 if n_points is None else self.record_count(n_points)
        per_seed = (4 * T * d if denoisers else 0) + rec * T * d + 3 * T + 5 * d + 6
        size = ("seeds", "T", "d", "n_points")
        return self._moment_needs(S) + [
            Need("the variables of every training set", size, array(S, per_seed), result=True),
            Need("their stacked copy", size, array(S, per_seed)),
            Need("one training set's working arrays", ("T", "d", "n_points"), array(5 + 3 * rec, T, d),
                 operations=S * T * d * (700 + 150 * rec))]

    def simulation_needs(self, n_samples, seeds, seed, times, n_points, n_loss, n_nn, denoiser, dtype,
                         **_) -> list[Need]:
        """Per seed, one at a time: its denoisers W_t (T x d x d: host, device and the rotated copies), the
        generated samples, the nearest-neighbour distances (min(n_nn, n_samples) x N), the Monte Carlo losses'
        inputs and the GD path; every seed's recorded variables with their copies. Work: GD costs 6 draws N d^2
        operations per step and diffusion step, sampling n_samples d^2 per step (d with the exact denoisers),
        the losses 6 n_loss d^2 per diffusion step, rotating the denoisers 4 d^3 each."""
        from hild.families.diffusion.simulate import BUDGET, check_run

        S, _, times, record, n, n_loss, n_nn, denoiser = check_run(
            self, n_samples=n_samples, seeds=seeds, seed=seed, times=times, n_points=n_points, n_loss=n_loss,
            n_nn=n_nn, denoiser=denoiser, dtype=dtype)
        item = 8 if dtype == "float64" else 4
        Tt, d, N, T = float(len(times)), float(self.d), float(self.N), float(self.T)
        rec = 0.0 if record is None else float(len(record))
        trained = denoiser == "trained"
        n_mc = float(-(-n_loss // self.N) * self.N) if n_loss else 0.0
        k = float(min(n_nn, n))
        per_seed = (Tt * d * (1 + rec) + Tt * (2 * rec + 8) + (2 * T * d if n else 0) + 8 * d + 8)
        steps = float(self.steps or 0)
        work = (Tt * steps * self.draws * N * d * (6 * d + 20) if trained else 2 * T * d ** 3) + 4 * Tt * d ** 3
        work += 6 * Tt * n_mc * d * d + (T * n * d * (2 * d + 20) if trained else T * n * d * 30) + 2 * k * N * d
        size = ("seeds", "d", "T", "n_samples")
        return self._moment_needs(S) + [
            Need("one seed's denoisers W_t (T x d x d) and their copies", ("d", "T"),
                 array(Tt, d, d, itemsize=32 + item)),
            Need("one seed's generated samples", ("n_samples", "d"), array(n, d, itemsize=2 * item + 40)),
            Need("one seed's nearest-neighbour distances", ("n_nn", "n_samples", "N"), 3 * array(k, N)),
            Need("one seed's Monte Carlo loss inputs and noise", ("n_loss", "d"),
                 array(n_mc, d, itemsize=16 + 2 * item) + 2 * BUDGET * item),
            Need("one seed's GD noise batches and path", ("draws", "N", "d", "n_points"),
                 (array(self.draws, N, d, itemsize=8 + item) + 2 * BUDGET * item if trained else 0.0)
                 + array(rec, Tt, d + 2, itemsize=8 + item)),
            Need("every seed's recorded variables", size, array(S, per_seed), result=True),
            Need("their copies (stacking, divergence check)", size, 2 * array(S, per_seed)),
            Need("training, sampling and measuring every seed", ("seeds", "steps", "n_samples", "d", "T"),
                 operations=S * work)]

    def figure(self, theory, simulation, title: str = ""):
        """Spectra, losses over t and KL against N/d (hild.families.diffusion.figure)."""
        from hild.families.diffusion.figure import figure
        how = "minimiser" if self.steps is None else f"{self.steps} GD steps"
        return figure(theory, simulation, title=title or f"linear diffusion d={self.d}, N={self.N}, {self.spectrum}, "
                                                          f"{how}, {self.start} start")
