"""`hild run deep_linear`: two-layer linear networks, the exact solution against GD/SGD."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from hild.core import validation as check
from hild.cli import fail, out_console, run_app


def _numbers(name: str, text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"{name} must be comma-separated numbers; got {text!r}") from None


@run_app.command("deep_linear")
def run_deep_linear(
    singular_values: str = typer.Option("3,2,1,0.5", "--singular-values", help="Singular values of Sigma_yx (>= 0)."),
    d_in: Optional[int] = typer.Option(None, "--d-in", help="Input dimension (default: number of singular values)."),
    d_out: Optional[int] = typer.Option(None, "--d-out", help="Output dimension (default: number of singular values)."),
    width: int = typer.Option(4, help="Hidden width."),
    lr: float = typer.Option(1e-3, help="Base learning rate (> 0); time t = lr * steps."),
    lr_scales: str = typer.Option("1,1", "--lr-scales", help="Per-layer learning-rate multipliers rho_1,rho_2 (> 0)."),
    init: str = typer.Option("aligned", help="aligned, lambda or random (random has no exact theory: --no-theory)."),
    init_scale: float = typer.Option(1e-3, "--init-scale", help="Initial mode strength (aligned, lambda) or weight std."),
    lam: float = typer.Option(0.0, help="Imbalance lambda: W2^T W2/rho_2 - W1 W1^T/rho_1 = lambda I."),
    n_samples: Optional[int] = typer.Option(None, "--n-samples", help="Train on this many samples (default: population)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="SGD batch size (needs --n-samples)."),
    noise: float = typer.Option(0.0, help="Label noise std (with --n-samples)."),
    seeds: int = typer.Option(4, help="Number of simulated seeds."),
    seed: int = typer.Option(0, help="First integer seed."),
    t_max: float = typer.Option(10.0, "--t-max", help="Final time t = lr * steps (> 0)."),
    n_points: int = typer.Option(201, "--n-points", help="Recorded times."),
    out: Path = typer.Option(..., help="Output directory (must not exist unless --overwrite)."),
    simulate: bool = typer.Option(True, "--simulate/--no-simulate", help="Run GD / SGD on the real network."),
    theory: bool = typer.Option(True, "--theory/--no-theory", help="The exact gradient-flow solution."),
    overwrite: bool = typer.Option(False, help="Replace hild's files in an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Two-layer linear network: writes theory.nc, simulation.nc, figure.png and summary.json into --out."""
    from hild.analysis.compare import compare
    from hild.families.deep_linear import DeepLinear, figure
    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save

    if not (simulate or theory):
        fail("--no-simulate and --no-theory together leave nothing to run")
    try:
        scenario = DeepLinear(singular_values=_numbers("singular-values", singular_values), d_in=d_in, d_out=d_out,
                              width=width, lr=lr, lr_scales=_numbers("lr-scales", lr_scales), init=init,
                              init_scale=init_scale, lam=lam, n_samples=n_samples, batch_size=batch_size, noise=noise)
        if theory and init == "random":
            raise ValueError("init: 'random' starts are not lambda-balanced and have no exact theory; "
                             "use --init aligned or lambda, or --no-theory")
        check.integer("seeds", seeds, 1)
        check.integer("seed", seed, 0)
        check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
        check.integer("n_points", n_points, 2)
        out_dir = output_directory(out, overwrite)
    except ValueError as e:
        fail(str(e))

    summary = {"model": "deep_linear", "params": scenario.params, "timings_s": {}}
    sim = th = None
    if simulate:
        start = time.perf_counter()
        sim = scenario.simulate(seeds=seeds, t_max=t_max, seed=seed, n_points=n_points)
        summary["timings_s"]["simulation"] = round(time.perf_counter() - start, 3)
        summary["diverged_seeds"] = int(sim.diverged.sum())
        write_netcdf(out_dir / "simulation.nc", sim)
    if theory:
        start = time.perf_counter()
        th = scenario.theory(t_max=t_max, n_points=n_points, init=sim, seed=seed)
        summary["timings_s"]["theory"] = round(time.perf_counter() - start, 3)
        write_netcdf(out_dir / "theory.nc", th)
    if sim is not None and th is not None and not bool(sim.diverged.all()):
        c = compare(th, sim, ["function", "W1TW1", "W2W2T", "ntk", "modes", "loss"])
        summary["agreement"] = c.summary
    save(figure(th, sim, title=f"deep linear, s = {singular_values}, width {width}, init {init}, lambda {lam:g}"),
         out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        if summary.get("diverged_seeds"):
            out_console.print(f"[bold red]{summary['diverged_seeds']} seeds diverged[/]")
        for name, agreement in summary.get("agreement", {}).items():
            out_console.print(f"{name}: theory vs simulation max |err| {agreement['max_abs']:.3g}")
        out_console.print(f"wrote {out_dir}/ ({' '.join(sorted(p.name for p in out_dir.iterdir()))})")
