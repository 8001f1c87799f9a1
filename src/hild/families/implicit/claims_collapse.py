"""Claims of stochastic collapse in one dimension (Chen, Kunin, Yamamura, Ganguli, arXiv 2306.04251; the 1D model
and its numbers: models.md section 10, derived and checked there by Monte Carlo).

SGD on -xi theta^2 / 2 + theta^4 / 4, xi ~ N(m, s^2): the runs collapse to the invariant set {0} exactly where the
Lyapunov exponent Lambda(lr) = E ln|1 + lr xi| is negative, a window of learning rates ((0.1186, 0.6788) at m = 0.25,
s = 2), while the continuous-time (SDE) criterion lr s^2 > 2 m has no upper edge: it is the small-lr limit only.
"""
from __future__ import annotations

import math

import numpy as np

from hild.claims import Check, Outcome, at_least, at_most, claim, within
from hild.core import lazy
from hild.families.implicit import collapse
from hild.families.implicit.scenarios import COLLAPSED
from hild.plot import STYLE, plt

xr = lazy.module("xarray")

PAPERS = ("2306.04251",)
M, S = 0.25, 2.0
WINDOW = (0.1186, 0.6788)
LRS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.6, 0.8, 1.2)
"""Learning rates on both sides of the window, each with |Lambda| >= 0.004 (Lambda(0.1) = +0.0044, Lambda(0.6) =
-0.056)."""
THETA0 = 0.01
SIZES = {"quick": (400, 4000), "paper": (2000, 10000)}
"""(runs, steps) per learning rate: after `steps` a run with Lambda <= -0.005 has drifted below ln 1e-8 by > 5 of its
standard deviations (measured spread of ln|1 + lr xi| < 0.6 per step here)."""


def _runs(lrs, m, s, size, seed=0):
    """Every run's ln|theta| at each lr: the fraction collapsed among the runs that stay finite and the fraction
    blown up, the mean of ln|theta| over the finite runs, and each lr's exponent measured as the mean over the finite
    runs of (ln|theta_T| - ln theta0) / T with its standard error (the runs are independent; near 0 the quartic
    term is negligible, so a collapsing run's log-slope is the linearisation's), with Lambda and sde_rate."""
    runs, steps = SIZES[size]
    every = steps // 100
    logs = collapse.log_theta_runs(lrs, m, s, np.arange(seed, seed + runs), steps, every, THETA0)
    finite = np.isfinite(logs[..., -1])
    kept = np.where(finite[..., None], logs, np.nan)
    count = np.maximum(finite.sum(1), 1)
    per_run = (kept[..., -1] - math.log(THETA0)) / steps
    slope = np.where(finite.any(1), np.nansum(per_run, 1) / count, np.nan)
    spread = np.sqrt(np.nansum((per_run - slope[:, None]) ** 2, 1) / np.maximum(count - 1, 1))
    collapsed = (kept[..., -1] < math.log(COLLAPSED)).sum(1) / count
    mean = np.nansum(kept, 1) / count[:, None]
    mean[~finite.any(1)] = np.nan
    return xr.Dataset({"collapsed": ("lr", collapsed), "blown_up": ("lr", 1 - finite.mean(1)),
                       "slope": ("lr", slope), "slope_se": ("lr", spread / np.sqrt(count)),
                       "lyapunov": ("lr", collapse.lyapunov(np.asarray(lrs), m, s)),
                       "sde_rate": ("lr", collapse.sde_rate(np.asarray(lrs), m, s)),
                       "mean_log_theta": (("lr", "step"), mean)},
                      coords={"lr": list(lrs), "step": np.arange(0, steps + 1, every)},
                      attrs={"m": m, "s": s, "runs": runs, "steps": steps, "theta0": THETA0, "dtype": "float64",
                             "convention": "theta <- theta (1 + lr xi) - lr theta^3 (arXiv 2306.04251)"})


@claim("collapse.lyapunov_window",
       "SGD on -xi theta^2/2 + theta^4/4, xi ~ N(0.25, 2^2), collapses to the maximum theta = 0 exactly where "
       "Lambda(lr) = E ln|1 + lr xi| < 0, the window lr in (0.1186, 0.6788) (edges within 1e-3): from theta0 = 0.01, "
       "at least 95% of the runs that stay finite end below 1e-8 at every lr with Lambda < 0 and at most 5% at every "
       "lr with Lambda > 0; where no more than 1% of the runs blow up, ln|theta| falls at the rate Lambda (within 4 "
       "standard errors, and within 3% at lr = 0.2 and 0.3: -0.0503 and -0.1297). Near the upper edge a part of the "
       "runs blows up before collapsing (the quartic model's escape: hild measures 11-13% at lr 0.5 and 44-46% at 0.6, "
       "quick and paper size)", PAPERS)
def lyapunov_window(size: str, progress: bool) -> Outcome:
    low, high = collapse.collapse_window(M, S)
    ds = _runs(LRS, M, S, size)
    lam, frac, blown = ds.lyapunov.values, ds.collapsed.values, ds.blown_up.values
    checks = [within("lower edge of the window (Lambda = 0)", low, WINDOW[0], 1e-3 / WINDOW[0]),
              within("upper edge of the window (Lambda = 0)", high, WINDOW[1], 1e-3 / WINDOW[1]),
              at_least("smallest collapsed fraction (of the finite runs) over the lrs with Lambda < 0",
                       float(frac[lam < 0].min()), 0.95),
              at_most("largest collapsed fraction over the lrs with Lambda > 0", float(frac[lam > 0].max()), 0.05)]
    clean = (lam < 0) & (blown <= 0.01)
    z = np.abs(ds.slope.values - lam) / ds.slope_se.values
    checks.append(at_most("max over collapsing lrs (<= 1% blown up) |slope - Lambda| / its standard error",
                          float(z[clean].max()), 4.0))
    for lr in (0.2, 0.3):
        i = LRS.index(lr)
        checks.append(within(f"lr {lr:g}: measured slope of ln|theta| against Lambda", float(ds.slope[i]),
                             float(lam[i]), 0.03))
    numbers = {"window low": low, "window high": high, "runs per lr": ds.attrs["runs"], "steps": ds.attrs["steps"]}
    for i, lr in enumerate(LRS):
        numbers[f"lr {lr:g}: Lambda"] = float(lam[i])
        numbers[f"lr {lr:g}: collapsed fraction (finite runs)"] = float(frac[i])
        numbers[f"lr {lr:g}: blown-up fraction"] = float(blown[i])
        if lam[i] < 0:
            numbers[f"lr {lr:g}: slope of ln|theta|"] = float(ds.slope[i])
            numbers[f"lr {lr:g}: its standard error"] = float(ds.slope_se[i])
    return Outcome(checks, {"runs": ds}, _window_figure(ds, (low, high)), numbers)


def _window_figure(ds, window):
    grid = np.geomspace(0.02, 2.0, 200)
    inside = ds.lyapunov.values < 0
    with plt.rc_context(STYLE):
        fig, (a, f, b) = plt.subplots(1, 3, figsize=(12.0, 3.5), constrained_layout=True)
        a.plot(grid, collapse.lyapunov(grid, M, S), "k", lw=1.3, label=r"$\Lambda = E\ln|1+\eta\xi|$ (exact)")
        a.plot(ds.lr[inside], ds.slope[inside], "o", color="C0", ms=4, label="SGD: slope of ln|theta| (collapsing)")
        a.axhline(0, color="0.6", lw=0.8)
        for ax in (a, f):
            ax.axvspan(*window, color="C2", alpha=0.15, label=f"window ({window[0]:.4f}, {window[1]:.4f})")
        a.set(xscale="log", xlabel="learning rate", ylabel="per-step exponent", title=f"m = {M:g}, s = {S:g}")
        a.legend(fontsize=7, loc="upper left")
        f.plot(ds.lr, ds.collapsed, "s", color="C3", ms=4, label="collapsed (of the finite runs)")
        f.plot(ds.lr, ds.blown_up, "^", color="C1", ms=4, label="blown up")
        f.set(xscale="log", xlabel="learning rate", ylabel="fraction of runs", ylim=(-0.05, 1.3),
              title=f"{ds.attrs['runs']} runs x {ds.attrs['steps']} steps, |theta| < 1e-8")
        f.legend(fontsize=7, loc="upper left")
        for i, lr in enumerate(ds.lr.values):
            if i % 2 == 0:
                b.plot(ds.step, ds.mean_log_theta.isel(lr=i), color=f"C{i // 2}", lw=1.2, label=f"lr {lr:g} (SGD)")
                b.plot(ds.step, math.log(THETA0) + float(ds.lyapunov[i]) * ds.step, ls=":", color=f"C{i // 2}", lw=1)
        b.set(xlabel="step", ylabel="mean ln|theta| (finite runs)",
              title=r"SGD (lines) and $\ln\theta_0 + \Lambda t$ (dotted)", ylim=(-60, 5))
        b.legend(fontsize=7)
    return fig


@claim("collapse.sde_is_small_lr_limit",
       "The continuous-time criterion L''(0) + (lr/4) D''(0) > 0 (log-drift m - lr s^2/2 < 0) is only the small-lr "
       "limit of discrete SGD's Lambda(lr) = E ln|1 + lr xi|: Lambda/lr - (m - lr s^2/2) = -lr m^2/2 + O(lr^2) "
       "(within 2% at lr = 1e-4); at m = 1, s = 2 the SDE predicts collapse for lr > 0.5 but Lambda > 0 at every lr in "
       "[0.01, 3] and no SGD run collapses at lr = 1 (nor at m = 0.25, s = 2, lr = 1.2, beyond the window's upper "
       "edge)",
       PAPERS)
def sde_is_small_lr_limit(size: str, progress: bool) -> Outcome:
    small = 1e-4
    curvature = (collapse.lyapunov(small, M, S) / small - collapse.sde_rate(small, M, S)) / small
    grid = np.geomspace(0.01, 3.0, 120)
    lam = collapse.lyapunov(grid, 1.0, S)
    sde = collapse.sde_rate(grid, 1.0, S)
    ds = _runs((1.0,), 1.0, S, size, seed=10_000)
    far = _runs((1.2,), M, S, size, seed=20_000)
    checks = [within("(Lambda/lr - sde_rate)/lr at lr = 1e-4, m = 0.25, s = 2 (-> -m^2/2)", float(curvature),
                     -M * M / 2, 0.02),
              at_least("m = 1, s = 2: min Lambda over lr in [0.01, 3]", float(lam.min()), 1e-6),
              Check("m = 1, s = 2: sde_rate < 0 (collapse predicted) at lr = 1", float(sde[np.argmin(abs(grid - 1))]),
                    "< 0", bool(collapse.sde_rate(1.0, 1.0, S) < 0)),
              at_most("m = 1, s = 2, lr = 1: collapsed fraction of SGD runs", float(ds.collapsed[0]), 0.0),
              at_most("m = 0.25, s = 2, lr = 1.2 (SDE: collapse): collapsed fraction", float(far.collapsed[0]), 0.0)]
    numbers = {"(Lambda/lr - sde_rate)/lr at lr 1e-4": float(curvature), "-m^2/2": -M * M / 2,
               "m = 1: Lambda(0.5)": float(collapse.lyapunov(0.5, 1.0, S)),
               "m = 1: Lambda(1)": float(collapse.lyapunov(1.0, 1.0, S)),
               "m = 1: SDE threshold lr": 2 * 1.0 / S ** 2,
               "m = 1, lr 1: blown-up fraction": float(ds.blown_up[0]),
               "m = 0.25, lr 1.2: blown-up fraction": float(far.blown_up[0])}
    return Outcome(checks, {"m1_lr1": ds, "m025_lr12": far}, _limit_figure(), numbers)


def _limit_figure():
    grid = np.geomspace(1e-3, 3.0, 200)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
        for ax, m in zip(axes, (M, 1.0)):
            ax.plot(grid, collapse.lyapunov(grid, m, S) / grid, "k", lw=1.3, label=r"discrete: $\Lambda(\eta)/\eta$")
            ax.plot(grid, collapse.sde_rate(grid, m, S), "C0--", lw=1.3, label=r"SDE: $m - \eta s^2/2$")
            ax.axhline(0, color="0.6", lw=0.8)
            ax.set(xscale="log", xlabel=r"learning rate $\eta$", ylabel="log-drift per unit lr x steps",
                   title=f"m = {m:g}, s = {S:g}", ylim=(-4, 2))
            ax.legend(fontsize=7, loc="lower left")
    return fig
