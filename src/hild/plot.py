"""Publication-style figures: theory as lines, simulation as the seed mean with a +-1 sd band."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

STYLE = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
         "figure.dpi": 150, "savefig.bbox": "tight"}


def _seed_band(da: xr.DataArray):
    if "seed" not in da.dims:
        return da.values, da.values, da.values
    mean, sd = da.mean("seed"), da.std("seed")
    return mean.values, (mean - sd).values, (mean + sd).values


def _components(da: xr.DataArray):
    """Split an order parameter into its named scalar components, e.g. R[k=0, m=1] -> ('R_01', series)."""
    unit_dims = [d for d in da.dims if d not in ("t", "seed")]
    if not unit_dims:
        yield da.name, da
        return
    stacked = da.stack(component=unit_dims)
    for idx in range(stacked.sizes["component"]):
        labels = stacked.component.values[idx]
        labels = labels if isinstance(labels, tuple) else (labels,)
        yield f"{da.name}_{''.join(str(int(i) + 1) for i in labels)}", stacked.isel(component=idx, drop=True)


def _upper_triangle(name: str) -> bool:
    """Keep Q_ik with i <= k only (Q is symmetric)."""
    return not (name.startswith("Q_") and len(name) == 4 and name[2] > name[3])


def trajectories(theory: xr.Dataset | None, simulation: xr.Dataset | None, title: str = "",
                 order_parameters=("R", "Q", "v"), error="eg"):
    """Two panels: the generalisation error on a log axis, and the order parameters over time."""
    with plt.rc_context(STYLE):
        fig, (ax_e, ax_o) = plt.subplots(1, 2, figsize=(8.0, 3.2), constrained_layout=True)
        color = "C0"
        if simulation is not None and error in simulation:
            mean, lo, hi = _seed_band(simulation[error])
            t = simulation.t.values
            ax_e.fill_between(t, np.maximum(lo, 1e-12), hi, color=color, alpha=0.25, lw=0)
            n = simulation.sizes.get("seed", 1)
            ax_e.plot(t, mean, "o", ms=2.5, color=color,
                      label=f"simulation d={simulation.attrs.get('d', '?')}, {n} seed{'s' * (n > 1)}")
            if "eg_test" in simulation:
                ax_e.plot(t, _seed_band(simulation["eg_test"])[0], "x", ms=2.5, color="C2", label="held-out test set")
        if theory is not None and error in theory:
            th = theory[error].mean("seed") if "seed" in theory[error].dims else theory[error]
            ax_e.plot(theory.t.values, th.values, "-", color="k", lw=1.2, label="theory (d → ∞)")
        ax_e.set_yscale("log")
        ax_e.set_xlabel("t = steps / d")
        ax_e.set_ylabel(r"generalisation error $\epsilon_g$")
        ax_e.legend(fontsize=7)

        source = theory if theory is not None else simulation
        colors = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4)
        for name in order_parameters:
            if name not in source or ("t" not in source[name].dims):
                continue
            if name == "v" and np.allclose(np.nanstd(source[name].values, axis=source[name].dims.index("t")), 0):
                continue  # a fixed second layer adds nothing to the picture
            th_parts = dict(_components(theory[name])) if theory is not None and name in theory else {}
            sim_parts = dict(_components(simulation[name])) if simulation is not None and name in simulation else {}
            for label in (th_parts or sim_parts):
                if not _upper_triangle(label):
                    continue
                c = next(colors)
                if label in th_parts:
                    series = th_parts[label]
                    series = series.mean("seed") if "seed" in series.dims else series
                    ax_o.plot(series.t.values, series.values, "-", color=c, lw=1.0, label=label)
                if label in sim_parts:
                    mean, _, _ = _seed_band(sim_parts[label])
                    ax_o.plot(sim_parts[label].t.values, mean, "o", ms=1.8, color=c,
                              label=None if label in th_parts else label)
        ax_o.set_xlabel("t = steps / d")
        ax_o.set_ylabel("order parameters")
        ax_o.set_title("lines: theory, dots: simulation mean", fontsize=7)
        ax_o.legend(fontsize=6, ncol=2)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def along_axis(theory: xr.Dataset | None, simulation: xr.Dataset | None, axis: str, variables=None,
               title: str = "", max_panels: int = 4):
    """One panel per scalar variable along `axis`: theory as a line, the simulation's seed mean with a +-1 sd
    band. `variables`: default the float variables the results have on the axis without unit dimensions."""
    source = [ds for ds in (theory, simulation) if ds is not None]
    if not source:
        raise ValueError("along_axis needs a theory or a simulation")
    skip = {"diverged", f"{axis}_diverged"}
    if variables is None:
        names = list(dict.fromkeys(v for ds in source for v, da in ds.data_vars.items()
                                   if v not in skip and da.dtype.kind == "f" and axis in da.dims
                                   and set(da.dims) <= {axis, "seed"}))
        variables = names[:max_panels]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, max(1, len(variables)), figsize=(3.2 * max(1, len(variables)), 3.0),
                                 constrained_layout=True, squeeze=False)
        for ax, name in zip(axes[0], variables):
            if simulation is not None and name in simulation:
                mean, lo, hi = _seed_band(simulation[name])
                x = simulation[axis].values
                ax.fill_between(x, lo, hi, color="C0", alpha=0.25, lw=0)
                n = simulation.sizes.get("seed", 1)
                size = simulation.attrs.get("size")
                label = f"simulation {size} = {simulation.attrs.get(size)}" if size else "simulation"
                ax.plot(x, mean, "o", ms=2.5, color="C0", label=f"{label}, {n} seed{'s' * (n > 1)}")
            if theory is not None and name in theory:
                th = theory[name].mean("seed") if "seed" in theory[name].dims else theory[name]
                ax.plot(theory[axis].values, th.values, "-", color="k", lw=1.2, label="theory")
            ax.set(xlabel=axis, ylabel=name)
            ax.legend(fontsize=7)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def save(fig, path) -> None:
    """Write a figure and close it."""
    fig.savefig(path)
    plt.close(fig)


def _geometric(values) -> bool:
    """True for a positive axis spaced evenly in log (a log range), which is drawn on a log scale."""
    v = np.asarray(values)
    if v.dtype.kind not in "iuf" or len(v) < 3 or np.any(v <= 0):
        return False
    ratios = v[1:] / v[:-1]
    return bool(np.allclose(ratios, ratios[0]) and not np.allclose(ratios, 1) and not np.allclose(np.diff(v), v[1] - v[0]))


def _positions(values) -> tuple[np.ndarray, list | None]:
    """Numeric axis values as they are; categorical ones (e.g. activations) at 0, 1, 2, ... with labels."""
    values = np.asarray(values)
    if values.dtype.kind in "iuf":
        return values, None
    return np.arange(len(values)), [str(v) for v in values]


def sweep_curves(x: str, theory: xr.DataArray | None = None, simulation: xr.DataArray | None = None,
                 hue: str | None = None, ylabel: str = "", title: str = "", logy: bool = True):
    """A one-parameter sweep: theory as lines, simulation as seed means with standard errors, against x.

    theory has dimensions (x[, hue]) or (x) when it does not depend on hue (as on d); simulation
    (x[, hue], seed). One color per value of hue."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 3.4), constrained_layout=True)
        source = simulation if simulation is not None else theory
        groups = list(source[hue].values) if hue else [None]
        if theory is not None and (hue is None or hue not in theory.dims):
            ax.plot(theory[x].values, theory.values, "-", color="k", lw=1.2, label="theory (d → ∞)")
        for c, value in enumerate(groups):
            color, name = f"C{c % 10}", "" if hue is None else f"{hue} = {value}"
            if theory is not None and hue is not None and hue in theory.dims:
                th = theory.sel({hue: value})
                ax.plot(th[x].values, th.values, "-", color=color, lw=1.2, label=f"theory {name}")
            if simulation is not None:
                sim = simulation if hue is None else simulation.sel({hue: value})
                n = sim.count("seed")
                mean, sem = sim.mean("seed"), sim.std("seed") / np.sqrt(np.maximum(n - 1, 1))
                ax.errorbar(sim[x].values, mean.values, yerr=sem.values, fmt="o", ms=3, color=color, capsize=2,
                            label=f"simulation {name}".strip())
        if logy:
            ax.set_yscale("log")
        if _geometric(source[x].values):
            ax.set_xscale("log")
        ax.set(xlabel=x, ylabel=ylabel)
        ax.legend(fontsize=7)
        if title:
            ax.set_title(title, fontsize=8)
    return fig


def phase_diagram(values: xr.DataArray, x: str, y: str, contours: xr.DataArray | None = None, levels=None,
                  boundary: xr.DataArray | None = None, label: str = "", title: str = "", log: bool = True):
    """A two-parameter sweep as a heat map of `values` over (x, y), with theory lines on top:
    `contours` (a DataArray on the same grid) at `levels`, and `boundary` (a boolean DataArray, e.g.
    where the theory diverges) drawn as a thick line between its True and False regions."""
    from matplotlib.colors import LogNorm

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.8, 3.6), constrained_layout=True)
        z = values.transpose(y, x).values
        positive = z[np.isfinite(z) & (z > 0)]
        norm = LogNorm(positive.min(), positive.max()) if log and positive.size else None
        (xs, xlabels), (ys, ylabels) = _positions(values[x].values), _positions(values[y].values)
        mesh = ax.pcolormesh(xs, ys, np.ma.masked_invalid(z), norm=norm, shading="nearest", cmap="viridis")
        fig.colorbar(mesh, ax=ax, label=label)
        if contours is not None:
            c = ax.contour(xs, ys, contours.transpose(y, x).values, levels=levels, colors="w", linewidths=0.8,
                           linestyles="--")
            ax.clabel(c, fontsize=6, fmt="%.2g")
        if boundary is not None:
            b = boundary.transpose(y, x).values.astype(float)
            if 0 < b.mean() < 1:
                ax.contour(xs, ys, b, levels=[0.5], colors="k", linewidths=2)
        for name, labels, set_ticks, set_scale in ((x, xlabels, ax.set_xticks, ax.set_xscale),
                                                   (y, ylabels, ax.set_yticks, ax.set_yscale)):
            if labels is not None:
                set_ticks(np.arange(len(labels)), labels)
            elif _geometric(values[name].values):
                set_scale("log")
        ax.set(xlabel=x, ylabel=y)
        if title:
            ax.set_title(title, fontsize=8)
    return fig
