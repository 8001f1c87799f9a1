"""Fixed points, Lyapunov exponents and the critical residual of the post-LN layer map.

Cowsik, Nebabu, Qi & Ganguli, arXiv 2403.02579 track the geometry of T tokens through a deep random
transformer; their update equations were not retrievable here, so the exponents below are derived from
the Gaussian mean-field map of hild.signal_prop.theory (attention by the REM of Giorlandino & Goldt,
arXiv 2505.24333) and checked against finite differences of that map and against the simulated stack.

Fixed points (post-LN, cosine c): the collapsed line c = 1 is always fixed (beta_c = infinity, attention
uniform); a second, permutation-symmetric fixed point c* < 1 (a regular simplex, equal pairwise angles)
exists in the chaotic phase (found by bisection). Near collapse, 1 - c is multiplied per block by

    chi_A = alpha_A^2 / (alpha_A^2 + sigma_v^2 + sigma_b^2),
    chi_M = (alpha_M^2 + sigma_w^4 E[phi'(u)^2]) / (alpha_M^2 + sigma_w^2 E[phi(u)^2] + sigma_b^2),
    u ~ N(0, sigma_w^2 + sigma_b^2),

so the angle exponent is lambda_a = ln(chi_A chi_M): lambda_a < 0 ordered (collapse), > 0 chaotic. Without an
MLP chi_M = 1 and lambda_a < 0 always (tokens collapse to a line). ReLU has chi_M = 1 at sigma_b = 0.
The gradient exponent lambda_g is half the log of the spectral radius of the backward Gram map
(hild.signal_prop.theory.backward) at the forward attractor: at collapse
lambda_g = ln[(alpha_A^2 + sigma_v^2) chi_M / (alpha_A^2 + sigma_v^2 + sigma_b^2)] / 2, the growth of the gradient
common to all tokens per block, towards the input.

Critical residual (no MLP, sigma_b = 0, beta below the freezing point, where attention averages all tokens):
the odds c / (1 - c) grow exactly by (1 + sigma_v^2 / alpha_A^2) per block, so keeping their growth over L
blocks below a factor K needs alpha_A^2 >= sigma_v^2 / (K^{1/L} - 1) ~ sigma_v^2 L / ln K: alpha_c grows as sqrt(L).
"""
from __future__ import annotations

import numpy as np

from hild.families.signal_prop.theory import backward, block, mlp_moments


def _check_post(norm: str):
    if norm != "post":
        raise ValueError(f"norm must be 'post' for fixed points and exponents (pre-LN has no fixed norm); got {norm!r}")


def chi(hp: dict, mlp: str | None = "relu"):
    """(chi_A, chi_M): the factors multiplying 1 - c per attention and MLP sub-block at collapse (module docstring).

    **Arguments:** `hp`: the hyper-parameters of `HYPER` (`beta`, `sigma_v2`, `sigma_w2`, `sigma_b2`, `alpha_A`,
    `alpha_M`; numbers or arrays that broadcast; `beta` unused here); `mlp`: one of `MLP_ACTIVATIONS` or None
    (then chi_M = 1).

    **Returns:** (chi_A, chi_M), float64 arrays of the broadcast shape of the hyper-parameters."""
    a2, m2 = np.asarray(hp["alpha_A"]) ** 2, np.asarray(hp["alpha_M"]) ** 2
    sv, sw, sb = (np.asarray(hp[k], dtype=float) for k in ("sigma_v2", "sigma_w2", "sigma_b2"))
    chi_a = a2 / (a2 + sv + sb)
    if mlp is None:
        return chi_a, np.ones_like(chi_a)
    e_ff, _, e_dd, _ = mlp_moments(mlp, sw + sb, sw + sb)  # at c = 1
    return chi_a, (m2 + sw ** 2 * e_dd) / (m2 + sw * e_ff + sb)


def angle_exponent(hp: dict, mlp: str | None = "relu"):
    """lambda_a = ln(chi_A chi_M), the growth rate of 1 - c per block at the collapsed fixed point.

    **Arguments:** `hp`, `mlp`: as in `chi`.

    **Returns:** lambda_a, a float64 array (< 0 ordered, > 0 chaotic)."""
    chi_a, chi_m = chi(hp, mlp)
    return np.log(chi_a * chi_m)


def attractor(hp: dict, T: int, mlp: str | None = "relu", rem_kind: str = "asymptotic", steps: int = 40):
    """The attracting cosine of the post-LN map: 1 (the collapsed line) where lambda_a <= 0, else the simplex fixed
    point c* in [0, 1) of F(c) = c, found by bisection (F(c) > c below c*, F(c) < c just below 1);
    vectorised over the hyper-parameters.

    **Arguments:** `hp`, `mlp`: as in `chi`; `T`: tokens; `rem_kind`: 'asymptotic' or 'finite'; `steps` (default 40):
    bisection steps.

    **Returns:** the attracting cosine, a float64 array of the broadcast shape."""
    chaotic = angle_exponent(hp, mlp) > 0
    shape = np.broadcast_shapes(np.shape(chaotic), *(np.shape(v) for v in hp.values()))
    lo, hi = np.zeros(shape), np.full(shape, 1.0 - 1e-7)
    for _ in range(steps):  # bisection, each step vectorised over the grid
        mid = (lo + hi) / 2
        _, p, _ = block(np.ones(shape), mid, hp, T, "post", mlp, rem_kind, derivatives=False)
        up = p > mid
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return np.where(chaotic, (lo + hi) / 2, 1.0)


def gradient_exponent(hp: dict, T: int, mlp: str | None = "relu", c=None, rem_kind: str = "asymptotic"):
    """lambda_g: half the log spectral radius of the backward Gram map of one block at cosine c (default: the
    forward attractor), i.e. the growth rate of the gradient norm per block towards the input.

    **Arguments:** `hp`, `mlp`: as in `chi`; `T`: tokens; `c`: the cosine (None: `attractor`); `rem_kind`.

    **Returns:** lambda_g, a float64 array of the broadcast shape."""
    if c is None:
        c = attractor(hp, T, mlp, rem_kind)
    c = np.asarray(c, dtype=float)
    shape = np.broadcast_shapes(c.shape, *(np.shape(v) for v in hp.values()))
    _, _, rec = block(np.ones(shape), np.broadcast_to(c, shape), hp, T, "post", mlp, rem_kind)
    ss, gs = backward(np.ones(shape), np.zeros(shape), rec, hp, "post", mlp)
    sg, gg = backward(np.zeros(shape), np.ones(shape), rec, hp, "post", mlp)
    tr, det = ss + gg, ss * gg - sg * gs
    radius = tr / 2 + np.sqrt(np.maximum(tr ** 2 / 4 - det, 0.0))
    return 0.5 * np.log(radius)


def exponents(hp: dict, T: int, mlp: str | None = "relu", norm: str = "post", rem_kind: str = "asymptotic") -> dict:
    """Angle and gradient exponents and the attractor cosine, vectorised over the hyper-parameters.

    **Arguments:** `hp`, `mlp`: as in `chi`; `T`: tokens; `norm`: 'post' only (ValueError otherwise); `rem_kind`.

    **Returns:** a dict of float64 arrays: `lambda_a`, `lambda_g`, `c_star`."""
    _check_post(norm)
    c_star = attractor(hp, T, mlp, rem_kind)
    return {"lambda_a": angle_exponent(hp, mlp), "lambda_g": gradient_exponent(hp, T, mlp, c_star, rem_kind),
            "c_star": c_star}


def critical_residual(L, sigma_v2, growth: float = np.e ** 2):
    """alpha_c = sqrt(sigma_v^2 / (growth^{1/L} - 1)): the attention residual strength at which the odds
    c / (1 - c) of the post-LN map without MLP (sigma_b = 0, uniform attention) grow by `growth` over L blocks.

    **Arguments:** `L` (>= 1): blocks; `sigma_v2` (> 0); `growth` (> 1, default e^2); arrays that broadcast.

    **Returns:** alpha_c, a float64 array of the broadcast shape."""
    L = np.asarray(L, dtype=float)
    return np.sqrt(np.asarray(sigma_v2, dtype=float) / np.expm1(np.log(growth) / L))


def odds_growth(alpha_A, sigma_v2, L):
    """The exact growth of c / (1 - c) over L blocks of that map: (1 + sigma_v^2 / alpha_A^2)^L.

    **Arguments:** `alpha_A` (> 0), `sigma_v2` (>= 0), `L` (blocks); arrays that broadcast.

    **Returns:** the growth factor, a float64 array of the broadcast shape."""
    return (1.0 + np.asarray(sigma_v2, dtype=float) / np.asarray(alpha_A, dtype=float) ** 2) ** np.asarray(L)
