"""Closed forms for one mode of an aligned two-layer linear network (Saxe et al. 2014; Domine et al. 2024).

An aligned mode has first- and second-layer strengths a, b with u = a b, and under gradient flow
(t = lr * steps, unit layer rates) a' = b (s - u), b' = a (s - u). Then b^2 - a^2 = lam is conserved,
(a^2 + b^2)^2 = lam^2 + 4 u^2 and

    u' = sqrt(lam^2 + 4 u^2) (s - u)                          [derived; Domine et al., arXiv 2409.14623]

Its solution is the 2 x 2 case of the Riccati solution (hild.deep_linear.riccati) with
F = [[-lam/2, s], [s, lam/2]], F^2 = f^2 I, f = sqrt(s^2 + lam^2 / 4), written with E = e^{-2 f t}:

    u(t) = [ (1+E)^2 u0 + (1-E^2) s N0 / f + (1-E)^2 ((s^2 - lam^2/4) u0 + s lam^2/2) / f^2 ]
         / [ 4E + (1-E^2) N0 / f + (1-E)^2 (2 s u0 + lam^2/2) / f^2 ],      N0 = sqrt(lam^2 + 4 u0^2)

[derived here; proved numerically in tests/test_deep_linear.py]. At lam = 0 it is Saxe's sigmoid
u = s e^{2st} / (e^{2st} - 1 + s/u0) (arXiv 1312.6120, tau = 1/lr); for |lam| >> s, u0 it tends to the
exponential relaxation u = s + (u0 - s) e^{-|lam| t} of linear regression with a fixed kernel |lam|.
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
scipy_optimize = lazy.module("scipy.optimize")


def _mode(t, s, u0, lam):
    f = jnp.sqrt(s ** 2 + lam ** 2 / 4)
    small = f * t < 1e-8
    fs = jnp.where(f > 0, f, 1.0)
    E = jnp.exp(-2 * f * t)
    one_minus = jnp.where(small, 2 * f * t, -jnp.expm1(-2 * f * t))  # 1 - E
    q = jnp.where(f > 0, one_minus / fs, 2 * t)                       # (1 - E) / f, -> 2t as f -> 0
    n0 = jnp.sqrt(lam ** 2 + 4 * u0 ** 2)
    num = (1 + E) ** 2 * u0 + (1 + E) * q * s * n0 + q ** 2 * ((s ** 2 - lam ** 2 / 4) * u0 + s * lam ** 2 / 2)
    den = 4 * E + (1 + E) * q * n0 + q ** 2 * (2 * s * u0 + lam ** 2 / 2)
    return num / den


def mode_trajectory(t, s, u0, lam=0.0) -> np.ndarray:
    """u(t) of one aligned mode: the closed form of the module docstring (arXiv 2409.14623).

    **Arguments:** `t`: time (lr * steps, >= 0); `s`: the mode's singular value; `u0`: u(0); `lam`: the
    balance b^2 - a^2 (default 0, Saxe's sigmoid); arrays that broadcast.

    **Returns:** u(t), a float64 NumPy array of the broadcast shape."""
    with jax.enable_x64(True):
        return np.asarray(_mode(*(jnp.asarray(x, jnp.float64) for x in (t, s, u0, lam))))


def saxe_sigmoid(t, s, u0) -> np.ndarray:
    """Saxe et al. (2014) balanced mode: u = s e^{2st} / (e^{2st} - 1 + s/u0) (t = lr * steps; arXiv 1312.6120).

    **Arguments:** `t`: time (>= 0); `s` > 0: the singular value; `u0` > 0: u(0); arrays that broadcast.

    **Returns:** u(t), a float64 array of the broadcast shape (s where 2 s t > 700)."""
    t, s, u0 = (np.asarray(x, float) for x in (t, s, u0))
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(2 * s * t > 700, s, s * np.exp(2 * s * t) / (np.expm1(2 * s * t) + s / u0))


def saxe_time(s, u0, u_f) -> np.ndarray:
    """Time from u0 to u_f of a balanced mode: ln[u_f (s - u0) / (u0 (s - u_f))] / (2 s) (Saxe et al. 2014).

    **Arguments:** `s` > 0: the singular value; `u0`, `u_f` in (0, s): start and end; arrays that broadcast.

    **Returns:** the time, a float64 array of the broadcast shape."""
    s, u0, u_f = (np.asarray(x, float) for x in (s, u0, u_f))
    return np.log(u_f * (s - u0) / (u0 * (s - u_f))) / (2 * s)


def learning_time(s, u0, lam, u_f, t_max: float = 1e4) -> float:
    """Time for an aligned lam-balanced mode to go from u0 to u_f (root in t of `mode_trajectory` = u_f).

    **Arguments:** `s`, `u0`, `lam`: the mode (numbers, as in `mode_trajectory`); `u_f`: the target value;
    `t_max` (default 1e4): the longest time searched.

    **Returns:** the time, a float; inf where u_f is not crossed by t_max."""
    gap = lambda t: float(mode_trajectory(t, s, u0, lam)) - u_f  # noqa: E731
    if gap(t_max) * gap(0.0) > 0:
        return np.inf
    return scipy_optimize.brentq(gap, 0.0, float(t_max), xtol=1e-14, rtol=1e-13)
