"""Throughput of hild.cumulants against plain NumPy references written here, measured in the same run.

    python benchmarks/bench_cumulants.py [--d 64] [--n 1000000] [--steps 20000] [--seeds 16] [--json out.json]

Rows: (1) samples of the spiked cumulant model drawn per second (hild's jitted sampler, float32, against NumPy's
PCG64 with the same whitening); (2) online spherical SGD steps per second summed over seeds (hild: lax.scan
vmapped over `seeds`; NumPy: a Python loop over steps, the seeds as a batch); (3) FastICA iterations on n/10
samples per second (hild: chunked scan, data drawn on the fly, so memory stays flat in n; NumPy: a fresh array
per iteration, and for reference one fixed array in memory, which skips the sampling). Timings exclude
JAX compilation (reported separately); the machine's other load is not controlled.
"""
from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

from hild.families.cumulants import fastica, online_sgd, spike, spiked_cumulant


def _best(f, repeat=3):
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        out.append(time.perf_counter() - start)
    return min(out)


def numpy_samples(n: int, u: np.ndarray, beta: float, rng) -> np.ndarray:
    nu = rng.choice(np.array([-1.0, 1.0], np.float32), size=n)
    x = np.sqrt(beta, dtype=np.float32) * nu[:, None] * u[None, :] + rng.standard_normal((n, len(u)), np.float32)
    c = 1 - 1 / np.sqrt(1 + beta)
    return x - c * (x @ u)[:, None] * u[None, :]


def numpy_sgd(d: int, steps: int, seeds: int, beta: float, lr: float) -> float:
    """Seconds of plain-NumPy online spherical SGD (kurtosis contrast), a Python loop over steps."""
    rng = np.random.default_rng(0)
    u = np.asarray(spike(d, 0), np.float32)
    w = rng.standard_normal((seeds, d)).astype(np.float32)
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    delta = np.float32(lr / d)
    start = time.perf_counter()
    block = 1000
    for b in range(steps // block):
        X = numpy_samples(block * seeds, u, beta, rng).reshape(block, seeds, d)
        for x in X:
            s = np.sum(w * x, axis=1)
            g = -(s ** 3)[:, None] * x
            g -= np.sum(g * w, axis=1, keepdims=True) * w
            w = w + delta * g
            w /= np.linalg.norm(w, axis=1, keepdims=True)
    return time.perf_counter() - start


def numpy_fastica(X: np.ndarray, w: np.ndarray, iterations: int, fresh=None) -> float:
    """Seconds of plain-NumPy FastICA (log cosh) on X, or on a fresh batch per iteration from fresh(rng)."""
    start = time.perf_counter()
    for _ in range(iterations):
        X = X if fresh is None else fresh()
        s = X @ w
        w = (np.tanh(s) @ X) / len(X) - np.mean(1 - np.tanh(s) ** 2) * w
        w /= np.linalg.norm(w)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    d, n, beta = args.d, args.n, 5.0
    u = spike(d, 0)
    rows = {}

    draw = lambda: spiked_cumulant(jax.random.key(1), n, u, beta).block_until_ready()  # noqa: E731
    start = time.perf_counter()
    draw()
    rows["sampler compile+first (s)"] = time.perf_counter() - start
    rows["samples/s hild"] = n / _best(draw)
    rng = np.random.default_rng(0)
    rows["samples/s NumPy"] = n / _best(lambda: numpy_samples(n, np.asarray(u), beta, rng))
    rows["ratio samples hild / NumPy"] = rows["samples/s hild"] / rows["samples/s NumPy"]

    sgd = lambda: online_sgd(d, args.steps, beta, lr=0.02 / d, seeds=args.seeds, records=10)  # noqa: E731
    start = time.perf_counter()
    sgd()
    rows["SGD compile+first (s)"] = time.perf_counter() - start
    rows["SGD steps/s hild (x seeds)"] = args.steps * args.seeds / _best(sgd, 2)
    rows["SGD steps/s NumPy (x seeds)"] = args.steps * args.seeds / numpy_sgd(d, args.steps, args.seeds, beta,
                                                                              0.02 / d)
    rows["ratio SGD hild / NumPy"] = rows["SGD steps/s hild (x seeds)"] / rows["SGD steps/s NumPy (x seeds)"]

    its = 5
    ica = lambda: fastica(d, n // 10, beta, seeds=1, iterations=its)  # noqa: E731
    start = time.perf_counter()
    ica()
    rows["FastICA compile+first (s)"] = time.perf_counter() - start
    rows["FastICA iterations/s hild (fresh data)"] = its / _best(ica, 2)
    X = numpy_samples(n // 10, np.asarray(u), beta, rng)
    w0 = rng.standard_normal(d).astype(np.float32)
    rows["FastICA iterations/s NumPy (fixed data)"] = its / numpy_fastica(X, w0 / np.linalg.norm(w0), its)
    rows["FastICA iterations/s NumPy (fresh data)"] = its / numpy_fastica(
        X, w0 / np.linalg.norm(w0), its, lambda: numpy_samples(n // 10, np.asarray(u), beta, rng))
    rows["ratio FastICA hild / NumPy, both fresh"] = (rows["FastICA iterations/s hild (fresh data)"]
                                                     / rows["FastICA iterations/s NumPy (fresh data)"])
    rows["ratio FastICA hild (fresh) / NumPy (fixed)"] = (rows["FastICA iterations/s hild (fresh data)"]
                                                         / rows["FastICA iterations/s NumPy (fixed data)"])
    width = max(map(len, rows))
    print(f"spiked cumulant model, d = {d}, n = {n}, {args.steps} SGD steps x {args.seeds} seeds, float32")
    for k, v in rows.items():
        print(f"{k:<{width}}  {v:10.4g}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
