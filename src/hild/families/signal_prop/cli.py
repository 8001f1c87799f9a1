"""`hild run signal_prop` and `hild phase signal_prop`: random transformers at initialisation."""
from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from hild.core import validation as check
from hild.cli import fail, out_console, phase_app, run_app


@run_app.command("signal_prop")
def run_signal_prop(
    T: int = typer.Option(128, "--T", help="Tokens (>= 2)."),
    d: int = typer.Option(256, help="Width (>= 2)."),
    L: int = typer.Option(30, "--L", help="Blocks (>= 1)."),
    heads: int = typer.Option(1, help="Attention heads (divides d)."),
    beta: float = typer.Option(0.5, help="Query-key variance: score sd beta sqrt((1 - c) ln T) (>= 0)."),
    sigma_v2: float = typer.Option(0.2, "--sigma-v2", help="Value weight variance x d (>= 0)."),
    sigma_w2: float = typer.Option(0.2, "--sigma-w2", help="MLP weight variance x fan-in (>= 0)."),
    sigma_b2: float = typer.Option(4e-4, "--sigma-b2", help="Bias variance (>= 0)."),
    alpha_a: float = typer.Option(1.0, "--alpha-A", help="Attention residual strength (>= 0)."),
    alpha_m: float = typer.Option(1.0, "--alpha-M", help="MLP residual strength (>= 0)."),
    mlp: str = typer.Option("relu", help="relu, tanh, gelu or none."),
    norm: str = typer.Option("post", help="post or pre (LayerNorm placement)."),
    p0: float = typer.Option(0.2, "--p0", help="Input token cosine, in [0, 1)."),
    rem: str = typer.Option("asymptotic", help="Attention theory: asymptotic (T -> infinity REM) or finite (finite-T REM)."),
    seeds: int = typer.Option(4, help="Number of simulated seeds."),
    seed: int = typer.Option(0, help="First integer seed."),
    out: Path = typer.Option(..., help="Output directory (must not exist unless --overwrite)."),
    simulate: bool = typer.Option(True, "--simulate/--no-simulate", help="Run the real random stack."),
    overwrite: bool = typer.Option(False, help="Replace hild's files in an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Random transformer at initialisation: writes theory.nc, simulation.nc, figure.png and summary.json into --out."""
    import numpy as np

    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save
    from hild.families.signal_prop import RandomTransformer
    from hild.families.signal_prop.figure import figure

    try:
        scenario = RandomTransformer(T=T, d=d, L=L, heads=heads, beta=beta, sigma_v2=sigma_v2, sigma_w2=sigma_w2,
                                     sigma_b2=sigma_b2, alpha_A=alpha_a, alpha_M=alpha_m, mlp=mlp, norm=norm, p0=p0)
        check.integer("seeds", seeds, 1)
        check.integer("seed", seed, 0)
        start = time.perf_counter()
        th = scenario.theory(rem)
        out_dir = output_directory(out, overwrite)
    except ValueError as e:
        fail(str(e))
    summary = {"model": "signal_prop", "params": scenario.params, "rem": rem,
               "timings_s": {"theory": round(time.perf_counter() - start, 3)},
               "theory": {"final_cosine": float(th.cos[-1]), "frozen_blocks": int(th.frozen.sum())}}
    write_netcdf(out_dir / "theory.nc", th)
    sim = None
    if simulate:
        start = time.perf_counter()
        sim = scenario.simulate(seeds=seeds, seed=seed)
        summary["timings_s"]["simulation"] = round(time.perf_counter() - start, 3)
        summary["simulation"] = {"final_cosine": float(sim.cos.mean("seed")[-1]),
                                 "diverged_seeds": int(sim.diverged.sum())}
        ok = ~sim.diverged.values
        if ok.any():
            s = sim.isel(seed=np.flatnonzero(ok))
            summary["agreement"] = {"cos_max_abs": float(np.abs(s.cos.mean("seed") - th.cos).max()),
                                    "entropy_ratio_max_abs": float(np.abs(s.entropy_ratio.mean("seed")
                                                                          - th.entropy_ratio).max()),
                                    "pr_max_abs": float(np.abs(s.pr.mean("seed") - th.pr).max())}
        write_netcdf(out_dir / "simulation.nc", sim)
    save(figure(th, sim, title=f"{norm}-LN, T={T}, d={d}, L={L}, beta={beta:g}, alpha_A={alpha_a:g}, "
                              f"alpha_M={alpha_m:g}, {mlp} MLP"), out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        if summary.get("simulation", {}).get("diverged_seeds"):
            out_console.print(f"[bold red]{summary['simulation']['diverged_seeds']} seeds diverged[/]")
        out_console.print(f"final token cosine: theory {summary['theory']['final_cosine']:.4g}"
                          + (f", simulation {summary['simulation']['final_cosine']:.4g}" if sim is not None else ""))
        for name, value in summary.get("agreement", {}).items():
            out_console.print(f"theory vs simulation, {name.replace('_', ' ')}: {value:.3g}")
        out_console.print(f"wrote {out_dir}/ ({' '.join(sorted(p.name for p in out_dir.iterdir()))})")




def _range(name: str, text: str):
    """'lo:hi:n' -> n evenly spaced values (geometric with 'log:lo:hi:n')."""
    import numpy as np

    parts = text.split(":")
    try:
        geometric = parts[0] == "log"
        lo, hi, n = float(parts[-3]), float(parts[-2]), int(parts[-1])
        if len(parts) != 3 + geometric:
            raise ValueError
    except (ValueError, IndexError):
        raise ValueError(f"{name} must be 'lo:hi:n' or 'log:lo:hi:n'; got {text!r}") from None
    if n < 2 or not lo < hi or lo < 0 or (geometric and lo <= 0):
        raise ValueError(f"{name} must have 0 <= lo < hi (lo > 0 for log) and n >= 2; got {text!r}")
    return np.geomspace(lo, hi, n) if geometric else np.linspace(lo, hi, n)


@phase_app.command("signal_prop")
def phase_signal_prop(
    diagram: str = typer.Option("rank_entropy", help="rank_entropy (beta x alpha_A) or order_chaos (two of "
                                                     "alpha_A, alpha_M, sigma_w2, sigma_v2)."),
    x: str = typer.Option("sigma_w2", help="order_chaos: the x axis."),
    y: str = typer.Option("alpha_M", help="order_chaos: the y axis."),
    x_range: str = typer.Option("0.1:5:30", "--x-range", help="x values 'lo:hi:n' or 'log:lo:hi:n' (rank_entropy: beta)."),
    y_range: str = typer.Option("log:0.1:10:30", "--y-range", help="y values (rank_entropy: alpha_A)."),
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

    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save
    from hild.families.signal_prop import RandomTransformer
    from hild.families.signal_prop import phase
    try:
        if diagram not in ("rank_entropy", "order_chaos"):
            raise ValueError(f"diagram must be 'rank_entropy' or 'order_chaos'; got {diagram!r}")
        scenario = RandomTransformer(T=T, d=d, L=L, beta=beta, sigma_v2=sigma_v2, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                                     alpha_A=alpha_a, alpha_M=alpha_m, mlp=mlp, p0=p0)
        xs, ys = _range("x-range", x_range), _range("y-range", y_range)
        check.integer("sim_points", sim_points, 0)
        check.integer("seeds", seeds, 1)
        start = time.perf_counter()
        if diagram == "rank_entropy":
            th, _ = phase.rank_entropy(scenario, xs, ys)
        else:
            th, _ = phase.order_chaos(scenario, x, xs, y, ys)
        seconds = time.perf_counter() - start
        out_dir = output_directory(out, overwrite)
    except ValueError as e:
        fail(str(e))
    summary = {"model": "signal_prop", "diagram": diagram, "params": scenario.params,
               "timings_s": {"theory": round(seconds, 3)}, "grid": [int(n) for n in th.sizes.values()]}
    sim = None
    if sim_points:
        start = time.perf_counter()
        if diagram == "rank_entropy":
            _, sim = phase.rank_entropy(scenario, xs, ys, sim_points=sim_points, seeds=seeds)
            agree = sim.phase == th.phase.sel(beta=sim.beta, alpha_A=sim.alpha_A)
            summary["agreement"] = {"phase_fraction": float(agree.mean())}
        else:
            _, sim = phase.order_chaos(scenario, x, xs, y, ys, sim_points=sim_points, seeds=seeds)
            at = th.sel({x: sim[x], y: sim[y]})
            summary["agreement"] = {"lambda_a_sign_fraction": float((np.sign(sim.lambda_a) == np.sign(at.lambda_a)).mean()),
                                    "lambda_a_max_abs": float(np.abs(sim.lambda_a - at.lambda_a).max()),
                                    "lambda_g_max_abs": float(np.abs(sim.lambda_g - at.lambda_g).max())}
        summary["timings_s"]["simulation"] = round(time.perf_counter() - start, 3)
        write_netcdf(out_dir / "simulation.nc", sim)
    write_netcdf(out_dir / "phase.nc", th)
    save(phase.figure(th, sim), out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        out_console.print(f"theory grid {' x '.join(map(str, summary['grid']))} in {seconds:.2f} s")
        for name, value in summary.get("agreement", {}).items():
            out_console.print(f"simulated points vs theory, {name.replace('_', ' ')}: {value:.3g}")
        out_console.print(f"wrote {out_dir}/ ({' '.join(sorted(p.name for p in out_dir.iterdir()))})")
