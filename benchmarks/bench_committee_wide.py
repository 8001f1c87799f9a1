"""Speed of the committee-machine ODEs at large K, as ratios measured in one run.

    python benchmarks/bench_committee_wide.py [--K 2 4 8 16 32 64] [--runs 16 32] [--symmetric 1000] [--json out.json]

The reference, written here in plain vectorised NumPy, is one Euler step of the erf committee ODE as
nn2pp's C++ integrator takes it (one right-hand-side evaluation per step, every index tuple of
I3 (K, K+M, K+M) and I4 (K, K, K+M, K+M)). hild's cost per evaluation is measured the same way:
Euler steps of `vector_field` in one compiled jax.lax.fori_loop. Whole runs integrate
Committee(K, M, lr=0.5) to t = 300 with the adaptive solver, each in a fresh process so that its
peak RSS is its own; compilation is reported separately (first call minus a second, compiled call).
The symmetric runs integrate the five reduced ODEs of the symmetric manifold (Committee.theory(reduced=True)).
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from hild.core.gaussian import activation
from hild.families.online import Committee
from hild.families.online.ode import vector_field


def numpy_euler_step(Q, R, T, v, vt, lr, dt):
    """One Euler step of the erf committee ODE (Saad & Solla 1995; lr_v = 0, no noise), every index tuple."""
    K = len(v)
    C = np.block([[Q, R], [R.T, T]])
    w = np.concatenate([-v, vt])
    dC = 1.0 + np.diag(C)
    a = np.arange(K)
    # I3(i, b, c) = (2/pi) [C_bc (1 + C_ii) - C_ib C_ic] / [(1 + C_ii) sqrt((1 + C_ii)(1 + C_cc) - C_ic^2)]
    ii, ib, ic = dC[a][:, None, None], C[a][:, :, None], C[a][:, None, :]
    i3 = 2 / np.pi * (C[None] * ii - ib * ic) / (ii * np.sqrt(ii * dC[None, None, :] - ic ** 2))
    drive = i3 @ w
    # I4(i, k, c, d), arXiv 1906.08632 eq. (B.8)
    one_a, one_b = dC[a][:, None, None, None], dC[a][None, :, None, None]
    ab = Q[:, :, None, None]
    ac, ad = C[a][:, None, :, None], C[a][:, None, None, :]
    bc, bd = C[a][None, :, :, None], C[a][None, :, None, :]
    lam4 = one_a * one_b - ab ** 2
    lam0 = lam4 * C[None, None] - bc * bd * one_a - ac * ad * one_b + ab * ac * bd + ab * ad * bc
    lam1 = lam4 * dC[None, None, :, None] - bc ** 2 * one_a - ac ** 2 * one_b + 2 * ab * ac * bc
    lam2 = lam4 * dC[None, None, None, :] - bd ** 2 * one_a - ad ** 2 * one_b + 2 * ab * ad * bd
    i4 = 4 / np.pi ** 2 * np.arcsin(np.clip(lam0 / np.sqrt(lam1 * lam2), -1, 1)) / np.sqrt(lam4)
    second = np.einsum("ikcd,c,d->ik", i4, w, w)
    lin = lr * v[:, None] * drive[:, :K]
    dQ = lin + lin.T + lr ** 2 * np.outer(v, v) * second
    dR = lr * v[:, None] * drive[:, K:]
    return Q + dt * dQ, R + dt * dR


def start(K: int, M: int, seed: int = 0) -> dict:
    """A generic start: small random student weights correlated with the teacher (no symmetry)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K + M, 4 * (K + M))) / math.sqrt(4 * (K + M))
    W[:K] *= 0.3
    C = W @ W.T
    C[K:, K:] = np.eye(M)
    return {"Q": C[:K, :K], "R": C[:K, K:], "T": np.eye(M), "v": np.ones(K), "v_teacher": np.ones(M)}


def numpy_seconds_per_eval(K: int, M: int, budget: float = 2.0) -> float:
    """Median seconds of one NumPy Euler step (repeated for about `budget` seconds)."""
    o = start(K, M)
    Q, R = o["Q"], o["R"]
    times = []
    while sum(times) < budget or len(times) < 3:
        t0 = time.perf_counter()
        Q, R = numpy_euler_step(Q, R, o["T"], o["v"], o["v_teacher"], 0.5, 1e-3)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def hild_euler(K: int, M: int, steps: int):
    """A compiled function running `steps` Euler steps of hild's erf vector field from `start`."""
    act = activation("erf")
    o = start(K, M)
    p = {"lr": 0.5, "lr_v": 0.0, "noise": 0.0, "weight_decay": 0.0, "T": jnp.asarray(o["T"]),
         "v_teacher": jnp.asarray(o["v_teacher"]), "mask": jnp.ones(K)}
    y0 = {"Q": jnp.asarray(o["Q"]), "R": jnp.asarray(o["R"]), "v": jnp.asarray(o["v"])}

    @jax.jit
    def run(y):
        step = lambda _, y: jax.tree.map(lambda a, b: a + 1e-3 * b, y, vector_field(act, y, p))  # noqa: E731
        return jax.lax.fori_loop(0, steps, step, y)

    return run, y0


def hild_seconds_per_eval(K: int, M: int, budget: float = 2.0) -> tuple[float, float]:
    """(median seconds per evaluation, compile seconds) of hild's vector field, in Euler steps."""
    with jax.enable_x64(True):
        probe, y0 = hild_euler(K, M, 1)
        t0 = time.perf_counter()
        jax.block_until_ready(probe(y0))
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        jax.block_until_ready(probe(y0))
        once = max(time.perf_counter() - t0, 1e-6)
        steps = int(min(max(budget / 5 / once, 1), 10_000))
        run, y0 = hild_euler(K, M, steps)
        jax.block_until_ready(run(y0))
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            jax.block_until_ready(run(y0))
            times.append((time.perf_counter() - t0) / steps)
    return float(np.median(times)), compile_s


def whole_run(K: int, M: int, t_max: float) -> dict:
    """Committee(K, M, lr=0.5) to t_max from `start`: seconds, compile seconds and peak RSS of this process."""
    inits = start(K, M)
    t0 = time.perf_counter()
    Committee(K=K, M=M, lr=0.5).theory(t_max=t_max, n_points=31, init=inits)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    th = Committee(K=K, M=M, lr=0.5 * 1.01).theory(t_max=t_max, n_points=31, init=inits)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "compile_s": first - seconds, "eg_end": float(th.eg[-1]),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def symmetric_run(K: int, M: int, t_max: float) -> dict:
    """The reduced ODEs of the symmetric manifold for K = p M students to t_max: seconds and compile seconds."""
    from hild.families.online.theory import symmetric_theory

    init = {"Q": 0.01, "C1": 1e-4, "C2": 1e-4, "R": 2e-3, "S": 1e-3}
    t0 = time.perf_counter()
    symmetric_theory(Committee(K=K, M=M, lr=0.5 / K), t_max=t_max, n_points=31, init=init, expand=False)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    th = symmetric_theory(Committee(K=K, M=M, lr=0.5 / K * 1.01), t_max=t_max, n_points=31, init=init, expand=False)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "compile_s": first - seconds, "eg_end": float(th.eg[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    parser.add_argument("--M", type=int, default=2)
    parser.add_argument("--runs", type=int, nargs="*", default=[16, 32], help="K of the whole runs to t = 300")
    parser.add_argument("--symmetric", type=int, nargs="*", default=[1000], help="K of the reduced (symmetric) runs")
    parser.add_argument("--t-max", type=float, default=300.0)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of timing per K and implementation")
    parser.add_argument("--one-run", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=str, default=None)
    args = parser.parse_args()
    if args.one_run is not None:
        print(json.dumps(whole_run(args.one_run, args.M, args.t_max)))
        return
    report = {"device": str(jax.devices()[0]), "M": args.M, "per_eval": {}, "runs": {}}
    print(f"device: {report['device']}, erf, M = {args.M}")
    for K in args.K:
        hild_s, compile_s = hild_seconds_per_eval(K, args.M, args.budget)
        numpy_s = numpy_seconds_per_eval(K, args.M, args.budget)
        report["per_eval"][K] = {"hild_s": hild_s, "numpy_euler_s": numpy_s, "speedup": numpy_s / hild_s,
                                 "compile_s": compile_s}
        print(f"K = {K:3d}: one evaluation {hild_s * 1e3:9.3f} ms | NumPy Euler step {numpy_s * 1e3:9.3f} ms "
              f"({numpy_s / hild_s:.1f}x) | compile {compile_s:.1f} s", flush=True)
    for K in args.runs:
        out = subprocess.run([sys.executable, __file__, "--one-run", str(K), "--M", str(args.M),
                              "--t-max", str(args.t_max)], capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.splitlines()[-1])
        report["runs"][K] = row
        print(f"K = {K:3d} to t = {args.t_max:g}: {row['seconds']:.1f} s (+ {row['compile_s']:.1f} s compile), "
              f"peak RSS {row['peak_rss_mb']:.0f} MB, eg(t_max) = {row['eg_end']:.3g}", flush=True)
    report["symmetric"] = {}
    for K in args.symmetric:
        row = symmetric_run(K, args.M, args.t_max)
        report["symmetric"][K] = row
        print(f"K = {K} on the symmetric manifold to t = {args.t_max:g} (lr = 0.5 / K): {row['seconds'] * 1e3:.1f} ms "
              f"(+ {row['compile_s']:.1f} s compile), eg(t_max) = {row['eg_end']:.3g}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
