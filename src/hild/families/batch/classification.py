"""Teacher-student classification with a sign teacher: a convex loss (logistic, hinge, any convex JAX function)
with ridge, the replica fixed point against empirical risk minimisation at finite d (Aubin, Krzakala, Lu,
Zdeborova, arXiv 2006.06560)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import math

import numpy as np

from hild.core import lazy, register
from hild.core import validation as check
from hild.core.resources import Need, array
from hild.families.batch import erm, glm
from hild.families.batch.base import FixedPointScenario, seeds_of
from hild.families.batch.prox import Hinge, loss as make_loss

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

__all__ = ["Classification", "separability_threshold"]


@register
@dataclass(frozen=True, kw_only=True)
class Classification(FixedPointScenario):
    """Empirical risk minimisation sum_mu l(y_mu, w.x_mu / sqrt(d)) + (lam / 2) |w|^2 on n = alpha d samples
    x ~ N(0, I_d), y = sign(w*.x / sqrt(d)) flipped with probability `flip`, |w*|^2 = d (arXiv 2006.06560).

    Theory: the replica fixed point (hild.families.batch.glm, sign channel). Variables: m = w.w* / d,
    q = |w|^2 / d, eg = P(sign differs from the teacher's) = arccos(m / sqrt(q)) / pi, train_error (the fraction of training samples
    misclassified), train_loss (per sample), test_loss (E l(y, w.x / sqrt(d)) on a fresh sample), V and the
    conjugates. Simulation: the exact minimiser (hild.families.batch.erm: L-BFGS then Newton for smooth losses, the dual
    for the hinge).

    **Arguments:** `loss`: "logistic", "hinge" or a JAX function l(y, z) convex and twice differentiable in z;
    `alpha` (> 0) = n / d; `lam` (> 0); `flip` in [0, 1/2): the probability that a label is flipped.
    """

    model: ClassVar[str] = "batch.classification"
    sweepable: ClassVar[tuple[str, ...]] = ("alpha", "lam", "flip")
    convention: ClassVar[str] = ("h = w.x / sqrt(d), alpha = n / d, objective sum l(y, h) + (lam / 2) |w|^2, "
                                 "y = sign(w*.x / sqrt(d)), |w*|^2 = d (arXiv 2006.06560)")
    description: ClassVar[str] = "convex classification of a sign teacher: replica fixed point vs ERM at finite d"
    papers: ClassVar[tuple[str, ...]] = ("2006.06560",)

    loss: Any = "logistic"
    alpha: float = 2.0
    lam: float = 0.1
    flip: float = 0.0

    def __post_init__(self):
        if isinstance(self.loss, str) and self.loss == "square":
            raise ValueError("loss must be one of logistic, hinge or a JAX function of (y, z); got 'square' "
                             "(batch.ridge is the square loss)")
        make_loss(self.loss)
        object.__setattr__(self, "alpha", check.real("alpha", self.alpha, 0.0, strict_minimum=True))
        object.__setattr__(self, "lam", check.real("lam", self.lam, 0.0, strict_minimum=True))
        flip = check.real("flip", self.flip, 0.0, 0.5)
        if flip == 0.5:
            raise ValueError("flip must be a finite number in [0, 0.5) (at 1/2 the labels carry no signal); got 0.5")
        object.__setattr__(self, "flip", flip)

    @classmethod
    def example(cls) -> "Classification":
        return cls()

    def _loss(self):
        return make_loss(self.loss)

    def _channel(self):
        return "sign"

    def _spectrum(self):
        return glm.Spectrum.isotropic(1.0)

    def _point(self):
        return self.alpha, self.lam, self.flip

    # --- simulation ---------------------------------------------------------------------------------------

    def check_simulation(self, d: int = 200, seeds: int = 4, seed: int = 0, **extra) -> None:
        super().check_simulation(d=d, seeds=seeds, seed=seed, **extra)
        d = check.integer("d", d, 2)
        check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
        if round(self.alpha * d) < 1:
            raise ValueError(f"d: n = round(alpha d) = 0 samples at alpha = {self.alpha:g}, d = {d}")

    def simulation_needs(self, d, seeds, **_) -> list[Need]:
        n = max(1, round(self.alpha * d))
        if isinstance(self._loss(), Hinge):
            return [Need("every seed's samples and n x n dual matrix (float64)", ("d", "seeds"),
                         array(seeds, n * d + 2 * n * n), operations=float(seeds) * erm.DUAL_STEPS * 4.0 * n * d)]
        return [Need("every seed's samples and d x d Hessian (float64)", ("d", "seeds"),
                     array(seeds, 3 * n * d + 3 * d * d),
                     operations=float(seeds) * erm.NEWTON_STEPS * (2.0 * n * d * d + d ** 3 + 60.0 * n * d))]

    def simulate(self, *, d: int = 200, seeds: int = 4, seed: int = 0) -> xr.Dataset:
        """The exact minimiser at dimension d on n = round(alpha d) samples per integer seed (float64, seeds
        vmapped): m, q, eg (exact for the trained w), train_error, train_loss, test_loss over `seed`, and the
        solver's accuracy `solver_residual` (smooth losses: gradient norm; hinge: relative duality gap).

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ....

        **Returns:** a Dataset over `seed` with the variables above."""
        self.check_simulation(d=d, seeds=seeds, seed=seed)
        seed_list = seeds_of(seeds, seed)
        n = round(self.alpha * d)
        L = self._loss()
        with jax.enable_x64(True):
            def one(key):
                kt, kx, kf = jax.random.split(key, 3)
                g = jax.random.normal(kt, (d,))
                w_star = g * jnp.sqrt(d) / jnp.linalg.norm(g)
                X = jax.random.normal(kx, (n, d))
                y = jnp.sign(X @ w_star) * jnp.where(jax.random.uniform(kf, (n,)) < self.flip, -1.0, 1.0)
                w, residual = erm.fit(L, X, y, self.lam)
                h = X @ w / jnp.sqrt(d)
                m, q = jnp.dot(w, w_star) / d, jnp.dot(w, w) / d
                yy, om, weight, _ = glm.channel_nodes("sign", m, q, {"rho": 1.0, "noise": self.flip},
                                                      glm.kinks_at(L, 0.0))
                return {"m": m, "q": q, "eg": jnp.arccos(jnp.clip(m / jnp.sqrt(q), -1, 1)) / jnp.pi,
                        "train_error": jnp.mean(y * h <= 0), "train_loss": jnp.mean(L.value(y, h)),
                        "test_loss": jnp.sum(weight * L.value(yy, om)), "solver_residual": residual}

            keys = jnp.stack([jax.random.PRNGKey(k) for k in seed_list])
            out = jax.jit(jax.vmap(one))(keys)
            ds = xr.Dataset({k: ("seed", np.asarray(v, float)) for k, v in out.items()}, coords={"seed": seed_list})
        from hild.core.divergence import check as check_divergence

        ds = ds.assign_attrs(self.provenance("simulation", dtype="float64", seeds=seed_list, size=d, n=n))
        return check_divergence(ds, None, None)


def separability_threshold(flip: float) -> float:
    """The sample ratio alpha_s below which n = alpha d samples of a sign teacher with labels flipped with
    probability `flip` are linearly separable (d -> infinity): Gardner's volume with a sample-dependent margin
    gives 1 / alpha_s = min_{t >= 0} E[(Z - t y nu)_+^2] (Candes & Sur, arXiv 1804.09753), with Z ~ N(0, 1), y nu
    = +|nu| (probability 1 - flip) or -|nu|, and E[(Z - a)_+^2] = (1 + a^2) Phi(-a) - a phi(a). alpha_s = 2 at
    flip = 1/2 (Cover), infinite at flip = 0.

    **Arguments:** `flip` in [0, 1/2]: the probability of a flipped label.

    **Returns:** alpha_s (float; inf at flip = 0)."""
    from scipy.optimize import minimize_scalar
    from scipy.stats import norm

    flip = check.real("flip", flip, 0.0, 0.5)
    if flip == 0.0:
        return math.inf
    from hild.core.gaussian import normal_panels

    with jax.enable_x64(True):  # |nu| has a kink at 0: Gauss-Legendre panels meeting there
        x, w = (np.asarray(a) for a in normal_panels(1.0, np.zeros(1), 48))
    nu = np.abs(x)
    G = lambda a: (1 + a ** 2) * norm.cdf(-a) - a * norm.pdf(a)  # noqa: E731
    g = lambda t: float(w @ ((1 - flip) * G(t * nu) + flip * G(-t * nu)))  # noqa: E731
    best = minimize_scalar(g, bounds=(0.0, 50.0), method="bounded", options={"xatol": 1e-12})
    return 1.0 / min(best.fun, g(0.0))
