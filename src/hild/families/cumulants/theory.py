"""Theory of learning a non-Gaussian direction: sample-complexity thresholds, the single neuron's overlap ODE,
FastICA's overlap map and the spectral test's overlap. Float64 throughout (NumPy; the ODE in JAX, one
`lax.scan`), vectorised over its arguments.

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
This is the limit d -> infinity at fixed n / d^2; at finite d the noise along u is larger than the bulk's by
terms of relative order E (x.u)^6 / 2d, which `spectral_overlap(..., finite_d=True)` keeps (Laplace latent,
d = 30, n = 16 d^2: BBP 0.9855, with those terms 0.974, simulated 0.971 +- 0.002).

FastICA with fresh batches of n = alpha d samples per iteration [derived here]: `fastica_map`.
"""
from __future__ import annotations

import functools

import numpy as np

from hild.core import lazy
from hild.core import validation as check
from hild.core.gaussian import hermite_rule
from hild.families.cumulants.data import KURTOSIS, check_strength, check_latent, kurtosis_along_spike
from hild.families.cumulants.learners import POLYNOMIAL, check_contrast, contrast_sign

xr = lazy.module("xarray")

EXPONENTS = {"statistical": 1.0, "low_degree": 2.0, "spectral": 2.0, "fastica": 4.0, "sgd": 3.0,
             "smoothed_sgd": 2.0}


def sgd_exponent(k: int) -> float:
    """theta in n ~ d^theta for online SGD with information exponent k (k = 2: d log d, counted as 1).

    **Arguments:** `k` (>= 1): the information exponent.

    **Returns:** theta (float): 1 for k <= 2, k - 1 above."""
    k = check.integer("k", k, 1)
    return 1.0 if k <= 2 else float(k - 1)


def sample_scaling(d, learner: str, k: int = 4) -> np.ndarray:
    """The papers' sample complexity n ~ d^theta of `learner` (EXPONENTS; 'sgd' with information exponent k), no
    constant; d log d for SGD with k = 2. (Named `threshold` before; that name is kept as an alias.)

    **Arguments:** `d`: dimensions (array); `learner`: a key of EXPONENTS or "sgd"; `k` (>= 1): the
    information exponent for "sgd".

    **Returns:** n(d), an array of d's shape."""
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
        return hermite_rule(size)
    if latent == "uniform":
        x, w = np.polynomial.legendre.leggauss(size)
        return np.sqrt(3.0) * x, w / 2
    x, w = np.polynomial.laguerre.laggauss(size)  # |nu| sqrt 2 ~ Exp(1), symmetric
    return np.concatenate([-x, x]) / np.sqrt(2.0), np.concatenate([w, w]) / 2


def _G(contrast, s, order):
    """G, G' or G'' (order 0, 1, 2) of a contrast, in NumPy float64 (learners.G for the formulas)."""
    if contrast == "logcosh":
        t = np.tanh(s)
        return [np.logaddexp(s, -s) - np.log(2.0), t, 1 - t ** 2][order]
    c4, c2, c0 = POLYNOMIAL[contrast]
    return [c4 * s ** 4 + c2 * s ** 2 + c0, 4 * c4 * s ** 3 + 2 * c2 * s, 12 * c4 * s ** 2 + 2 * c2][order]


def population(m, beta: float, latent: str = "rademacher", contrast: str = "kurtosis") -> dict:
    """Population averages at overlaps m (any shape) for the spiked cumulant model, s = x.w at <w, u> = m:

        phi(m) = E G(s),  dphi(m) = phi'(m),  C(m) = E G'(s)^2,
        h(m) = E[(x.u) G'(s)] - m E G''(s) = a E[nu G'(s)] - m a^2 E G''(s)   (FastICA's update along u).

    **Arguments:** `m`: overlaps in [-1, 1] (any shape); `beta` (>= 0); `latent`; `contrast`: G's name.

    **Returns:** a dict of arrays of m's shape: phi, dphi, C, h.
    """
    beta = check_strength(beta)
    check_latent(latent), check_contrast(contrast)
    m = np.asarray(m, dtype=float)
    a = np.sqrt(beta / (1 + beta))
    nu, wn = _latent_rule(latent)
    g, wg = hermite_rule(80)
    mm = m[..., None, None]
    b = np.sqrt(np.clip(1 - mm ** 2 * a ** 2, 0.0, None))
    s = mm * a * nu[:, None] + b * g[None, :]
    w = wn[:, None] * wg[None, :]
    ds = a * nu[:, None] - mm * a ** 2 * g[None, :] / np.where(b > 0, b, 1.0)
    expect = lambda f: np.sum(w * f, axis=(-2, -1))  # noqa: E731
    G1 = _G(contrast, s, 1)
    return {"phi": expect(_G(contrast, s, 0)), "dphi": expect(G1 * ds), "C": expect(G1 ** 2),
            "h": a * expect(nu[:, None] * G1) - m * a ** 2 * expect(_G(contrast, s, 2))}


def _rk4(rate, params, m0, t, dt):
    """m(t) of dm/dt = rate(m, params) at the output times t (from 0) by RK4 with steps of at most dt, clipped to
    [-1, 1]: one `lax.scan` over the output intervals, each a `fori_loop` over its steps (float64). `rate` is a
    module-level function, so one compilation serves every call of the same shapes."""
    import jax

    with jax.enable_x64(True):
        steps = np.maximum(1, np.ceil(np.diff(t) / dt)).astype(np.int32)
        path = _rk4_compiled(rate)(params, np.asarray(m0, np.float64), np.diff(t), steps)
        return np.concatenate([np.asarray(m0, np.float64)[None], np.asarray(path)])


@functools.lru_cache(maxsize=8)
def _rk4_compiled(rate):
    import jax
    import jax.numpy as jnp

    def solve(params, m0, spans, steps):
        def interval(m, args):
            span, k = args
            h = span / k

            def step(_, m):
                k1 = rate(m, params)
                k2 = rate(m + h / 2 * k1, params)
                k3 = rate(m + h / 2 * k2, params)
                k4 = rate(m + h * k3, params)
                return jnp.clip(m + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), -1.0, 1.0)

            m = jax.lax.fori_loop(0, k, step, m)
            return m, m

        return jax.lax.scan(interval, m0, (spans, steps))[1]

    return lazy.jit(solve)  # lazy.jit: the compilation cache is on before the first compile


def _named(values, name: str) -> tuple[np.ndarray, tuple, dict]:
    """A number, or a 1-d array that becomes the dimension `name` (its coordinate: the values)."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-d array; got shape {arr.shape}")
    return arr, ((name,) if arr.ndim else ()), ({name: arr} if arr.ndim else {})


def _sgd_rate(m, p):
    """dm/dt = lr s (1 - m^2) phi'(m) - (lr^2 / 2) C(m) m, phi' and C interpolated from their tables."""
    import jax.numpy as jnp

    dphi, C = jnp.interp(m, p["grid"], p["dphi"]), jnp.interp(m, p["grid"], p["C"])
    return p["lr"] * p["sign"] * (1 - m ** 2) * dphi - p["lr"] ** 2 / 2 * C * m


def overlap_ode(m0, lr, t, beta: float, latent: str = "rademacher", contrast: str = "kurtosis",
                dt: float | None = None) -> xr.Dataset:
    """The d -> infinity overlap dynamics m(t) of online spherical SGD (module docstring), RK4 in float64.

    **Arguments:**
    - `m0`, `lr`: numbers or 1-d arrays (an array becomes the dimension of its name; every pair is run).
    - `t`: the output times (steps / d), increasing from 0; `dt`: the largest RK4 step (default t_max / 4000).
    - `beta`, `latent`, `contrast`: the data model and the contrast.

    **Returns:** a Dataset with `m` over (`t`, [`m0`], [`lr`])."""
    beta = check_strength(beta)
    sign = contrast_sign(contrast, latent)
    m0, m0_dims, m0_coords = _named(m0, "m0")
    lr, lr_dims, lr_coords = _named(lr, "lr")
    if not np.all(np.abs(m0) <= 1):
        raise ValueError(f"m0 must lie in [-1, 1]; got {m0.min():g} .. {m0.max():g}")
    if not np.all((lr > 0) & np.isfinite(lr)):
        raise ValueError(f"lr must be a finite number > 0; got {lr.min():g}")
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or len(t) < 2 or t[0] != 0 or np.any(np.diff(t) <= 0):
        raise ValueError("t must be at least two increasing times starting at 0")
    dt = float(t[-1] / 4000) if dt is None else check.real("dt", dt, 0.0, strict_minimum=True)
    grid = np.linspace(-1.0, 1.0, 4001)  # phi' and C tabulated once, interpolated (error ~1e-7)
    table = population(grid, beta, latent, contrast)
    start, step_lr = np.broadcast_arrays(m0.reshape(m0.shape + (1,) * lr.ndim), lr)
    params = {"grid": grid, "dphi": table["dphi"], "C": table["C"], "lr": np.array(step_lr, float), "sign": sign}
    m = _rk4(_sgd_rate, params, np.array(start), t, dt)
    return xr.Dataset({"m": (("t",) + m0_dims + lr_dims, m)}, coords={"t": t, **m0_coords, **lr_coords},
                      attrs={"beta": beta, "latent": latent, "contrast": contrast, "sign": sign})


def fastica_map(m0, alpha, iterations: int, beta: float, latent: str = "rademacher",
                contrast: str = "logcosh") -> xr.Dataset:
    """The d -> infinity overlap of one-unit FastICA with fresh batches of n = alpha d samples per iteration.

    [Derived here: the d -> infinity limit at fixed alpha and fixed m of Hyvärinen's update; the setting of
    arXiv 2503.23896.] With w = m u + sqrt(1 - m^2) e the batch update E_n[x G'(s)] - E_n[G''(s)] w has, as
    n = alpha d -> infinity, the component h(m) = E[(x.u) G'(s)] - m E G''(s) along u, exactly 0 along e
    (Stein: E[(x.e) G'(s)] = sqrt(1 - m^2) E G''(s)), and an isotropic noise in the d - 2 other directions of
    squared norm C(m) / alpha, C = E G'(s)^2 (the inputs there are standard Gaussian, independent of s). So

        |m_{t+1}| = |h(m_t)| / sqrt(h(m_t)^2 + C(m_t) / alpha)     (h, C: `population`).

    From a random start (m0 ~ d^-1/2) h ~ m^3 and the overlap stays O(d^-1/2) unless alpha grows with d: the
    curve is the limit for a macroscopic m0.

    **Returns:** a Dataset with `m` (= |<w, u>|) over `iteration` = 0 .. iterations."""
    m = abs(check.real("m0", m0, -1.0, 1.0))
    alpha = check.real("alpha", alpha, 0.0, strict_minimum=True)
    iterations = check.integer("iterations", iterations, 1)
    out = [m]
    for _ in range(iterations):  # one population average per FastICA iteration (tens), not per ODE step
        p = population(m, beta, latent, contrast)
        h, C = float(p["h"]), float(p["C"])
        m = abs(h) / np.sqrt(h * h + C / alpha)
        out.append(m)
    return xr.Dataset({"m": ("iteration", np.array(out))}, coords={"iteration": np.arange(iterations + 1)})


def quartic_coefficient(beta: float, latent: str = "rademacher", contrast: str = "kurtosis") -> float:
    """|kappa_4(x.u) E G''''(g)| / 6: s phi'(m) = this * m^3 + O(m^5) (information exponent 4).

    **Arguments:** `beta` (>= 0); `latent`; `contrast`.

    **Returns:** the coefficient (float)."""
    from hild.families.cumulants.learners import g4_mean
    return abs(kurtosis_along_spike(beta, latent) * g4_mean(contrast)) / 6


# --- the spectral test -------------------------------------------------------------------------------------

MOMENTS = {"rademacher": (1.0, 1.0), "gaussian": (3.0, 15.0), "uniform": (9 / 5, 27 / 7), "laplace": (6.0, 90.0)}
"""(E nu^4, E nu^6) of each unit-variance latent."""


def spike_moments(beta: float, latent: str = "rademacher") -> tuple[float, float]:
    """(E s^4, E s^6) of s = x.u = a nu + b g, a^2 = beta / (1 + beta), b^2 = 1 / (1 + beta), in the spiked
    cumulant model."""
    beta = check_strength(beta)
    n4, n6 = MOMENTS[check_latent(latent)]
    a2, b2 = beta / (1 + beta), 1 / (1 + beta)
    return (a2 ** 2 * n4 + 6 * a2 * b2 + 3 * b2 ** 2,
            a2 ** 3 * n6 + 15 * a2 ** 2 * b2 * n4 + 45 * a2 * b2 ** 2 + 15 * b2 ** 3)


def spectral_overlap(d, n, beta: float, latent: str = "rademacher", finite_d: bool = False) -> np.ndarray:
    """The overlap |<v_top(M), u>| of the fourth-moment matrix M = (1/n) sum (|x|^2 - d - 2) x x^T.

    Default: the d -> infinity limit at fixed alpha = n / d^2 (BBP, module docstring),
    sqrt(max(0, 1 - 2 d^2 / (n kappa_4^2))). It treats the noise along u as that of the bulk, which holds only
    up to terms of relative size E s^6 / (2d) (s = x.u), large for heavy-tailed latents: at d = 30,
    n = 16 d^2, Laplace latent, beta = 5, the simulated overlap is 0.971 +- 0.002 and BBP says 0.9855.

    finite_d=True [derived here] keeps those terms. E M = kappa_4 u u^T exactly; with x_perp ~ N(0, I)
    independent of s, the row of W = M - E M along u has entry variance sigma_u^2 = (2d + E s^6 - 2 E s^4 + 3) / n
    and the bulk sigma^2 = (2d + 12 + kappa_4) / n. The eigenproblem with b = W_{u, perp} independent of the
    bulk (a semicircle of variance R = (d - 1) sigma^2 and Stieltjes transform G) gives lambda = |kappa_4| +
    S G(lambda) and <v, u>^2 = 1 / (1 + S |G'(lambda)|), S = (d - 1) sigma_u^2; with sigma_u = sigma it is BBP.
    At the point above: 0.974. Near the transition (where 1 - <v, u>^2 is not small) neither is exact at
    finite d; below it both give 0.

    **Arguments:** `d`, `n`: dimensions and sample sizes (arrays, broadcast); `beta` (> 0); `latent`; `finite_d`.

    **Returns:** the overlap, an array of the broadcast shape."""
    kappa = kurtosis_along_spike(beta, latent)
    if KURTOSIS[latent] == 0:
        raise ValueError("latent must be non-Gaussian for the spectral test")
    d, n = np.asarray(d, dtype=float), np.asarray(n, dtype=float)
    if not finite_d:
        return np.sqrt(np.clip(1 - 2 * d ** 2 / (n * kappa ** 2), 0.0, None))
    s4, s6 = spike_moments(beta, latent)
    S = (d - 1) * (2 * d + s6 - 2 * s4 + 3) / n
    R = (d - 1) * (2 * d + 12 + kappa) / n
    theta = abs(kappa)

    def stieltjes(lam):
        return (lam - np.sqrt(np.clip(lam ** 2 - 4 * R, 0.0, None))) / (2 * R)

    lam = theta + S / theta
    for _ in range(200):  # the fixed point lambda = theta + S G(lambda): a contraction above the edge
        lam = theta + S * stieltjes(lam)
    G = stieltjes(lam)
    above = (theta ** 2 > R) & (R * G ** 2 < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = np.sqrt(1 / (1 + S * G ** 2 / (1 - R * G ** 2)))
    return np.where(above, overlap, 0.0)


# --- the single neuron on the mixed cumulant model ---------------------------------------------------------

def _joint_moments(correlated: bool) -> np.ndarray:
    """E[lambda^a nu^b], a + b <= 6, for lambda ~ N(0, 1) and the unit-variance Laplace latent nu: independent,
    or nu = sign(lambda) |nu'| (data.mixed_cumulant). E|lambda|^a = (a - 1)!! sqrt(2/pi) (a odd),
    E|nu|^b = b! / 2^(b/2)."""
    import math

    gauss = {0: 1.0, 2: 1.0, 4: 3.0, 6: 15.0}
    gauss_abs = {1: 1.0, 3: 2.0, 5: 8.0}
    M = np.zeros((7, 7))
    for a in range(7):
        for b in range(7 - a):
            if b % 2 == 0:
                M[a, b] = gauss.get(a, 0.0) * math.factorial(b) / 2 ** (b / 2)
            elif correlated and a % 2 == 1:
                M[a, b] = gauss_abs[a] * np.sqrt(2 / np.pi) * math.factorial(b) / 2 ** (b / 2)
    return M


def _mixed_rate(m, p):
    """(dm_u/dt, dm_v/dt) of `mixed_ode`."""
    from math import comb

    import jax.numpy as jnp

    M, lr, root_u, a_v = p["M"], p["lr"], jnp.sqrt(p["beta_u"]), p["a_v"]
    alpha, gamma = m[0] * root_u, m[1] * a_v
    var = 1 - gamma ** 2

    def E(i, j, k):  # E[lambda^i nu^j (alpha lambda + gamma nu)^k]
        return sum(comb(k, r) * alpha ** r * gamma ** (k - r) * M[i + r, j + k - r] for r in range(k + 1))

    ls3 = E(1, 0, 3) + 3 * var * E(1, 0, 1)
    ns3 = E(0, 1, 3) + 3 * var * E(0, 1, 1)
    s2 = E(0, 0, 2) + var
    s6 = E(0, 0, 6) + 15 * var * E(0, 0, 4) + 45 * var ** 2 * E(0, 0, 2) + 15 * var ** 3
    B = alpha * ls3 + gamma * ns3 + 3 * var * s2
    A = jnp.stack([root_u * ls3 + 3 * m[0] * s2, a_v * ns3 + 3 * (1 - a_v ** 2) * m[1] * s2])
    return lr * (A - m * B) - lr ** 2 / 2 * s6 * m


def mixed_ode(init_overlap, lr, t, beta_u: float = 1.0, beta_v: float = 5.0, correlated: bool = True,
              dt: float | None = None) -> xr.Dataset:
    """The d -> infinity dynamics of (m_u, m_v) = (<w, u>, <w, v>) for online spherical SGD ascending E(w.x)^4 / 4
    on the mixed cumulant model (Laplace latent; arXiv 2404.08602), from m_u = init_overlap, m_v = 0.

    [Derived here, as overlap_ode.] With s = w.x = alpha lambda + gamma nu + xi, alpha = m_u sqrt(beta_u),
    gamma = m_v a_v, a_v^2 = beta_v / (1 + beta_v), xi ~ N(0, 1 - gamma^2), x.u = sqrt(beta_u) lambda + z_u and
    x.v = a_v nu + b_v z_v (b_v^2 = 1 - a_v^2), Stein's lemma on z_u, z_v, xi gives, in t = steps / d,

        dm_k/dt = lr (A_k - m_k B) - (lr^2 / 2) E[s^6] m_k,
        A_u = sqrt(beta_u) E[lambda s^3] + 3 m_u E s^2,   A_v = a_v E[nu s^3] + 3 b_v^2 m_v E s^2,
        B = E[s^4] = alpha E[lambda s^3] + gamma E[nu s^3] + 3 (1 - gamma^2) E s^2,

    polynomials in (m_u, m_v) through the joint moments of (lambda, nu) (`_joint_moments`). Independent latents:
    E[nu s^3] = 0 at m_v = 0, so m_v stays 0 (v is a saddle); correlated: E[lambda nu] > 0 drives m_v with m_u.

    **Returns:** a Dataset with `m_u` and `m_v` over `t`."""
    beta_u = check.real("beta_u", beta_u, 0.0, strict_minimum=True)
    beta_v = check.real("beta_v", beta_v, 0.0, strict_minimum=True)
    m0 = check.real("init_overlap", init_overlap, -1.0, 1.0)
    lr = check.real("lr", lr, 0.0, strict_minimum=True)
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or len(t) < 2 or t[0] != 0 or np.any(np.diff(t) <= 0):
        raise ValueError("t must be at least two increasing times starting at 0")
    dt = float(t[-1] / 4000) if dt is None else check.real("dt", dt, 0.0, strict_minimum=True)
    params = {"M": _joint_moments(bool(correlated)), "beta_u": beta_u, "a_v": np.sqrt(beta_v / (1 + beta_v)),
              "lr": lr}
    m = _rk4(_mixed_rate, params, np.array([m0, 0.0]), t, dt)
    return xr.Dataset({"m_u": ("t", m[:, 0]), "m_v": ("t", m[:, 1])}, coords={"t": t},
                      attrs={"beta_u": beta_u, "beta_v": beta_v, "correlated": int(bool(correlated))})
