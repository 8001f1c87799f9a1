"""The `hild` command line: list models and claims, run or sweep any registered model, reproduce a claim.

Errors in the input exit with status 2 and one line on stderr naming the parameter; a claim that
does not hold exits 1.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Optional, Sequence

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text


app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="hild: high-dimensional learning dynamics (theory, simulation, paper claims).")
out_console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # messages are never broken inside a path or a number


def family_command(kind: str, family: str):
    """The command `kind` ('run' or 'phase') that a family adds in its cli.py, or None.

    A family's cli.py is imported only when one of its commands is asked for (or listed).

    **Arguments:** `kind`: 'run' or 'phase'; `family`: a family folder's name.

    **Returns:** a click command, or None where the family adds none."""
    import importlib
    import importlib.util

    from hild.core.registry import families

    if family not in families() or importlib.util.find_spec(f"hild.families.{family}.cli") is None:
        return None
    command = getattr(importlib.import_module(f"hild.families.{family}.cli"), kind, None)
    return typer.main.get_command(command) if isinstance(command, typer.Typer) else command


class _RunGroup(typer.core.TyperGroup):
    """`hild run MODEL`: one command per registered model (hild.cli.run), and those families add."""

    def list_commands(self, ctx):
        from hild.core.registry import families, models

        return list(models()) + [f for f in families() if f not in models() and family_command("run", f)]

    def get_command(self, ctx, name):
        from hild.cli.run import build
        from hild.core.registry import models

        registry = models()
        return build(registry[name]) if name in registry else family_command("run", name)


class _PhaseGroup(typer.core.TyperGroup):
    """`hild phase FAMILY`: the phase diagrams that families add in their cli.py."""

    def list_commands(self, ctx):
        from hild.core.registry import families

        return [f for f in families() if family_command("phase", f)]

    def get_command(self, ctx, name):
        return family_command("phase", name)


run_app = typer.Typer(cls=_RunGroup, no_args_is_help=True,
                      help="Run one scenario of a model: theory, simulation, comparison and figure.")
app.add_typer(run_app, name="run")
phase_app = typer.Typer(cls=_PhaseGroup, no_args_is_help=True,
                        help="Phase diagrams: theory over a grid, simulated points on top.")
app.add_typer(phase_app, name="phase")


WRAP_WIDTH = 24
"""The narrowest a wrapping column of `listing` is drawn; a terminal too narrow for it gets one block per row."""


def listing(columns: Sequence[str], rows: Sequence[Sequence[str]], whole: Sequence[str] = ()) -> None:
    """Print `rows` under the headers `columns`: a table where the terminal is wide enough, one block per row
    where it is not. The `whole` columns (what users type: names, parameters) are never cut or wrapped at
    any width; the others wrap. The first column names the row (its block's first line). Cells are plain
    text (no Rich markup).

    **Arguments:** `columns`: the headers; `rows`: the cells, one sequence per row; `whole`: the columns never cut.

    **Returns:** None (prints to stdout)."""
    keep = [c in whole for c in columns]
    longest = [max(cell_len(v) for v in (c, *(r[i] for r in rows))) for i, c in enumerate(columns)]
    least = [n if k else min(n, WRAP_WIDTH) for n, k in zip(longest, keep)]
    room = out_console.width - (3 * len(columns) + 1)  # a border and two padding spaces per column
    if sum(least) <= room:
        spare, want = room - sum(least), [n - w for n, w in zip(longest, least)]
        total = sum(want)  # the room left is shared in proportion to what each column wants
        widths = [w + (extra if total <= spare else spare * extra // total) for w, extra in zip(least, want)]
        table = Table()
        for c, width, k in zip(columns, widths, keep):
            table.add_column(c, width=width, no_wrap=k, overflow="fold")
        for r in rows:
            table.add_row(*(Text(v) for v in r))
        out_console.print(table)
        return
    for r in rows:
        out_console.print(Text(r[0], style="bold"), soft_wrap=True)
        for c, v, k in zip(columns[1:], r[1:], keep[1:]):
            line = f"  {c}: {v}"
            if not k:
                line = textwrap.fill(line, max(out_console.width, 20), subsequent_indent="      ")
            out_console.print(Text(line), soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    """Print `error: message` on stderr and exit.

    **Arguments:** `message`; `code` (default 2): the exit status. **Returns:** never (raises typer.Exit)."""
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def models(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the registered models: what each is, its axis ("(point)": results at one parameter point) and size
    parameter, its papers."""
    from hild.core.registry import models as registry

    rows = [{"model": name, "what": cls.description, "axis": cls.axis, "size": cls.size,
             "sweepable": list(cls.sweepable), "papers": list(cls.papers)} for name, cls in registry().items()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    listing(("model", "what", "axis", "size", "papers (arXiv)"),
            [(r["model"], r["what"], r["axis"] or "(point)", r["size"], ", ".join(r["papers"])) for r in rows],
            whole=("model", "axis", "size"))


@app.command()
def claims(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the paper claims that `hild reproduce` checks."""
    from hild.claims import all_claims

    rows = [{"claim": c.name, "statement": c.statement, "papers": list(c.papers)} for c in all_claims()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    listing(("claim", "statement", "arXiv"), [(r["claim"], r["statement"], ", ".join(r["papers"])) for r in rows],
            whole=("claim",))


@app.command()
def report(names: Optional[list[str]] = typer.Argument(None, help="Claims to run (default: every claim)."),
           size: str = typer.Option("quick", help="quick or paper."),
           out: Path = typer.Option(Path("report"), help="The report folder: new, or one an earlier report wrote."),
           force: bool = typer.Option(False, help="Run every claim again instead of reusing finished ones.")) -> None:
    """Run claims and write the atlas: a static HTML site with every claim's figure, checks and verdict (exit 0
    when every verdict is the one hild records, 1 otherwise). An interrupted report resumes where it stopped."""
    from hild.report import build

    try:
        entries = build(out, names or None, size=size, force=force, progress=True)
    except ValueError as e:
        fail(str(e))
    bad = [e.name for e in entries if e.verdict in ("FAILS", "error")]
    out_console.print(f"wrote {out}/index.html ({len(entries)} claims" + (f"; failing: {', '.join(bad)}" if bad else "")
                      + ")", highlight=False)
    raise typer.Exit(1 if bad else 0)


@app.command()
def reproduce(claim: str = typer.Argument(..., help="Claim name, e.g. committee.plateau (see `hild claims`)."),
              size: str = typer.Option("quick", help="quick (CI, under a minute) or paper."),
              out: Optional[Path] = typer.Option(None, help="Write figure.png, summary.json and data here."),
              overwrite: bool = typer.Option(False, help="Replace hild's files in an existing --out."),
              as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Run a claim's theory and simulation, print the measured numbers and the verdict (exit 0 holds, 1 not)."""
    from hild import claims as registry
    from hild.io import output_directory

    try:
        registry.get(claim)
        if size not in registry.SIZES:
            raise ValueError(f"size must be one of {', '.join(registry.SIZES)}; got {size!r}")
        out_dir = output_directory(out, overwrite) if out is not None else None
    except ValueError as e:
        fail(str(e))
    result = registry.reproduce(claim, size=size, progress=True)
    if out_dir is not None:
        result.save(out_dir)
    if as_json:
        typer.echo(registry.dumps(result))
    else:
        table = Table("check", "measured", "expected", "", title=f"{claim} ({size}): {result.statement}")
        for c in result.checks:
            table.add_row(c.what, f"{c.measured:.5g}", c.expected, "[green]ok[/]" if c.passed else "[red]FAILS[/]")
        for what, value in result.numbers.items():
            table.add_row(what, f"{value:.5g}", "(measured)", "")
        out_console.print(table)
        verdict = "[bold green]HOLDS[/]" if result.holds else "[bold red]DOES NOT HOLD[/]"
        out_console.print(f"{verdict} in {result.seconds:.1f} s" + (f"; wrote {out_dir}" if out_dir else ""))
    raise typer.Exit(0 if result.holds else 1)


from hild.cli import sweep  # noqa: E402, F401  (registers `hild sweep` and `hild plot`)
