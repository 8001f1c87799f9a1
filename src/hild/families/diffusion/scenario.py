"""The linear diffusion scenario: DDPM with a linear noise predictor per diffusion step.

Merger & Goldt, "Generalization dynamics of linear diffusion models", arXiv 2505.24769.

Data: N samples x_mu ~ N(0, Sigma) in d dimensions, centred by their empirical mean mu_0 before
training (samples are shifted back by mu_0). Model: eps_theta(x, t) = W_t x + b_t for t = 1..T.
Loss at step t (the denoising score-matching loss of Ho et al., arXiv 2006.11239, summed over the d
components, as in the paper's L = sum_t <||eps - eps_theta(x_t, t)||^2>):

    L_t = (1/N) sum_mu E_eps ||eps - W_t x_t - b_t||^2 + ridge ||W_t||_F^2,
    x_t = sqrt(alpha_bar_t) x_mu + sqrt(1 - alpha_bar_t) eps

Training (learning-rate convention): W_t, b_t start at 0; one GD step is theta <- theta - lr grad L_t,
the expectation over eps replaced by `draws` fresh noise vectors per training point and step;
tau = lr * steps. steps = None is the minimiser of L_t (training to convergence); an integer is
early stopping. ema > 0 uses the exponential moving average of the iterates (decay ema, started at
0), as DDPM training does. GD converges when lr < 1 / (max(lam_hat_max, 1) + ridge).
Sampling: DDPM (u_T ~ N(0, I), u_{t-1} = (u_t - beta_t eps_theta / sqrt(1 - alpha_bar_t)) / sqrt(1 - beta_t)
+ sqrt(beta_t) z, the noise kept at t = 1 unless final_noise is False) or 'flow', the deterministic
DDIM (eta = 0) discretisation of the probability-flow ODE (Song et al., arXiv 2010.02502).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hild.core import validation as check
from hild.families.diffusion import schedule
from hild.families.diffusion.data import SPECTRA, Moments, Target, target, training_moments

SAMPLERS = ("ddpm", "flow")
CONVENTION = ("L_t = E||eps - W_t x_t - b_t||^2 (sum over d components) + ridge ||W_t||_F^2 on data centred by "
              "their empirical mean; GD theta <- theta - lr grad L_t from 0 with `draws` fresh noise vectors per "
              "point and step; tau = lr * steps; KL in nats over all d dimensions (Merger & Goldt, arXiv 2505.24769)")


@dataclass(frozen=True, kw_only=True)
class LinearDiffusion:
    """DDPM with linear denoisers trained on N Gaussian samples in d dimensions.

    spectrum: 'isotropic' (Sigma = I), 'power_law' (lambda_k proportional to k^-exponent, tr Sigma = d)
    or 'given' (covariance, a d x d positive semi-definite matrix). Schedule: linear from beta_min to
    beta_max over T steps (T None: 1000), or a given array `betas` in (0, 1). ridge, lr, steps, ema,
    draws: training (see the module docstring). sampler: 'ddpm' or 'flow'; final_noise: add the
    sampler's noise at t = 1 (the floor beta_1 of the generated variance).
    """

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
    target: Target = field(init=False, repr=False, compare=False)
    beta: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        set_("d", check.integer("d", self.d, 1))
        set_("N", check.integer("N", self.N, 1))
        if self.spectrum not in SPECTRA:
            raise ValueError(f"spectrum must be one of {', '.join(map(repr, SPECTRA))}; got {self.spectrum!r}")
        set_("exponent", check.real("exponent", self.exponent, minimum=0.0))
        if (self.spectrum == "given") != (self.covariance is not None):
            given = "None" if self.covariance is None else "a matrix"
            raise ValueError("covariance must be given exactly when spectrum is 'given' "
                             f"(got spectrum {self.spectrum!r} and covariance {given})")
        if self.covariance is not None:
            cov = check.covariance("covariance", self.covariance, self.d)
            set_("covariance", tuple(map(tuple, cov.tolist())))
        set_("target", target(self.spectrum, self.d, self.exponent, self.covariance))
        if self.betas is not None:
            betas = schedule.check_betas("betas", self.betas)
            if self.T is not None and self.T != len(betas):
                raise ValueError(f"T must be None or len(betas) = {len(betas)} when betas is given; got {self.T!r}")
            set_("betas", tuple(betas.tolist()))
        else:
            set_("T", check.integer("T", 1000 if self.T is None else self.T, 1))
            lo, hi = schedule.check_beta("beta_min", self.beta_min), schedule.check_beta("beta_max", self.beta_max)
            if lo > hi:
                raise ValueError(f"beta_max must be >= beta_min = {lo:g}; got {hi:g}")
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
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(map(repr, SAMPLERS))}; got {self.sampler!r}")
        if not isinstance(self.final_noise, (bool, np.bool_)):
            raise ValueError(f"final_noise must be True or False; got {self.final_noise!r}")
        set_("final_noise", bool(self.final_noise))

    @property
    def params(self) -> dict:
        """All parameters as plain JSON-able values."""
        return {"d": self.d, "N": self.N, "spectrum": self.spectrum, "exponent": self.exponent,
                "covariance": None if self.covariance is None else [list(r) for r in self.covariance],
                "T": self.T, "beta_min": self.beta_min, "beta_max": self.beta_max,
                "betas": None if self.betas is None else list(self.betas), "ridge": self.ridge, "lr": self.lr,
                "steps": self.steps, "ema": self.ema, "draws": self.draws, "sampler": self.sampler,
                "final_noise": self.final_noise}

    def attrs(self, kind: str) -> dict:
        from hild import __version__
        return {"model": "diffusion", "kind": kind, "params": json.dumps(self.params),
                "hild_version": __version__, "convention": CONVENTION}

    def moments(self, seed: int = 0) -> Moments:
        """The training set drawn by integer `seed` and its empirical moments (the same for theory and simulation)."""
        return training_moments(self.target, self.N, check.integer("seed", seed, 0))

    def record_steps(self, n_points: int) -> np.ndarray:
        """The GD steps at which training is recorded: 0, p, 2p, ..., steps with p = steps // (n_points - 1)."""
        if self.steps is None:
            raise ValueError("steps must be an integer to record training; steps=None is the minimiser itself")
        n_points = check.integer("n_points", n_points, 2)
        per = max(1, self.steps // (n_points - 1))
        inner = np.arange(n_points - 1) * per
        return np.concatenate([inner[inner < self.steps], [self.steps]]).astype(int)

    def theory(self, seeds: int = 1, seed: int = 0, n_points: int | None = None, denoisers: bool = True):
        """The exact theory for the training sets of seeds seed, ..., seed + seeds - 1 (hild.diffusion.theory).

        n_points: also the mean GD trajectory of the denoisers at record_steps(n_points) (`w_path`).
        denoisers: keep the per-(t, mode) denoiser eigenvalues w, w_star (large for many seeds)."""
        from hild.families.diffusion.theory import theory
        return theory(self, seeds=seeds, seed=seed, n_points=n_points, denoisers=denoisers)

    def simulate(self, seeds: int = 1, seed: int = 0, times=None, n_points: int | None = None,
                 n_samples: int = 10_000, n_loss: int = 2_000, n_nn: int = 1_000, denoiser: str | None = None,
                 dtype: str = "float32", progress: bool = False):
        """Train the denoisers by GD with fresh noise and sample from them, at finite d (hild.diffusion.simulate).

        denoiser None trains when steps is set and samples from the exact minimiser when steps is None."""
        from hild.families.diffusion.simulate import simulate
        return simulate(self, seeds=seeds, seed=seed, times=times, n_points=n_points, n_samples=n_samples,
                        n_loss=n_loss, n_nn=n_nn, denoiser=denoiser, dtype=dtype, progress=progress)
