"""Ridge regression on Gaussian data with a linear teacher: the replica fixed point (square loss, linear channel)
against ridge in closed form at finite d (arXiv 2102.08127; Hastie, Montanari, Rosset, Tibshirani, arXiv
1903.08560, with lam_H = lam / alpha)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hild.core import lazy, register
from hild.core import validation as check
from hild.core.resources import Need, array
from hild.families.batch import glm
from hild.families.batch.base import FixedPointScenario, seeds_of
from hild.families.batch.prox import Square

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

__all__ = ["Ridge", "deterministic_equivalent", "power_law", "ridge_fit"]


def power_law(d: int, exponent: float = 1.0) -> np.ndarray:
    """Covariance eigenvalues s_k = k^-exponent (k = 1 .. d), rescaled to mean 1 (tr Sigma = d).

    **Arguments:** `d` (>= 1); `exponent` (>= 0; 0: isotropic).

    **Returns:** an array (d,), decreasing."""
    s = np.arange(1, check.integer("d", d, 1) + 1, dtype=float) ** -check.real("exponent", exponent, 0.0)
    return s / s.mean()


def deterministic_equivalent(alpha, lam, noise, eigenvalues, teacher) -> float:
    """The excess risk of ridge from its deterministic equivalent (Hastie et al., arXiv 1903.08560, in this
    module's units): kappa solves lam = kappa (alpha - (1/d) sum s / (s + kappa)); with df2 = (1/n) sum s^2 /
    (s + kappa)^2, bias = (kappa^2 / d) sum theta^2 s / (s + kappa)^2 / (1 - df2), variance = noise^2 df2 /
    (1 - df2).

    **Arguments:** `alpha` = n / d (> 0); `lam` (> 0); `noise`: the label noise's standard deviation;
    `eigenvalues` s (d,); `teacher` theta (d,): the teacher's components in the eigenbasis.

    **Returns:** the excess risk bias + variance (float)."""
    from scipy.optimize import brentq

    s, th = np.asarray(eigenvalues, float), np.asarray(teacher, float)
    d = s.size
    g = lambda k: k * (alpha - np.mean(s / (s + k))) - lam
    kappa = brentq(g, 1e-14, 1e8 * (1 + lam), xtol=1e-15, rtol=1e-14, maxiter=500)
    df2 = np.sum(s ** 2 / (s + kappa) ** 2) / (alpha * d)
    bias = kappa ** 2 * np.mean(th ** 2 * s / (s + kappa) ** 2) / (1 - df2)
    return float(bias + noise ** 2 * df2 / (1 - df2))


def ridge_fit(X, y, lam):
    """The ridge estimator w = (X^T X / d + lam I)^-1 X^T y / sqrt(d) in closed form.

    **Arguments:** `X` (n, d); `y` (n,); `lam` (> 0, or >= 0 with X^T X invertible).

    **Returns:** w (d,), a JAX array."""
    n, d = X.shape
    A = X.T @ X / d + lam * jnp.eye(d, dtype=X.dtype)
    return jnp.linalg.solve(A, X.T @ y / jnp.sqrt(d))


@register
@dataclass(frozen=True, kw_only=True)
class Ridge(FixedPointScenario):
    """Ridge regression w = (X^T X / d + lam I)^-1 X^T y / sqrt(d) on n = alpha d samples x ~ N(0, Sigma),
    y = w*.x / sqrt(d) + noise xi (arXiv 2102.08127; 1903.08560).

    Theory: the replica fixed point of hild.families.batch.glm with the square loss (equal, for lam > 0, to the
    deterministic equivalent `deterministic_equivalent`; ridgeless isotropic: r (1 - alpha) + noise^2 alpha /
    (1 - alpha) below alpha = 1, noise^2 / (alpha - 1) above). Variables: m = w.Sigma w* / d, q = w.Sigma w / d,
    eg = (w* - w).Sigma (w* - w) / d (noise excluded), train_error = mean (y - x.w / sqrt(d))^2, V and the
    conjugates.

    **Arguments:** `alpha` (> 0) = n / d; `lam` (> 0); `noise` (>= 0): the label noise's standard deviation;
    `teacher_norm` (> 0) = |w*|^2 / d (isotropic teacher); `spectrum`: None (Sigma = I) or the d covariance
    eigenvalues (> 0); `teacher`: None (an isotropic teacher of norm teacher_norm) or the teacher's d components
    in the eigenbasis, used as given (then the simulation's d is their number).
    """

    model: ClassVar[str] = "batch.ridge"
    sweepable: ClassVar[tuple[str, ...]] = ("alpha", "lam", "noise", "teacher_norm")
    convention: ClassVar[str] = ("h = w.x / sqrt(d), alpha = n / d, objective sum (y - h)^2 / 2 + (lam / 2) |w|^2, "
                                 "|w*|^2 = teacher_norm d; eg = excess risk (arXiv 2102.08127)")
    description: ClassVar[str] = "ridge regression: replica fixed point vs closed-form ridge at finite d"
    papers: ClassVar[tuple[str, ...]] = ("2102.08127", "1903.08560")

    alpha: float = 2.0
    lam: float = 0.1
    noise: float = 0.5
    teacher_norm: float = 1.0
    spectrum: tuple | None = None
    teacher: tuple | None = None

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)
        set_("alpha", check.real("alpha", self.alpha, 0.0, strict_minimum=True))
        set_("lam", check.real("lam", self.lam, 0.0, strict_minimum=True))
        set_("noise", check.real("noise", self.noise, 0.0))
        set_("teacher_norm", check.real("teacher_norm", self.teacher_norm, 0.0, strict_minimum=True))
        if self.spectrum is not None:
            s = np.asarray(self.spectrum, float)
            if s.ndim != 1 or s.size < 1 or not np.all(np.isfinite(s)) or np.any(s <= 0):
                raise ValueError(f"spectrum must be None or a list of d > 0 finite positive eigenvalues; got "
                                 f"{self.spectrum!r}")
            set_("spectrum", tuple(float(v) for v in s))
        if self.teacher is not None:
            if self.spectrum is None:
                raise ValueError("teacher must be None without a spectrum (it gives the components in the "
                                 "spectrum's eigenbasis); got a teacher and spectrum=None")
            set_("teacher", tuple(check.vector("teacher", self.teacher, len(self.spectrum))))

    @classmethod
    def example(cls) -> "Ridge":
        return cls()

    def _loss(self):
        return Square()

    def _channel(self):
        return "linear"

    def _components(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        s = np.ones(d) if self.spectrum is None else np.asarray(self.spectrum)
        th = np.full(s.size, np.sqrt(self.teacher_norm)) if self.teacher is None else np.asarray(self.teacher)
        return s, th

    def _spectrum(self):
        if self.spectrum is None:
            return glm.Spectrum.isotropic(self.teacher_norm)
        return glm.Spectrum.components(*self._components(len(self.spectrum)))

    def _point(self):
        return self.alpha, self.lam, self.noise

    # --- simulation ---------------------------------------------------------------------------------------

    def _d(self, d: int) -> int:
        d = check.integer("d", d, 2)
        if self.spectrum is not None and d != len(self.spectrum):
            raise ValueError(f"d must equal the number of spectrum eigenvalues, {len(self.spectrum)}; got {d}")
        return d

    def check_simulation(self, d: int = 200, seeds: int = 4, seed: int = 0, **extra) -> None:
        super().check_simulation(d=d, seeds=seeds, seed=seed, **extra)
        self._d(d)
        check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
        if round(self.alpha * d) < 1:
            raise ValueError(f"d: n = round(alpha d) = 0 samples at alpha = {self.alpha:g}, d = {d}; use d >= "
                             f"{int(np.ceil(0.5 / self.alpha))}")

    def simulation_needs(self, d, seeds, **_) -> list[Need]:
        n = max(1, round(self.alpha * d))
        return [Need("every seed's samples and d x d normal matrix (float64)", ("d", "seeds"),
                     array(seeds, n * d + 3 * d * d), operations=float(seeds) * (2.0 * n * d * d + d ** 3))]

    def simulate(self, *, d: int = 200, seeds: int = 4, seed: int = 0) -> xr.Dataset:
        """Ridge in closed form at dimension d on n = round(alpha d) samples, per integer seed (float64, seeds
        vmapped): m, q, eg, train_error over `seed`. An isotropic teacher is drawn with |w*|^2 = teacher_norm d
        exactly; a given teacher is used as given.

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ....

        **Returns:** a Dataset over `seed` with m, q, eg, train_error."""
        self.check_simulation(d=d, seeds=seeds, seed=seed)
        seed_list = seeds_of(seeds, seed)
        d = self._d(d)
        n = round(self.alpha * d)
        s, th = self._components(d)
        given = self.teacher is not None
        with jax.enable_x64(True):
            def one(key):
                kt, kx, kn = jax.random.split(key, 3)
                if given:
                    w_star = jnp.asarray(th)
                else:
                    g = jax.random.normal(kt, (d,))
                    w_star = g * jnp.sqrt(self.teacher_norm * d) / jnp.linalg.norm(g)
                X = jax.random.normal(kx, (n, d)) * jnp.sqrt(jnp.asarray(s))
                y = X @ w_star / jnp.sqrt(d) + self.noise * jax.random.normal(kn, (n,))
                w = ridge_fit(X, y, self.lam)
                S = jnp.asarray(s)
                e = w_star - w
                return {"m": jnp.sum(w * S * w_star) / d, "q": jnp.sum(w * S * w) / d,
                        "eg": jnp.sum(e * S * e) / d, "train_error": jnp.mean((y - X @ w / jnp.sqrt(d)) ** 2)}

            keys = jnp.stack([jax.random.PRNGKey(k) for k in seed_list])
            out = jax.jit(jax.vmap(one))(keys)
            ds = xr.Dataset({k: ("seed", np.asarray(v)) for k, v in out.items()}, coords={"seed": seed_list})
        from hild.core.divergence import check as check_divergence

        ds = ds.assign_attrs(self.provenance("simulation", dtype="float64", seeds=seed_list, size=d, n=n))
        return check_divergence(ds, None, None)
