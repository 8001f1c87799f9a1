"""`hild sweep MODEL`, `hild sweep status DIR` and `hild plot DIR`: sweeps stored in Zarr."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from hild.cli import app, err_console, fail, out_console


class _SweepGroup(typer.core.TyperGroup):
    """`hild sweep MODEL ...` runs a sweep; `hild sweep status DIR` reports on a store."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


sweep_app = typer.Typer(cls=_SweepGroup, no_args_is_help=True,
                        help="Sweep a model's parameters into a resumable store: `hild sweep MODEL --grid ...`, "
                             "`hild sweep status DIR`.")
app.add_typer(sweep_app, name="sweep")

SWEEP_DEFAULTS = {"committee": {"K": 2, "M": 2, "lr": 0.5}}
"""Parameters a sweep fixes unless they are swept or set with --set."""


def _parse_fixed(items: list[str]) -> dict:
    from hild.sweep import parse_axis

    fixed = {}
    for item in items:
        axis = parse_axis(item)
        if len(axis.values) != 1:
            raise ValueError(f"set must give one value, NAME=VALUE; got {item!r}")
        fixed[axis.name] = axis.values[0]
    return fixed


@sweep_app.command("run")
def sweep_run(
    model: str = typer.Argument(..., help="Model to sweep (see `hild models`)."),
    grid: list[str] = typer.Option(..., "--grid", help="NAME=START:STOP:N[:log] or NAME=V1,V2,... (repeatable)."),
    set_: list[str] = typer.Option([], "--set", help="A fixed parameter NAME=VALUE (repeatable)."),
    zipped: bool = typer.Option(False, "--zip", help="Take the grid axes together instead of crossing them."),
    d: str = typer.Option("1000", help="Input dimension(s) of the simulation: 1000 or 500,1000,2000."),
    seeds: int = typer.Option(4, help="Seeds per point."),
    seed: int = typer.Option(0, help="First integer seed."),
    t_max: float = typer.Option(100.0, "--t-max", help="Final time t = steps / d (> 0)."),
    n_points: int = typer.Option(101, "--n-points", help="Recorded times."),
    store: Path = typer.Option(..., help="Store directory (created, or resumed if it holds this sweep)."),
    workers: Optional[int] = typer.Option(None, help="Start a local Dask cluster of N worker processes."),
    cluster: Optional[str] = typer.Option(None, help="Address of a running Dask scheduler, e.g. tcp://host:8786."),
    pool: Optional[int] = typer.Option(None, help="Use a local pool of N processes (no Dask)."),
    theory_only: bool = typer.Option(False, "--theory-only", help="Only the vectorised theory sweep."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Recompute the points that failed before."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Run (or resume) a sweep: the theory at every grid point, then the simulation point by point."""
    from hild.executors import Dask, InProcess, LocalProcesses
    from hild.sweep import Grid, Sizes, parse_axis, run_sweep

    try:
        if sum(x is not None for x in (workers, cluster, pool)) > 1:
            raise ValueError("choose one of --workers, --cluster and --pool")
        if model not in SWEEP_DEFAULTS:
            raise ValueError(f"model must be one of {', '.join(SWEEP_DEFAULTS)}; got {model!r}")
        axes = tuple(parse_axis(g) for g in grid)
        fixed = {k: v for k, v in SWEEP_DEFAULTS[model].items() if k not in {a.name for a in axes}}
        fixed.update(_parse_fixed(set_))
        sweep_grid = Grid(model, axes, fixed=fixed, zipped=zipped)
        sizes = None if theory_only else Sizes(d=tuple(int(x) for x in d.split(",")), seeds=seeds, seed=seed)
        executor = (Dask(workers=workers) if workers is not None else Dask(address=cluster) if cluster is not None
                    else LocalProcesses(pool) if pool is not None else InProcess())
        report = run_sweep(sweep_grid, store, t_max=t_max, n_points=n_points, sizes=sizes, executor=executor,
                           retry_failed=retry_failed, progress=not as_json and sys.stderr.isatty())
    except ValueError as e:
        fail(str(e))
    except KeyboardInterrupt:
        err_console.print(f"interrupted: the finished points are in {store}; run the same command to resume")
        raise typer.Exit(130)
    summary = {"store": str(report.store), "points": report.points, "already_done": report.already_done,
               "computed": report.computed, "failed": report.failed, "kept_failed": report.kept_failed,
               "diverged": report.diverged, "theory_written": report.theory_written,
               "seconds": round(report.seconds, 2)}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        out_console.print(f"{store}: theory {'written' if report.theory_written else 'already there'}"
                          + ("" if theory_only else f"; {report.computed} points computed, {report.already_done} "
                             f"already done, {len(report.failed)} failed now, {report.kept_failed} failed before "
                             f"(--retry-failed reruns them), {report.diverged} with diverged seeds")
                          + f" in {report.seconds:.1f} s ({executor!r})")
        for f in report.failed:
            out_console.print(f"[red]failed[/] {f['point']}: {f['error']}", markup=True, highlight=False)
    raise typer.Exit(0 if not report.failed and not report.kept_failed else 1)


@sweep_app.command("status")
def sweep_status(store: Path = typer.Argument(..., help="Store directory."),
                 as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Report a store: its grid, the theory, and the simulation points done, failed and missing."""
    from hild.store import SweepStore

    try:
        status = SweepStore(store).status()
    except ValueError as e:
        fail(str(e))
    if as_json:
        typer.echo(json.dumps(status, indent=2))
        return
    spec = status["sweep"]
    axes = ", ".join(f"{k} ({len(v)} values)" for k, v in spec["axes"].items())
    out_console.print(f"{store}: {spec['model']} over {axes}{' zipped' if spec['zipped'] else ''}, "
                      f"fixed {spec['fixed']}, t_max {spec['t_max']:g}, hild {spec['hild_version']}")
    out_console.print(f"theory: {'done' if status['theory'] else 'missing'}")
    if status["sizes"] is None:
        out_console.print("simulation: not started")
    else:
        sim = status["simulation"]
        out_console.print(f"simulation (d {status['sizes']['d']}, {status['sizes']['seeds']} seeds): {sim['done']} of "
                          f"{sim['points']} points done, {sim['failed']} failed, {sim['missing']} missing")
    for f in status["failures"]:
        out_console.print(f"[red]failed[/] {f['point']}: {f['error']}", highlight=False)


@app.command()
def plot(store: Path = typer.Argument(..., help="Sweep store directory."),
         variable: str = typer.Option("eg", help="Variable to draw."),
         at: Optional[float] = typer.Option(None, help="Time to draw (default: the last)."),
         select: list[str] = typer.Option([], "--select", help="Fix a parameter: NAME=VALUE (repeatable)."),
         out: Optional[Path] = typer.Option(None, help="Figure file (default: STORE/figure.png).")) -> None:
    """Draw a sweep: curves for one free parameter, a phase diagram with theory lines for two."""
    from hild.plot import save
    from hild.sweep import figure

    try:
        fig = figure(store, variable=variable, at=at, select=_parse_fixed(select))
    except ValueError as e:
        fail(str(e))
    path = out or Path(store) / "figure.png"
    save(fig, path)
    out_console.print(f"wrote {path}")
