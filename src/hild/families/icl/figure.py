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
    return ax.figure


def transformer_positions(theories, simulations: dict, title: str = "", axes=None):
    """The pretrained transformer's MSE over the position k at several pool sizes, one panel per task kind (pool,
    new): `simulations` maps M to a simulation (its seed mean, solid, one color per M), `theories` maps M to the
    Bayes references at that M (or is one theory, or None): dMMSE dashed in the same color, ridge (which does not
    depend on M) dotted black; `axes`: two axes to draw in (None: a new figure). **Returns:** the figure."""
    if theories is not None and not isinstance(theories, dict):
        theories = {M: theories for M in simulations} or {None: theories}
    theories = theories or {}
    with plt.rc_context(STYLE):
        if axes is None:
            fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.3), constrained_layout=True)
        fig = axes[0].figure
        for ax, tasks in zip(axes, ("pool", "new")):
            for i, M in enumerate(sorted(set(simulations) | set(theories), key=lambda m: (m is None, m))):
                color = f"C{i % 10}"
                tag = "" if M is None else f"M = 2^{np.log2(M):g}"
                if M in simulations:
                    sim = simulations[M]
                    ax.plot(sim.k, sim.mse.sel(tasks=tasks).mean("seed"), "o-", color=color, lw=1.3, ms=3,
                            label=f"transformer, {tag}")
                if M in theories:
                    th = theories[M]
                    ax.plot(th.k, th.mse_dmmse.sel(tasks=tasks), "--", color=color, lw=1.0, label=f"dMMSE, {tag}")
            ridge = next(iter(theories.values()), None)
            if ridge is not None:
                ax.plot(ridge.k, ridge.mse_ridge.sel(tasks=tasks), ":", color="k", lw=1.4, label="ridge")
            ax.set(xlabel="position k", ylabel="MSE (label noise included)", title=f"{tasks} tasks", yscale="log")
            readable_log(ax, "y")
        handles, labels = axes[1].get_legend_handles_labels()  # below the panels: the curves fill them
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 5), fontsize=6)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def reference_distances(M, to_dmmse, to_ridge, M_star=None, band=None, title: str = "", ax=None):
    """The distance of the transformer's error to each Bayes reference over the pool size M (log2 axis):
    `to_dmmse`, `to_ridge` (seeds, len(M)): each seed's points and their mean; `M_star`, `band`: the measured
    crossover and its range (None: not found in the grid); `ax`: the axes to draw in (None: a new figure).
    **Returns:** the figure."""
    with plt.rc_context(STYLE):
        if ax is None:
            _, ax = plt.subplots(figsize=(4.8, 3.4), constrained_layout=True)
        for values, color, label in ((to_dmmse, "C0", "to dMMSE"), (to_ridge, "C1", "to ridge")):
            values = np.atleast_2d(values)
            ax.plot(M, values.mean(0), "o-", color=color, lw=1.4, ms=4, label=f"distance {label}")
            for row in values:
                ax.plot(M, row, ".", color=color, ms=3, alpha=0.5)
        if M_star is not None:
            ax.axvline(M_star, color="k", lw=1.0, ls="--", label=f"M* = 2^{np.log2(M_star):.1f} (measured)")
            if band is not None:
                ax.axvspan(*band, color="0.85", zorder=0)
        ax.set(xscale="log", xlabel="pool size M (tasks)",
               ylabel="mean over k of |log(MSE / MSE_ref)|, new tasks")
        ax.set_xticks(M[::max(1, len(M) // 7)], [f"$2^{{{int(np.log2(m))}}}$" for m in M[::max(1, len(M) // 7)]])
        ax.legend(fontsize=7)
        if title:
            ax.set_title(title, fontsize=9)
    return ax.figure
