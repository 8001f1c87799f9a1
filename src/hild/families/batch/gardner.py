"""The Gardner capacity of the spherical perceptron: how many random patterns a perceptron can store with margin
kappa (Gardner, J. Phys. A 21, 257 (1988); Gardner & Derrida, J. Phys. A 21, 271 (1988)).

P = alpha d patterns xi_mu ~ N(0, I_d) with random labels y_mu = +-1 are stored with margin kappa by a weight
vector u on the unit sphere when y_mu u.xi_mu >= kappa for every mu. The replica-symmetric (RS) capacity is

    alpha_c(kappa) = 1 / int_{-kappa}^inf Dt (t + kappa)^2 = 1 / [(1 + kappa^2) Phi(kappa) + kappa phi(kappa)],

(alpha_c(0) = 2, Cover's count), exact for kappa >= 0, where the problem is convex. For kappa < 0 the RS solution
is unstable: as the overlap q of two solutions goes to 1 at capacity, the de Almeida-Thouless eigenvalue of the
RS saddle point becomes 1 - alpha Phi(kappa) (derived here from the q -> 1 limit of the RS stability condition:
d^2 ln H / dt^2 tends to -1 / (1 - q) on t < kappa and to 0 above), so RS holds at capacity only where
alpha_c(kappa) Phi(kappa) <= 1, which is kappa >= 0; for kappa < 0 the RS value is an upper bound only (the true
capacity needs replica-symmetry breaking, arXiv 2410.06717).

At finite d the largest margin of a sample, kappa_max = max_{|u| = 1} min_mu y_mu u.xi_mu, is 1 / |w| for the
least-norm w with y_mu w.xi_mu >= 1: a least-distance program, solved exactly by non-negative least squares
(Lawson & Hanson, "Solving least squares problems", ch. 23); infeasible (no separating w) where kappa_max < 0.
At kappa = 0 Cover's count gives the exact finite-d probability of separability, P(Bin(P - 1, 1/2) <= d - 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hild.core import Blowup, Scenario, lazy, register
from hild.core import validation as check
from hild.core.divergence import check as check_divergence
from hild.core.resources import Need, array

xr = lazy.module("xarray")

__all__ = ["Gardner", "cover_probability", "gardner_capacity", "gardner_margin", "largest_margin", "largest_margins",
           "rs_stability"]


def _normal():
    from scipy.stats import norm

    return norm


def gardner_capacity(kappa):
    """The replica-symmetric capacity alpha_c(kappa) = 1 / [(1 + kappa^2) Phi(kappa) + kappa phi(kappa)].

    **Arguments:** `kappa`: the margin (a number or an array; any real: for kappa < 0 the value is the RS upper
    bound). **Returns:** alpha_c, a float for a number, else an array."""
    k = np.asarray(kappa, dtype=float)
    norm = _normal()
    # the integral int_{-k}^inf Dt (t + k)^2, written so that it keeps its digits for large negative k
    integral = (1 + k ** 2) * norm.cdf(k) + k * norm.pdf(k)
    out = 1.0 / integral
    return float(out) if out.ndim == 0 else out


def gardner_margin(alpha):
    """The RS largest margin at load alpha: the kappa with alpha_c(kappa) = alpha (alpha_c decreases in kappa;
    kappa >= 0 for alpha <= 2, where it is exact). **Arguments:** `alpha` > 0 (a number or an array).
    **Returns:** kappa, a float for a number, else an array."""
    from scipy.optimize import brentq

    a = np.asarray(alpha, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(f"alpha must be finite numbers > 0; got {alpha!r}")
    # alpha_c(-7) ~ 1e13 and alpha_c(k) < 1 / k^2 above: the root lies in [-7, 2 + 2 / sqrt(alpha)]
    out = np.array([brentq(lambda k, x=x: gardner_capacity(k) - x, -7.0, 2 + 2 / np.sqrt(x), xtol=1e-14)
                    for x in a.ravel()])
    out = out.reshape(a.shape)
    return float(out) if out.ndim == 0 else out


def rs_stability(kappa):
    """The de Almeida-Thouless eigenvalue of the RS solution at capacity, 1 - alpha_c(kappa) Phi(kappa): >= 0 where
    RS holds (kappa >= 0; 0 at kappa = 0, where Cover's count is marginal), < 0 where it is unstable (kappa < 0).

    **Arguments:** `kappa`: the margin (real, any shape).

    **Returns:** the eigenvalue, of kappa's shape."""
    k = np.asarray(kappa, dtype=float)
    out = 1.0 - gardner_capacity(k) * _normal().cdf(k)
    return float(out) if np.ndim(out) == 0 else out


def cover_probability(d: int, patterns):
    """Cover's exact probability that `patterns` random points in general position in d dimensions, with random
    labels, are linearly separable through the origin: 2^(1-P) sum_{k<d} C(P-1, k) = P(Bin(P-1, 1/2) <= d-1).

    **Arguments:** `d` (>= 1); `patterns`: P (integers, any shape).

    **Returns:** the probability, of patterns' shape."""
    from scipy.stats import binom

    p = np.asarray(patterns)
    return binom.cdf(d - 1, np.maximum(p - 1, 0), 0.5)


def _patterns(alpha: float, d: int) -> int:
    return max(1, int(round(alpha * d)))


def largest_margin(A: np.ndarray) -> float:
    """max_{|u| = 1} min_mu (A u)_mu for signed patterns A (rows y_mu xi_mu): 1 / |w| for the least-norm w with
    A w >= 1, by the least-distance program's NNLS (Lawson & Hanson ch. 23: with E = [A^T; 1^T] and f = e_{d+1},
    r = E u - f at the NNLS solution u gives w = -r_{1..d} / r_{d+1}).

    **Arguments:** `A` (P, d): the signed patterns.

    **Returns:** the largest margin kappa_max (float); -inf where no w has A w > 0 (r = 0)."""
    from scipy.optimize import nnls

    P, d = A.shape
    E = np.vstack([A.T, np.ones(P)])
    target = np.zeros(d + 1)
    target[-1] = 1.0
    u, residual = nnls(E, target, maxiter=50 * (P + d))
    r = E @ u - target
    if residual < 1e-9 or r[-1] >= 0:
        return -np.inf
    w = -r[:-1] / r[-1]
    return float((A @ w).min() / np.linalg.norm(w))


def largest_margins(d: int, alpha: float, seeds: int, seed: int = 0) -> np.ndarray:
    """`largest_margin` of each seed's sample of P = round(alpha d) patterns xi ~ N(0, I_d) with labels +-1
    (float64). Seed s draws from numpy's default_rng(s).

    **Arguments:** `d` (>= 1); `alpha` (> 0): patterns per dimension; `seeds` (>= 1); `seed`: the first seed.

    **Returns:** an array (seeds,) of largest margins; -inf where the sample is not separable."""
    P = _patterns(alpha, d)
    out = np.empty(seeds)
    for i, s in enumerate(range(seed, seed + seeds)):  # one active-set solve per sample: not vectorisable
        rng = np.random.default_rng(s)
        out[i] = largest_margin(rng.choice([-1.0, 1.0], P)[:, None] * rng.standard_normal((P, d)))
    return out


@register
@dataclass(frozen=True, kw_only=True)
class Gardner(Scenario):
    """Storage of P = alpha d random patterns with margin kappa by a spherical perceptron (module docstring).

    Theory (d -> infinity, replica symmetric): `alpha_c` = alpha_c(kappa); `p_feasible` = 1 below capacity, 0 above
    (1/2 on it); `kappa_max` = the largest margin at load alpha where it is positive, 0 where the patterns are not
    separable (alpha >= 2); `at_eigenvalue` = 1 - alpha_c Phi(kappa), negative where RS is unstable (kappa < 0).
    Simulation: per seed, `p_feasible` (1.0 when the sample is stored with margin kappa, else 0.0: its seed mean
    is the probability) and `kappa_max` (the sample's largest margin, 0 where not separable), exact (NNLS).

    **Arguments:** `alpha` (> 0): patterns per dimension; `kappa` (real): the margin; the simulation needs
    kappa >= 0 (for kappa < 0 storage is not convex and no exact finite-d solver exists).
    """

    model: ClassVar[str] = "batch.gardner"
    axis: ClassVar[str | None] = None
    size: ClassVar[str] = "d"
    sweepable: ClassVar[tuple[str, ...]] = ("alpha", "kappa")
    convention: ClassVar[str] = ("P = round(alpha d) patterns xi ~ N(0, I_d), labels +-1; stored with margin kappa "
                                 "when y u.xi >= kappa for a unit u (Gardner 1988)")
    divergence: ClassVar[Blowup | None] = None
    description: ClassVar[str] = "perceptron storage capacity with margin (Gardner): RS theory against exact NNLS"
    papers: ClassVar[tuple[str, ...]] = ("2410.06717",)

    alpha: float = 1.5
    kappa: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "alpha", check.real("alpha", self.alpha, 0.0, 1e9, strict_minimum=True))
        object.__setattr__(self, "kappa", check.real("kappa", self.kappa, -10.0, 10.0))

    @classmethod
    def example(cls) -> "Gardner":
        return cls()

    def theory(self) -> xr.Dataset:
        """The RS capacity, storage probability and largest margin at (alpha, kappa), and the RS stability.

        **Returns:** a Dataset of scalars: alpha_c, p_feasible, kappa_max, at_eigenvalue (class docstring)."""
        alpha_c = gardner_capacity(self.kappa)
        p = 1.0 if self.alpha < alpha_c else 0.0 if self.alpha > alpha_c else 0.5
        ds = xr.Dataset({"alpha_c": alpha_c, "p_feasible": p, "kappa_max": max(gardner_margin(self.alpha), 0.0),
                         "at_eigenvalue": rs_stability(self.kappa)},
                        attrs=self.provenance("theory", dtype="float64"))
        return check_divergence(ds, None, None)

    def check_simulation(self, d: int = 100, seeds: int = 1, seed: int = 0) -> None:
        super().check_simulation(d=d, seeds=seeds, seed=seed)
        check.integer("d", d, 2)
        check.integer("seeds", seeds, 1)
        check.integer("seed", seed, 0)
        if self.kappa < 0:
            raise ValueError(f"kappa must be >= 0 for the simulation (storage with a negative margin is not convex: "
                             f"no exact finite-d solver); got {self.kappa:g}")

    def simulation_needs(self, d, seeds, **_) -> list[Need]:
        """The sample and the NNLS matrix (d + 1 rows, P columns) of one seed at a time; an active-set NNLS costs
        about P d^2 operations per added constraint, at most ~P of them."""
        P = _patterns(self.alpha, d)
        return [Need("one sample's patterns and its NNLS matrix", ("d", "alpha"), 3 * array(P, d + 1)),
                Need("the NNLS solves", ("d", "alpha", "seeds"), operations=float(seeds) * P * P * d),
                Need("the margins", ("seeds",), array(seeds, 3), result=True)]

    def simulate(self, *, d: int = 100, seeds: int = 1, seed: int = 0) -> xr.Dataset:
        """Each seed's sample at dimension d: whether it is stored with margin kappa and its largest margin.

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ....

        **Returns:** a Dataset over `seed`: p_feasible (1.0 or 0.0), kappa_max."""
        self.check_simulation(d=d, seeds=seeds, seed=seed)
        kappa = largest_margins(d, self.alpha, seeds, seed)
        seed_values = np.arange(seed, seed + seeds)
        ds = xr.Dataset({"p_feasible": ("seed", (kappa >= self.kappa).astype(float)),
                         "kappa_max": ("seed", np.maximum(kappa, 0.0))}, coords={"seed": seed_values},
                        attrs=self.provenance("simulation", dtype="float64", seeds=seed_values, size=d,
                                              patterns=_patterns(self.alpha, d)))
        return check_divergence(ds, None, None)
