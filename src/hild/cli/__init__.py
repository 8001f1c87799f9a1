"""The `hild` command line: list models and claims, run a scenario, reproduce a claim.

Errors in the input exit with status 2 and one line on stderr naming the parameter; a claim that
does not hold exits 1.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table


app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="hild: high-dimensional learning dynamics (theory, simulation, paper claims).")
run_app = typer.Typer(no_args_is_help=True, help="Run one scenario: theory, simulation, comparison and figure.")
app.add_typer(run_app, name="run")
phase_app = typer.Typer(no_args_is_help=True, help="Phase diagrams: theory over a grid, simulated points on top.")
app.add_typer(phase_app, name="phase")
out_console = Console()
err_console = Console(stderr=True)

MODELS = {"committee": ("Online SGD in teacher-student soft committee machines", "Saad & Solla 1995; 1906.08632"),
          "deep_linear": ("Two-layer linear networks: exact gradient-flow dynamics from rich to lazy, NTK, "
                          "conserved quantities", "1312.6120; 2409.14623; 2406.06158"),
          "diffusion": ("Linear diffusion models (DDPM, linear denoisers): memorisation to generalisation",
                        "2505.24769"),
          "signal_prop": ("Random transformers at initialisation: REM attention, rank and entropy collapse, "
                          "token geometry, order-chaos exponents", "2505.24333; 2403.02579"),
          "cumulants": ("Learning from higher-order cumulants: spiked cumulant and mixed cumulant models; FastICA, "
                        "online and smoothed SGD, spectral test; sample-complexity exponents",
                        "2312.14922; 2404.08602; 2503.23896")}


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def models() -> None:
    """List the models hild can run."""
    table = Table("model", "what", "papers (arXiv)")
    for name, (what, papers) in MODELS.items():
        table.add_row(name, what, papers)
    out_console.print(table)


@app.command()
def claims(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the paper claims that `hild reproduce` checks."""
    from hild.claims import all_claims

    rows = [{"claim": c.name, "statement": c.statement, "papers": list(c.papers)} for c in all_claims()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("claim", "statement", "arXiv")
    for r in rows:
        table.add_row(r["claim"], r["statement"], ", ".join(r["papers"]))
    out_console.print(table)


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
    result = registry.reproduce(claim, size=size, progress=not as_json and sys.stderr.isatty())
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


# each family module registers its commands on the apps above (in this order in `hild run --help`)
from hild.cli import committee, deep_linear, diffusion, signal_prop, cumulants, sweep  # noqa: E402, F401, I001
