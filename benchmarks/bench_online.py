"""Speed of online SGD and of the ODEs for the soft committee machine, as ratios measured in one run.

    python benchmarks/bench_online.py [--d 1000] [--steps 200000] [--json out.json]

References written here in plain NumPy: the same online SGD as a per-step Python loop (seeds
vectorised in each step), and the floor of just drawing d Gaussians per step. Timings exclude
JAX compilation, which is reported separately.
"""
from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np
from scipy.special import erf

from hild.families.online import Committee, theory_batch


def numpy_sgd(d: int, seeds: int, steps: int, lr: float = 0.5) -> float:
    """Seconds for `steps` steps of K = M = 2 erf online SGD, plain NumPy, seeds vectorised per step."""
    rng = np.random.default_rng(0)
    W = 1e-3 * rng.standard_normal((seeds, 2, d))
    Ws = rng.standard_normal((seeds, 2, d))
    g = lambda x: erf(x / np.sqrt(2))  # noqa: E731
    dg = lambda x: np.sqrt(2 / np.pi) * np.exp(-x * x / 2)  # noqa: E731
    start = time.perf_counter()
    for _ in range(steps):
        x = rng.standard_normal((seeds, d))
        lam = np.einsum("skd,sd->sk", W, x) / np.sqrt(d)
        rho = np.einsum("smd,sd->sm", Ws, x) / np.sqrt(d)
        delta = g(rho).sum(1) - g(lam).sum(1)
        W += (lr / np.sqrt(d)) * (dg(lam) * delta[:, None])[:, :, None] * x[:, None, :]
    return time.perf_counter() - start


def numpy_draws(d: int, seeds: int, steps: int) -> float:
    """Seconds to draw the Gaussian inputs alone, in blocks of 1024 steps (the cheapest NumPy way)."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(steps // 1024):
        rng.standard_normal((1024, seeds, d))
    return time.perf_counter() - start


def hild_sgd(d: int, seeds: int, steps: int) -> tuple[float, float]:
    """(seconds, compile-and-first-run seconds) of Committee.simulate for `steps` steps."""
    scenario = Committee(K=2, M=2, lr=0.5)
    t_max = steps / d
    start = time.perf_counter()
    scenario.simulate(d=d, seeds=seeds, t_max=t_max, n_points=21)
    first = time.perf_counter() - start
    start = time.perf_counter()
    scenario.simulate(d=d, seeds=seeds, t_max=t_max, n_points=21, seed=100)
    return time.perf_counter() - start, first


def ode(batch: int) -> tuple[float, float]:
    """(seconds, first-call seconds) to integrate `batch` learning rates to t = 300 in one call."""
    lrs = np.geomspace(0.05, 1.0, batch)
    start_overlaps = {"Q": 1e-4 * np.eye(2), "R": np.array([[1e-3, 2e-4], [0.0, 5e-4]])}
    scenarios = [Committee(K=2, M=2, lr=lr) for lr in lrs]
    inits = [{**Committee(K=2, M=2, lr=1.0).initial_overlaps(), **start_overlaps}] * batch
    start = time.perf_counter()
    theory_batch(scenarios, t_max=300, inits=inits, n_points=301)
    first = time.perf_counter() - start
    scenarios = [Committee(K=2, M=2, lr=lr * 1.01) for lr in lrs]
    start = time.perf_counter()
    theory_batch(scenarios, t_max=300, inits=inits, n_points=301)
    return time.perf_counter() - start, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--numpy-steps", type=int, default=20_000)
    parser.add_argument("--json", type=str, default=None)
    args = parser.parse_args()
    d = args.d
    report = {"device": str(jax.devices()[0]), "d": d, "sgd": {}, "ode": {}}
    print(f"device: {report['device']}, d = {d}, K = M = 2, erf")
    for seeds in (1, 8):
        t_hild, t_first = hild_sgd(d, seeds, args.steps)
        t_np = numpy_sgd(d, seeds, args.numpy_steps)
        t_draw = numpy_draws(d, seeds, args.steps)
        rate_hild = args.steps * seeds / t_hild
        rate_np = args.numpy_steps * seeds / t_np
        rate_draw = (args.steps // 1024 * 1024) * seeds / t_draw
        row = {"hild_steps_per_s": rate_hild, "numpy_loop_steps_per_s": rate_np,
               "numpy_draw_only_steps_per_s": rate_draw, "speedup_vs_numpy_loop": rate_hild / rate_np,
               "slowdown_vs_draw_floor": rate_draw / rate_hild, "hild_first_call_s": t_first}
        report["sgd"][seeds] = row
        print(f"SGD, {seeds} seed(s): hild {rate_hild:,.0f} seed-steps/s | NumPy loop {rate_np:,.0f} "
              f"({row['speedup_vs_numpy_loop']:.1f}x) | NumPy draws only {rate_draw:,.0f} "
              f"(hild is {row['slowdown_vs_draw_floor']:.2f}x the floor) | first call {t_first:.1f} s")
    for batch in (1, 256):
        t, first = ode(batch)
        report["ode"][batch] = {"seconds": t, "first_call_s": first}
        print(f"ODE to t = 300, {batch} scenario(s): {t:.2f} s ({first:.1f} s with compilation)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
