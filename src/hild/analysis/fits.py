"""Power-law fits: log y = log A + gamma log x by least squares, with the slope's standard error."""
from __future__ import annotations

import numpy as np


def fit_power_law(x, y) -> tuple[float, float, float]:
    """Least-squares fit of log y = log A + gamma log x.

    **Returns:** (gamma, its standard error (NaN with two points), A).
    """
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    dof = len(lx) - 2
    if dof > 0:
        sigma2 = float(np.sum((ly - A @ coef) ** 2)) / dof
        stderr = float(np.sqrt(sigma2 * np.linalg.inv(A.T @ A)[0, 0]))
    else:
        stderr = float("nan")
    return float(coef[0]), stderr, float(np.exp(coef[1]))
