"""Speed of the local-field engine (hild.families.online: rule, moments, drift, field_sim), as ratios in one run.

    python benchmarks/bench_engine.py [--batch 256] [--d 1000] [--json out.json]

1. The committee ODE (K = M = 2, erf, lr 0.5, t = 300 from the claims' weakly specialised start) from
   the automatic path (cubature of the rule, `expectations='cubature'`) against the closed forms
   (hild.families.online.ode), both compiled, warm; and the largest difference of eg.
2. A theory batch: `--batch` learning rates of one rule (the logistic perceptron of OnlineRule.example)
   in one compiled call, against one run of the same rule: the cost per point.
3. Simulation: the committee's SGD (K = M = 2, d = `--d`, 4 seeds, t = 20) run through the engine's
   generic simulation of its rule (`committee_rule`) against the committee's own simulation, in
   SGD steps per second (warm).
Compilation is reported separately: first call minus a second call.
"""
from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from timing import publish, timed  # benchmarks/timing.py (the scripts' folder is on sys.path)


def committee_ode() -> dict:
    from hild.families.online import Committee
    from hild.families.online.claims import NEAR_PLATEAU

    scenario = Committee(K=2, M=2, activation="erf", lr=0.5)
    run = lambda how: scenario.theory(t_max=300, n_points=151, init=NEAR_PLATEAU, expectations=how)  # noqa: E731
    c_first, c_warm, closed = timed(lambda: run("closed"))
    a_first, a_warm, auto = timed(lambda: run("cubature"))
    return {"closed_warm_s": c_warm, "closed_compile_s": c_first - c_warm,
            "automatic_warm_s": a_warm, "automatic_compile_s": a_first - a_warm,
            "automatic_over_closed": a_warm / c_warm,
            "max_abs_eg_difference": float(np.abs(auto.eg - closed.eg).max()),
            "max_abs_Q_difference": float(np.abs(auto.Q - closed.Q).max())}


def theory_batch(n: int) -> dict:
    from hild.families.online.custom import OnlineRule

    example = OnlineRule.example()
    scenarios = [dataclasses.replace(example, lr=float(lr)) for lr in np.linspace(0.2, 2.0, n)]
    one_first, one_warm, _ = timed(lambda: example.theory(t_max=20, n_points=41))
    b_first, b_warm, batch = timed(lambda: OnlineRule.theory_batch(scenarios, t_max=20, n_points=41), repeats=1)
    return {"points": n, "single_warm_s": one_warm, "batch_warm_s": b_warm, "batch_compile_s": b_first - b_warm,
            "per_point_s": b_warm / n, "batch_over_single_runs": b_warm / (n * one_warm),
            "finite": bool(np.isfinite(batch.R).all())}


def simulation(d: int) -> dict:
    from hild.families.online import Committee, field_sim
    from hild.families.online.inputs import Inputs

    scenario = Committee(K=2, M=2, activation="erf", lr=0.5)
    t_max, seeds = 20.0, 4
    start = {"Q": 0.05 * np.eye(2)[None], "S": np.zeros((1, 2, 2)), "theta": np.ones(2)}
    p = {"lr": 0.5, "lr_v": 0.0, "noise": 0.0, "v_teacher": np.ones(2), "mask": np.ones(2), "decay": 0.0,
         "inputs": Inputs.isotropic(np.eye(2)).arrays(), "blowup": 1e4}
    engine = lambda: field_sim.run(scenario.rule(), start, p, d, seeds, 0, t_max, 21)  # noqa: E731
    own = lambda: scenario.simulate(d=d, seeds=seeds, t_max=t_max, n_points=21, init={"Q": 0.05 * np.eye(2),  # noqa: E731
                                                                                        "R": np.zeros((2, 2))})
    e_first, e_warm, _ = timed(engine)
    o_first, o_warm, _ = timed(own)
    steps = seeds * d * t_max
    return {"d": d, "seeds": seeds, "engine_steps_per_s": steps / e_warm, "committee_steps_per_s": steps / o_warm,
            "engine_over_committee_time": e_warm / o_warm, "engine_compile_s": e_first - e_warm,
            "committee_compile_s": o_first - o_warm}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--d", type=int, default=1000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    import os
    report = {"cores": os.cpu_count(), "committee_ode": committee_ode(), "theory_batch": theory_batch(args.batch),
              "simulation": simulation(args.d)}
    return publish(report, args.json)


if __name__ == "__main__":
    main()
