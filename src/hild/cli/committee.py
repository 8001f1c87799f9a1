"""`hild run committee`: the soft committee machine, theory against online SGD."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer

from hild.cli import fail, out_console, run_app


@run_app.command("committee")
def run_committee(
    K: int = typer.Option(2, "--K", help="Student hidden units (>= 1)."),
    M: int = typer.Option(2, "--M", help="Teacher hidden units (>= 1)."),
    activation: str = typer.Option("erf", help="erf, relu or linear."),
    lr: float = typer.Option(0.5, help="First-layer learning rate (>= 0)."),
    lr_v: float = typer.Option(0.0, "--lr-v", help="Second-layer learning rate (0: fixed second layer)."),
    noise: float = typer.Option(0.0, help="Label noise std sigma (>= 0)."),
    weight_decay: float = typer.Option(0.0, "--weight-decay", help="Weight decay kappa (>= 0)."),
    init_std: float = typer.Option(1e-3, "--init-std", help="Std of the student's initial weights."),
    d: int = typer.Option(1000, help="Input dimension of the simulation."),
    seeds: int = typer.Option(8, help="Number of simulated seeds."),
    seed: int = typer.Option(0, help="First integer seed."),
    t_max: float = typer.Option(300.0, "--t-max", help="Final time t = steps / d (> 0)."),
    n_points: int = typer.Option(151, "--n-points", help="Recorded times."),
    out: Path = typer.Option(..., help="Output directory (must not exist unless --overwrite)."),
    simulate: bool = typer.Option(True, "--simulate/--no-simulate", help="Run the finite-d simulation."),
    theory: bool = typer.Option(True, "--theory/--no-theory", help="Integrate the d -> infinity ODEs."),
    overwrite: bool = typer.Option(False, help="Replace hild's files in an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Soft committee machine: writes theory.nc, simulation.nc, figure.png and summary.json into --out."""
    from hild.compare import compare
    from hild.io import output_directory, write_json, write_netcdf
    from hild.online import Committee
    from hild.plot import save, trajectories
    from hild.online.simulate import check_run

    if not (simulate or theory):
        fail("--no-simulate and --no-theory together leave nothing to run")
    try:
        scenario = Committee(K=K, M=M, activation=activation, lr=lr, lr_v=lr_v, noise=noise,
                             weight_decay=weight_decay, init_std=init_std)
        check_run(scenario, d, seeds, seed, t_max, n_points)
        out_dir = output_directory(out, overwrite)
    except ValueError as e:
        fail(str(e))

    summary = {"model": "committee", "params": scenario.params, "timings_s": {}}
    sim = th = None
    if simulate:
        start = time.perf_counter()
        sim = scenario.simulate(d=d, seeds=seeds, seed=seed, t_max=t_max, n_points=n_points,
                                progress=not as_json and sys.stderr.isatty())
        summary["timings_s"]["simulation"] = round(time.perf_counter() - start, 3)
        summary["simulation"] = {"d": d, "seeds": seeds, "first_seed": seed}
        write_netcdf(out_dir / "simulation.nc", sim)
    if theory:
        start = time.perf_counter()
        th = scenario.theory(t_max=t_max, n_points=n_points, init=sim)
        summary["timings_s"]["theory"] = round(time.perf_counter() - start, 3)
        write_netcdf(out_dir / "theory.nc", th)
    summary["diverged"] = {}
    for kind, ds in (("theory", th), ("simulation", sim)):
        if ds is not None and bool(ds["diverged"].any()):
            summary["diverged"][kind] = {"seeds": int(ds["diverged"].sum()) if "seed" in ds.dims else 1,
                                         "t_diverged": float(ds["t_diverged"].min())}
    if sim is not None and th is not None and not bool(sim["diverged"].all()):
        c = compare(th, sim)
        summary["agreement"] = c.summary
        summary["agreement"]["seeds_used"] = c.seeds_used
    title = (f"committee K={K} M={M} {scenario.act.name}, lr={lr:g}, lr_v={lr_v:g}, noise={noise:g}, "
             f"weight decay={weight_decay:g}")
    save(trajectories(th, sim, title=title), out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)

    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        for kind, info in summary["diverged"].items():
            out_console.print(f"[bold red]{kind} diverged[/] at t = {info['t_diverged']:.4g}")
        if "agreement" in summary:
            eg = summary["agreement"]["eg"]
            out_console.print(f"eg: theory vs simulation max |err| {eg['max_abs']:.3g}, "
                              f"mean |err| {eg['mean_abs']:.3g}")
        out_console.print(f"wrote {out_dir}/ (theory.nc simulation.nc figure.png summary.json)")
