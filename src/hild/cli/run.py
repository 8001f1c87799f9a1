"""`hild run MODEL`: one scenario of any registered model, its theory against its simulation.

The command of each model is built from its scenario class: one option per constructor field
(unset fields take the values of the model's `example()`), the size parameter, `--seeds`, `--seed`, and the keyword
options of `theory` and `simulate` (an option both take goes to both). Values use the one syntax
of hild.core.values (numbers, `none`, lists `a,b,c`, ranges `START:STOP:N[:log]`) or `@FILE` for an
array (a covariance, a schedule) read from a file. The run writes
theory.nc, simulation.nc, figure.png and summary.json (schema `SUMMARY_KEYS`) into `--out`.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import time
from pathlib import Path

from typing import Optional

import typer

SKIPPED = {"init", "progress", "self"}
"""theory / simulate arguments that are not command-line options (objects, or set by the command)."""
OUTPUTS = ("theory.nc", "simulation.nc", "figure.png", "summary.json")
SUMMARY_KEYS = ("model", "params", "size", "seeds", "options", "hild_version", "timings_s", "diverged",
                "agreement", "files")
"""Every run's summary.json holds exactly these keys. `diverged`: per side, the runs that diverged and
the first `<axis>_diverged` (none for a point scenario), and for a fixed point the points that did not
converge (`unconverged`); `agreement` (null without both sides): the comparison's axis, seeds used and
diverged, and per variable max / mean absolute error, max relative error and max |z| (`hild.compare`)."""


LIMIT_OPTIONS = [("max_memory", ["--max-memory"], None, Optional[str],
                  "refuse work estimated to need more memory, e.g. 8G (default: the available memory)", False),
                 ("max_time", ["--max-time"], None, Optional[str],
                  "refuse work estimated to take longer, e.g. 12h (default: 7d)", False)]
"""The resource limits every command that computes takes (hild.core.resources)."""


def parse_value(name: str, text):
    """A command-line value: `none`, `true`/`false`, a number, a string, a list / range as a tuple, or
    `@FILE`: an array read from FILE (`.npy` by numpy.load, anything else as whitespace-separated text).

    **Arguments:** `name`: the option named in errors; `text`: the value as typed (or already a value).

    **Returns:** None, a bool, a number, a str, a tuple or a NumPy array."""
    from hild.core.values import number, parse_values

    if not isinstance(text, str):
        return text
    if text.startswith("@"):
        import numpy as np

        path = Path(text[1:])
        try:
            return np.load(path) if path.suffix == ".npy" else np.loadtxt(path)
        except (OSError, ValueError) as e:
            raise ValueError(f"{name}: cannot read {path} ({e})") from None
    low = text.strip().lower()
    if low == "none":
        return None
    if low in ("true", "false"):
        return low == "true"
    if "," in text or ":" in text:
        return parse_values(name, text)
    return number(text)


def _flag(name: str) -> list[str]:
    dashed = "--" + name.replace("_", "-")
    return [dashed] if dashed == "--" + name else [dashed, "--" + name]


def _show(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_show(v) for v in value)
    return "none" if value is None else str(value)


def run_options(cls) -> dict[str, tuple[str, object]]:
    """name -> (where: 'theory' | 'simulate' | 'both', default) for the scalar keyword options.

    **Arguments:** `cls`: a scenario class. **Returns:** the dict, read from its example's signatures."""
    example = cls.example()
    sides = {"theory": inspect.signature(example.theory).parameters,
             "simulate": inspect.signature(example.simulate).parameters}
    out: dict[str, tuple[str, object]] = {}
    for side, params in sides.items():
        for name, p in params.items():
            if name in SKIPPED or name in (cls.size, "seeds", "seed") or p.kind is not p.KEYWORD_ONLY and \
                    p.kind is not p.POSITIONAL_OR_KEYWORD:
                continue
            if p.default is p.empty or not (p.default is None or isinstance(p.default, (int, float, str, bool))):
                continue
            out[name] = ("both", p.default) if name in out else (side, p.default)
    return out


def command(name: str, help: str, options: list[tuple], callback):
    """A typer command named `name` whose keyword options are (name, flags, default, annotation, help,
    show_default) tuples, built at run time from a model's scenario class; `callback(**values)` runs it.

    **Arguments:** `name`; `help`: its help text; `options`: the tuples; `callback`: the function run.

    **Returns:** a click command."""
    parameters = [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                    default=typer.Option(default, *flags, help=text, show_default=shown))
                  for key, flags, default, annotation, text, shown in options]

    def run_command(**values):
        callback(**values)

    run_command.__signature__ = inspect.Signature(parameters)
    run_command.__doc__ = help
    group = typer.Typer(add_completion=False)
    group.command(name)(run_command)
    return typer.main.get_command(group)


def build(cls):
    """The `hild run MODEL` command of a scenario class.

    **Arguments:** `cls`: a registered scenario class. **Returns:** a click command."""
    from hild.cli.sweep import example_settings

    example = cls.example()
    # a field with the size's name (kept from a time it was one) is set by the size option alone
    fields = [f for f in dataclasses.fields(cls) if f.init and f.name != cls.size]
    options = run_options(cls)
    clash = {f.name for f in fields} & (set(options) | {cls.size, "seeds", "seed", "out"})
    if clash:
        raise TypeError(f"{cls.__name__}: {sorted(clash)} is both a field and a run option")
    size_default = inspect.signature(example.simulate).parameters[cls.size].default
    settings = example_settings(cls)
    text = Optional[str]
    spec = [(f.name, _flag(f.name), None, text, f"scenario parameter {f.name}",
             _show(settings[f.name]) if f.name in settings else _field_default(f)) for f in fields]
    spec += [(cls.size, _flag(cls.size), _show(size_default), str, f"size parameter of the simulation ({cls.size})",
              True),
             ("seeds", ["--seeds"], "4", str, "simulated seeds", True),
             ("seed", ["--seed"], "0", str, "first integer seed", True)]
    spec += [(name, _flag(name), _show(default), str,
              f"{'theory and simulation' if where == 'both' else where} option {name}", True)
             for name, (where, default) in options.items()]
    spec += [("out", ["--out"], ..., Path, "output directory (must not exist unless --overwrite)", False),
             ("simulate", ["--simulate/--no-simulate"], True, bool, "run the simulation", True),
             ("theory", ["--theory/--no-theory"], True, bool, "compute the theory", True),
             ("overwrite", ["--overwrite"], False, bool, "replace hild's files in --out", False),
             *LIMIT_OPTIONS,
             ("as_json", ["--json"], False, bool, "print the summary as JSON", False)]
    doc = (cls.__doc__ or cls.model).strip().splitlines()[0]
    return command(cls.model, f"{doc} Writes theory.nc, simulation.nc, figure.png and summary.json into --out.",
                   spec, lambda **values: run(cls, values, fields, options, settings))


def _field_default(f) -> str:
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    return _show(default)


def run(cls, values: dict, fields, options, settings: dict) -> None:
    """Run a scenario built from the example's settings and the given options, within the resource limits;
    write and report its files.

    **Arguments:** `cls`: the scenario class; `values`: the parsed options; `fields`: its constructor fields set on
    the command line; `options`: the run options; `settings`: the example's settings.

    **Returns:** None (exits with an error message through `fail` on bad input)."""
    from hild.cli import fail
    from hild.core.resources import limits

    if not (values["simulate"] or values["theory"]):
        fail("--no-simulate and --no-theory together leave nothing to run")
    try:
        with limits(values["max_memory"], values["max_time"]):
            _run(cls, values, fields, options, settings)
    except ValueError as e:  # a bad --max-memory / --max-time, or an error found while running
        fail(str(e))
    except MemoryError:
        fail("the machine ran out of memory although the estimate fitted; lower the size or pass --max-memory")


def _run(cls, values: dict, fields, options, settings: dict) -> None:
    from hild import __version__
    from hild.analysis.compare import compare
    from hild.cli import fail, out_console
    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save

    try:
        given = {f.name: parse_value(f.name, values[f.name]) for f in fields if values[f.name] is not None}
        scenario = cls(**{**settings, **given})
        by_side = {"theory": {}, "simulate": {}}
        for name, (where, _) in options.items():
            for side in (("theory", "simulate") if where == "both" else (where,)):
                by_side[side][name] = parse_value(name, values[name])
        size = parse_value(cls.size, values[cls.size])
        seeds, seed = parse_value("seeds", values["seeds"]), parse_value("seed", values["seed"])
        sim_args = {cls.size: size, "seeds": seeds, "seed": seed, **by_side["simulate"]}
        if values["simulate"]:
            scenario.admit("simulate", **sim_args)
        if values["theory"]:
            scenario.admit("theory", **by_side["theory"])
        out_dir = output_directory(values["out"], values["overwrite"])
    except ValueError as e:
        fail(str(e))
    for name in OUTPUTS:  # an overwritten run directory holds only what this run writes
        (out_dir / name).unlink(missing_ok=True)

    timings, sim, th, written = {}, None, None, []
    try:
        if values["simulate"]:
            start = time.perf_counter()
            if "progress" in inspect.signature(scenario.simulate).parameters:
                sim_args["progress"] = True  # a bar on a terminal, else a line every few seconds
            sim = scenario.simulate(**sim_args)
            timings["simulation"] = round(time.perf_counter() - start, 3)
        if values["theory"]:
            start = time.perf_counter()
            th = scenario.theory(**by_side["theory"]) if sim is None else \
                scenario.matching_theory(sim, **by_side["theory"])
            timings["theory"] = round(time.perf_counter() - start, 3)
    except ValueError as e:
        fail(str(e))
    for name, ds in (("simulation.nc", sim), ("theory.nc", th)):
        if ds is not None:
            written.append(write_netcdf(out_dir / name, ds).name)
    diverged = {kind: _divergence(ds, cls.axis) for kind, ds in (("theory", th), ("simulation", sim))}
    agreement = None
    if sim is not None and th is not None and not bool(sim["diverged"].all()):
        c = compare(th, sim)
        agreement = {"axis": c.axis, "seeds_used": c.seeds_used, "seeds_diverged": c.seeds_diverged,
                     "variables": c.summary}
    save(scenario.figure(th, sim), out_dir / "figure.png")
    written += ["figure.png", "summary.json"]
    summary = {"model": cls.model, "params": scenario.params,
               "size": {"name": cls.size, "value": size if values["simulate"] else None},
               "seeds": list(range(seed, seed + seeds)) if values["simulate"] else [],
               "options": by_side, "hild_version": __version__, "timings_s": timings, "diverged": diverged,
               "agreement": agreement, "files": written}
    write_json(out_dir / "summary.json", summary)
    if values["as_json"]:
        typer.echo(json.dumps(summary, indent=2))
        return
    for kind, info in diverged.items():
        if info and info["runs"]:
            where = "" if cls.axis is None else f" at {cls.axis} = {info[f'{cls.axis}_diverged']:.4g}"
            out_console.print(f"[bold red]{kind} diverged[/]{where} ({info['runs']} run{'s' * (info['runs'] > 1)})")
        if info and info.get("unconverged"):
            out_console.print(f"[bold red]{kind} did not converge[/] ({info['unconverged']} point"
                              f"{'s' * (info['unconverged'] > 1)}: left out of the comparison and the figure)")
    for name, s in (agreement or {}).get("variables", {}).items():
        out_console.print(f"{name}: theory vs simulation max |err| {s['max_abs']:.3g}, "
                          f"mean |err| {s['mean_abs']:.3g}, max |z| {s['max_in_sem']:.3g}", highlight=False)
    out_console.print(f"wrote {out_dir}/ ({' '.join(written)})", highlight=False)


def _divergence(ds, axis: str | None) -> dict | None:
    """How many runs of a result diverged and the first axis value at which one did (`<axis>_diverged`; a
    point scenario has no axis); for a fixed point, how many points did not converge (`unconverged`)."""
    if ds is None:
        return None
    runs = int(ds["diverged"].sum())
    out = {"runs": runs}
    if axis is not None:
        out[f"{axis}_diverged"] = float(ds[f"{axis}_diverged"].min()) if runs else None
    if "converged" in ds:
        out["unconverged"] = int((~ds["converged"].astype(bool)).sum())
    return out


class RunGroup(typer.core.TyperGroup):
    """`hild run MODEL`: one command per registered model, built when asked for."""

    def list_commands(self, ctx):
        from hild.core.registry import models

        return list(models())

    def get_command(self, ctx, name):
        from hild.core.registry import models

        registry = models()
        return build(registry[name]) if name in registry else None
