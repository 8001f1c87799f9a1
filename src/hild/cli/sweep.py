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
from pathlib import Path
from typing import Optional

import typer

from hild.cli import app, err_console, fail, out_console


def example_settings(cls) -> dict:
    """The constructor arguments that make the model's example(): its required fields, and every field in
    which the example differs from a scenario built from those alone.

    **Arguments:** `cls`: a scenario class. **Returns:** a dict field name -> value."""
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
    """The `hild sweep MODEL` command of a scenario class.

    **Arguments:** `cls`: a registered scenario class. **Returns:** a click command."""
    from hild.cli.run import LIMIT_OPTIONS, _flag, _show, command, run_options

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
             *LIMIT_OPTIONS,
             ("as_json", ["--json"], False, bool, "print the report as JSON", False)]
    return command(cls.model, f"Sweep {cls.model}: the theory at every grid point, then the simulation point by "
                   "point, into a resumable store.", spec, lambda **values: _sweep(cls, shared, values))


def _sweep(cls, shared: dict, v: dict) -> None:
    from hild.cli.run import parse_value
    from hild.core.values import parse_values
    from hild.sweep.executors import Dask, InProcess, LocalProcesses
    from hild.core.resources import limits
    from hild.sweep import Grid, Sizes, parse_axis, run_sweep

    store = v["store"]
    try:
        with limits(v["max_memory"], v["max_time"]):
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
                               progress=True, **options)
    except ValueError as e:
        fail(str(e))
    except MemoryError:
        fail(f"the machine ran out of memory although the estimate fitted; the finished points are in {store}")
    except KeyboardInterrupt:
        err_console.print(f"interrupted: the finished points are in {store}; run the same command to resume")
        raise typer.Exit(130)
    summary = {"store": str(report.store), "points": report.points, "already_done": report.already_done,
               "computed": report.computed, "failed": report.failed, "kept_failed": report.kept_failed,
               "diverged": report.diverged, "theory_written": report.theory_written, "damaged": report.damaged,
               "seconds": round(report.seconds, 2)}
    if v["as_json"]:
        typer.echo(json.dumps(summary, indent=2))
    else:
        for d in report.damaged:
            out_console.print(f"[yellow]damaged[/] {_where(d['point'])}: {d['reason']} (recomputed)", highlight=False)
        if not (report.theory_written or report.computed or report.failed or report.damaged):
            kept = f", {report.kept_failed} failed before (--retry-failed reruns them)" if report.kept_failed else ""
            message = "nothing left to compute" + ("" if v["theory_only"] else
                                                   f" ({report.already_done} points done{kept})")
        else:
            message = (f"theory {'written' if report.theory_written else 'already there'}"
                       + ("" if v["theory_only"] else f"; {report.computed} points computed, {report.already_done} "
                          f"already done, {len(report.failed)} failed now, {report.kept_failed} failed before "
                          f"(--retry-failed reruns them), {report.diverged} with diverged seeds")
                       + f" in {report.seconds:.1f} s ({executor!r})")
        out_console.print(f"{store}: {message}", highlight=False)
        for f in report.failed:
            out_console.print(f"[red]failed[/] {f['point']}: {f['error']}", markup=True, highlight=False)
    raise typer.Exit(0 if not report.failed and not report.kept_failed else 1)


def _where(point: dict) -> str:
    """A grid point as NAME=VALUE, ..."""
    return ", ".join(f"{k}={v}" for k, v in point.items())


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
                 verify: bool = typer.Option(False, "--verify", help="Read every done point's data and check it "
                                             "against its checksum; exit 1 if any is damaged."),
                 as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Report a store: its grid, the theory, and the simulation points done, failed and missing."""
    from hild.sweep.store import SweepStore

    try:
        status = SweepStore(store).status(verify=verify)
    except ValueError as e:
        fail(str(e))
    damaged = verify and bool(status["damaged"] or status["theory_damaged"])
    if as_json:
        typer.echo(json.dumps(status, indent=2))
        raise typer.Exit(1 if damaged else 0)
    for difference in status["disagreements"]:
        err_console.print(f"warning: {store}/sweep.json disagrees with the data ({difference}); shown: the grid "
                          "the data were computed on", highlight=False)
    spec = status["sweep"]
    axes = ", ".join(f"{k} ({len(v)} values: {_values(v)})" for k, v in spec["axes"].items())
    out_console.print(f"{store}: {spec['model']} over {axes}{' zipped' if spec['zipped'] else ''}, "
                      f"fixed {spec['fixed']}, options {spec['options']}, hild {spec['hild_version']}", highlight=False)
    theory = "missing" if not status["theory"] else f"damaged: {status['theory_damaged']}" if \
        verify and status["theory_damaged"] else "done"
    out_console.print(f"theory: {theory}", highlight=False)
    if status["sizes"] is None:
        out_console.print("simulation: not started")
    else:
        sim, sizes = status["simulation"], status["sizes"]
        counts = f"{sim['done']} of {sim['points']} points done"
        if verify:
            counts += f" and intact, {sim['damaged']} damaged"
        out_console.print(f"simulation ({sizes['name']} {sizes['values']}, {sizes['seeds']} seeds): {counts}, "
                          f"{sim['failed']} failed, {sim['missing']} missing", highlight=False)
        if verify and sim["unverified"]:
            out_console.print(f"{sim['unverified']} done points were written before checksums: their chunks decode, "
                              "their values cannot be checked further", highlight=False)
    for f in status["failures"]:
        out_console.print(f"[red]failed[/] {f['point']}: {f['error']}", highlight=False)
    if not verify:
        out_console.print("(done counts the points marked done; --verify reads and checks their data)",
                          highlight=False)
        return
    for d in status["damaged"]:
        out_console.print(f"[red]damaged[/] {_where(d['point'])}: {d['reason']}", highlight=False)
    if damaged:
        out_console.print("running the same sweep again recomputes the damaged points", highlight=False)
        raise typer.Exit(1)


def _values(values: list) -> str:
    text = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    return ", ".join(text if len(text) <= 4 else text[:3] + ["...", text[-1]])


@app.command()
def plot(store: Path = typer.Argument(..., help="Sweep store directory."),
         variable: str = typer.Option("eg", help="Variable to draw."),
         at: Optional[float] = typer.Option(None, help="Value of the model's axis to draw (default: the last)."),
         select: list[str] = typer.Option([], "--select", help="Fix a parameter: NAME=VALUE (repeatable)."),
         out: Optional[Path] = typer.Option(None, help="Figure file (default: STORE/figure.png)."),
         points: Optional[Path] = typer.Option(None, help="A second store of the same sweep whose simulation is "
                                                          "drawn as points on this store's theory (two parameters).")
         ) -> None:
    """Draw a sweep: curves for one free parameter, a phase diagram with theory lines for two (with --points, the
    theory as the field and another store's simulation on top). Damaged points are left out and named; the grid
    drawn is the one the data were computed on."""
    import warnings

    from hild.plot import save
    from hild.sweep import figure
    from hild.sweep.figure import SweepWarning
    from hild.sweep.store import SweepStore

    path = out or Path(store) / "figure.png"
    try:
        if out is None and not SweepStore(store).writable:
            raise ValueError(f"store: {store} is read-only; write the figure elsewhere with --out FILE")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig = figure(store, variable=variable, at=at, select=_parse_fixed(select), points=points)
    except ValueError as e:
        fail(str(e))
    for w in caught:
        if issubclass(w.category, SweepWarning):
            err_console.print(f"warning: {w.message}", highlight=False)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    try:
        save(fig, path)
    except OSError as e:
        fail(f"out: cannot write {path} ({e.strerror}); choose another file with --out")
    out_console.print(f"wrote {path}", highlight=False)
