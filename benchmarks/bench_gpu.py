"""The accelerator benchmark: committee SGD over d and seeds, the 256-scenario ODE batch, a 10^4-point theory sweep.

    python benchmarks/bench_gpu.py [--budget 420] [--json out.json]      # on the GPU machine
    python benchmarks/bench_gpu.py --quick                                # a CPU smoke run, seconds

One prepared script for a machine that is lent for minutes: every row reports its warm time
(a second call of the same shapes, so compilation is excluded) and its first-call time apart, and
a row whose time, extrapolated from the rows before it, would not fit in what is left of
`--budget` seconds is recorded as skipped with the estimate instead of being run. The same script
run on the CPU gives the reference column: speed-ups are ratios of the two JSON files
(`--against cpu.json`).

Rows: online SGD of the K = M = 2 erf committee (lr 0.5) at d = 10^3, 10^4, 10^5 with 1 to 256
seeds (throughput in seed-steps per second); the ODEs of 256 learning rates to t = 300 in one
call (hild.online.theory_batch); the theory sweep of a 100 x 100 (lr, noise) grid to t = 100 in
batches of 256 and of 4096 scenarios (hild.sweep.theory_sweep).
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from hild.families.online import Committee, theory_batch
from hild.sweep import Axis, Grid, theory_sweep

FULL = {"d": (1_000, 10_000, 100_000), "seeds": (1, 8, 64, 256), "steps": 20_000,
        "ode_batch": 256, "ode_t_max": 300.0, "sweep_side": 100, "sweep_t_max": 100.0, "chunks": (256, 4096)}
QUICK = {"d": (32,), "seeds": (1, 2), "steps": 256,
         "ode_batch": 4, "ode_t_max": 10.0, "sweep_side": 2, "sweep_t_max": 10.0, "chunks": (2, 4)}


class Budget:
    """Seconds left of the run's budget, and whether a row of an estimated cost still fits."""

    def __init__(self, seconds: float):
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        return self.end - time.perf_counter()

    def fits(self, estimate: float | None) -> bool:
        return estimate is None or estimate < self.left()


def timed(call) -> tuple[float, float]:
    """(warm seconds, first-call seconds): `call(0)` compiles and runs, `call(1)` runs the same shapes again."""
    start = time.perf_counter()
    call(0)
    first = time.perf_counter() - start
    start = time.perf_counter()
    call(1)
    return time.perf_counter() - start, first


def sgd_rows(sizes: dict, budget: Budget) -> list[dict]:
    """Online SGD, K = M = 2 erf, lr 0.5: seed-steps per second at each (d, seeds)."""
    scenario, rows, cost = Committee(K=2, M=2, lr=0.5), [], None  # cost: seconds per seed-step x d, so far
    for d in sizes["d"]:
        for seeds in sizes["seeds"]:
            work = sizes["steps"] * seeds * d
            estimate = None if cost is None else 3 * cost * work  # warm run, first call and compilation
            row = {"d": d, "seeds": seeds, "steps": sizes["steps"]}
            if not budget.fits(estimate):
                rows.append({**row, "skipped": f"estimated {estimate:.0f} s, {budget.left():.0f} s left"})
                continue
            warm, first = timed(lambda i: scenario.simulate(d=d, seeds=seeds, t_max=sizes["steps"] / d,
                                                            n_points=11, seed=1000 * i))
            cost = max(cost or 0.0, warm / work)
            rows.append({**row, "warm_s": warm, "first_call_s": first,
                         "seed_steps_per_s": sizes["steps"] * seeds / warm})
            print(f"SGD d={d:>6} seeds={seeds:>3}: {rows[-1]['seed_steps_per_s']:12,.0f} seed-steps/s "
                  f"(warm {warm:.2f} s, first call {first:.1f} s)", flush=True)
    return rows


def ode_row(sizes: dict) -> dict:
    """The committee ODEs of `ode_batch` learning rates in [0.05, 1] in one compiled call."""
    batch, t_max = sizes["ode_batch"], sizes["ode_t_max"]

    def call(i):
        scenarios = [Committee(K=2, M=2, lr=lr * (1 + 0.01 * i)) for lr in np.geomspace(0.05, 1.0, batch)]
        theory_batch(scenarios, t_max=t_max, n_points=101)

    warm, first = timed(call)
    print(f"ODE batch of {batch} to t={t_max:g}: {warm:.2f} s warm, {first:.1f} s first call", flush=True)
    return {"scenarios": batch, "t_max": t_max, "warm_s": warm, "first_call_s": first}


def sweep_rows(sizes: dict, budget: Budget, ode: dict) -> list[dict]:
    """The theory sweep of a side x side (lr, noise) grid, in batches of each chunk size."""
    side, t_max, rows = sizes["sweep_side"], sizes["sweep_t_max"], []
    per_point = ode["warm_s"] / ode["scenarios"] * t_max / ode["t_max"]
    for chunk in sizes["chunks"]:
        estimate = 2 * per_point * side * side + 2 * ode["first_call_s"]
        row = {"points": side * side, "chunk": chunk, "t_max": t_max}
        if not budget.fits(estimate):
            rows.append({**row, "skipped": f"estimated {estimate:.0f} s, {budget.left():.0f} s left"})
            continue

        def call(i):
            grid = Grid("committee", (Axis("lr", tuple(np.linspace(0.1, 1.0, side) * (1 + 0.01 * i))),
                                      Axis("noise", tuple(np.linspace(0.0, 0.5, side)))), fixed={"K": 2, "M": 2})
            theory_sweep(grid, chunk=chunk, t_max=t_max, n_points=101)

        warm, first = timed(call)
        per_point = warm / (side * side)
        rows.append({**row, "warm_s": warm, "first_call_s": first, "points_per_s": side * side / warm})
        print(f"theory sweep {side}x{side}, chunk {chunk}: {warm:.1f} s warm ({rows[-1]['points_per_s']:.0f} "
              f"points/s), {first:.1f} s first call", flush=True)
    return rows


def speedups(report: dict, reference: dict) -> dict:
    """Warm-time ratios reference / report for every row both ran."""
    def key(row):
        return tuple((k, row[k]) for k in ("d", "seeds", "scenarios", "chunk", "points") if k in row)

    ref = {key(r): r for r in reference["sgd"] + [reference["ode"]] + reference["sweep"] if "warm_s" in r}
    out = []
    for row in report["sgd"] + [report["ode"]] + report["sweep"]:
        if "warm_s" in row and key(row) in ref:
            out.append({**dict(key(row)), "speedup": ref[key(row)]["warm_s"] / row["warm_s"]})
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of the script on a CPU")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds; rows that would not fit are skipped")
    parser.add_argument("--json", type=str, default=None, help="write the report here")
    parser.add_argument("--against", type=str, default=None, help="a report of the same script on another machine")
    args = parser.parse_args(argv)
    import jax

    sizes, budget = (QUICK if args.quick else FULL), Budget(args.budget)
    device = jax.devices()[0]
    report = {"device": f"{device.platform}: {device.device_kind}", "jax": jax.__version__,
              "host": platform.processor() or platform.machine(), "sizes": "quick" if args.quick else "full"}
    print(f"device {report['device']}, jax {report['jax']}, budget {args.budget:.0f} s", flush=True)
    report["sgd"] = sgd_rows(sizes, budget)
    report["ode"] = ode_row(sizes)
    report["sweep"] = sweep_rows(sizes, budget, report["ode"])
    if args.against:
        report["speedup_over"] = {"reference": args.against,
                                  "rows": speedups(report, json.loads(Path(args.against).read_text()))}
        for row in report["speedup_over"]["rows"]:
            print(f"speed-up over {args.against}: {row}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
