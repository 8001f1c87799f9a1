"""Speed of online SGD and of the ODEs for the soft committee machine, as ratios measured in one run.

    python benchmarks/bench_online.py [--d 1000 10000 30000] [--seeds 1 8] [--numbers 3e7] [--json out.json]

For each d and number of seeds, in the same run: hild's Committee.simulate as it is (input blocks sized to
the cache, seeds spread over the CPU cores) and as it was ('old': blocks of up to 1024 steps, seeds one after
another on one core), the JAX floor of drawing the inputs alone (same PRNG, same blocks, one core), and the
same online SGD as a plain NumPy per-step loop (seeds vectorised in each step, the nn2pp / statphys-ml way).
hild's runs alternate new, old, new, old ... (--reps each; medians). Timings exclude JAX compilation, which
is reported separately.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import os
import time

import jax
import numpy as np
from scipy.special import erf

from hild.core import devices
from hild.families.online import Committee, theory_batch

sgd = importlib.import_module("hild.families.online.simulate")
SPR = 1024
"""Steps between records: a multiple of every block length, and the old layout's full 1024-step block."""


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


@functools.lru_cache(maxsize=8)
def _draws(d: int, block: int, blocks: int):
    """A compiled loop drawing `blocks` input blocks (block, d) and label noise as Committee.simulate does."""
    def run(key):
        def one(b, acc):
            kx, kz = jax.random.split(jax.random.fold_in(key, b))
            X = jax.random.normal(kx, (block, d), "float32")
            return acc + X[-1] + jax.random.normal(kz, (block,), "float32").sum()
        return jax.lax.fori_loop(0, blocks, one, jax.numpy.zeros(d, "float32"))
    return jax.jit(run)


def jax_draws(d: int, seeds: int, steps: int) -> float:
    """Seconds to draw the inputs of `steps` steps for `seeds` seeds, one seed after another, with hild's PRNG
    and block length (the floor of online SGD on one core)."""
    block = sgd.block_size(SPR, sgd.block_limit(d, 2, 2, 4))
    run = _draws(d, block, steps // block)
    impl = sgd.prng_impl(jax.default_backend())
    run(jax.random.key(0, impl=impl)).block_until_ready()
    start = time.perf_counter()
    for s in range(seeds):
        run(jax.random.key(s + 1, impl=impl)).block_until_ready()
    return time.perf_counter() - start


@contextlib.contextmanager
def layout(cache_budget: int, one_core: bool):
    """Committee.simulate with another cache budget for its input blocks, and its seeds on one core if `one_core`."""
    budget, seed_layout = sgd.CACHE_BUDGET, sgd.seed_layout
    sgd.CACHE_BUDGET = cache_budget
    if one_core:
        sgd.seed_layout = lambda seeds: (1, 1)
    try:
        yield
    finally:
        sgd.CACHE_BUDGET, sgd.seed_layout = budget, seed_layout


def hild_sgd(d: int, seeds: int, records: int, reps: int) -> dict:
    """Seconds (median of `reps`) and first-call seconds of Committee.simulate, alternating: as it is ('new'), with
    the seeds on one core ('one_core', for several seeds), and as before issue 13 ('old': blocks of up to 1024
    steps, the seeds one at a time on one core)."""
    scenario = Committee(K=2, M=2, lr=0.5)
    layouts = {"new": functools.partial(layout, sgd.CACHE_BUDGET, False),
               "old": functools.partial(layout, 1 << 62, True)}
    if seeds > 1:
        layouts["one_core"] = functools.partial(layout, sgd.CACHE_BUDGET, True)
    times = {name: [] for name in layouts}
    for rep in range(reps + 1):
        for name, use in layouts.items():
            with use():
                start = time.perf_counter()
                scenario.simulate(d=d, seeds=seeds, t_max=SPR * records / d, n_points=records + 1, seed=100 * rep)
                times[name].append(time.perf_counter() - start)
    return ({name: float(np.median(t[1:])) for name, t in times.items()}
            | {f"{name}_first_call_s": t[0] for name, t in times.items()})


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
    parser.add_argument("--d", type=int, nargs="+", default=[1000, 10_000, 30_000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--numbers", type=float, default=3e7, help="inputs drawn per seed and run: d x steps")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--numpy-numbers", type=float, default=2e7, help="drawn numbers of the NumPy loop")
    parser.add_argument("--no-ode", action="store_true")
    parser.add_argument("--json", type=str, default=None)
    args = parser.parse_args()
    devices.use_cpu_cores()
    report = {"device": str(jax.devices()[0]), "devices": len(jax.devices()), "load": os.getloadavg()[0],
              "sgd": {}, "ode": {}}
    print(f"{report['device']} ({report['devices']} devices), load {report['load']:.1f}, K = M = 2, erf")
    for d in args.d:
        for seeds in args.seeds:
            records = max(1, round(args.numbers / d / SPR))
            steps = SPR * records
            t = hild_sgd(d, seeds, records, args.reps)
            t_draw = jax_draws(d, seeds, steps)
            np_steps = max(100, int(args.numpy_numbers / d / seeds))
            t_np = numpy_sgd(d, seeds, np_steps)
            rate = {"hild": steps * seeds / t["new"], "hild_old": steps * seeds / t["old"],
                    "jax_draw_only": steps * seeds / t_draw, "numpy_loop": np_steps * seeds / t_np}
            row = {f"{k}_seed_steps_per_s": v for k, v in rate.items()} | {
                "speedup_vs_old": rate["hild"] / rate["hild_old"], "speedup_vs_numpy_loop": rate["hild"] / rate["numpy_loop"],
                "slowdown_vs_draw_floor": rate["jax_draw_only"] / rate["hild"],
                "cost_vs_one_core": t["new"] / t.get("one_core", t["new"]),
                "block": sgd.block_size(SPR, sgd.block_limit(d, 2, 2, 4)), "cores": sgd.seed_layout(seeds)[0],
                "first_call_s": t["new_first_call_s"], "load": os.getloadavg()[0]}
            report["sgd"][f"d={d},seeds={seeds}"] = row
            print(f"SGD d={d}, {seeds} seed(s): hild {rate['hild']:,.0f} seed-steps/s (block {row['block']}, "
                  f"{row['cores']} core(s)) = {row['speedup_vs_old']:.2f}x old ({rate['hild_old']:,.0f}), "
                  f"{row['cost_vs_one_core']:.2f}x the time on one core | "
                  f"{row['slowdown_vs_draw_floor']:.2f}x the JAX draw floor ({rate['jax_draw_only']:,.0f}, one core) | "
                  f"{row['speedup_vs_numpy_loop']:.1f}x NumPy loop ({rate['numpy_loop']:,.0f}) | "
                  f"first call {row['first_call_s']:.1f} s | load {row['load']:.1f}", flush=True)
    for batch in () if args.no_ode else (1, 256):
        t, first = ode(batch)
        report["ode"][batch] = {"seconds": t, "first_call_s": first}
        print(f"ODE to t = 300, {batch} scenario(s): {t:.2f} s ({first:.1f} s with compilation)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
