"""The recorded variables of a two-layer linear network and the measures of feature learning.

Theory and simulation both call `observables`, so their variables are defined once:

    function  W2 W1 (o, i)                 W1TW1  W1^T W1 (i, i2)    W2W2T  W2 W2^T (o, o2)
    ntk       rho_1 W2W2^T (x) I + rho_2 I (x) W1^T W1 on vec(function), row-major index p = o * d_in + i
    modes     diag(U^T W2 W1 V) over the task's singular directions (mode)
    loss      1/2 ||Sigma_yx - W2 W1||_F^2 (population loss without its constant)
    imbalance W2^T W2 / rho_2 - W1 W1^T / rho_1 (k, k2): conserved by gradient flow

and the measures of feature learning (Domine et al., arXiv 2409.14623; Kunin et al., arXiv 2406.06158):

    ntk_movement      ||Theta(t) - Theta(0)||_F / ||Theta(0)||_F
    kernel_alignment  vec(Sigma)^T Theta vec(Sigma) / (||Theta||_F ||Sigma||_F^2)   (alignment with the task)
    rep_similarity    <W1^T W1(t), W1^T W1(0)>_F / (||.|| ||.||)   (similarity of the hidden representation to its start)
"""
from __future__ import annotations

import numpy as np


def ntk(W1TW1: np.ndarray, W2W2T: np.ndarray, lr_scales=(1.0, 1.0)) -> np.ndarray:
    """The NTK rho_1 W2 W2^T (x) I + rho_2 I (x) W1^T W1 of f = W2 W1 on whitened inputs.

    **Arguments:** `W1TW1`: (..., d_in, d_in); `W2W2T`: (..., d_out, d_out), same leading shape; `lr_scales`:
    (rho_1, rho_2) (default (1, 1)).

    **Returns:** the kernel, a float array (..., d_out d_in, d_out d_in), row-major index p = o * d_in + i."""
    din, dout = W1TW1.shape[-1], W2W2T.shape[-1]
    rho1, rho2 = lr_scales
    left = np.einsum("...ab,ij->...aibj", W2W2T, np.eye(din))
    right = np.einsum("ab,...ij->...aibj", np.eye(dout), W1TW1)
    K = rho1 * left + rho2 * right
    return K.reshape(K.shape[:-4] + (dout * din, dout * din))


def _cos(A, B, axes):
    return np.sum(A * B, axis=axes) / np.sqrt(np.sum(A * A, axis=axes) * np.sum(B * B, axis=axes))


def observables(function, W1TW1, W2W2T, imbalance, sigma, lr_scales, U, V) -> dict:
    """Every recorded variable (module docstring) from the time series of function and representations.

    **Arguments:** `function` (t, d_out, d_in), `W1TW1` (t, d_in, d_in), `W2W2T` (t, d_out, d_out), `imbalance`
    (t, width, width): the series, t first; `sigma`: Sigma_yx (d_out, d_in);
    `lr_scales`: (rho_1, rho_2); `U`, `V`: the task's left and right singular vectors.

    **Returns:** a dict name -> array (t, then the dims of `DIMS`) (`function`, `W1TW1`, `W2W2T`, `ntk`,
    `modes`, `loss`, `imbalance`, `ntk_movement`, `kernel_alignment`, `rep_similarity`)."""
    theta = ntk(W1TW1, W2W2T, lr_scales)
    r = min(sigma.shape)
    y = sigma.reshape(-1)
    rel = lambda X: np.sqrt(np.sum((X - X[:1]) ** 2, axis=(-2, -1)) / np.sum(X[:1] ** 2, axis=(-2, -1)))  # noqa: E731
    return {
        "function": function, "W1TW1": W1TW1, "W2W2T": W2W2T, "ntk": theta,
        "modes": np.einsum("oa,...oi,ib->...ab", U, function, V)[..., np.arange(r), np.arange(r)],
        "loss": 0.5 * np.sum((sigma - function) ** 2, axis=(-2, -1)),
        "imbalance": imbalance,
        "ntk_movement": rel(theta),
        "kernel_alignment": np.einsum("p,...pq,q->...", y, theta, y) / (np.sqrt(np.sum(theta ** 2, axis=(-2, -1)))
                                                                       * max(float(y @ y), 1e-300)),
        "rep_similarity": _cos(W1TW1, W1TW1[:1], (-2, -1)),
    }


DIMS = {"function": ("o", "i"), "W1TW1": ("i", "i2"), "W2W2T": ("o", "o2"), "ntk": ("p", "p2"), "modes": ("mode",),
        "loss": (), "imbalance": ("k", "k2"), "ntk_movement": (), "kernel_alignment": (), "rep_similarity": ()}
