"""Cost of a theory phase diagram of signal propagation against the simulated diagram it replaces, in one run.

    python benchmarks/bench_signal_prop.py [--T 64] [--d 128] [--L 12] [--n 24] [--seeds 2] [--json out.json]

Rows: (1) the rank/entropy-collapse diagram over an n x n (beta, alpha_A) grid: the layer map over the whole
grid (NumPy, vectorised) against the real random stack at every grid point (JAX, vmapped over the points and
seeds, one compilation: timed with and without it), and against a plain NumPy reference of the same forward
stack written here (a Python loop over points, seeds and blocks; timed on a few points and scaled); (2) the
order/chaos diagram (tanh MLP) over (sigma_w2, alpha_M): the exponents lambda_a, lambda_g (bisection for the
attractor) against the simulated finite-difference exponents (a k x k subgrid, scaled to the full grid).
The finite-T REM table is built once per T (first call, reported apart). The machine's other load is not controlled.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from hild.families.signal_prop import RandomTransformer, run_points
from hild.families.signal_prop import phase


def _timed(f):
    start = time.perf_counter()
    out = f()
    return time.perf_counter() - start, out


def _layer_norm(x):
    x = x - x.mean(-1, keepdims=True)
    return x / np.sqrt((x ** 2).mean(-1, keepdims=True))


def numpy_stack(sc: RandomTransformer, beta: float, alpha: float, seed: int) -> float:
    """The final mean token cosine of the post-LN ReLU stack in plain NumPy (forward only)."""
    rng = np.random.default_rng(seed)
    T, d = sc.T, sc.d
    z = rng.standard_normal(d)
    x = _layer_norm(np.sqrt(sc.p0) * z + np.sqrt(1 - sc.p0) * rng.standard_normal((T, d)))
    s = np.sqrt(beta * np.sqrt(np.log(T)) / d)
    for _ in range(sc.L):
        q, k = x @ (rng.standard_normal((d, d)) * s), x @ (rng.standard_normal((d, d)) * s)
        logits = q @ k.T / np.sqrt(d)
        A = np.exp(logits - logits.max(1, keepdims=True))
        A /= A.sum(1, keepdims=True)
        o = A @ x @ (rng.standard_normal((d, d)) * np.sqrt(sc.sigma_v2 / d))
        o = o + rng.standard_normal(d) * np.sqrt(sc.sigma_b2)
        x = _layer_norm(alpha * x + o)
        h = np.maximum(x @ (rng.standard_normal((d, d)) * np.sqrt(sc.sigma_w2 / d)) + rng.standard_normal(d)
                       * np.sqrt(sc.sigma_b2), 0)
        x = _layer_norm(sc.alpha_M * x + h @ (rng.standard_normal((d, d)) * np.sqrt(sc.sigma_w2 / d))
                        + rng.standard_normal(d) * np.sqrt(sc.sigma_b2))
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    C = xn @ xn.T
    return float((C.sum() - np.trace(C)) / (T * (T - 1)))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=64)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--L", type=int, default=12)
    parser.add_argument("--n", type=int, default=24, help="grid points per axis")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--json", type=str, default=None)
    args = parser.parse_args(argv)
    n, results = args.n, {}

    sc = RandomTransformer(T=args.T, d=args.d, L=args.L)
    betas, alphas = np.linspace(0.1, 5, n), np.geomspace(0.1, 10, n)
    t_table, _ = _timed(lambda: phase.rank_entropy(sc, betas[:2], alphas[:2]))  # builds the finite-T REM table
    t_theory, _ = _timed(lambda: phase.rank_entropy(sc, betas, alphas))
    B, A = (g.ravel() for g in np.meshgrid(betas, alphas, indexing="ij"))
    t_first, _ = _timed(lambda: run_points(sc, {"beta": B, "alpha_A": A}, seeds=args.seeds))
    t_sim, _ = _timed(lambda: run_points(sc, {"beta": B, "alpha_A": A}, seeds=args.seeds))
    probe = 3
    t_np, _ = _timed(lambda: [numpy_stack(sc, b, a, s) for b, a in zip(B[:probe], A[:probe])
                              for s in range(args.seeds)])
    t_np_grid = t_np / probe * len(B)
    results["rank_entropy"] = {"grid": [n, n], "theory_s": t_theory, "theory_first_call_s (REM table)": t_table,
                               "simulation_s": t_sim,
                               "simulation_compile_s": t_first - t_sim, "numpy_forward_s (scaled)": t_np_grid,
                               "simulation / theory": t_sim / t_theory,
                               "numpy forward / jax simulation (forward + backprop)": t_np_grid / t_sim}

    sc = RandomTransformer(T=args.T, d=args.d, L=args.L, beta=0.5, mlp="tanh")
    sw, am = np.linspace(0.2, 4, n), np.linspace(0, 2, n)
    t_theory, _ = _timed(lambda: phase.order_chaos(sc, "sigma_w2", sw, "alpha_M", am))
    k = max(2, n // 4)
    t_sim, _ = _timed(lambda: phase.order_chaos_points(sc, "sigma_w2", phase.subgrid(sw, k), "alpha_M",
                                                       phase.subgrid(am, k), seeds=args.seeds))
    per_point = t_sim / k ** 2
    results["order_chaos"] = {"grid": [n, n], "theory_s": t_theory, "simulated_points": k * k,
                              "simulation_s (incl. compile)": t_sim,
                              "simulation_full_grid_s (scaled)": per_point * n * n,
                              "simulation / theory (full grid)": per_point * n * n / t_theory}
    for name, row in results.items():
        print(name)
        for key, value in row.items():
            print(f"  {key:<55} {value if isinstance(value, list) else f'{value:.4g}'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
