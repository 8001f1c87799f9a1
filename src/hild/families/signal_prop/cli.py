"""`hild phase signal_prop`: the signal-propagation phase diagrams (theory over a grid, simulated points on top).

`hild run signal_prop` is the generic command of the scenario (hild.cli.run); this module adds only the phase
command, which does more than a theory sweep: it classifies phases, simulates a subgrid and measures exponents
there, and draws the phase map.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import typer

phase = typer.Typer(add_completion=False)


def _values(name: str, text: str):
    """A grid axis in the one syntax START:STOP:N[:log] (hild.core.values; the earlier 'log:START:STOP:N' too),
    at least two increasing values >= 0."""
    import numpy as np

    from hild.core.values import parse_values

    if text.startswith("log:"):
        text = text[4:] + ":log"
    values = np.asarray(parse_values(name, text), dtype=float)
    if len(values) < 2 or not np.all(np.diff(values) > 0) or values[0] < 0:
        raise ValueError(f"{name} must be at least two increasing values >= 0 (START:STOP:N[:log]); got {text!r}")
    return values


@phase.command("signal_prop")
def phase_signal_prop(
    diagram: str = typer.Option("rank_entropy", help="rank_entropy (beta x alpha_A) or order_chaos (two of "
                                                     "alpha_A, alpha_M, sigma_w2, sigma_v2)."),
    x: str = typer.Option("sigma_w2", help="order_chaos: the x axis."),
    y: str = typer.Option("alpha_M", help="order_chaos: the y axis."),
    x_range: str = typer.Option("0.1:5:30", "--x-range", help="x values START:STOP:N[:log] (rank_entropy: beta)."),
    y_range: str = typer.Option("0.1:10:30:log", "--y-range", help="y values (rank_entropy: alpha_A)."),
    T: int = typer.Option(64, "--T", help="Tokens (>= 2)."),
    d: int = typer.Option(128, help="Width of the simulated points (>= 2)."),
    L: int = typer.Option(12, "--L", help="Blocks (>= 1)."),
    beta: float = typer.Option(0.5, help="Query-key variance (order_chaos)."),
    sigma_v2: float = typer.Option(0.2, "--sigma-v2", help="Value weight variance (>= 0)."),
    sigma_w2: float = typer.Option(0.2, "--sigma-w2", help="MLP weight variance (>= 0)."),
    sigma_b2: float = typer.Option(4e-4, "--sigma-b2", help="Bias variance (>= 0)."),
    alpha_a: float = typer.Option(1.0, "--alpha-A", help="Attention residual strength (>= 0)."),
    alpha_m: float = typer.Option(1.0, "--alpha-M", help="MLP residual strength (>= 0)."),
    mlp: str = typer.Option("relu", help="relu, tanh, gelu or none."),
    p0: float = typer.Option(0.2, "--p0", help="Input token cosine, in [0, 1)."),
    sim_points: int = typer.Option(0, "--sim-points", help="Simulate a k x k subgrid (0: theory only)."),
    seeds: int = typer.Option(2, help="Seeds per simulated point."),
    out: Path = typer.Option(..., help="Output directory (must not exist unless --overwrite)."),
    overwrite: bool = typer.Option(False, help="Replace hild's files in an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Signal-propagation phase diagram: writes phase.nc (and simulation.nc), figure.png and summary.json into --out."""
    import numpy as np

    from hild.cli import fail, out_console
    from hild.core import validation as check
    from hild.families.signal_prop import RandomTransformer, phase as diagrams
    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save

    try:
        if diagram not in ("rank_entropy", "order_chaos"):
            raise ValueError(f"diagram must be 'rank_entropy' or 'order_chaos'; got {diagram!r}")
        scenario = RandomTransformer(T=T, d=d, L=L, beta=beta, sigma_v2=sigma_v2, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                                     alpha_A=alpha_a, alpha_M=alpha_m, mlp=mlp, p0=p0)
        xs, ys = _values("x-range", x_range), _values("y-range", y_range)
        check.integer("sim_points", sim_points, 0)
        check.integer("seeds", seeds, 1)
        if sim_points:
            scenario.check_simulation(d=d, seeds=seeds)
        start = time.perf_counter()
        if diagram == "rank_entropy":
            th = diagrams.rank_entropy(scenario, xs, ys)
        else:
            th = diagrams.order_chaos(scenario, x, xs, y, ys)
        seconds = time.perf_counter() - start
        out_dir = output_directory(out, overwrite)
    except ValueError as e:
        fail(str(e))
    summary = {"model": "signal_prop", "diagram": diagram, "params": scenario.params,
               "timings_s": {"theory": round(seconds, 3)}, "grid": [int(n) for n in th.sizes.values()]}
    sim = None
    if sim_points:
        start = time.perf_counter()
        px, py = diagrams.subgrid(xs, sim_points), diagrams.subgrid(ys, sim_points)
        if diagram == "rank_entropy":
            sim = diagrams.rank_entropy_points(scenario, px, py, seeds=seeds, d=d)
            agree = sim.phase == th.phase.sel(beta=sim.beta, alpha_A=sim.alpha_A)
            summary["agreement"] = {"phase_fraction": float(agree.mean())}
        else:
            sim = diagrams.order_chaos_points(scenario, x, px, y, py, seeds=seeds, d=d)
            at = th.sel({x: sim[x], y: sim[y]})
            summary["agreement"] = {"lambda_a_sign_fraction": float((np.sign(sim.lambda_a) == np.sign(at.lambda_a)).mean()),
                                    "lambda_a_max_abs": float(np.abs(sim.lambda_a - at.lambda_a).max()),
                                    "lambda_g_max_abs": float(np.abs(sim.lambda_g - at.lambda_g).max())}
        summary["timings_s"]["simulation"] = round(time.perf_counter() - start, 3)
        write_netcdf(out_dir / "simulation.nc", sim)
    write_netcdf(out_dir / "phase.nc", th)
    save(diagrams.figure(th, sim), out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        out_console.print(f"theory grid {' x '.join(map(str, summary['grid']))} in {seconds:.2f} s")
        for name, value in summary.get("agreement", {}).items():
            out_console.print(f"simulated points vs theory, {name.replace('_', ' ')}: {value:.3g}")
        out_console.print(f"wrote {out_dir}/ ({' '.join(sorted(p.name for p in out_dir.iterdir()))})")
