"""Figures of sample-complexity experiments: success against n / d^theta for several d (the collapse), and
log n* against log d with the fitted exponent, its interval and the paper's value."""
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


def exponent(ax, fitted: dict, theta_paper: float, label: str = ""):
    """n*(d) on log-log axes with the fitted line, its 95% interval in the legend, and the paper's slope."""
    d, n = np.asarray(fitted["d"], float), np.asarray(fitted["n_star"], float)
    ok = np.isfinite(n)
    ax.plot(d[ok], n[ok], "o", color="k", ms=4, label="n*(d) (logistic fit at 1/2)")
    if np.isfinite(fitted["theta"]):
        x = np.geomspace(d.min(), d.max(), 50)
        ax.plot(x, np.exp(fitted["intercept"]) * x ** fitted["theta"], "-", color="C3", lw=1.2,
                label=f"fit θ = {fitted['theta']:.2f} [{fitted['ci_low']:.2f}, {fitted['ci_high']:.2f}]")
        ref = n[ok][-1] * (x / d[ok][-1]) ** theta_paper
        ax.plot(x, ref, "--", color="0.5", lw=1.0, label=f"paper: d^{theta_paper:g}")
    if not ok.any():  # no threshold inside the grid at any d: nothing to draw on log axes
        ax.text(0.5, 0.5, "success never crosses 1/2\ninside the grid", ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
        ax.set(xlabel="d", ylabel="n*", title=label)
        return
    ax.set(xscale="log", yscale="log", xlabel="d", ylabel="n*", title=label)
    ax.legend(fontsize=6)


def figure(panels: list[tuple[xr.Dataset, dict, float, str]], title: str = ""):
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
