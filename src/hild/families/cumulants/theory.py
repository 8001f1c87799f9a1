"""Theory of learning a non-Gaussian direction: sample-complexity thresholds, the single neuron's overlap ODE,
and the spectral test's overlap. Float64 NumPy throughout, vectorised over its arguments.

Thresholds (n samples, d dimensions; weak recovery from a random start, m0 ~ d^-1/2), as stated by the papers:
- spiked cumulant, statistical (likelihood-ratio norm): n ~ d; poly-time (low-degree): n ~ d^2 (arXiv 2312.14922);
- online SGD on a single neuron with information exponent k: n ~ d for k = 1, d log d for k = 2, d^(k-1) for
  k >= 3 (Ben Arous, Gheissari & Jagannath 2021; arXiv 2404.08602); the fourth cumulant has k = 4, so d^3;
- FastICA: n ~ d^4 per iteration; smoothed online SGD: n ~ d^(k/2) = d^2 (arXiv 2503.23896);
- correlated latents (arXiv 2404.08602): once u is learnt (k = 2, d log d), the HOC direction v is reached at
  d polylog d when the latents are correlated, instead of d^3 when they are independent.

Single-neuron ODE [derived here; the standard online-SGD limit of Ben Arous et al. 2021]: online spherical SGD
w <- (w + delta s G'(w.x) P_w x)/|.| with delta = lr/d, in time t = steps/d, has for d -> infinity at fixed m

    dm/dt = lr s (1 - m^2) phi'(m) - (lr^2 / 2) C(m) m,
    phi(m) = E G(m a nu + sqrt(1 - m^2 a^2) g),   C(m) = E G'(m a nu + sqrt(1 - m^2 a^2) g)^2,

with a = sqrt(beta / (1 + beta)) (x.w for the whitened spiked cumulant model at overlap m), g ~ N(0, 1). Near
m = 0, s phi'(m) = |kappa_4 E G''''(g)| m^3 / 6 (information exponent 4), and the escape from m0 needs
lr < |kappa_4 E G''''| m0^2 / (3 C(0)): lr ~ 1/d and t ~ d^2, i.e. n = d t ~ d^3 steps.

Spectral test [derived here]: M = (1/n) sum (|x|^2 - d - 2) x x^T = kappa_4 u u^T + W with W close to a Wigner
matrix of entry variance sigma^2 = 2d/n; by the BBP transition the top eigenvector has
<v, u>^2 = 1 - sigma^2 d / kappa_4^2 = 1 - 2 d^2 / (n kappa_4^2) for n > 2 d^2 / kappa_4^2, 0 below: n* ~ d^2.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from hild.core import validation as check
from hild.families.cumulants.data import KURTOSIS, check_beta, check_latent, kurtosis_along_spike
from hild.families.cumulants.learners import check_contrast, contrast_sign

EXPONENTS = {"statistical": 1.0, "low_degree": 2.0, "spectral": 2.0, "fastica": 4.0, "sgd": 3.0,
             "smoothed_sgd": 2.0}


def sgd_exponent(k: int) -> float:
    """theta in n ~ d^theta for online SGD with information exponent k (k = 2: d log d, counted as 1)."""
    k = check.integer("k", k, 1)
    return 1.0 if k <= 2 else float(k - 1)


def threshold(d, learner: str, k: int = 4) -> np.ndarray:
    """The scaling n ~ d^theta of `learner` (EXPONENTS; 'sgd' with information exponent k), no constant; d log d
    for SGD with k = 2."""
    d = np.asarray(d, dtype=float)
    if learner not in EXPONENTS:
        raise ValueError(f"learner must be one of {', '.join(EXPONENTS)}; got {learner!r}")
    if learner == "sgd":
        return d * np.log(d) if k == 2 else d ** sgd_exponent(k)
    if learner == "smoothed_sgd":
        return d ** (k / 2)
    return d ** EXPONENTS[learner]


# --- expectations over the projection x.w = m a nu + sqrt(1 - m^2 a^2) g --------------------------------

def _latent_rule(latent: str, size: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of E f(nu) for each latent (exact for rademacher; Gauss rules otherwise)."""
    if latent == "rademacher":
        return np.array([-1.0, 1.0]), np.array([0.5, 0.5])
    if latent == "gaussian":
        x, w = np.polynomial.hermite_e.hermegauss(size)
        return x, w / w.sum()
    if latent == "uniform":
        x, w = np.polynomial.legendre.leggauss(size)
        return np.sqrt(3.0) * x, w / 2
    x, w = np.polynomial.laguerre.laggauss(size)  # |nu| sqrt 2 ~ Exp(1), symmetric
    return np.concatenate([-x, x]) / np.sqrt(2.0), np.concatenate([w, w]) / 2


def _G(contrast, s, order):
    t = np.tanh(s)
    if contrast == "logcosh":
        return [np.logaddexp(s, -s) - np.log(2.0), t, 1 - t ** 2][order]
    return [s ** 4 / 4, s ** 3, 3 * s ** 2][order]


def population(m, beta: float, latent: str = "rademacher", contrast: str = "kurtosis") -> dict:
    """phi(m), phi'(m) and C(m) = E G'(x.w)^2 at overlaps m (any shape), for the spiked cumulant model."""
    beta = check_beta(beta)
    check_latent(latent), check_contrast(contrast)
    m = np.asarray(m, dtype=float)
    a = np.sqrt(beta / (1 + beta))
    nu, wn = _latent_rule(latent)
    g, wg = np.polynomial.hermite_e.hermegauss(80)
    wg = wg / wg.sum()
    mm = m[..., None, None]
    b = np.sqrt(np.clip(1 - mm ** 2 * a ** 2, 0.0, None))
    s = mm * a * nu[:, None] + b * g[None, :]
    w = wn[:, None] * wg[None, :]
    ds = a * nu[:, None] - mm * a ** 2 * g[None, :] / np.where(b > 0, b, 1.0)
    expect = lambda f: np.sum(w * f, axis=(-2, -1))  # noqa: E731
    return {"phi": expect(_G(contrast, s, 0)), "dphi": expect(_G(contrast, s, 1) * ds),
            "C": expect(_G(contrast, s, 1) ** 2)}


def overlap_ode(m0, lr, t, beta: float, latent: str = "rademacher", contrast: str = "kurtosis",
                dt: float | None = None) -> xr.Dataset:
    """The d -> infinity overlap dynamics m(t) of online spherical SGD (module docstring), RK4 in float64.

    m0 and lr broadcast against each other (vectorised over initial conditions and learning rates); t: the
    output times (steps / d, increasing, from 0). Returns a Dataset with m over (t, *broadcast shape)."""
    beta = check_beta(beta)
    sign = contrast_sign(contrast, latent)
    m0, lr = np.broadcast_arrays(np.asarray(m0, dtype=float), np.asarray(lr, dtype=float))
    if np.any(np.abs(m0) > 1):
        raise ValueError(f"m0 must lie in [-1, 1]; got {m0.min():g} .. {m0.max():g}")
    if np.any(lr <= 0):
        raise ValueError(f"lr must be > 0; got {lr.min():g}")
    t = np.asarray(t, dtype=float)
    if t[0] != 0 or np.any(np.diff(t) <= 0):
        raise ValueError("t must start at 0 and increase")
    dt = float(t[-1] / 4000) if dt is None else check.real("dt", dt, 0.0, strict_minimum=True)

    grid = np.linspace(-1.0, 1.0, 4001)  # phi' and C tabulated once, interpolated (error ~1e-7)
    table = population(grid, beta, latent, contrast)

    def rate(m):
        dphi, C = np.interp(m, grid, table["dphi"]), np.interp(m, grid, table["C"])
        return lr * sign * (1 - m ** 2) * dphi - lr ** 2 / 2 * C * m

    out, m, now = [m0.copy()], m0.copy(), 0.0
    for target in t[1:]:
        steps = max(1, int(np.ceil((target - now) / dt)))
        h = (target - now) / steps
        for _ in range(steps):
            k1 = rate(m)
            k2 = rate(m + h / 2 * k1)
            k3 = rate(m + h / 2 * k2)
            k4 = rate(m + h * k3)
            m = np.clip(m + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), -1.0, 1.0)
        now = target
        out.append(m.copy())
    dims = ("t",) + tuple(f"dim_{i}" for i in range(m0.ndim))
    return xr.Dataset({"m": (dims, np.array(out))}, coords={"t": t},
                      attrs={"model": "cumulants.single_neuron", "beta": beta, "latent": latent,
                             "contrast": contrast, "sign": sign})


def quartic_coefficient(beta: float, latent: str = "rademacher", contrast: str = "kurtosis") -> float:
    """|kappa_4(x.u) E G''''(g)| / 6: s phi'(m) = this * m^3 + O(m^5) (information exponent 4)."""
    from hild.families.cumulants.learners import g4_mean
    return abs(kurtosis_along_spike(beta, latent) * g4_mean(contrast)) / 6


def spectral_overlap(d, n, beta: float, latent: str = "rademacher") -> np.ndarray:
    """BBP prediction of |<v_top(M), u>| for the fourth-moment matrix: sqrt(max(0, 1 - 2 d^2 / (n kappa_4^2)))."""
    kappa = kurtosis_along_spike(beta, latent)
    if KURTOSIS[latent] == 0:
        raise ValueError("latent must be non-Gaussian for the spectral test")
    d, n = np.asarray(d, dtype=float), np.asarray(n, dtype=float)
    return np.sqrt(np.clip(1 - 2 * d ** 2 / (n * kappa ** 2), 0.0, None))


def spectral_threshold(d, beta: float, latent: str = "rademacher", level: float = 0.5) -> np.ndarray:
    """n at which the BBP overlap reaches `level`: n* = 2 d^2 / (kappa_4^2 (1 - level^2))."""
    kappa = kurtosis_along_spike(beta, latent)
    return 2 * np.asarray(d, dtype=float) ** 2 / (kappa ** 2 * (1 - level ** 2))
