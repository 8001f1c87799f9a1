"""Figures of the family: a scenario's overlap along its axis (theory line, simulation seed mean and band), and
of sample-complexity experiments: success against n / d^theta for several d (the collapse), and log n* against
log d with the fitted exponent (hild.analysis.thresholds.exponent), its interval and the paper's value."""
from __future__ import annotations

import numpy as np

from hild.core import lazy
from hild.plot import STYLE, plt

xr = lazy.module("xarray")


def collapse(ax, result: xr.Dataset, theta: float, label: str = ""):
    """Success rate (seed mean, +- its standard error) against n / d^theta, one curve per d."""
    for k, d in enumerate(result.d.values):
        r = result.sel(d=d)
        p = r.success.mean("seed").values
        se = np.sqrt(p * (1 - p) / r.sizes["seed"])
        x = r.n.values / float(d) ** theta
        ax.errorbar(x, p, yerr=se, fmt="o-", ms=3, lw=1, color=f"C{k}", capsize=1.5, label=f"d = {d}")
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    ax.set(xscale="log", xlabel="n / d" if theta == 1 else f"n / $d^{{{theta:g}}}$", ylabel="success rate",
           ylim=(-0.03, 1.03),
           title=label or result.attrs.get("learner", ""))
    ax.legend(fontsize=6)


NO_THRESHOLD = "success never crosses 1/2\ninside the grid"
"""The note an exponent panel draws when no d has a threshold."""


AXIS_LABELS = {"alpha": r"$\alpha = n / d^2$", "iteration": "FastICA iteration", "t": "t = samples / d"}
"""The x labels of the family's axes (hild.families.cumulants.scenarios)."""


def overlap(theory: xr.Dataset | None, simulation: xr.Dataset | None, axis: str, variable: str = "m",
            title: str = "", ax=None, color: str = "C0", label: str = "", ylabel: str = "overlap"):
    """One panel: the theory's `variable` along `axis` (a line, on top) and the simulation's seed mean with a band
    of one standard deviation, diverged seeds left out while others remain; a scalar `<axis>_c` of the theory
    (a threshold) as a dotted line. Drawn on `ax` (default a new figure) in `color`; `label` names the variable
    in the legend."""
    from hild.plot import kept_seeds, mark_divergence, seed_count, simulation_label, simulation_line, theory_line

    th, sim = kept_seeds(theory), kept_seeds(simulation)
    name = f"{label}: " if label else ""
    with plt.rc_context(STYLE):
        if ax is None:
            fig, ax = plt.subplots(figsize=(4.8, 3.4), constrained_layout=True)
        fig = ax.figure
        if sim is not None and variable in sim:
            simulation_line(ax, sim[axis], sim[variable], color, label=name + simulation_label(simulation,
                                                                                             seed_count(sim)))
        if th is not None and variable in th:
            theory_line(ax, th[axis], th[variable], color, label=f"{name}theory (d → ∞)")
            threshold = th.get(f"{axis}_c")
            if threshold is not None and threshold.ndim == 0 and np.isfinite(float(threshold)):
                ax.axvline(float(threshold), color="0.5", ls=":", lw=1,
                           label=f"threshold {axis}_c = {float(threshold):.3g}")
        mark_divergence(ax, theory, axis, "theory")
        mark_divergence(ax, simulation, axis, "simulation")
        ax.set(xlabel=AXIS_LABELS.get(axis, axis), ylabel=ylabel)
        if title:
            import textwrap

            ax.set_title(textwrap.fill(title, 60), fontsize=8)
        if axis == "alpha":
            from hild.plot import readable_log

            ax.set_xscale("log")
            readable_log(ax, "x")
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # off the data
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
        ax.plot(x, ref, "--", color="0.5", lw=1.0, label=f"paper: $d^{{{theta_paper:g}}}$")
    if not ok.any():  # no threshold inside the grid at any d: nothing to draw on log axes
        ax.text(0.5, 0.5, NO_THRESHOLD, ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
        ax.set(xlabel="d", ylabel="n*", title=label, xticks=[], yticks=[])  # no scale where nothing is drawn
        return
    from matplotlib.ticker import NullFormatter

    from hild.plot import readable_log

    ax.set(xscale="log", yscale="log", xlabel="d", ylabel="n*", title=label)
    ax.set_xticks(d, [f"{v:g}" for v in d])  # the dimensions measured
    ax.xaxis.set_minor_formatter(NullFormatter())
    readable_log(ax, "y")
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
