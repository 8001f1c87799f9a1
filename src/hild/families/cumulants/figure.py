"""Figures of the family: a scenario's overlap along its axis (theory line, simulation seed mean and band), and
of sample-complexity experiments: success against n / d^theta for several d (the collapse), and log n* against
log d with the fitted exponent (hild.analysis.thresholds.exponent), its interval and the paper's value."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from hild.plot import STYLE


def collapse(ax, result: xr.Dataset, theta: float, label: str = ""):
    """Success rate (seed mean, +- its standard error) against n / d^theta, one curve per d."""
    for k, d in enumerate(result.d.values):
        r = result.sel(d=d)
        p = r.success.mean("seed").values
        se = np.sqrt(p * (1 - p) / r.sizes["seed"])
        x = r.n.values / float(d) ** theta
        ax.errorbar(x, p, yerr=se, fmt="o-", ms=3, lw=1, color=f"C{k}", capsize=1.5, label=f"d = {d}")
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    ax.set(xscale="log", xlabel=f"n / d^{theta:g}", ylabel="success rate", ylim=(-0.03, 1.03),
           title=label or result.attrs.get("learner", ""))
    ax.legend(fontsize=6)


NO_THRESHOLD = "success never crosses 1/2\ninside the grid"
"""The note an exponent panel draws when no d has a threshold."""


def overlap(theory: xr.Dataset | None, simulation: xr.Dataset | None, axis: str, variable: str = "m",
            title: str = "", ax=None):
    """One panel: the theory's `variable` along `axis` (line) and the simulation's seed mean with a band of one
    standard deviation (points), diverged seeds left out; drawn on `ax` (default a new figure)."""
    with plt.rc_context(STYLE):
        if ax is None:
            fig, ax = plt.subplots(figsize=(4.5, 3.2), constrained_layout=True)
        fig = ax.figure
        color = f"C{len(ax.lines) // 2}"
        if simulation is not None and variable in simulation:
            sim = simulation[variable]
            if "diverged" in simulation and "seed" in simulation["diverged"].dims:
                sim = sim.sel(seed=simulation.seed[~simulation["diverged"].values])
            x = simulation[axis].values
            if sim.sizes.get("seed", 0):
                mean, sd = sim.mean("seed").values, sim.std("seed").values
                ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.25, lw=0)
                d = simulation.attrs.get("d", "?")
                ax.plot(x, mean, "o", ms=3, color=color,
                        label=f"{variable}: simulation d = {d}, {sim.sizes['seed']} seeds")
        if theory is not None and variable in theory:
            ax.plot(theory[axis].values, theory[variable].values, "-", color=color, lw=1.2,
                    label=f"{variable}: theory (d → ∞)")
        ax.set(xlabel=axis, ylabel="overlap", title=title)
        if axis == "alpha":
            from matplotlib.ticker import NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=7)
    return fig


def exponent(ax, fitted: xr.Dataset, theta_paper: float, label: str = ""):
    """n*(d) on log-log axes with the fitted line, its 95% interval in the legend, and the paper's slope;
    `fitted` as returned by hild.analysis.thresholds.exponent. Without any threshold, the note NO_THRESHOLD."""
    d, n = fitted.d.values.astype(float), fitted.n_star.values.astype(float)
    theta = float(fitted.theta)
    ok = np.isfinite(n)
    ax.plot(d[ok], n[ok], "o", color="k", ms=4, label=f"n*(d) ({fitted.attrs.get('method', 'logistic')})")
    if np.isfinite(theta):
        x = np.geomspace(d.min(), d.max(), 50)
        ax.plot(x, np.exp(float(fitted.intercept)) * x ** theta, "-", color="C3", lw=1.2,
                label=f"fit θ = {theta:.2f} [{float(fitted.theta_low):.2f}, {float(fitted.theta_high):.2f}]")
        ref = n[ok][-1] * (x / d[ok][-1]) ** theta_paper
        ax.plot(x, ref, "--", color="0.5", lw=1.0, label=f"paper: d^{theta_paper:g}")
    if not ok.any():  # no threshold inside the grid at any d: nothing to draw on log axes
        ax.text(0.5, 0.5, NO_THRESHOLD, ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
        ax.set(xlabel="d", ylabel="n*", title=label)
        return
    ax.set(xscale="log", yscale="log", xlabel="d", ylabel="n*", title=label)
    ax.legend(fontsize=6)


def figure(panels: list[tuple[xr.Dataset, xr.Dataset, float, str]], title: str = ""):
    """One column per experiment (result, fit, paper's theta, label): collapse above, exponent below."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, len(panels), figsize=(3.6 * len(panels), 6), constrained_layout=True,
                                 squeeze=False)
        for j, (result, fitted, theta, label) in enumerate(panels):
            collapse(axes[0, j], result, theta, label)
            exponent(axes[1, j], fitted, theta, label)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig
