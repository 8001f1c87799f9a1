"""Figures of signal propagation: token cosine against depth, attention statistics and gradients per layer."""
from __future__ import annotations

import matplotlib.pyplot as plt
import xarray as xr

from hild.plot import STYLE


def cosine_axes(ax, theory: xr.Dataset | None, simulation: xr.Dataset | None, color="C0", label: str = ""):
    """The mean token cosine against depth: theory as a line, the simulation's seed mean as dots with the
    5-95% quantile band of the pairwise cosines."""
    if simulation is not None:
        layer = simulation.layer.values
        band = simulation.cos_quantile.mean("seed")
        ax.fill_between(layer, band.sel(quantile=0.05), band.sel(quantile=0.95), color=color, alpha=0.2, lw=0)
        ax.plot(layer, simulation.cos.mean("seed"), "o", ms=2.5, color=color,
                label=f"{label} simulation" if label else "simulation")
    if theory is not None:
        ax.plot(theory.layer.values, theory.cos.values, "-", color=color, lw=1.2,
                label=f"{label} theory" if label else "theory (d → ∞)")
    ax.set(xlabel="layer ℓ", ylabel="mean token cosine", ylim=(-0.05, 1.05))


def figure(theory: xr.Dataset | None, simulation: xr.Dataset | None = None, title: str = ""):
    """Three panels: cosine against depth (and after each attention sub-block); attention entropy / ln T and
    inverse participation ratio of the block producing each layer; the gradient norm relative to the top layer."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), constrained_layout=True)
        cosine_axes(axes[0], theory, simulation)
        if theory is not None:
            axes[0].plot(theory.layer, theory.cos_attn, ":", color="C0", lw=1, label="after attention (theory)")
        axes[0].legend(fontsize=7)
        ax = axes[1]
        if theory is not None:
            ax.plot(theory.layer, theory.entropy_ratio.clip(0, 1.2), "-", color="C1", label="entropy / ln T (REM)")
            ax.plot(theory.layer, theory.attention_ipr, "-", color="C2", label="inverse participation ratio (REM)")
        if simulation is not None:
            ax.plot(simulation.layer, simulation.entropy_ratio.mean("seed"), "o", ms=2.5, color="C1")
            ax.plot(simulation.layer, simulation.attention_ipr.mean("seed"), "s", ms=2.5, color="C2")
        ax.set(xlabel="layer ℓ (its block's attention)", ylabel="attention statistics", ylim=(-0.05, 1.2))
        ax.legend(fontsize=7)
        ax = axes[2]
        if theory is not None:
            ax.plot(theory.layer, theory.grad_ratio, "-", color="C3", label="theory")
        if simulation is not None:
            ax.plot(simulation.layer, simulation.grad_ratio.mean("seed"), "o", ms=2.5, color="C3", label="backprop")
        ax.set(xlabel="layer ℓ", yscale="log",
               ylabel=r"$\|\partial \mathcal{L}/\partial x_\ell\| / \|\partial \mathcal{L}/\partial x_L\|$")
        ax.legend(fontsize=7)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig
