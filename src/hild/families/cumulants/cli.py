"""`hild run cumulants`: the sample-complexity experiment (exponent theta of n* ~ d^theta) of one learner of
higher-order cumulants. The per-model commands (`hild run cumulants.spectral` ...) run one scenario; this one
sweeps d and n = d^e and fits the exponent (hild.families.cumulants.complexity)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from hild.cli import fail, out_console

run = typer.Typer(add_completion=False)


@run.command("cumulants")
def sample_complexity(
    learner: str = typer.Option("spectral", help="fastica, sgd, smoothed_sgd, spectral, correlated or independent "
                                                 "(the last two: mixed cumulant model, overlap with v)."),
    d: str = typer.Option("8,16,32", help="Dimensions, a list or START:STOP:N[:log] (>= 3 values to fit theta)."),
    exponents: str = typer.Option("1:3:17", help="Grid of e in n = d^e: a list or START:STOP:N[:log]."),
    beta: float = typer.Option(5.0, help="Signal strength beta (> 0; beta_v for correlated/independent)."),
    latent: Optional[str] = typer.Option(None, help="Latent of the spike (default rademacher; laplace for the "
                                                    "mixed cumulant model)."),
    contrast: str = typer.Option("logcosh", help="FastICA / SGD contrast: logcosh, kurtosis or hermite."),
    iterations: int = typer.Option(20, help="FastICA iterations (>= 1)."),
    lr_scale: float = typer.Option(0.02, "--lr-scale", help="SGD: step lr_scale / d^2 (> 0)."),
    level: float = typer.Option(0.5, help="Success: final |overlap| > level, in [0, 1]."),
    theta: Optional[float] = typer.Option(None, help="Reference exponent for the collapse plot (default: paper)."),
    seeds: int = typer.Option(16, help="Runs per (d, n) (integer seeds seed, seed + 1, ...)."),
    seed: int = typer.Option(0, help="First integer seed."),
    out: Path = typer.Option(..., help="Output directory (must not exist unless --overwrite)."),
    overwrite: bool = typer.Option(False, help="Replace hild's files in an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Sample-complexity experiment: writes threshold.nc, figure.png and summary.json (fitted exponent) into --out."""
    import numpy as np

    from hild.core import validation as check
    from hild.core.values import parse_values
    from hild.families.cumulants import complexity
    from hild.families.cumulants import figure as cfigure
    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save

    paper = complexity.PAPER_EXPONENTS
    try:
        if learner not in paper:
            raise ValueError(f"learner must be one of {', '.join(paper)}; got {learner!r}")
        ds = [check.integer("d", int(v) if isinstance(v, float) and v.is_integer() else v, 2)
              for v in parse_values("d", d)]
        grid = np.array([check.real("exponents", v) for v in parse_values("exponents", exponents)])
        check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
        check.real("beta", beta, 0.0, strict_minimum=True), check.real("level", level, 0.0, 1.0)
        mixed = learner in ("correlated", "independent")
        options = {"latent": latent or ("laplace" if mixed else "rademacher")}
        if learner == "fastica":
            options.update(iterations=check.integer("iterations", iterations, 1), contrast=contrast)
        elif learner in ("sgd", "smoothed_sgd"):
            options.update(contrast=contrast, lr_scale=check.real("lr_scale", lr_scale, 0.0, strict_minimum=True))
        out_dir = output_directory(out, overwrite)
        start_time = time.perf_counter()
        result = complexity.sweep(learner, ds, grid, beta=beta, seeds=seeds, seed=seed, level=level,
                                  progress=True, **options)
    except ValueError as e:
        fail(str(e))
    fitted = complexity.fit(result)
    summary = {"model": "cumulants", "learner": learner, "d": ds, "exponents": grid.tolist(), "beta": beta,
               "seeds": seeds, "level": level, "options": options, "paper_theta": paper[learner],
               "fit": complexity.summary(fitted), "timings_s": {"sweep": round(time.perf_counter() - start_time, 3)},
               "confidence_interval": "bootstrap over seeds, 95%"}
    write_netcdf(out_dir / "threshold.nc", result)
    ref = paper[learner] if theta is None else theta
    save(cfigure.figure([(result, fitted, ref, learner)]), out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        out_console.print(f"theta = {float(fitted.theta):.3g}, bootstrap 95% interval [{float(fitted.theta_low):.3g}, "
                          f"{float(fitted.theta_high):.3g}] over {int(fitted.d_resolved)} values of d (paper: "
                          f"{paper[learner]:g})")
        out_console.print(f"wrote {out_dir}/ ({' '.join(sorted(p.name for p in out_dir.iterdir()))})")
