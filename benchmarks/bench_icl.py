"""Speed of the in-context regression family (hild.families.icl), as ratios in one run.

    python benchmarks/bench_icl.py [--grid 32] [--d 20] [--json out.json]

1. The theory of a (kappa, tau) phase diagram of icl.linear_attention (`--grid` x `--grid` points, one vmapped
   call, warm) against the exact finite-d solution at one point (d = `--d`, one seed, warm): the cost per point of
   each, and their ratio.
2. The finite-d solution's normal equations against a plain NumPy reference (the same n contexts' d^2 features,
   Gram matrix and solve, float64), warm.
3. icl.task_diversity: the dMMSE and ridge theory at d = 8, K = 16 over M = 2^0 .. 2^10 (one call per group of
   similar M) against one M at a time.
Compilation is reported separately: first call minus a second call.
"""
from __future__ import annotations

import argparse

import numpy as np

from timing import publish, timed  # benchmarks/timing.py (the scripts' folder is on sys.path)


def numpy_solution(d: int, ell: int, k: int, n: int, noise: float, ridge: float, seed: int = 0) -> np.ndarray:
    """The finite-d Gamma in plain NumPy: every context's d^2 features at once, their Gram matrix, the solve."""
    rng = np.random.default_rng(seed)
    tasks = rng.normal(size=(k, d))
    w = tasks[rng.integers(0, k, n)]
    x = rng.normal(size=(n, ell, d)) / np.sqrt(d)
    y = np.einsum("nld,nd->nl", x, w) + noise * rng.normal(size=(n, ell))
    h = d / ell * np.einsum("nl,nld->nd", y, x)
    xq = rng.normal(size=(n, d)) / np.sqrt(d)
    yq = np.einsum("nd,nd->n", xq, w) + noise * rng.normal(size=n)
    z = (xq[:, :, None] * h[:, None, :]).reshape(n, d * d)
    return np.linalg.solve(z.T @ z / n + ridge / d * np.eye(d * d), z.T @ yq / n).reshape(d, d)


def phase_diagram(grid: int, d: int) -> dict:
    from hild.families.icl import LinearAttention

    points = [LinearAttention(kappa=float(k), tau=float(t)) for k in np.geomspace(0.25, 4, grid)
              for t in np.geomspace(0.25, 8, grid)]
    t_first, t_warm, _ = timed(lambda: LinearAttention.theory_batch(points), repeats=1)
    one = LinearAttention()
    s_first, s_warm, _ = timed(lambda: one.simulate(d=d, seeds=1), repeats=1)
    sizes = one.sizes(d)
    n_first, n_warm, _ = timed(lambda: numpy_solution(d, sizes["ell"], sizes["k"], sizes["n"], 0.5, 0.01), repeats=1)
    return {"points": len(points), "theory_warm_s": t_warm, "theory_compile_s": t_first - t_warm,
            "theory_per_point_s": t_warm / len(points), "d": d, "finite_d_warm_s": s_warm,
            "finite_d_compile_s": s_first - s_warm, "finite_d_over_theory_per_point": s_warm / (t_warm / len(points)),
            "numpy_finite_d_s": n_warm, "numpy_over_hild": n_warm / s_warm}


def task_diversity() -> dict:
    from hild.families.icl import TaskDiversity

    scenarios = [TaskDiversity(M=2 ** j) for j in range(0, 11)]
    b_first, b_warm, _ = timed(lambda: TaskDiversity.theory_batch(scenarios, samples=1024), repeats=1)
    one = lambda: [s.theory(samples=1024) for s in scenarios]  # noqa: E731
    o_first, o_warm, _ = timed(one, repeats=1)
    return {"pool_sizes": len(scenarios), "batch_warm_s": b_warm, "batch_first_s": b_first,
            "one_by_one_warm_s": o_warm, "one_by_one_first_s": o_first,
            "one_by_one_over_batch_first": o_first / b_first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", type=int, default=32)
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    out = {"phase_diagram": phase_diagram(args.grid, args.d), "task_diversity": task_diversity()}
    publish(out, args.json)


if __name__ == "__main__":
    main()
