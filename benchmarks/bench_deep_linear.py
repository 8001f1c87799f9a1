"""Speed of the exact deep-linear theory against the GD simulation it replaces, measured in one run.

    python benchmarks/bench_deep_linear.py [--lams 1000] [--json out.json]

Rows: (1) one lambda-balanced network (d_in = d_out = width = 10) to t = 10: the exact Riccati flow
map on 201 output times vs GD at lr 1e-3 (10^4 steps) in hild, and vs the same GD as a plain NumPy
loop; (2) 1,000 lambdas in one vectorised call of the exact solution (flow_batch) and of the scalar
mode closed form. Timings exclude JAX compilation, reported separately.
"""
from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from hild.families.deep_linear import DeepLinear, flow, flow_batch, mode_trajectory
from hild.families.deep_linear.riccati import to_unit


def _best(f, repeat=3):
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        out.append(time.perf_counter() - start)
    return min(out)


def numpy_gd(W1, W2, sigma, lr, steps):
    start = time.perf_counter()
    for _ in range(steps):
        E = sigma - W2 @ W1
        W1, W2 = W1 + lr * W2.T @ E, W2 + lr * E @ W1.T
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lams", type=int, default=1000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    s = np.linspace(3, 0.3, 10)
    net = DeepLinear(singular_values=s, width=10, lr=1e-3, init="lambda", init_scale=1e-2, lam=0.5)
    rows = {}
    start = time.perf_counter()
    net.theory(t_max=10, n_points=201)
    rows["theory compile+first (s)"] = time.perf_counter() - start
    rows["theory, 201 times (s)"] = _best(lambda: net.theory(t_max=10, n_points=201))
    start = time.perf_counter()
    net.simulate(seeds=1, t_max=10, n_points=201)
    rows["GD compile+first (s)"] = time.perf_counter() - start
    rows["GD hild, 1e4 steps (s)"] = _best(lambda: net.simulate(seeds=1, t_max=10, n_points=201))
    W1, W2 = net.initial_weights(0)
    rows["GD NumPy loop, 1e4 steps (s)"] = numpy_gd(W1, W2, net.sigma, 1e-3, 10_000)
    Q0, c = to_unit(W1, W2, net.lr_scales)
    with jax.enable_x64(True):
        core = (jnp.asarray(Q0), jnp.asarray(net.sigma), c * 0.5, 0.05, 200)
        flow(*core).block_until_ready()
        rows["theory core flow map only, 201 times (s)"] = _best(lambda: flow(*core).block_until_ready())
    rows["ratio GD hild / theory core"] = rows["GD hild, 1e4 steps (s)"] / rows["theory core flow map only, 201 times (s)"]
    rows["ratio GD hild / theory"] = rows["GD hild, 1e4 steps (s)"] / rows["theory, 201 times (s)"]
    rows["ratio GD NumPy / theory"] = rows["GD NumPy loop, 1e4 steps (s)"] / rows["theory, 201 times (s)"]

    lams = np.linspace(-5, 5, args.lams)
    nets = [DeepLinear(singular_values=s, width=10, init="aligned", init_scale=1e-2, lam=float(l)) for l in lams]
    Q0s = np.stack([to_unit(*n.initial_weights(0), n.lr_scales)[0] for n in nets])
    with jax.enable_x64(True):
        args_ = (jnp.asarray(Q0s), jnp.asarray(net.sigma), jnp.asarray(lams), 0.05, 200)
        start = time.perf_counter()
        flow_batch(*args_).block_until_ready()
        rows[f"{args.lams} lambdas, matrix flow compile+first (s)"] = time.perf_counter() - start
        rows[f"{args.lams} lambdas, matrix flow, 201 times (s)"] = _best(lambda: flow_batch(*args_).block_until_ready())
    t = np.linspace(0, 10, 201)
    rows[f"{args.lams} lambdas x 10 modes, scalar closed form (s)"] = _best(
        lambda: mode_trajectory(t[:, None, None], s[None, None, :], 1e-2, lams[None, :, None]))
    width = max(map(len, rows))
    for k, v in rows.items():
        print(f"{k:<{width}}  {v:10.4g}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
