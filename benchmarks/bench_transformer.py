"""Speed of the transformer pretraining of icl.transformer (hild.families.icl.transformer), as a ratio in one run.

    python benchmarks/bench_transformer.py [--pools 4] [--steps 100] [--width 32] [--json out.json]

Pretraining `--pools` pool sizes M = 4^j in ONE compiled call (vmap over the runs, lax.scan over the steps)
against a Python loop over M, one call per M (each its own compilation: the pool's shape differs; d = 8, K = 16,
2 layers, batch 64): the warm time of each, compilation reported separately (first call minus warm), and the
pretraining steps per second of either.
"""
from __future__ import annotations

import argparse

from timing import publish, timed  # benchmarks/timing.py (the scripts' folder is on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pools", type=int, default=4)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from hild.families.icl.transformer import Architecture, train

    arch = Architecture(d=8, K=16, layers=2, width=args.width, heads=2)
    Ms = [4 ** j for j in range(args.pools)]
    options = dict(steps=args.steps, batch=64, lr=1e-3, sequences=256)
    v_first, v_warm, _ = timed(lambda: train(arch, 0.5, Ms, [0], **options), repeats=1)
    loop = lambda: [train(arch, 0.5, [m], [0], **options) for m in Ms]  # noqa: E731
    l_first, l_warm, _ = timed(loop, repeats=1)
    steps = args.steps * len(Ms)
    publish({"pools": len(Ms), "steps": args.steps, "width": args.width,
             "vmapped_warm_s": v_warm, "vmapped_compile_s": v_first - v_warm,
             "loop_warm_s": l_warm, "loop_first_s": l_first,
             "vmapped_steps_per_s": steps / v_warm, "loop_steps_per_s": steps / l_warm,
             "loop_over_vmapped_warm": l_warm / v_warm, "loop_over_vmapped_first": l_first / v_first}, args.json)


if __name__ == "__main__":
    main()
