"""Figures of the in-context regression family: the estimators' error per position, and over the pool size M."""
from __future__ import annotations

import numpy as np

from hild.plot import STYLE, plt, readable_log, simulation_label, simulation_line, source_legend, theory_line

ESTIMATORS = {"mse_dmmse": ("dMMSE", "C0"), "mse_ridge": ("ridge", "C1")}


def positions(theory, simulation, title: str = ""):
    """`mse_dmmse` and `mse_ridge` over the position k, one panel per task kind (pool, new): theory lines over
    the simulation's seed mean with a +-1 sd band."""
    source = theory if theory is not None else simulation
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(6.6, 3.2), constrained_layout=True)  # own scales: pool and new errors differ
        for ax, tasks in zip(axes, source.tasks.values):
            for name, (label, color) in ESTIMATORS.items():
                if simulation is not None:
                    simulation_line(ax, simulation.k, simulation[name].sel(tasks=tasks), color,
                                    label=f"{label}: {simulation_label(simulation)}")
                if theory is not None:
                    theory_line(ax, theory.k, theory[name].sel(tasks=tasks), color, label=f"{label}: theory")
            ax.set(xlabel="position k", ylabel="MSE (label noise included)", title=f"{tasks} tasks", yscale="log")
            readable_log(ax, "y")
        source_legend(fig, *axes)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def over_pool(M, curves: dict, ridge: dict, floor: float, title: str = "", ylabel: str = "MSE at the last position"):
    """Errors over the pool size M (log2 axis): `curves` maps a label to (values over M, color, style), `ridge`
    a label to (a constant, color): ridge's error, which does not depend on M; `floor`: the label noise sigma^2."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 3.4), constrained_layout=True)
        for label, (values, color, style) in curves.items():
            ax.plot(M, values, style, color=color, lw=1.4, ms=4, label=label)
        for label, (value, color) in ridge.items():
            ax.axhline(value, color=color, lw=1.0, ls=":", label=label)
        ax.axhline(floor, color="0.5", lw=0.8, ls="-.", label=r"label noise $\sigma^2$")
        ax.set(xscale="log", yscale="log", xlabel="pool size M (tasks)", ylabel=ylabel)
        ax.set_xticks(M[::max(1, len(M) // 6)], [f"$2^{{{int(np.log2(m))}}}$" for m in M[::max(1, len(M) // 6)]])
        ax.legend(fontsize=7)
        if title:
            ax.set_title(title, fontsize=9)
    return fig
