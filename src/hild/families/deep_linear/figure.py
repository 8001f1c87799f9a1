"""The standard figure of a two-layer linear network: mode trajectories, loss, and NTK movement."""
from __future__ import annotations

from hild.core import lazy
from hild.plot import (STYLE, SIMULATION_Z, THEORY_Z, kept_seeds, log_limits, mark_divergence, paired, plt,
                       seed_count, seed_spread, simulation_label, simulation_line, source_legend, theory_line)

xr = lazy.module("xarray")


def _modes_and_loss(theory, simulation, ax_modes, ax_loss, ax_ntk=None) -> None:
    """Draw u_a(t) and the loss (and the NTK movement): theory lines on top, the simulation's seed mean with a
    +-1 sd band (seeds that diverged left out while others remain), and a mark where a run diverged."""
    th, sim = kept_seeds(theory), kept_seeds(simulation)
    source = th if th is not None else sim
    for m in range(source.sizes["mode"]):
        color, label = f"C{m % 10}", f"mode {m + 1}"
        if sim is not None:
            simulation_line(ax_modes, sim.t, sim.modes.isel(mode=m), color, label=None if th is not None else label,
                            reference=paired(sim.modes.isel(mode=m), th.modes.isel(mode=m) if th is not None else None))
        if th is not None:
            theory_line(ax_modes, th.t, th.modes.isel(mode=m), color, label=label)
    drawn = []
    for ax, name, color in ((ax_loss, "loss", "k"), (ax_ntk, "ntk_movement", "C3")):
        if ax is None:
            continue
        if sim is not None:
            reference = paired(sim[name], th[name] if th is not None else None)
            simulation_line(ax, sim.t, sim[name], color, reference=reference,
                            label=simulation_label(simulation, seed_count(sim), reference is not None))
        if th is not None:
            theory_line(ax, th.t, th[name], color, label="theory (gradient flow)")
        if name == "loss":
            drawn = [seed_spread(ds.loss)[0] for ds in (th, sim) if ds is not None]
    for ax in (ax_modes, ax_loss, ax_ntk):
        if ax is not None:
            mark_divergence(ax, theory, "t", "theory")
            mark_divergence(ax, simulation, "t", "simulation")
    ax_modes.set(xlabel="t = lr · steps", ylabel=r"mode strength $u_\alpha$")
    ax_modes.legend(fontsize=7)
    ax_loss.set(xlabel="t = lr · steps", ylabel="loss", yscale="log")
    log_limits(ax_loss, *drawn)


def figure(theory: xr.Dataset | None, simulation: xr.Dataset | None = None, title: str = ""):
    """Three panels: modes u_a(t), loss (log), NTK movement; theory lines over simulation seed means and bands.

    **Arguments:** `theory`, `simulation`: `DeepLinear` results (either may be None); `title`: the figure's title.

    **Returns:** a matplotlib Figure."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.3), constrained_layout=True)
        _modes_and_loss(theory, simulation, axes[0], axes[1], axes[2])
        source_legend(fig, axes[1])
        axes[2].set(xlabel="t = lr · steps", ylabel=r"NTK movement $\|\Theta(t)-\Theta(0)\|/\|\Theta(0)\|$",
                    yscale="symlog")
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def modes_figure(theory: xr.Dataset | None, simulation: xr.Dataset | None = None, title: str = ""):
    """Mode strengths u_a(t) and the loss: theory lines over simulation seed means and bands.

    **Arguments:** `theory`, `simulation`: results with `modes` (t, mode) and `loss` (either may be None);
    `title`. **Returns:** a matplotlib Figure."""
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(7.5, 3.3), constrained_layout=True)
        _modes_and_loss(theory, simulation, a, b)
        source_legend(fig, b)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def _units(da: xr.DataArray, axis: str) -> list[xr.DataArray]:
    """The scalar series of a variable along `axis`, one per unit (every dimension but the axis and `seed`)."""
    others = [d for d in da.dims if d not in (axis, "seed")]
    if not others:
        return [da]
    stacked = da.stack(unit=others)
    return [stacked.isel(unit=i, drop=True) for i in range(stacked.sizes["unit"])]


def lines_figure(theory: xr.Dataset | None, simulation: xr.Dataset | None, variables, axis: str, title: str = "",
                 ylabel: str = "", xlabel: str = ""):
    """One panel per variable along `axis`, one color per unit. On a continuous axis theory lines over the
    simulation's seed means and +-1 sd bands; on an integer axis (modes) theory as bars ('_') and the simulation
    as its seed mean with a +-1 sd error bar.

    **Arguments:** `theory`, `simulation`: results (either may be None); `variables`: names, or a dict name ->
    y label; `axis`: the x dimension; `title`; `ylabel`: the y label for a list of names; `xlabel`: default the
    axis name.

    **Returns:** a matplotlib Figure, one panel per variable."""
    from matplotlib.ticker import MaxNLocator

    labels = variables if isinstance(variables, dict) else {name: ylabel or name for name in variables}
    th, sim = kept_seeds(theory), kept_seeds(simulation)
    source = th if th is not None else sim
    discrete = source[axis].dtype.kind in "iu"
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(labels), figsize=(3.3 * len(labels), 3.2), constrained_layout=True,
                                 squeeze=False)
        for ax, (name, text) in zip(axes[0], labels.items()):
            if sim is not None and name in sim:
                units = _units(th[name], axis) if th is not None and name in th else None
                for j, da in enumerate(_units(sim[name], axis)):
                    reference = paired(da, units[j] if units else None)
                    label = simulation_label(simulation, seed_count(sim), reference is not None) if j == 0 else None
                    color = f"C{j % 10}"
                    if discrete:
                        mean, sd = seed_spread(da)[0], seed_spread(da if reference is None else da - reference)[1]
                        ax.errorbar(sim[axis], mean, yerr=sd, fmt="o", ms=3, capsize=2, color=color,
                                    zorder=SIMULATION_Z, label=label)
                    else:
                        simulation_line(ax, sim[axis], da, color, label=label, reference=reference)
            if th is not None and name in th:
                for j, da in enumerate(_units(th[name], axis)):
                    label, color = "theory" if j == 0 else None, f"C{j % 10}"
                    if discrete:
                        ax.plot(th[axis], seed_spread(da)[0], "_", ms=14, mew=1.5, color=color, zorder=THEORY_Z,
                                label=label)
                    else:
                        theory_line(ax, th[axis], da, color, label=label)
            mark_divergence(ax, theory, axis, "theory")
            mark_divergence(ax, simulation, axis, "simulation")
            ax.set(xlabel=xlabel or axis, ylabel=text)
            if discrete:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        source_legend(fig, *axes[0])
        if title:
            fig.suptitle(title, fontsize=9)
    return fig
