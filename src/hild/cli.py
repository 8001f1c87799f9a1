"""The `hild` command line: list models and claims, run a scenario, reproduce a claim.

Errors in the input exit with status 2 and one line on stderr naming the parameter; a claim that
does not hold exits 1.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from hild import validation as check

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="hild: high-dimensional learning dynamics (theory, simulation, paper claims).")
run_app = typer.Typer(no_args_is_help=True, help="Run one scenario: theory, simulation, comparison and figure.")
app.add_typer(run_app, name="run")
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
    from hild.compare import compare
    from hild.deep_linear import DeepLinear, figure
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

    from hild.diffusion import LinearDiffusion, figure
    from hild.diffusion.simulate import check_run
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


@run_app.command("signal_prop")
def run_signal_prop(
    T: int = typer.Option(128, "--T", help="Tokens (>= 2)."),
    d: int = typer.Option(256, help="Width (>= 2)."),
    L: int = typer.Option(30, "--L", help="Blocks (>= 1)."),
    heads: int = typer.Option(1, help="Attention heads (divides d)."),
    beta: float = typer.Option(0.5, help="Query-key variance: score sd beta sqrt((1 - c) ln T) (>= 0)."),
    sigma_v2: float = typer.Option(0.2, "--sigma-v2", help="Value weight variance x d (>= 0)."),
    sigma_w2: float = typer.Option(0.2, "--sigma-w2", help="MLP weight variance x fan-in (>= 0)."),
    sigma_b2: float = typer.Option(4e-4, "--sigma-b2", help="Bias variance (>= 0)."),
    alpha_a: float = typer.Option(1.0, "--alpha-A", help="Attention residual strength (>= 0)."),
    alpha_m: float = typer.Option(1.0, "--alpha-M", help="MLP residual strength (>= 0)."),
    mlp: str = typer.Option("relu", help="relu, tanh, gelu or none."),
    norm: str = typer.Option("post", help="post or pre (LayerNorm placement)."),
    p0: float = typer.Option(0.2, "--p0", help="Input token cosine, in [0, 1)."),
    rem: str = typer.Option("asymptotic", help="Attention theory: asymptotic (T -> infinity REM) or finite (finite-T REM)."),
    seeds: int = typer.Option(4, help="Number of simulated seeds."),
    seed: int = typer.Option(0, help="First integer seed."),
    out: Path = typer.Option(..., help="Output directory (must not exist unless --overwrite)."),
    simulate: bool = typer.Option(True, "--simulate/--no-simulate", help="Run the real random stack."),
    overwrite: bool = typer.Option(False, help="Replace hild's files in an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Random transformer at initialisation: writes theory.nc, simulation.nc, figure.png and summary.json into --out."""
    import numpy as np

    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save
    from hild.signal_prop import RandomTransformer
    from hild.signal_prop.figure import figure

    try:
        scenario = RandomTransformer(T=T, d=d, L=L, heads=heads, beta=beta, sigma_v2=sigma_v2, sigma_w2=sigma_w2,
                                     sigma_b2=sigma_b2, alpha_A=alpha_a, alpha_M=alpha_m, mlp=mlp, norm=norm, p0=p0)
        check.integer("seeds", seeds, 1)
        check.integer("seed", seed, 0)
        start = time.perf_counter()
        th = scenario.theory(rem)
        out_dir = output_directory(out, overwrite)
    except ValueError as e:
        fail(str(e))
    summary = {"model": "signal_prop", "params": scenario.params, "rem": rem,
               "timings_s": {"theory": round(time.perf_counter() - start, 3)},
               "theory": {"final_cosine": float(th.cos[-1]), "frozen_blocks": int(th.frozen.sum())}}
    write_netcdf(out_dir / "theory.nc", th)
    sim = None
    if simulate:
        start = time.perf_counter()
        sim = scenario.simulate(seeds=seeds, seed=seed)
        summary["timings_s"]["simulation"] = round(time.perf_counter() - start, 3)
        summary["simulation"] = {"final_cosine": float(sim.cos.mean("seed")[-1]),
                                 "diverged_seeds": int(sim.diverged.sum())}
        ok = ~sim.diverged.values
        if ok.any():
            s = sim.isel(seed=np.flatnonzero(ok))
            summary["agreement"] = {"cos_max_abs": float(np.abs(s.cos.mean("seed") - th.cos).max()),
                                    "entropy_ratio_max_abs": float(np.abs(s.entropy_ratio.mean("seed")
                                                                          - th.entropy_ratio).max()),
                                    "pr_max_abs": float(np.abs(s.pr.mean("seed") - th.pr).max())}
        write_netcdf(out_dir / "simulation.nc", sim)
    save(figure(th, sim, title=f"{norm}-LN, T={T}, d={d}, L={L}, beta={beta:g}, alpha_A={alpha_a:g}, "
                              f"alpha_M={alpha_m:g}, {mlp} MLP"), out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        if summary.get("simulation", {}).get("diverged_seeds"):
            out_console.print(f"[bold red]{summary['simulation']['diverged_seeds']} seeds diverged[/]")
        out_console.print(f"final token cosine: theory {summary['theory']['final_cosine']:.4g}"
                          + (f", simulation {summary['simulation']['final_cosine']:.4g}" if sim is not None else ""))
        for name, value in summary.get("agreement", {}).items():
            out_console.print(f"theory vs simulation, {name.replace('_', ' ')}: {value:.3g}")
        out_console.print(f"wrote {out_dir}/ ({' '.join(sorted(p.name for p in out_dir.iterdir()))})")


phase_app = typer.Typer(no_args_is_help=True, help="Phase diagrams: theory over a grid, simulated points on top.")
app.add_typer(phase_app, name="phase")


def _range(name: str, text: str):
    """'lo:hi:n' -> n evenly spaced values (geometric with 'log:lo:hi:n')."""
    import numpy as np

    parts = text.split(":")
    try:
        geometric = parts[0] == "log"
        lo, hi, n = float(parts[-3]), float(parts[-2]), int(parts[-1])
        if len(parts) != 3 + geometric:
            raise ValueError
    except (ValueError, IndexError):
        raise ValueError(f"{name} must be 'lo:hi:n' or 'log:lo:hi:n'; got {text!r}") from None
    if n < 2 or not lo < hi or lo < 0 or (geometric and lo <= 0):
        raise ValueError(f"{name} must have 0 <= lo < hi (lo > 0 for log) and n >= 2; got {text!r}")
    return np.geomspace(lo, hi, n) if geometric else np.linspace(lo, hi, n)


@phase_app.command("signal_prop")
def phase_signal_prop(
    diagram: str = typer.Option("rank_entropy", help="rank_entropy (beta x alpha_A) or order_chaos (two of "
                                                     "alpha_A, alpha_M, sigma_w2, sigma_v2)."),
    x: str = typer.Option("sigma_w2", help="order_chaos: the x axis."),
    y: str = typer.Option("alpha_M", help="order_chaos: the y axis."),
    x_range: str = typer.Option("0.1:5:30", "--x-range", help="x values 'lo:hi:n' or 'log:lo:hi:n' (rank_entropy: beta)."),
    y_range: str = typer.Option("log:0.1:10:30", "--y-range", help="y values (rank_entropy: alpha_A)."),
    T: int = typer.Option(64, "--T", help="Tokens (>= 2)."),
    d: int = typer.Option(128, help="Width of the simulated points (>= 2)."),
    L: int = typer.Option(12, "--L", help="Blocks (>= 1)."),
    beta: float = typer.Option(0.5, help="Query-key variance (order_chaos)."),
    sigma_v2: float = typer.Option(0.2, "--sigma-v2", help="Value weight variance (>= 0)."),
    sigma_w2: float = typer.Option(0.2, "--sigma-w2", help="MLP weight variance (>= 0)."),
    sigma_b2: float = typer.Option(4e-4, "--sigma-b2", help="Bias variance (>= 0)."),
    alpha_a: float = typer.Option(1.0, "--alpha-A", help="Attention residual strength (>= 0)."),
    alpha_m: float = typer.Option(1.0, "--alpha-M", help="MLP residual strength (>= 0)."),
    mlp: str = typer.Option("relu", help="relu, tanh, gelu or none."),
    p0: float = typer.Option(0.2, "--p0", help="Input token cosine, in [0, 1)."),
    sim_points: int = typer.Option(0, "--sim-points", help="Simulate a k x k subgrid (0: theory only)."),
    seeds: int = typer.Option(2, help="Seeds per simulated point."),
    out: Path = typer.Option(..., help="Output directory (must not exist unless --overwrite)."),
    overwrite: bool = typer.Option(False, help="Replace hild's files in an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Signal-propagation phase diagram: writes phase.nc (and simulation.nc), figure.png and summary.json into --out."""
    import numpy as np

    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save
    from hild.signal_prop import RandomTransformer
    from hild.signal_prop import phase
    try:
        if diagram not in ("rank_entropy", "order_chaos"):
            raise ValueError(f"diagram must be 'rank_entropy' or 'order_chaos'; got {diagram!r}")
        scenario = RandomTransformer(T=T, d=d, L=L, beta=beta, sigma_v2=sigma_v2, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                                     alpha_A=alpha_a, alpha_M=alpha_m, mlp=mlp, p0=p0)
        xs, ys = _range("x-range", x_range), _range("y-range", y_range)
        check.integer("sim_points", sim_points, 0)
        check.integer("seeds", seeds, 1)
        start = time.perf_counter()
        if diagram == "rank_entropy":
            th, _ = phase.rank_entropy(scenario, xs, ys)
        else:
            th, _ = phase.order_chaos(scenario, x, xs, y, ys)
        seconds = time.perf_counter() - start
        out_dir = output_directory(out, overwrite)
    except ValueError as e:
        fail(str(e))
    summary = {"model": "signal_prop", "diagram": diagram, "params": scenario.params,
               "timings_s": {"theory": round(seconds, 3)}, "grid": [int(n) for n in th.sizes.values()]}
    sim = None
    if sim_points:
        start = time.perf_counter()
        if diagram == "rank_entropy":
            _, sim = phase.rank_entropy(scenario, xs, ys, sim_points=sim_points, seeds=seeds)
            agree = sim.phase == th.phase.sel(beta=sim.beta, alpha_A=sim.alpha_A)
            summary["agreement"] = {"phase_fraction": float(agree.mean())}
        else:
            _, sim = phase.order_chaos(scenario, x, xs, y, ys, sim_points=sim_points, seeds=seeds)
            at = th.sel({x: sim[x], y: sim[y]})
            summary["agreement"] = {"lambda_a_sign_fraction": float((np.sign(sim.lambda_a) == np.sign(at.lambda_a)).mean()),
                                    "lambda_a_max_abs": float(np.abs(sim.lambda_a - at.lambda_a).max()),
                                    "lambda_g_max_abs": float(np.abs(sim.lambda_g - at.lambda_g).max())}
        summary["timings_s"]["simulation"] = round(time.perf_counter() - start, 3)
        write_netcdf(out_dir / "simulation.nc", sim)
    write_netcdf(out_dir / "phase.nc", th)
    save(phase.figure(th, sim), out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        out_console.print(f"theory grid {' x '.join(map(str, summary['grid']))} in {seconds:.2f} s")
        for name, value in summary.get("agreement", {}).items():
            out_console.print(f"simulated points vs theory, {name.replace('_', ' ')}: {value:.3g}")
        out_console.print(f"wrote {out_dir}/ ({' '.join(sorted(p.name for p in out_dir.iterdir()))})")


@run_app.command("cumulants")
def run_cumulants(
    learner: str = typer.Option("spectral", help="fastica, sgd, smoothed_sgd, spectral, correlated or independent "
                                                 "(the last two: mixed cumulant model, overlap with v)."),
    d: str = typer.Option("8,16,32", help="Comma-separated dimensions (>= 3 values to fit an exponent)."),
    exponents: str = typer.Option("1.0:3.0:0.125", help="Grid of e in n = d^e, as start:stop:step or a list."),
    beta: float = typer.Option(5.0, help="Signal strength beta (> 0; beta_v for correlated/independent)."),
    latent: Optional[str] = typer.Option(None, help="Latent of the spike (default rademacher; laplace for the "
                                                    "mixed cumulant model)."),
    contrast: str = typer.Option("logcosh", help="FastICA / SGD contrast: logcosh or kurtosis."),
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

    from hild.cumulants import figure as cfigure
    from hild.cumulants import threshold as th
    from hild.io import output_directory, write_json, write_netcdf
    from hild.plot import save

    paper = {"fastica": 4.0, "sgd": 3.0, "smoothed_sgd": 2.0, "spectral": 2.0, "correlated": 1.0,
             "independent": 1.0}
    try:
        if learner not in paper:
            raise ValueError(f"learner must be one of {', '.join(paper)}; got {learner!r}")
        ds = [check.integer("d", int(v), 2) for v in d.split(",")]
        if ":" in exponents:
            start, stop, step = (float(v) for v in exponents.split(":"))
            grid = np.arange(start, stop + step / 2, check.real("exponents step", step, 0.0, strict_minimum=True))
        else:
            grid = np.array([float(v) for v in exponents.split(",")])
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
        result = th.sweep(learner, ds, grid, beta=beta, seeds=seeds, seed=seed, level=level,
                          progress=not as_json and sys.stderr.isatty(), **options)
    except ValueError as e:
        fail(str(e))
    fitted = th.fit(result)
    summary = {"model": "cumulants", "learner": learner, "d": ds, "exponents": grid.tolist(), "beta": beta,
               "seeds": seeds, "level": level, "options": options, "paper_theta": paper[learner],
               "fit": th.summary(fitted), "timings_s": {"sweep": round(time.perf_counter() - start_time, 3)},
               "confidence_interval": "bootstrap over seeds, 95%"}
    write_netcdf(out_dir / "threshold.nc", result)
    ref = paper[learner] if theta is None else theta
    save(cfigure.figure([(result, fitted, ref, learner)]), out_dir / "figure.png")
    write_json(out_dir / "summary.json", summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        out_console.print(f"theta = {fitted['theta']:.3g}, bootstrap 95% interval [{fitted['ci_low']:.3g}, "
                          f"{fitted['ci_high']:.3g}] over {fitted['measured_d']} values of d (paper: "
                          f"{paper[learner]:g})")
        out_console.print(f"wrote {out_dir}/ ({' '.join(sorted(p.name for p in out_dir.iterdir()))})")


# --- sweeps ---------------------------------------------------------------------------------------

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
