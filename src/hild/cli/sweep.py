"""`hild sweep MODEL`, `hild sweep status DIR` and `hild plot DIR`: sweeps of any registered model, stored in Zarr.

Each model's sweep command is built from its scenario class: `--grid NAME=VALUES` over its
sweepable parameters, `--set NAME=VALUE` for the others (unset parameters take the values of the
model's `example()`), the size parameter (one value or a list), `--seeds`, `--seed`, and the run
options that theory and simulation share (for the committee machine `--t-max`, `--n-points`).
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from hild.cli import app, err_console, fail, out_console


def example_settings(cls) -> dict:
    """The constructor arguments that make the model's example(): its required fields, and every field in
    which the example differs from a scenario built from those alone."""
    example = cls.example()
    required = {f.name: getattr(example, f.name) for f in dataclasses.fields(cls) if f.init
                and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    try:
        base = cls(**required).params
    except (TypeError, ValueError):  # the required fields alone do not make a valid scenario: take them all
        return {f.name: getattr(example, f.name) for f in dataclasses.fields(cls) if f.init}
    return {**required, **{name: getattr(example, name) for name, value in example.params.items()
                           if name not in required and value != base[name]}}


def _parse_fixed(items) -> dict:
    from hild.sweep import parse_axis

    fixed = {}
    for item in items:
        axis = parse_axis(item)
        if len(axis.values) != 1:
            raise ValueError(f"set must give one value, NAME=VALUE; got {item!r}")
        fixed[axis.name] = axis.values[0]
    return fixed


def build(cls):
    """The `hild sweep MODEL` command of a scenario class."""
    from hild.cli.run import _flag, _show, command, run_options

    shared = {name: default for name, (where, default) in run_options(cls).items() if where == "both"}
    size_default = _show(inspect.signature(cls.example().simulate).parameters[cls.size].default)
    spec = [("grid", ["--grid"], ..., list[str],
             f"NAME=START:STOP:N[:log] or NAME=V1,V2,... over {', '.join(cls.sweepable)} (repeatable)", False),
            ("set_", ["--set"], [], list[str], "a fixed parameter NAME=VALUE (repeatable)", False),
            ("zipped", ["--zip"], False, bool, "take the grid axes together instead of crossing them", False),
            ("size", _flag(cls.size), size_default, str,
             f"the simulation's {cls.size}: one value or a list, e.g. 500,1000,2000", True),
            ("seeds", ["--seeds"], 4, int, "seeds per point", True),
            ("seed", ["--seed"], 0, int, "first integer seed", True)]
    spec += [(name, _flag(name), _show(default), str, f"run option {name} (theory and simulation)", True)
             for name, default in shared.items()]
    spec += [("store", ["--store"], ..., Path, "store directory (created, or resumed if it holds this sweep)", False),
             ("workers", ["--workers"], None, Optional[int], "start a local Dask cluster of N workers", False),
             ("cluster", ["--cluster"], None, Optional[str], "address of a running Dask scheduler", False),
             ("pool", ["--pool"], None, Optional[int], "a local pool of N processes (no Dask)", False),
             ("theory_only", ["--theory-only"], False, bool, "only the batched theory sweep", False),
             ("retry_failed", ["--retry-failed"], False, bool, "recompute the points that failed before", False),
             ("as_json", ["--json"], False, bool, "print the report as JSON", False)]
    return command(cls.model, f"Sweep {cls.model}: the theory at every grid point, then the simulation point by "
                   "point, into a resumable store.", spec, lambda **values: _sweep(cls, shared, values))


def _sweep(cls, shared: dict, v: dict) -> None:
    from hild.cli.run import parse_value
    from hild.core.values import parse_values
    from hild.sweep.executors import Dask, InProcess, LocalProcesses
    from hild.sweep import Grid, Sizes, parse_axis, run_sweep

    store = v["store"]
    try:
        if sum(x is not None for x in (v["workers"], v["cluster"], v["pool"])) > 1:
            raise ValueError("choose one of --workers, --cluster and --pool")
        axes = tuple(parse_axis(g) for g in v["grid"])
        swept = {a.name for a in axes}
        fixed = {k: val for k, val in example_settings(cls).items() if k not in swept}
        fixed.update(_parse_fixed(v["set_"]))
        grid = Grid(cls.model, axes, fixed=fixed, zipped=v["zipped"])
        options = {name: parse_value(name, v[name]) for name in shared}
        sizes = None if v["theory_only"] else Sizes(parse_values(cls.size, v["size"]), seeds=v["seeds"],
                                                     seed=v["seed"], name=cls.size)
        executor = (Dask(workers=v["workers"]) if v["workers"] is not None else Dask(address=v["cluster"])
                    if v["cluster"] is not None else LocalProcesses(v["pool"]) if v["pool"] is not None
                    else InProcess())
        report = run_sweep(grid, store, sizes=sizes, executor=executor, retry_failed=v["retry_failed"],
                           progress=not v["as_json"] and sys.stderr.isatty(), **options)
    except ValueError as e:
        fail(str(e))
    except KeyboardInterrupt:
        err_console.print(f"interrupted: the finished points are in {store}; run the same command to resume")
        raise typer.Exit(130)
    summary = {"store": str(report.store), "points": report.points, "already_done": report.already_done,
               "computed": report.computed, "failed": report.failed, "kept_failed": report.kept_failed,
               "diverged": report.diverged, "theory_written": report.theory_written,
               "seconds": round(report.seconds, 2)}
    if v["as_json"]:
        typer.echo(json.dumps(summary, indent=2))
    else:
        out_console.print(f"{store}: theory {'written' if report.theory_written else 'already there'}"
                          + ("" if v["theory_only"] else f"; {report.computed} points computed, {report.already_done} "
                             f"already done, {len(report.failed)} failed now, {report.kept_failed} failed before "
                             f"(--retry-failed reruns them), {report.diverged} with diverged seeds")
                          + f" in {report.seconds:.1f} s ({executor!r})")
        for f in report.failed:
            out_console.print(f"[red]failed[/] {f['point']}: {f['error']}", markup=True, highlight=False)
    raise typer.Exit(0 if not report.failed and not report.kept_failed else 1)


class _SweepGroup(typer.core.TyperGroup):
    """`hild sweep MODEL ...` runs a sweep (one command per registered model); `hild sweep status DIR`
    reports on a store."""

    def list_commands(self, ctx):
        from hild.core.registry import models

        return sorted(super().list_commands(ctx)) + list(models())

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        from hild.core.registry import models

        registry = models()
        return build(registry[name]) if name in registry else None


sweep_app = typer.Typer(cls=_SweepGroup, no_args_is_help=True,
                        help="Sweep a model's parameters into a resumable store: `hild sweep MODEL --grid ...`, "
                             "`hild sweep status DIR`.")
app.add_typer(sweep_app, name="sweep")


@sweep_app.command("status")
def sweep_status(store: Path = typer.Argument(..., help="Store directory."),
                 as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Report a store: its grid, the theory, and the simulation points done, failed and missing."""
    from hild.sweep.store import SweepStore

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
                      f"fixed {spec['fixed']}, options {spec['options']}, hild {spec['hild_version']}", highlight=False)
    out_console.print(f"theory: {'done' if status['theory'] else 'missing'}")
    if status["sizes"] is None:
        out_console.print("simulation: not started")
    else:
        sim, sizes = status["simulation"], status["sizes"]
        out_console.print(f"simulation ({sizes['name']} {sizes['values']}, {sizes['seeds']} seeds): {sim['done']} of "
                          f"{sim['points']} points done, {sim['failed']} failed, {sim['missing']} missing")
    for f in status["failures"]:
        out_console.print(f"[red]failed[/] {f['point']}: {f['error']}", highlight=False)


@app.command()
def plot(store: Path = typer.Argument(..., help="Sweep store directory."),
         variable: str = typer.Option("eg", help="Variable to draw."),
         at: Optional[float] = typer.Option(None, help="Value of the model's axis to draw (default: the last)."),
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
