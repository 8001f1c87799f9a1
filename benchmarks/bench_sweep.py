"""Throughput of simulation sweeps through the executors, and the per-task overhead of Dask.

    python benchmarks/bench_sweep.py [--points 8] [--d 500] [--t-max 400] [--json out.json]

Scaling: the same sweep (committee K = M = 2, one lr per point, one seed) in process, on a Dask
LocalCluster of 1 worker and of 2 workers; each worker first runs a warm-up sweep of the same
shapes, so the timings exclude JAX compilation and cluster start-up, which are reported apart.
Overhead: a sweep of tiny tasks (a few SGD steps each) in process and through Dask; the
difference per task is what Dask adds (scheduling, transfer, the driver's store write is in both).
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from hild.sweep.executors import Dask, InProcess
from hild.sweep import Axis, Grid, Sizes, run_sweep


def grid(points: int, offset: float = 0.0) -> Grid:
    return Grid("committee", (Axis("lr", tuple(np.linspace(0.1, 0.9, points) + offset)),), fixed={"K": 2, "M": 2})


def timed_sweep(executor, points: int, d: int, t_max: float, folder: Path) -> float:
    """Seconds of a warm sweep: a warm-up sweep of the same shapes first (other lrs, its own store)."""
    sizes = Sizes(d=(d,), seeds=1)
    run_sweep(grid(points, 0.01), folder / f"warm-{uuid.uuid4().hex}", t_max=t_max, n_points=11, sizes=sizes,
              theory=False, executor=executor)
    start = time.perf_counter()
    report = run_sweep(grid(points), folder / f"run-{uuid.uuid4().hex}", t_max=t_max, n_points=11, sizes=sizes,
                       theory=False, executor=executor)
    assert report.computed == points and not report.failed
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--d", type=int, default=500)
    parser.add_argument("--t-max", type=float, default=400.0)
    parser.add_argument("--tiny", type=int, default=64, help="tasks of the overhead measurement")
    parser.add_argument("--json", type=str, default=None)
    args = parser.parse_args()
    from distributed import LocalCluster

    results = {"points": args.points, "d": args.d, "t_max": args.t_max, "steps_per_point": int(args.d * args.t_max)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results["in_process_s"] = timed_sweep(InProcess(), args.points, args.d, args.t_max, folder)
        for workers in (1, 2):
            start = time.perf_counter()
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=logging.ERROR) as cluster:
                results[f"cluster_start_{workers}_s"] = time.perf_counter() - start
                executor = Dask(address=cluster.scheduler_address)
                results[f"dask_{workers}_workers_s"] = timed_sweep(executor, args.points, args.d, args.t_max, folder)
                if workers == 1:
                    tiny_dask = timed_sweep(executor, args.tiny, 64, 0.5, folder)
        tiny_local = timed_sweep(InProcess(), args.tiny, 64, 0.5, folder)
    results["scaling_2_over_1"] = results["dask_1_workers_s"] / results["dask_2_workers_s"]
    results["in_process_over_dask_1"] = results["in_process_s"] / results["dask_1_workers_s"]
    results["tiny_task_in_process_ms"] = 1e3 * tiny_local / args.tiny
    results["tiny_task_dask_ms"] = 1e3 * tiny_dask / args.tiny
    results["dask_overhead_per_task_ms"] = results["tiny_task_dask_ms"] - results["tiny_task_in_process_ms"]

    steps = args.points * results["steps_per_point"]
    print(f"sweep of {args.points} points, d = {args.d}, {results['steps_per_point']} SGD steps each (warm)")
    for name, key in (("in process", "in_process_s"), ("Dask, 1 worker", "dask_1_workers_s"),
                      ("Dask, 2 workers", "dask_2_workers_s")):
        print(f"  {name:16s} {results[key]:7.2f} s   {steps / results[key] / 1e3:8.1f} k steps/s")
    print(f"  scaling 2 workers / 1 worker: {results['scaling_2_over_1']:.2f}x; "
          f"cluster start {results['cluster_start_1_s']:.1f} s (1 worker), {results['cluster_start_2_s']:.1f} s (2)")
    print(f"tiny tasks ({args.tiny}): {results['tiny_task_in_process_ms']:.1f} ms in process, "
          f"{results['tiny_task_dask_ms']:.1f} ms through Dask: overhead {results['dask_overhead_per_task_ms']:.1f} "
          "ms per task")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
