"""`hild run diffusion`: linear diffusion models, the exact theory against training and sampling."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from hild.core import validation as check
from hild.cli import fail, out_console, run_app


def _array_file(name: str, path: Optional[Path]):
    """A NumPy array from a .npy file or a whitespace-separated text file (None stays None)."""
    import numpy as np

    if path is None:
        return None
    try:
        return np.load(path) if path.suffix == ".npy" else np.loadtxt(path, ndmin=1)
    except (OSError, ValueError) as e:
        raise ValueError(f"{name}: cannot read {path} as a .npy or text array ({e})") from None


@run_app.command("diffusion")
def run_diffusion(
    d: int = typer.Option(20, help="Data dimension (>= 1)."),
    N: int = typer.Option(40, "--N", help="Training samples (>= 1)."),
    spectrum: Optional[str] = typer.Option(None, help="isotropic, power_law or given (default: given with "
                                                       "--covariance, else isotropic)."),
    exponent: float = typer.Option(1.0, help="Power-law exponent a of lambda_k ~ k^-a (>= 0)."),
    covariance: Optional[Path] = typer.Option(None, help="d x d target covariance (.npy or text file)."),
    T: int = typer.Option(1000, "--T", help="Diffusion steps of the linear schedule."),
    beta_min: float = typer.Option(1e-4, "--beta-min", help="First beta of the linear schedule, in (0, 1)."),
    beta_max: float = typer.Option(1e-2, "--beta-max", help="Last beta of the linear schedule, in (0, 1)."),
    betas: Optional[Path] = typer.Option(None, help="A given schedule beta_1..beta_T in (0, 1) (.npy or text file)."),
    ridge: float = typer.Option(0.0, help="Ridge penalty on W_t (>= 0)."),
    lr: float = typer.Option(0.05, help="GD learning rate (> 0)."),
    steps: Optional[int] = typer.Option(None, help="GD steps per denoiser (default: the exact minimiser)."),
    ema: float = typer.Option(0.0, help="EMA decay of the GD iterates, in [0, 1)."),
    draws: int = typer.Option(1, help="Fresh noise vectors per training point and GD step."),
    sampler: str = typer.Option("ddpm", help="ddpm or flow (deterministic DDIM)."),
    final_noise: bool = typer.Option(True, "--final-noise/--no-final-noise", help="Keep the sampler's noise at t=1."),
    seeds: int = typer.Option(2, help="Training sets (integer seeds seed, seed + 1, ...)."),
    seed: int = typer.Option(0, help="First integer seed."),
    n_samples: int = typer.Option(10_000, "--n-samples", help="Generated samples per training set (0 or > d)."),
    n_loss: int = typer.Option(2_000, "--n-loss", help="Monte Carlo samples per loss (0: no losses)."),
    out: Path = typer.Option(..., help="Output directory (must not exist unless --overwrite)."),
    simulate: bool = typer.Option(True, "--simulate/--no-simulate", help="Train and sample at finite d."),
    theory: bool = typer.Option(True, "--theory/--no-theory", help="The exact theory."),
    overwrite: bool = typer.Option(False, help="Replace hild's files in an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Linear diffusion model: writes theory.nc, simulation.nc, figure.png and summary.json into --out."""
    import numpy as np

    from hild.families.diffusion import LinearDiffusion, figure
    from hild.families.diffusion.simulate import check_run
    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save

    if not (simulate or theory):
        fail("--no-simulate and --no-theory together leave nothing to run")
    try:
        cov = _array_file("covariance", covariance)
        given = _array_file("betas", betas)
        scenario = LinearDiffusion(d=d, N=N, spectrum=spectrum or ("given" if cov is not None else "isotropic"),
                                   exponent=exponent, covariance=cov, T=None if given is not None else T,
                                   beta_min=beta_min, beta_max=beta_max, betas=given, ridge=ridge, lr=lr, steps=steps,
                                   ema=ema, draws=draws, sampler=sampler, final_noise=final_noise)
        check.integer("seeds", seeds, 1)
        check.integer("seed", seed, 0)
        if simulate:
            check_run(scenario, seeds, seed, None, None, n_samples, n_loss, 1000, None, "float32")
        out_dir = output_directory(out, overwrite)
    except ValueError as e:
        fail(str(e))

    summary = {"model": "diffusion", "params": scenario.params, "timings_s": {}}
    sim = th = None
    if simulate:
        start = time.perf_counter()
        sim = scenario.simulate(seeds=seeds, seed=seed, n_samples=n_samples, n_loss=n_loss,
                                progress=not as_json and sys.stderr.isatty())
        summary["timings_s"]["simulation"] = round(time.perf_counter() - start, 3)
        summary["simulation"] = {"denoiser": sim.attrs["denoiser"], "diverged_seeds": int(sim.diverged.sum())}
        write_netcdf(out_dir / "simulation.nc", sim)
    if theory:
        start = time.perf_counter()
        th = scenario.theory(seeds=seeds, seed=seed)
        summary["timings_s"]["theory"] = round(time.perf_counter() - start, 3)
        summary["theory"] = {"kl": th.kl.values.tolist(), "kl_expected": float(th.kl_expected),
                             "memorisation": th.memorisation.values.tolist(), "diverged_seeds": int(th.diverged.sum())}
        write_netcdf(out_dir / "theory.nc", th)
    if sim is not None and th is not None:
        ok = np.flatnonzero(~(sim.diverged | th.diverged).values)
        if ok.size:  # agreement over the seeds that converged in both
            s, e = sim.isel(seed=ok), th.isel(seed=ok)
            agreement = {"w_max_abs": float(np.abs(s.w - e.w).max())}
            if n_samples:
                agreement["kl_max_z"] = float(np.abs((s.kl - e.kl) / s.kl_sem).max())
                agreement["h_max_relative"] = float(np.abs(s.h / e.h - 1).max())
            if n_loss:
                agreement.update({f"{k}_max_z": float(np.abs((s[k] - e[k]) / s[f"{k}_sem"]).max())
                                  for k in ("loss_train", "loss_test", "gap")})
            if sim.attrs["denoiser"] == "trained":
                agreement["note"] = ("the theory is the mean GD path; trained denoisers add SGD noise around it, "
                                     "which raises their losses above the theory's by its variance")
            summary["agreement"] = agreement
    save(figure(th, sim, title=f"linear diffusion d={d}, N={N}, {scenario.spectrum}, "
                               f"{'minimiser' if steps is None else f'{steps} GD steps'}"), out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        for kind in ("theory", "simulation"):
            if summary.get(kind, {}).get("diverged_seeds"):
                out_console.print(f"[bold red]{kind}: {summary[kind]['diverged_seeds']} seeds diverged[/]")
        if th is not None:
            out_console.print(f"KL(generated || target), exact: {np.mean(summary['theory']['kl']):.4g} "
                              f"(Wishart law E KL {summary['theory']['kl_expected']:.4g})")
        for name, value in summary.get("agreement", {}).items():
            text = value if isinstance(value, str) else f"{value:.3g}"
            out_console.print(f"theory vs simulation, {name.replace('_', ' ')}: {text}")
        out_console.print(f"wrote {out_dir}/ ({' '.join(sorted(p.name for p in out_dir.iterdir()))})")
