"""Speed of the implicit-bias simulations (hild.families.implicit), as ratios against a plain NumPy loop in one run.

    python benchmarks/bench_implicit.py [--seeds 256] [--lrs 8] [--steps 2000] [--json out.json]

1. Stochastic collapse: SGD on the 1D quartic model for `--lrs` learning rates x `--seeds` runs in one compiled
   call (collapse.log_theta_runs) against a NumPy loop over steps vectorised over runs and lrs (the best a plain
   reference does), in run-steps per second, warm; and the collapsed fractions of both (same law, other draws).
2. Minibatch SGD on least squares (n = 64, d = 8, batch 4): every seed in one compiled call
   (minibatch.minibatch_runs) against a NumPy loop over steps vectorised over seeds, in seed-steps per second, warm;
   and tr S of both against the exact stationary solution.
Compilation is reported separately: first call minus a second call.
"""
from __future__ import annotations

import argparse
import math

import numpy as np

from timing import publish, timed  # benchmarks/timing.py (the scripts' folder is on sys.path)


def collapse_numpy(lrs, m, s, runs, steps, theta0, seed=0):
    """The same SGD in NumPy, carried as ln|theta|, all runs and lrs per step."""
    rng = np.random.default_rng(seed)
    lrs = np.asarray(lrs)[:, None]
    ell = np.full((lrs.shape[0], runs), math.log(theta0))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            xi = m + s * rng.standard_normal(runs)
            ell = ell + np.log(np.abs(1 + lrs * xi - lrs * np.exp(2 * ell)))
    return ell


def collapse_row(seeds: int, n_lrs: int, steps: int) -> dict:
    from hild.families.implicit import collapse

    lrs = np.linspace(0.15, 0.5, n_lrs)
    jax_first, jax_warm, logs = timed(lambda: collapse.log_theta_runs(lrs, 0.25, 2.0, np.arange(seeds), steps,
                                                                      steps // 10, 0.01))
    np_first, np_warm, ell = timed(lambda: collapse_numpy(lrs, 0.25, 2.0, seeds, steps, 0.01), repeats=1)
    work = n_lrs * seeds * steps
    return {"lrs": n_lrs, "seeds": seeds, "steps": steps, "jax_warm_s": jax_warm, "jax_compile_s": jax_first - jax_warm,
            "numpy_s": np_warm, "jax_run_steps_per_s": work / jax_warm, "numpy_run_steps_per_s": work / np_warm,
            "speedup": np_warm / jax_warm,
            "collapsed_jax": float(np.mean(logs[..., -1] < math.log(1e-8))),
            "collapsed_numpy": float(np.mean(ell < math.log(1e-8)))}


def regression_numpy(X, y, w_star, lr, batch, seeds, steps, burn_in, seed=0):
    """Minibatch SGD in NumPy, all seeds per step: the mean |w - w*|^2 over the measured steps."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    w = np.broadcast_to(w_star, (seeds, d)).copy()
    total = 0.0
    for t in range(burn_in + steps):
        index = rng.integers(0, n, (seeds, batch))
        Xb, yb = X[index], y[index]
        w -= lr * np.einsum("sbi,sb->si", Xb, np.einsum("sbi,si->sb", Xb, w) - yb) / batch
        if t >= burn_in:
            total += np.sum((w - w_star) ** 2)
    return total / (seeds * steps)


def regression_row(seeds: int, steps: int) -> dict:
    from hild.families.implicit import LinearRegressionSGD
    from hild.families.implicit.limiting import minimum
    from hild.families.implicit.minibatch import minibatch_runs

    scenario = LinearRegressionSGD.gaussian(n=64, d=8, lr=0.1, batch=4)
    w_star = minimum(scenario.X, scenario.y, 0.0)[0]
    lags = scenario.lags(1000, 16)
    steps = max(1000, steps // 1000 * 1000)
    jax_first, jax_warm, run = timed(lambda: minibatch_runs(scenario.X, scenario.y, w_star, [0.1], 4, 0.0, 0.0,
                                                            np.arange(seeds), steps, 2000, lags))
    np_first, np_warm, trace_np = timed(lambda: regression_numpy(scenario.X, scenario.y, w_star, 0.1, 4, seeds, steps,
                                                                 2000), repeats=1)
    work = seeds * (steps + 2000)
    return {"seeds": seeds, "steps": steps, "jax_warm_s": jax_warm, "jax_compile_s": jax_first - jax_warm,
            "numpy_s": np_warm, "jax_seed_steps_per_s": work / jax_warm, "numpy_seed_steps_per_s": work / np_warm,
            "speedup": np_warm / jax_warm, "trace_exact": float(scenario.theory().trace),
            "trace_jax": float(np.trace(run["S"][0], axis1=1, axis2=2).mean()), "trace_numpy": float(trace_np)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=256)
    parser.add_argument("--lrs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    report = {"collapse": collapse_row(args.seeds, args.lrs, args.steps),
              "linear_regression": regression_row(min(args.seeds, 64), 10 * args.steps)}
    return publish(report, args.json)


if __name__ == "__main__":
    main()
