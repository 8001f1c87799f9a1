"""Speed of the batch family's replica fixed points and ERM (hild.families.batch), as ratios in one run.

    python benchmarks/bench_batch.py [--grid 100] [--numpy-points 20] [--d 1000] [--json out.json]

1. The logistic fixed point (sign teacher) on a `--grid` x `--grid` (alpha, lam) grid, alpha in [0.2, 5] and
   lam in [1e-3, 1], in one compiled call (continuation along alpha, vmapped over lam), against a plain NumPy
   damped iteration (damping 0.5, the same equations, Gauss-Hermite nodes and bracketed prox, vectorised over the
   nodes) solved point by point: `--numpy-points` points drawn from the grid are timed and the time is
   extrapolated to the whole grid (said in the output); the largest eg difference on those points.
2. ERM at d = `--d` (alpha = 2, lam = 0.1, one seed): hild's solver (`erm.fit`: L-BFGS, finished by Newton where
   needed; float64, compiled, warm) and Newton alone, against scikit-learn's LogisticRegression (lbfgs, tol 1e-10)
   on the same data, if scikit-learn is importable (`pip install -e ".[bench]"`; the row is skipped otherwise);
   the largest difference of the weights relative to their norm.
Compilation is reported separately: first call minus a second call.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

from timing import publish, timed  # benchmarks/timing.py (the scripts' folder is on sys.path)


def numpy_fixed_point(alpha: float, lam: float, nodes: int = 96, damping: float = 0.5, tol: float = 1e-9,
                      max_iter: int = 20000) -> tuple[float, int]:
    """The logistic / sign-teacher saddle point (hild.families.batch.glm's equations, isotropic prior) by plain
    damped iteration in NumPy on (m, q, V). Returns (eg, iterations)."""
    from scipy.special import expit, ndtr

    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)
    ys = np.array([1.0, -1.0])

    def prox(y, om, V):
        d1 = lambda z: -y * expit(-y * z)
        other = om - V * d1(om)
        lo, hi = np.minimum(om, other), np.maximum(om, other)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            up = mid - om + V * d1(mid) > 0
            lo, hi = np.where(up, lo, mid), np.where(up, mid, hi)
        z = 0.5 * (lo + hi)
        for _ in range(4):
            s = expit(-y * z)
            z = np.clip(z - (z - om + V * d1(z)) / (1 + V * s * (1 - s)), lo, hi)
        s = expit(-y * z)
        return z, 1 / (1 + V * s * (1 - s))

    m, q, V = 0.1, 0.5, 1.0
    for it in range(1, max_iter + 1):
        sd = math.sqrt(max(1 - m * m / q, 1e-14))
        om = math.sqrt(q) * x[:, None] * np.ones(2)
        a = (m / q) * om / sd
        weight = w[:, None] * ndtr(ys * a)
        score = w[:, None] * ys * np.exp(-a ** 2 / 2) / (math.sqrt(2 * math.pi) * sd)
        z, dz = prox(ys[None, :], om, V)
        f = (z - om) / V
        mhat, qhat = alpha * np.sum(score * f), alpha * np.sum(weight * f ** 2)
        Vhat = alpha * np.sum(weight * (1 - dz) / V)
        den = lam + Vhat
        new = np.array([mhat / den, (mhat ** 2 + qhat) / den ** 2, 1 / den])
        old = np.array([m, q, V])
        if np.max(np.abs(new - old) / (1 + np.abs(old))) <= tol:
            m, q, V = new
            break
        m, q, V = (1 - damping) * old + damping * new
    return math.acos(min(1.0, m / math.sqrt(q))) / math.pi, it


def fixed_point_grid(n: int, numpy_points: int) -> dict:
    from hild.families.batch import Spectrum, fixed_points, loss

    alpha = np.geomspace(0.2, 5.0, n)
    lam = np.geomspace(1e-3, 1.0, n)
    run = lambda: fixed_points(loss("logistic"), "sign", Spectrum.isotropic(), alpha[None, :], lam[:, None])  # noqa
    first, warm, out = timed(run, repeats=1)
    rng = np.random.default_rng(0)
    pick = [(int(i), int(j)) for i, j in zip(rng.integers(0, n, numpy_points), rng.integers(0, n, numpy_points))]
    start = time.perf_counter()
    ref = [numpy_fixed_point(alpha[j], lam[i]) for i, j in pick]
    per_point = (time.perf_counter() - start) / numpy_points
    diff = max(abs(ref[k][0] - out["eg"][i, j]) for k, (i, j) in enumerate(pick))
    return {"grid": f"{n} x {n}", "hild_warm_s": warm, "hild_compile_s": first - warm,
            "converged_fraction": float(out["converged"].mean()),
            "numpy_points_timed": numpy_points, "numpy_s_per_point": per_point,
            "numpy_grid_s_extrapolated": per_point * n * n,
            "numpy_over_hild": per_point * n * n / warm,
            "numpy_iterations_mean": float(np.mean([r[1] for r in ref])),
            "max_abs_eg_difference": float(diff)}


def erm(d: int) -> dict:
    import jax
    import jax.numpy as jnp

    from hild.families.batch import Logistic
    from hild.families.batch.erm import fit, newton

    n, lam = 2 * d, 0.1
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, d))
    w_star = rng.normal(size=d)
    y = np.sign(X @ w_star)
    with jax.enable_x64(True):
        args = jnp.asarray(X), jnp.asarray(y)
        f = jax.jit(lambda X, y: fit(Logistic(), X, y, lam)[0])
        first, warm, w = timed(lambda: np.asarray(jax.block_until_ready(f(*args))), repeats=1)
        g = jax.jit(lambda X, y: newton(Logistic(), X, y, lam)[0])
        _, newton_warm, _ = timed(lambda: jax.block_until_ready(g(*args)), repeats=1)
    row = {"d": d, "n": n, "lam": lam, "hild_fit_warm_s": warm, "hild_fit_compile_s": first - warm,
           "hild_newton_only_warm_s": newton_warm}
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        row["sklearn"] = "not importable: row skipped"
        return row
    model = LogisticRegression(C=1 / lam, fit_intercept=False, tol=1e-10, max_iter=10000)
    start = time.perf_counter()
    model.fit(X / math.sqrt(d), y)
    row["sklearn_lbfgs_s"] = time.perf_counter() - start
    row["sklearn_over_hild"] = row["sklearn_lbfgs_s"] / warm
    row["max_abs_weight_difference_over_norm"] = float(np.max(np.abs(model.coef_[0] - w)) / np.linalg.norm(w))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=100)
    parser.add_argument("--numpy-points", type=int, default=20)
    parser.add_argument("--d", type=int, default=1000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = {"fixed_point_grid": fixed_point_grid(args.grid, args.numpy_points), "erm": erm(args.d)}
    publish(results, args.json)


if __name__ == "__main__":
    main()
