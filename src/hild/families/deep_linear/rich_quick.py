"""The minimal model of 'Get rich quick' (Kunin et al., arXiv 2406.06158): f(x) = a w^T x.

It is the two-layer network with d_out = width = 1 (W1 = w^T, W2 = a) and layer rates
lr_scales = (eta_w, eta_a), so the exact solution is hild.deep_linear.riccati's. Gradient flow
a' = eta_a w^T (beta - a w), w' = eta_w a (beta - a w) conserves

    delta = eta_w a^2 - eta_a ||w||^2 = eta_a eta_w * lam,    lam = a^2/eta_a - ||w||^2/eta_w

(delta > 0: downstream, the second layer larger, lazy as delta -> +inf; delta < 0: upstream;
delta = 0: balanced, rich; sign convention as in research/models.md section 2c, not re-read in the
paper). In function space beta_hat = a w moves with the NTK (verified against the Riccati NTK in tests)

    d beta_hat/dt = M (beta - beta_hat),  M = eta_w a^2 I + eta_a w w^T
                  = (delta + D)/2 I + (D - delta)/2 bb^T,  D = sqrt(delta^2 + 4 eta_a eta_w ||beta_hat||^2)

with bb the unit vector along beta_hat [derived; models.md]. Under finite-step GD the imbalance is
not conserved: one step changes C = W2^T W2/rho_2 - W1 W1^T/rho_1 by exactly lr (rho_2 g2^T g2 - rho_1 g1 g1^T),
so over time its trace drifts by lr * int (rho_2 tr(E R1 E^T) - rho_1 tr(E^T R2 E)) dt + O(lr^2)
with E = Sigma - W2 W1, R1 = W1^T W1, R2 = W2 W2^T (the rescale law of Kunin et al., arXiv 2012.04728, at
weight decay 0) -- `predicted_drift`.
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy
from hild.families.deep_linear.scenario import DeepLinear

xr = lazy.module("xarray")
scipy_integrate = lazy.module("scipy.integrate")


def minimal_model(beta, delta: float = 0.0, eta_w: float = 1.0, eta_a: float = 1.0, init_scale: float = 1e-2,
                  lr: float = 1e-3) -> DeepLinear:
    """f = a w^T x on y = beta^T x: a lam-balanced start with delta = eta_w a^2 - eta_a ||w||^2, a random
    direction of beta_hat(0) = a w and ||beta_hat(0)|| = init_scale * |N(0, 1)| (seeded; arXiv 2406.06158).

    **Arguments:** `beta`: the teacher (d,); `delta` (default 0, balanced): the conserved imbalance; `eta_w`,
    `eta_a` (> 0, default 1): the layer rates; `init_scale` (default 1e-2); `lr` (default 1e-3).

    **Returns:** a `DeepLinear` scenario with width 1, init 'lambda' and lam = delta / (eta_w eta_a)."""
    beta = np.atleast_2d(np.asarray(beta, float))
    return DeepLinear(sigma_yx=beta, width=1, lr=lr, lr_scales=(eta_w, eta_a), init="lambda",
                      init_scale=init_scale, lam=delta / (eta_w * eta_a))


def kernel(beta_hat, delta: float, eta_w: float = 1.0, eta_a: float = 1.0) -> np.ndarray:
    """The function-space kernel M(beta_hat; delta) = (delta + D)/2 I + (D - delta)/2 bb^T of the minimal model.

    **Arguments:** `beta_hat`: the current a w (d,); `delta`: the imbalance; `eta_w`, `eta_a` (default 1).

    **Returns:** M, a float64 array (d, d)."""
    b = np.asarray(beta_hat, float).reshape(-1)
    norm2 = b @ b
    D = np.sqrt(delta ** 2 + 4 * eta_a * eta_w * norm2)
    proj = np.outer(b, b) / norm2 if norm2 > 0 else np.zeros((b.size, b.size))
    return (delta + D) / 2 * np.eye(b.size) + (D - delta) / 2 * proj


def predicted_drift(theory: xr.Dataset, sigma, lr: float, lr_scales=(1.0, 1.0)) -> np.ndarray:
    """The O(lr) change of tr(imbalance) under GD at learning rate lr, along the gradient-flow solution:
    lr * int_0^t (rho_2 tr(E R1 E^T) - rho_1 tr(E^T R2 E)) dt' (arXiv 2012.04728 at weight decay 0).

    **Arguments:** `theory`: a `DeepLinear` theory (variables `function`, `W1TW1`, `W2W2T` over `t`); `sigma`:
    Sigma_yx (d_out, d_in); `lr`: the learning rate; `lr_scales`: (rho_1, rho_2) (default (1, 1)).

    **Returns:** the drift at each t, a float64 array (t,), 0 at t = 0."""
    E = np.asarray(sigma) - theory.function.values
    R1, R2 = theory.W1TW1.values, theory.W2W2T.values
    rate = (lr_scales[1] * np.einsum("toi,tij,toj->t", E, R1, E) - lr_scales[0] * np.einsum("toi,top,tpi->t", E, R2, E))
    return lr * scipy_integrate.cumulative_trapezoid(rate, theory.t.values, initial=0.0)


def path_deviation(beta_hat: np.ndarray, beta: np.ndarray) -> float:
    """max_t distance of beta_hat(t) from the straight line through beta_hat(0) and beta, over ||beta - beta_hat(0)||.

    **Arguments:** `beta_hat`: the trajectory (t, d); `beta`: the target (d,), not beta_hat(0).

    **Returns:** the relative deviation, a float >= 0 (0 for a straight path)."""
    start = beta_hat[0]
    d = beta - start
    u = d / np.linalg.norm(d)
    rel = beta_hat - start
    return float(np.max(np.linalg.norm(rel - np.outer(rel @ u, u), axis=1)) / np.linalg.norm(d))
