"""Random-features ridge regression by Gaussian equivalence (Mei & Montanari, arXiv 1908.05355; Gerace et al.,
arXiv 2002.09339; Goldt et al., arXiv 2006.14709), as a Gaussian covariate model of the one replica fixed point.

N = psi d features v = sigma(F x / sqrt(d)) (F: N x d standard Gaussian, x ~ N(0, I_d)) behave, for a linear
teacher nu = theta.x / sqrt(d), as v = mu0 + mu1 F x / sqrt(d) + mu_star z (hild.families.batch.hermite): the
student covariance is Omega = mu1^2 A + mu_star^2 I with A = F F^T / d, and E[nu v] = mu1 F theta / d. In A's
eigenbasis (eigenvalue s) an isotropic teacher puts t(s) = psi mu1^2 r s on each direction, so every prior-side
trace is an integral over the Marchenko-Pastur law of A (ratio psi: support (1 -+ sqrt(psi))^2, an atom at 0 of
mass 1 - 1 / psi when psi > 1), here discretised by Gauss-Chebyshev quadrature (`marchenko_pastur`). The mean
mu0 is left out: one direction of N, it does not change the d -> infinity risk of a centred target
(arXiv 1908.05355). The student has N weights, so the fixed point's sample ratio is n / N = alpha / psi.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hild.core import lazy, register
from hild.core import validation as check
from hild.core.resources import Need, array
from hild.families.batch import glm
from hild.families.batch.base import FixedPointScenario, seeds_of
from hild.families.batch.hermite import activation_fn, hermite_coefficients
from hild.families.batch.prox import Square

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

__all__ = ["RandomFeatures", "marchenko_pastur"]

MP_NODES = 400


def marchenko_pastur(psi: float, nodes: int = MP_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and weights of the Marchenko-Pastur law of A = F F^T / d, F: N x d, psi = N / d:
    p(s) = sqrt((b - s)(s - a)) / (2 pi psi s) on [a, b] = [(1 - sqrt psi)^2, (1 + sqrt psi)^2], plus an atom at
    s = 0 of mass max(0, 1 - 1 / psi) (the last node). Gauss-Chebyshev (second kind) nodes in s = c + h u; the
    continuous part's weights are normalised to its mass min(1, 1 / psi).

    **Arguments:** `psi` (> 0): N / d; `nodes` (default MP_NODES): nodes of the continuous part.

    **Returns:** (eigenvalues, weights): two arrays (nodes + 1,), the weights summing to 1."""
    a, b = (1 - np.sqrt(psi)) ** 2, (1 + np.sqrt(psi)) ** 2
    c, h = (a + b) / 2, (b - a) / 2
    j = np.arange(1, nodes + 1)
    u = np.cos(j * np.pi / (nodes + 1))
    w = np.pi / (nodes + 1) * np.sin(j * np.pi / (nodes + 1)) ** 2
    s = c + h * u
    p = w * h ** 2 / (2 * np.pi * psi * s)
    p = p / p.sum() * min(1.0, 1.0 / psi)
    return np.append(s, 0.0), np.append(p, max(0.0, 1.0 - 1.0 / psi))


@register
@dataclass(frozen=True, kw_only=True)
class RandomFeatures(FixedPointScenario):
    """Ridge regression on N = psi d random features: a = (V^T V / N + lam I)^-1 V^T y / sqrt(N) with
    V = sigma(X F^T / sqrt(d)) (n x N), n = alpha d, y = theta.x / sqrt(d) + noise xi, |theta|^2 = teacher_norm d
    (arXiv 1908.05355, 2002.09339).

    Theory: the replica fixed point on the Gaussian-equivalent covariate model (module docstring; the
    Marchenko-Pastur spectrum discretised). Variables: m = E[nu f(x)], q = E[f(x)^2] with f(x) = a.v / sqrt(N),
    eg = E[(nu - f(x))^2] (the noiseless test error), train_error = mean (y - f)^2 on the training set, V and the
    conjugates.

    **Arguments:** `activation`: "relu", "erf", "tanh", "sigmoid" or a JAX function; `psi` (> 0) = N / d;
    `alpha` (> 0) = n / d; `lam` (> 0); `noise` (>= 0): the label noise's standard deviation; `teacher_norm`
    (> 0) = |theta|^2 / d.
    """

    model: ClassVar[str] = "batch.random_features"
    sweepable: ClassVar[tuple[str, ...]] = ("psi", "alpha", "lam", "noise", "teacher_norm")
    convention: ClassVar[str] = ("features sigma(F x / sqrt(d)), f = a.v / sqrt(N), psi = N / d, alpha = n / d, "
                                 "objective sum (y - f)^2 / 2 + (lam / 2) |a|^2; eg noiseless (arXiv 1908.05355)")
    description: ClassVar[str] = "random-features ridge regression: Gaussian-equivalent fixed point vs finite d"
    papers: ClassVar[tuple[str, ...]] = ("1908.05355", "2002.09339")

    activation: Any = "relu"
    psi: float = 2.0
    alpha: float = 1.0
    lam: float = 0.01
    noise: float = 0.0
    teacher_norm: float = 1.0

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)
        activation_fn(self.activation)
        set_("psi", check.real("psi", self.psi, 0.0, strict_minimum=True))
        set_("alpha", check.real("alpha", self.alpha, 0.0, strict_minimum=True))
        set_("lam", check.real("lam", self.lam, 0.0, strict_minimum=True))
        set_("noise", check.real("noise", self.noise, 0.0))
        set_("teacher_norm", check.real("teacher_norm", self.teacher_norm, 0.0, strict_minimum=True))

    @classmethod
    def example(cls) -> "RandomFeatures":
        return cls()

    def _loss(self):
        return Square()

    def _channel(self):
        return "linear"

    def _spectrum(self):
        mu0, mu1, mu_star = hermite_coefficients(self.activation)
        s, p = marchenko_pastur(self.psi)
        r = self.teacher_norm
        return glm.Spectrum(mu1 ** 2 * s + mu_star ** 2, self.psi * mu1 ** 2 * r * s, p, r)

    def _point(self):
        return self.alpha / self.psi, self.lam, self.noise

    def batch_key(self):
        return (type(self).__name__, "square", "linear", MP_NODES + 1)

    def _finish(self, ds):
        mu0, mu1, mu_star = hermite_coefficients(self.activation)
        return ds.assign_attrs(mu0=mu0, mu1=mu1, mu_star=mu_star)

    # --- simulation ---------------------------------------------------------------------------------------

    def _sizes(self, d):
        return round(self.psi * d), round(self.alpha * d)

    def check_simulation(self, d: int = 100, seeds: int = 4, seed: int = 0, n_test: int = 4000, **extra) -> None:
        super().check_simulation(d=d, seeds=seeds, seed=seed, n_test=n_test, **extra)
        d = check.integer("d", d, 2)
        check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
        check.integer("n_test", n_test, 1)
        N, n = self._sizes(d)
        if N < 1 or n < 1:
            raise ValueError(f"d: N = round(psi d) = {N} features and n = round(alpha d) = {n} samples at d = {d}; "
                             "both must be >= 1")

    def simulation_needs(self, d, seeds, n_test, **_) -> list[Need]:
        N, n = self._sizes(d)
        return [Need("every seed's features of the training and test sets and the N x N system (float64)",
                     ("d", "seeds", "n_test"), array(seeds, (n + n_test) * (N + d) + 3 * N * N + N * d),
                     operations=float(seeds) * (2.0 * (n + n_test) * N * d + 2.0 * n * N * N + N ** 3))]

    def simulate(self, *, d: int = 100, seeds: int = 4, seed: int = 0, n_test: int = 4000) -> xr.Dataset:
        """Random-features ridge at dimension d with N = round(psi d) real features sigma(F x / sqrt(d)) and
        n = round(alpha d) samples per integer seed (float64, seeds vmapped); m, q and eg on a fresh test set of
        `n_test` samples, train_error on the training set, over `seed`.

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `n_test` (>= 1).

        **Returns:** a Dataset over `seed` with m, q, eg, train_error."""
        self.check_simulation(d=d, seeds=seeds, seed=seed, n_test=n_test)
        seed_list = seeds_of(seeds, seed)
        N, n = self._sizes(d)
        sigma = activation_fn(self.activation)
        with jax.enable_x64(True):
            def one(key):
                kt, kf, kx, kn, ks = jax.random.split(key, 5)
                g = jax.random.normal(kt, (d,))
                theta = g * jnp.sqrt(self.teacher_norm * d) / jnp.linalg.norm(g)
                F = jax.random.normal(kf, (N, d))
                X = jax.random.normal(kx, (n, d))
                y = X @ theta / jnp.sqrt(d) + self.noise * jax.random.normal(kn, (n,))
                V = sigma(X @ F.T / jnp.sqrt(d))
                a = jnp.linalg.solve(V.T @ V / N + self.lam * jnp.eye(N), V.T @ y / jnp.sqrt(N))
                Xt = jax.random.normal(ks, (n_test, d))
                nu, f = Xt @ theta / jnp.sqrt(d), sigma(Xt @ F.T / jnp.sqrt(d)) @ a / jnp.sqrt(N)
                return {"m": jnp.mean(nu * f), "q": jnp.mean(f ** 2), "eg": jnp.mean((nu - f) ** 2),
                        "train_error": jnp.mean((y - V @ a / jnp.sqrt(N)) ** 2)}

            keys = jnp.stack([jax.random.PRNGKey(k) for k in seed_list])
            out = jax.jit(jax.vmap(one))(keys)
            ds = xr.Dataset({k: ("seed", np.asarray(v)) for k, v in out.items()}, coords={"seed": seed_list})
        from hild.core.divergence import check as check_divergence

        ds = ds.assign_attrs(self.provenance("simulation", dtype="float64", seeds=seed_list, size=d, N=N, n=n,
                                             n_test=n_test))
        return check_divergence(ds, None, None)
