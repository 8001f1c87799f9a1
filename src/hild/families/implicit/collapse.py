"""Stochastic collapse in one dimension (Chen, Kunin, Yamamura, Ganguli, arXiv 2306.04251): the per-sample loss
l(theta; xi) = -xi theta^2 / 2 + theta^4 / 4 with xi ~ N(m, s^2) drawn afresh each step, whose invariant set
{theta = 0} is a maximum of the mean loss for m > 0, made attractive by the gradient noise.

SGD reads theta <- theta (1 + lr xi) - lr theta^3. Near 0 it multiplies theta by 1 + lr xi, so ln|theta| drifts
by the Lyapunov exponent per step

    Lambda(lr) = E ln|1 + lr xi|,

and {0} attracts (the runs collapse) exactly where Lambda < 0: a window of learning rates. The stochastic
gradient flow d theta = -L'(theta) dtau + sqrt(lr D(theta)) dB (tau = lr x steps, D = s^2 theta^2) linearised
at 0 gives, by Ito, the log-drift per unit tau

    sde_rate(lr) = m - lr s^2 / 2       (collapse iff L''(0) + (lr / 4) D''(0) > 0, i.e. lr s^2 > 2 m),

its small-lr limit: Lambda / lr = m - lr (m^2 + s^2) / 2 + O(lr^2) and sde_rate share the first term only, and
the SDE has no upper edge to the window (derived here; models.md section 10).
"""
from __future__ import annotations

import math

import numpy as np

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

__all__ = ["collapse_window", "log_theta_runs", "lyapunov", "lyapunov_series", "sde_rate"]

_WIDTH = 12.0
"""Standard deviations kept on each side of the mean of 1 + lr xi (the Gaussian mass beyond is below 1e-32)."""


def _mean_log_abs(nu: float) -> float:
    """E ln|z + nu| for z ~ N(0, 1), nu >= 0: the integral over u = |z + nu| >= 0 of
    [phi(u - nu) + phi(u + nu)] ln u, its log singularity at u = 0 integrated exactly (QUADPACK's QAWS rule
    for the weight ln u) where the mass reaches it; a smooth integral away from it."""
    from scipy import integrate

    def density(u):
        return (np.exp(-0.5 * (u - nu) ** 2) + np.exp(-0.5 * (u + nu) ** 2)) / math.sqrt(2 * math.pi)

    options = {"epsabs": 1e-14, "epsrel": 1e-12, "limit": 200}
    if nu > _WIDTH:  # the mass sits far from the singularity
        value, _ = integrate.quad(lambda u: density(u) * np.log(u), nu - _WIDTH, nu + _WIDTH, **options)
        return value
    value, _ = integrate.quad(density, 0.0, nu + _WIDTH, weight="alg-loga", wvar=(0.0, 0.0), **options)
    return value


def lyapunov(lr, m: float, s: float) -> np.ndarray:
    """The discrete-SGD Lyapunov exponent of the invariant set {0} per step, Lambda = E ln|1 + lr xi|,
    xi ~ N(m, s^2): with u = 1 + lr xi ~ N(mu, sigma^2), Lambda = ln sigma + E ln|z + |mu| / sigma| (exact
    1D integral, `_mean_log_abs`); ln|1 + lr m| where s = 0.

    **Arguments:** `lr` (array, > 0); `m`, `s` (>= 0): the mean and standard deviation of xi.

    **Returns:** Lambda, float64, of the shape of `lr` (arXiv 2306.04251).
    """
    lr = np.asarray(lr, dtype=float)
    mu, sigma = 1.0 + lr * m, lr * s
    out = np.empty(lr.shape)
    for index in np.ndindex(lr.shape):
        if sigma[index] == 0:
            out[index] = math.log(abs(mu[index]))
        else:
            out[index] = math.log(sigma[index]) + _mean_log_abs(abs(mu[index]) / sigma[index])
    return out


def lyapunov_series(lr, m: float, s: float, terms: int | None = None) -> float:
    """Lambda by an independent closed form, for tests: (1 + lr xi)^2 / sigma^2 is a noncentral chi-square
    with one degree of freedom and noncentrality nu^2 = mu^2 / sigma^2, a Poisson(nu^2 / 2) mixture of central
    chi-squares with 1 + 2j degrees of freedom, and E ln chi^2_k = ln 2 + digamma(k / 2); so
    Lambda = ln sigma + (1/2) sum_j Poisson(j; nu^2 / 2) (ln 2 + digamma(1/2 + j)). Costs ~ nu^2 / 2 terms.

    **Arguments:** `lr` (> 0); `m`, `s` (> 0): xi ~ N(m, s^2); `terms`: the Poisson terms summed (default: enough
    for rounding).

    **Returns:** Lambda (float), the mean log growth of |theta| per step."""
    from scipy import special

    mu, sigma = 1.0 + lr * m, lr * s
    half = 0.5 * (mu / sigma) ** 2
    terms = terms or int(half + 20 * math.sqrt(half) + 60)
    j = np.arange(terms)
    log_weights = -half + j * math.log(half) - special.gammaln(j + 1) if half > 0 else np.where(j == 0, 0.0, -np.inf)
    return float(math.log(sigma) + 0.5 * np.sum(np.exp(log_weights) * (math.log(2) + special.digamma(0.5 + j))))


def sde_rate(lr, m: float, s: float) -> np.ndarray:
    """The log-drift of |theta| per unit continuous time tau = lr x steps under the linearised stochastic
    gradient flow d theta = m theta dtau + sqrt(lr) s theta dB: m - lr s^2 / 2 (Ito; arXiv 2306.04251).

    **Returns:** float64, of the shape of `lr`; negative where the continuous-time criterion predicts collapse.
    """
    return m - np.asarray(lr, dtype=float) * s * s / 2


def collapse_window(m: float, s: float) -> tuple[float, float] | None:
    """The learning rates where discrete SGD on the 1D model collapses to {0}: the interval (low, high) on which
    Lambda(lr) < 0, between the first sign change of Lambda to negative and the next to positive (low = 0 where
    m <= 0: Lambda = lr m - lr^2 (m^2 + s^2) / 2 + ... is negative from the start). Lambda grows like ln lr at
    large lr, so the window is bounded. Found on a geometric grid of lr over eight decades around
    1 / sqrt(m^2 + s^2) and refined by Brent's method to 1e-12.

    **Arguments:** `m` (finite), `s` (> 0): the mean and standard deviation of xi.

    **Returns:** (low, high), or None where Lambda >= 0 at every lr (no collapse). For m = 0.25, s = 2:
    (0.1186, 0.6788) (models.md section 10; arXiv 2306.04251).
    """
    from scipy import optimize

    from hild.core import validation as check

    m = check.real("m", m)
    s = check.real("s", s, 0.0, strict_minimum=True)
    scale = 1.0 / math.hypot(m, s)
    grid = scale * np.geomspace(1e-4, 1e4, 321)
    values = lyapunov(grid, m, s)

    def root(i):
        return optimize.brentq(lambda lr: float(lyapunov(lr, m, s)), grid[i], grid[i + 1], xtol=1e-12, rtol=1e-12)

    negative = values < 0
    if not negative.any():
        return None
    first = int(np.argmax(negative))
    low = 0.0 if first == 0 else root(first - 1)
    rest = ~negative[first:]
    if not rest.any():
        raise ValueError(f"m, s: Lambda stays negative up to lr = {grid[-1]:.3g} at m = {m:g}, s = {s:g}")
    last = first + int(np.argmax(rest)) - 1
    return low, root(last)


def log_theta_runs(lrs, m: float, s: float, seeds, steps: int, every: int, theta0: float):
    """SGD on the 1D model for every learning rate in `lrs` and every integer seed in `seeds`, in one compiled
    call, carried as ln|theta| (no underflow however deep the collapse):
    ln|theta| <- ln|theta| + ln|1 + lr xi - lr theta^2|. The xi of a seed are the same at every lr (common random
    numbers), drawn in blocks of `every` steps.

    **Returns:** ln|theta| at steps 0, every, 2 every, ..., steps: a float64 NumPy array (lrs, seeds, records);
    +inf once a run has blown up.
    """
    with jax.enable_x64(True):
        out = _compiled(steps // every, every)(jnp.asarray(lrs, jnp.float64), jnp.asarray(seeds, jnp.uint32),
                                               float(m), float(s), math.log(abs(theta0)))
        return np.asarray(out)


_CACHE: dict = {}


def _compiled(blocks: int, every: int):
    """The jitted runs for `blocks` records of `every` steps (one compilation per shape and record layout)."""
    if (blocks, every) not in _CACHE:
        def one(lr, key, m, s, log0):
            def block(ell, b):
                xi = m + s * jax.random.normal(jax.random.fold_in(key, b), (every,), jnp.float64)

                def step(ell, x):
                    ell = ell + jnp.log(jnp.abs(1.0 + lr * x - lr * jnp.exp(2.0 * ell)))
                    return ell, None
                ell, _ = jax.lax.scan(step, ell, xi)
                return ell, ell
            _, records = jax.lax.scan(block, jnp.asarray(log0, jnp.float64), jnp.arange(blocks))
            return jnp.concatenate([jnp.asarray(log0, jnp.float64)[None], records])

        def runs(lrs, seeds, m, s, log0):
            keys = jax.vmap(jax.random.PRNGKey)(seeds)
            over_seeds = jax.vmap(one, in_axes=(None, 0, None, None, None))
            return jax.vmap(over_seeds, in_axes=(0, None, None, None, None))(lrs, keys, m, s, log0)
        _CACHE[(blocks, every)] = jax.jit(runs)
    return _CACHE[(blocks, every)]
