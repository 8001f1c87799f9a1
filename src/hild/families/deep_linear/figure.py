"""The standard figure of a two-layer linear network: mode trajectories, loss, and NTK movement."""
from __future__ import annotations

import matplotlib.pyplot as plt
import xarray as xr

from hild.plot import STYLE


def _mean(da):
    return da.mean("seed") if "seed" in da.dims else da


def _modes_and_loss(theory, simulation, ax_modes, ax_loss, ax_ntk=None) -> None:
    """Draw u_a(t) and the loss (and the NTK movement): theory lines, simulation seed means as dots."""
    for ds, kind in ((theory, "theory"), (simulation, "simulation")):
        if ds is None:
            continue
        thin = slice(None, None, max(1, ds.sizes["t"] // 40)) if kind == "simulation" else slice(None)
        style = dict(ls="-", lw=1.2) if kind == "theory" else dict(ls="none", marker="o", ms=2.5)
        modes = _mean(ds.modes)
        for m in range(modes.sizes["mode"]):
            ax_modes.plot(ds.t[thin], modes.isel(mode=m)[thin], color=f"C{m % 10}",
                          label=f"mode {m + 1}" if kind == "theory" or theory is None else None, **style)
        ax_loss.plot(ds.t[thin], _mean(ds.loss)[thin], color="k", label=kind, **style)
        if ax_ntk is not None:
            ax_ntk.plot(ds.t[thin], _mean(ds.ntk_movement)[thin], color="C3", label=kind, **style)
    ax_modes.set(xlabel="t = lr · steps", ylabel=r"mode strength $u_\alpha$")
    ax_modes.legend(fontsize=7)
    ax_loss.set(xlabel="t = lr · steps", ylabel="loss", yscale="log")


def figure(theory: xr.Dataset | None, simulation: xr.Dataset | None = None, title: str = ""):
    """Three panels: modes u_a(t) (theory lines, simulation seed means as dots), loss (log), NTK movement."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.0), constrained_layout=True)
        _modes_and_loss(theory, simulation, axes[0], axes[1], axes[2])
        axes[1].legend(fontsize=7)
        axes[2].set(xlabel="t = lr · steps", ylabel=r"$\|\Theta(t)-\Theta(0)\|/\|\Theta(0)\|$", yscale="symlog")
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def modes_figure(theory: xr.Dataset | None, simulation: xr.Dataset | None = None, title: str = ""):
    """Mode strengths u_a(t) and the loss: theory lines, simulation seed means as dots."""
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(7.5, 3.0), constrained_layout=True)
        _modes_and_loss(theory, simulation, a, b)
        b.legend(fontsize=7)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def lines_figure(theory: xr.Dataset | None, simulation: xr.Dataset | None, variables, axis: str, title: str = "",
                 ylabel: str = ""):
    """One panel per variable along `axis` (units summed into lines): theory lines, simulation seed means as dots."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(variables), figsize=(3.3 * len(variables), 3.0), constrained_layout=True,
                                 squeeze=False)
        for ax, name in zip(axes[0], variables):
            for ds, kind in ((theory, "theory"), (simulation, "simulation")):
                if ds is None or name not in ds:
                    continue
                da = _mean(ds[name])
                da = da.transpose(axis, ...).values.reshape(da.sizes[axis], -1)
                style = dict(ls="-", lw=1.2) if kind == "theory" else dict(ls="none", marker="o", ms=2.5)
                for j in range(da.shape[1]):
                    ax.plot(ds[axis], da[:, j], color=f"C{j % 10}", label=kind if j == 0 else None, **style)
            ax.set(xlabel=axis, ylabel=ylabel or name, title=name)
            ax.legend(fontsize=7)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig
