"""Speed of the exact linear-diffusion theory against the simulation it replaces, measured in one run.

    python benchmarks/bench_diffusion.py [--d 32] [--steps 100] [--samples 10000] [--json out.json]

Scenario: isotropic target, N = 2d, the standard schedule (T = 1000), GD with `steps` steps at every
diffusion step, DDPM sampling of `samples` points. Rows: (1) one scenario, theory (every variable)
against simulation (training, sampling and measurements; Monte Carlo losses off), and the two parts
of the simulation against plain NumPy references written here (GD vectorised over the diffusion steps
with a Python loop over GD steps; the sampler with a Python loop over t); (2) the largest d each side
handles in a minute: a ladder of d is timed and the last two points are extrapolated with the
measured power law t ~ d^p (the largest d is an estimate, as the output says). Timings exclude JAX
compilation, reported separately; the machine's other load is not controlled.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from hild.families.diffusion import LinearDiffusion, alpha_bar, exact_denoisers, one_minus_alpha_bar, sample, train


def _best(f, repeat=2):
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        out.append(time.perf_counter() - start)
    return min(out)


def scenario(d: int, steps: int) -> LinearDiffusion:
    return LinearDiffusion(d=d, N=2 * d, lr=0.5 / (1 + np.sqrt(0.5)) ** 2, steps=steps)


def numpy_gd(sc: LinearDiffusion, X: np.ndarray) -> float:
    """Seconds of plain-NumPy GD with fresh noise for all T denoisers (batched over t, Python loop over steps)."""
    rng = np.random.default_rng(0)
    ab, om = alpha_bar(sc.beta), one_minus_alpha_bar(sc.beta)
    sab, som = np.sqrt(ab)[:, None, None], np.sqrt(om)[:, None, None]
    W, b = np.zeros((sc.T, sc.d, sc.d), np.float32), np.zeros((sc.T, 1, sc.d), np.float32)
    X = X.astype(np.float32)
    start = time.perf_counter()
    for _ in range(sc.steps):
        E = rng.standard_normal((sc.T,) + X.shape, dtype=np.float32)
        x = sab * X + som * E
        r = E - x @ W.transpose(0, 2, 1) - b
        W += sc.lr * 2 * (r.transpose(0, 2, 1) @ x) / len(X)
        b += sc.lr * 2 * r.mean(1, keepdims=True)
    return time.perf_counter() - start


def numpy_sampler(sc: LinearDiffusion, W: np.ndarray, n: int) -> float:
    """Seconds of the plain-NumPy DDPM sampler (Python loop over t)."""
    rng = np.random.default_rng(0)
    om = one_minus_alpha_bar(sc.beta)
    W = W.astype(np.float32)
    start = time.perf_counter()
    u = rng.standard_normal((n, sc.d), dtype=np.float32)
    for t in range(sc.T - 1, -1, -1):
        u = (u - sc.beta[t] / np.sqrt(om[t]) * (u @ W[t].T)) / np.sqrt(1 - sc.beta[t])
        u += np.sqrt(sc.beta[t]) * rng.standard_normal(u.shape, dtype=np.float32)
    return time.perf_counter() - start


def ladder(run, ds, limit: float = 60.0) -> tuple[dict, float, float]:
    """Time run(d) up the ladder (stopping past `limit` / 4 s); fit t ~ d^p on the last two points."""
    times = {}
    for d in ds:
        run(d)  # compile
        times[d] = _best(lambda: run(d), repeat=1)
        if times[d] > limit / 4:
            break
    (d1, t1), (d2, t2) = list(times.items())[-2:]
    p = np.log(t2 / t1) / np.log(d2 / d1)
    return times, float(p), float(d2 * (limit / t2) ** (1 / p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    sc = scenario(args.d, args.steps)
    rows = {}
    start = time.perf_counter()
    sc.theory()
    rows["theory compile+first (s)"] = time.perf_counter() - start
    rows["theory, one training set (s)"] = _best(lambda: sc.theory())
    simulate = lambda: sc.simulate(n_samples=args.samples, n_loss=0)  # noqa: E731
    start = time.perf_counter()
    simulate()
    rows["simulation compile+first (s)"] = time.perf_counter() - start
    rows["simulation, one training set (s)"] = _best(simulate)
    rows["ratio simulation / theory"] = rows["simulation, one training set (s)"] / rows["theory, one training set (s)"]

    mom = sc.moments(0)
    times = np.arange(1, sc.T + 1)
    record = sc.record_steps(2)
    rows["GD hild, T x steps (s)"] = _best(lambda: train(sc, mom, times, 0, record, "float32"))
    rows["GD NumPy loop, T x steps (s)"] = numpy_gd(sc, mom.X - mom.mu0)
    W, b = exact_denoisers(sc, mom)
    rows["sampler hild (s)"] = _best(lambda: sample(sc, W, b, args.samples, 0, "float32"))
    rows["sampler NumPy loop (s)"] = numpy_sampler(sc, W, args.samples)
    rows["ratio GD NumPy / hild"] = rows["GD NumPy loop, T x steps (s)"] / rows["GD hild, T x steps (s)"]
    rows["ratio sampler NumPy / hild"] = rows["sampler NumPy loop (s)"] / rows["sampler hild (s)"]

    th_times, th_p, th_d = ladder(lambda d: scenario(d, args.steps).theory(), [250, 500, 1000, 2000, 4000])
    sim_times, sim_p, sim_d = ladder(lambda d: scenario(d, args.steps).simulate(n_samples=args.samples, n_loss=0),
                                     [16, 32, 64, 128])
    rows.update({f"theory d={d} (s)": t for d, t in th_times.items()})
    rows.update({f"simulation d={d} (s)": t for d, t in sim_times.items()})
    rows["theory time exponent p (t ~ d^p)"] = th_p
    rows["simulation time exponent p (t ~ d^p)"] = sim_p
    rows["largest d in 60 s, theory (extrapolated)"] = th_d
    rows["largest d in 60 s, simulation (extrapolated)"] = sim_d
    width = max(map(len, rows))
    print(f"d = {args.d}, N = 2d, T = 1000, {args.steps} GD steps, {args.samples} samples")
    for k, v in rows.items():
        print(f"{k:<{width}}  {v:10.4g}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
