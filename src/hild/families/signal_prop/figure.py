"""Figures of signal propagation: token cosine against depth, attention statistics and gradients per layer."""
from __future__ import annotations

from hild.core import lazy
from hild.plot import STYLE, plt

xr = lazy.module("xarray")


def cosine_axes(ax, theory: xr.Dataset | None, simulation: xr.Dataset | None, color="C0", label: str = ""):
    """The mean token cosine against depth: theory as a line on top, the simulation's seed mean as dots with the
    5-95% quantile band of the pairwise cosines (seed mean), diverged seeds left out while others remain.

    **Arguments:** `ax`: a matplotlib Axes; `theory`, `simulation`: `RandomTransformer` results (either may be
    None); `color`; `label`: prefixed to the legend entries.

    **Returns:** None (draws on `ax`)."""
    from hild.plot import SIMULATION_Z, THEORY_Z, kept_seeds, mark_divergence, seed_count

    name = f"{label}: " if label else ""
    th, sim = kept_seeds(theory), kept_seeds(simulation)
    if sim is not None:
        layer = sim.layer.values
        band = sim.cos_quantile.mean("seed")
        ax.fill_between(layer, band.sel(quantile=0.05), band.sel(quantile=0.95), color=color, alpha=0.2, lw=0,
                        zorder=SIMULATION_Z - 1, label=f"{name}5-95% of the pairwise cosines")
        n, d = seed_count(simulation), simulation.attrs.get("d", "?")
        ax.plot(layer, sim.cos.mean("seed"), "o", ms=3, color=color, zorder=SIMULATION_Z,
                label=f"{name}simulation d = {d}, {seed_count(sim)} of {n} seeds (mean)"
                if seed_count(sim) != n else f"{name}simulation d = {d}, {n} seed{'s' * (n > 1)} (mean)")
    if th is not None:
        ax.plot(th.layer.values, th.cos.values, "-", color=color, lw=1.4, zorder=THEORY_Z,
                label=f"{name}theory" if label else "theory (d → ∞)")
    mark_divergence(ax, simulation, "layer", "simulation")
    ax.set(xlabel="layer ℓ", ylabel="mean token cosine", ylim=(-0.05, 1.05))


def figure(theory: xr.Dataset | None, simulation: xr.Dataset | None = None, title: str = ""):
    """Three panels: cosine against depth (and after each attention sub-block); attention entropy / ln T and
    inverse participation ratio of the block producing each layer; the gradient norm relative to the top layer.
    Theory as lines above the simulation's seed means (dots); one legend below the panels says which is which.

    **Arguments:** `theory`, `simulation`: `RandomTransformer` results (either may be None); `title`.

    **Returns:** a matplotlib Figure."""
    from matplotlib.ticker import MaxNLocator

    from hild.plot import SIMULATION_Z, THEORY_Z, kept_seeds, mark_divergence, readable_log

    th, sim = kept_seeds(theory), kept_seeds(simulation)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.4), constrained_layout=True)
        cosine_axes(axes[0], theory, simulation)
        if th is not None:
            axes[0].plot(th.layer, th.cos_attn, ":", color="C0", lw=1, zorder=THEORY_Z,
                         label="after attention (theory)")
        axes[0].legend(fontsize=6)
        ax = axes[1]
        for name, color, marker, text in (("entropy_ratio", "C1", "o", "entropy / ln T"),
                                          ("attention_ipr", "C2", "s", "inverse participation ratio")):
            if th is not None:
                ax.plot(th.layer, th[name].clip(0, 1.2) if name == "entropy_ratio" else th[name], "-", color=color,
                        zorder=THEORY_Z, label=f"{text} (REM, T → ∞)")
            if sim is not None:
                ax.plot(sim.layer, sim[name].mean("seed"), marker, ms=3, color=color, zorder=SIMULATION_Z,
                        label=f"{text} (simulation, seed mean)")
        ax.set(xlabel="layer ℓ (its block's attention)", ylabel="attention statistics", ylim=(-0.05, 1.2))
        ax.legend(fontsize=6)
        ax = axes[2]
        if th is not None:
            ax.plot(th.layer, th.grad_ratio, "-", color="C3", zorder=THEORY_Z, label="theory")
        if sim is not None:
            ax.plot(sim.layer, sim.grad_ratio.mean("seed"), "o", ms=3, color="C3", zorder=SIMULATION_Z,
                    label="backprop in the simulation (seed mean)")
        ax.set(xlabel="layer ℓ", yscale="log",
               ylabel=r"$\|\partial \mathcal{L}/\partial x_\ell\| / \|\partial \mathcal{L}/\partial x_L\|$")
        readable_log(ax, "y")
        ax.legend(fontsize=6)
        for ax in axes[1:]:
            mark_divergence(ax, simulation, "layer", "simulation")
        for ax in axes:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are integers
        if title:
            fig.suptitle(title, fontsize=9)
    return fig
