"""Publication-style figures: theory as lines on top, simulation as the seed mean with a +-1 sd band."""
from __future__ import annotations

import numpy as np

from hild.core import lazy


def _off_screen() -> None:
    """Draw with Agg (every hild figure can be written to a file, no display needed), unless a backend was chosen:
    `MPLBACKEND` (a Jupyter kernel sets the inline backend there, so figures show in notebooks) or pyplot imported
    before hild drew anything."""
    import os
    import sys

    import matplotlib

    if "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg", force=False)


plt = lazy.module("matplotlib.pyplot", before=_off_screen)
"""matplotlib.pyplot, imported (with the Agg backend) when a figure is first drawn; hild modules draw with it."""
xr = lazy.module("xarray")

STYLE = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
         "figure.dpi": 150, "savefig.bbox": "tight"}
SPREAD = "mean ± 1 sd over seeds"
"""What a simulation's band is: one standard deviation of the seeds about their mean."""
PAIRED_SPREAD = "mean ± 1 sd over seeds of the deviation from each seed's own theory"
"""The band where each seed has its own theory (started from that seed's initial state): the spread of the
simulation about the theory, without the spread of the starts that both share."""
THEORY_Z, SIMULATION_Z, BAND_Z = 3, 2, 1
"""Drawing order: theory lines above the simulation's mean, the mean above its band."""
MARKERS = 15
"""About this many markers on a simulation's mean line."""


def scenario_title(scenario) -> str:
    """'model: name = value, ...' from a scenario's scalar parameters (lists and tables left out)."""
    def show(v):
        return f"{v:g}" if isinstance(v, float) else str(v)

    scalars = [f"{k} = {show(v)}" for k, v in scenario.params.items() if isinstance(v, (int, float, str, bool))]
    return f"{scenario.model}: {', '.join(scalars)}" if scalars else scenario.model


def kept_seeds(ds: xr.Dataset | None) -> xr.Dataset | None:
    """The seeds of a result that did not diverge (every seed when all did, or when nothing says)."""
    if ds is None or "seed" not in ds.dims or "diverged" not in ds or "seed" not in ds["diverged"].dims:
        return ds
    bad = ds["diverged"].any([d for d in ds["diverged"].dims if d != "seed"]).values
    return ds.isel(seed=np.flatnonzero(~bad)) if bad.any() and not bad.all() else ds


def seed_spread(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, sd) over `seed` (sd 0 without seeds); NaN wherever a seed is NaN, so that the mean of runs that
    diverged ends at the first blow-up instead of jumping to the survivors."""
    if "seed" not in da.dims:
        return da.values, np.zeros(da.shape)
    return da.mean("seed", skipna=False).values, da.std("seed", skipna=False).values


def seed_count(ds: xr.Dataset) -> int:
    """The number of seeds of a result (1 without a seed dimension)."""
    return ds.sizes.get("seed", 1)


def simulation_label(simulation: xr.Dataset, used: int | None = None, paired: bool = False) -> str:
    """'simulation d = 500, 4 seeds:\nmean ± 1 sd over seeds' from a result's size attributes (two lines, for
    narrow legends); `used`: the seeds drawn when some diverged; `paired`: the band is PAIRED_SPREAD."""
    size = simulation.attrs.get("size")
    name = f"simulation {size} = {simulation.attrs.get(size)}" if size else "simulation"
    n = seed_count(simulation)
    seeds = f"{used} of {n} seeds (the rest diverged)" if used is not None and used != n else \
        f"{n} seed{'s' * (n > 1)}"
    return f"{name}, {seeds}" + (f":\n{PAIRED_SPREAD if paired else SPREAD}" if (used or n) > 1 else "")


def paired(simulation: xr.DataArray, theory: xr.DataArray | None) -> xr.DataArray | None:
    """`theory` on the simulation's grid (interpolated where its axis values differ, as hild.compare does) when
    it has one curve per simulated seed (the theory started from each seed's own initial state), else None."""
    if theory is None or "seed" not in simulation.dims or "seed" not in theory.dims or \
            set(theory.dims) != set(simulation.dims):
        return None
    for d in simulation.dims:
        if d not in simulation.coords or d not in theory.coords:
            if theory.sizes[d] != simulation.sizes[d]:
                return None
            continue
        here, there = theory[d].values, simulation[d].values
        if here.shape == there.shape and np.array_equal(here, there):
            continue
        if d == "seed" or here.dtype.kind not in "iuf" or there.min() < here.min() or there.max() > here.max():
            return None
        theory = theory.interp({d: there})
    return theory


def simulation_line(ax, x, da: xr.DataArray, color, label: str | None = None, band: bool = True,
                    reference: xr.DataArray | None = None):
    """A simulated variable: its seed mean as a thin line with sparse markers above a shaded +-1 sd band
    (`seed_spread`), or with a `reference` (`paired`) the band mean ± the sd over seeds of da - reference
    (PAIRED_SPREAD). Returns the mean's Line2D."""
    mean, sd = seed_spread(da)
    if reference is not None:
        sd = seed_spread(da - reference)[1]
    x = np.asarray(x)
    if band and "seed" in da.dims and da.sizes["seed"] > 1:
        ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.25, lw=0, zorder=BAND_Z)
    finite = max(int(np.isfinite(mean).sum()), 1)
    (line,) = ax.plot(x, mean, "-", lw=0.7, marker="o", ms=2.5, markevery=max(1, finite // MARKERS), color=color,
                      alpha=0.9, zorder=SIMULATION_Z, label=label)
    return line


def theory_line(ax, x, da: xr.DataArray, color="k", label: str | None = None, **style):
    """A theory curve (the seed mean where it was started from each seed), above every simulation artist; a
    curve with a single finite point (e.g. one that diverged at once) is drawn as a marker."""
    y = seed_spread(da)[0]
    point = dict(marker="o", ms=5, mfc="none") if np.isfinite(y).sum() == 1 else {}
    (line,) = ax.plot(np.asarray(x), y, color=color, lw=style.pop("lw", 1.4), zorder=THEORY_Z, label=label,
                      **point, **style)
    return line


def mark_divergence(ax, ds: xr.Dataset | None, axis: str, kind: str, color: str = "C3") -> float | None:
    """If any run of `ds` diverged: a dashed vertical line at the first `<axis>_diverged` and the text
    '<kind> diverged at <axis> = ...' (theory's at the top, simulation's at the bottom). Returns that value."""
    if ds is None or "diverged" not in ds or not bool(ds["diverged"].any()):
        return None
    at = float(np.nanmin(ds[f"{axis}_diverged"].values))
    runs, total = int(ds["diverged"].sum()), int(ds["diverged"].size)
    ax.axvline(at, color=color, ls="--", lw=1.0, zorder=THEORY_Z + 1)
    top = kind == "theory"  # theory's text left of its line at the top, the simulation's right of it at the bottom
    text = f"{kind} diverged at {axis} = {at:.3g}" + (f" ({runs}/{total} runs)" if total > 1 else "")
    ax.text(at, 0.98 if top else 0.02, f" {text} ", transform=ax.get_xaxis_transform(), rotation=90,
            ha="right" if top else "left", va="top" if top else "bottom", fontsize=6, color=color)
    return at


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


def source_legend(fig, *axes) -> None:
    """One legend below the panels with the labelled artists of the first of `axes` that has any (which style is
    theory, which simulation)."""
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncol=min(len(handles), 3), fontsize=7)
            return


def _plain(value: float, _=None) -> str:
    """A tick label in plain digits: 2000 rather than 2e+03, 0.05 rather than 5 x 10^-2."""
    return f"{value:.0f}" if 1 <= value < 1e6 and float(value).is_integer() else f"{value:.3g}"


def readable_log(ax, which: str = "xy") -> None:
    """Label the log axes of `ax` among `which` ('x', 'y') that span under three decades in plain numbers at
    1, 2 and 5 x 10^k, without minor labels (matplotlib's default there labels minor ticks as 6 x 10^0,
    7 x 10^0, ... which overlap). Call it after the data are drawn."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    for name in which:
        axis, (lo, hi) = (ax.xaxis, ax.get_xlim()) if name == "x" else (ax.yaxis, ax.get_ylim())
        if axis.get_scale() != "log" or not 0 < lo < hi or np.log10(hi / lo) >= 3:
            continue
        # over a decade or more: 1, 2, 5 x 10^k; over less, evenly spaced values (a decade's ticks miss it)
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)) if np.log10(hi / lo) > 0.7 else MaxNLocator(5))
        axis.set_major_formatter(FuncFormatter(_plain))
        axis.set_minor_formatter(NullFormatter())


def log_limits(ax, *series) -> None:
    """On a log axis, limits from the positive values of the lines drawn (a band reaching 0 runs off the bottom
    instead of stretching the axis; a single point sits inside the frame)."""
    values = np.concatenate([np.ravel(s) for s in series] or [np.array([])])
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size:
        ax.set_ylim(positive.min() / 1.3, positive.max() * 1.3)


def trajectories(theory: xr.Dataset | None, simulation: xr.Dataset | None, title: str = "",
                 order_parameters=("R", "Q", "v"), error="eg"):
    """Two panels against t: the generalisation error on a log axis, and the order parameters. Theory as lines
    on top, the simulation as its seed mean with a +-1 sd band (`simulation_line`; seeds that diverged are left
    out while others remain), and a mark where a run diverged (`mark_divergence`)."""
    th, sim = kept_seeds(theory), kept_seeds(simulation)
    used = seed_count(sim) if sim is not None else None
    with plt.rc_context(STYLE):
        fig, (ax_e, ax_o) = plt.subplots(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
        drawn = []
        if sim is not None and error in sim:
            reference = paired(sim[error], th[error] if th is not None and error in th else None)
            simulation_line(ax_e, sim.t, sim[error], "C0", reference=reference,
                            label=simulation_label(simulation, used, reference is not None))
            drawn.append(seed_spread(sim[error])[0])
            if "eg_test" in sim:
                simulation_line(ax_e, sim.t, sim["eg_test"], "C2", label="held-out test set (seed mean)", band=False)
        if th is not None and error in th:
            theory_line(ax_e, th.t, th[error], "k", label="theory (d → ∞)")
            drawn.append(seed_spread(th[error])[0])
        ax_e.set_yscale("log")
        log_limits(ax_e, *drawn)
        readable_log(ax_e, "y")
        ax_e.set_xlabel("t = steps / d")
        ax_e.set_ylabel(r"generalisation error $\epsilon_g$")

        source = th if th is not None else sim
        colors = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4)
        handles, labels = [], []
        for name in order_parameters:
            if source is None or name not in source or ("t" not in source[name].dims):
                continue
            if name == "v" and np.allclose(np.nanstd(source[name].values, axis=source[name].dims.index("t")), 0):
                continue  # a fixed second layer adds nothing to the picture
            th_parts = dict(_components(th[name])) if th is not None and name in th else {}
            sim_parts = dict(_components(sim[name])) if sim is not None and name in sim else {}
            for label in (th_parts or sim_parts):
                if not _upper_triangle(label):
                    continue
                c = next(colors)
                if label in sim_parts:
                    line = simulation_line(ax_o, sim.t, sim_parts[label], c,
                                           reference=paired(sim_parts[label], th_parts.get(label)))
                if label in th_parts:
                    line = theory_line(ax_o, th.t, th_parts[label], c, lw=1.2)
                handles.append(line)
                labels.append(label)
        ax_o.set_xlabel("t = steps / d")
        ax_o.set_ylabel("order parameters")
        if handles:
            ax_o.legend(handles, labels, fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        source_legend(fig, ax_e)  # which style is which source, for both panels
        for ax in (ax_e, ax_o):
            mark_divergence(ax, theory, "t", "theory")
            mark_divergence(ax, simulation, "t", "simulation")
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def along_axis(theory: xr.Dataset | None, simulation: xr.Dataset | None, axis: str, variables=None,
               title: str = "", max_panels: int = 4):
    """One panel per scalar variable along `axis`: theory as a line on top, the simulation's seed mean with a
    +-1 sd band (`simulation_line`), a mark where a run diverged, and one legend below the panels.
    `variables`: default the float variables the results have on the axis without unit dimensions."""
    source = [ds for ds in (theory, simulation) if ds is not None]
    if not source:
        raise ValueError("along_axis needs a theory or a simulation")
    skip = {"diverged", f"{axis}_diverged"}
    if variables is None:
        names = list(dict.fromkeys(v for ds in source for v, da in ds.data_vars.items()
                                   if v not in skip and da.dtype.kind == "f" and axis in da.dims
                                   and set(da.dims) <= {axis, "seed"}))
        variables = names[:max_panels]
    th, sim = kept_seeds(theory), kept_seeds(simulation)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, max(1, len(variables)), figsize=(3.2 * max(1, len(variables)), 3.2),
                                 constrained_layout=True, squeeze=False)
        for ax, name in zip(axes[0], variables):
            if sim is not None and name in sim:
                reference = paired(sim[name], th[name] if th is not None and name in th else None)
                simulation_line(ax, sim[axis], sim[name], "C0", reference=reference,
                                label=simulation_label(simulation, seed_count(sim), reference is not None))
            if th is not None and name in th:
                theory_line(ax, th[axis], th[name], "k", label="theory")
            mark_divergence(ax, theory, axis, "theory")
            mark_divergence(ax, simulation, axis, "simulation")
            ax.set(xlabel=axis, ylabel=name)
        source_legend(fig, *axes[0])
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


POINT_STATUS = {"diverged", "converged", "residual", "iterations"}
"""Variables of a point result that describe the run, not the model: never drawn as values."""


def at_point(theory: xr.Dataset | None, simulation: xr.Dataset | None, variables=None, title: str = "",
             max_panels: int = 6):
    """A point scenario's result (no axis): one panel per scalar variable, the theory at the left (a line across;
    absent where its fixed point did not converge, which the panel says) and the simulation's seeds at the right
    (dots, with their mean +- 1 standard error). `variables`: default the float variables without unit dimensions."""
    source = [ds for ds in (theory, simulation) if ds is not None]
    if not source:
        raise ValueError("at_point needs a theory or a simulation")
    if variables is None:
        names = list(dict.fromkeys(v for ds in source for v, da in ds.data_vars.items()
                                   if v not in POINT_STATUS and da.dtype.kind == "f" and set(da.dims) <= {"seed"}))
        variables = names[:max_panels]
    sim = kept_seeds(simulation)
    size = simulation.attrs.get("size") if simulation is not None else None
    ticks = ["theory\n(d → ∞)", f"simulation\n{size} = {simulation.attrs.get(size)}" if size else "simulation"]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, max(1, len(variables)), figsize=(2.3 * max(1, len(variables)) + 0.6, 2.9),
                                 constrained_layout=True, squeeze=False)
        for ax, name in zip(axes[0], variables):
            if theory is not None and name in theory:
                values = np.atleast_1d(theory[name].values)
                if np.isfinite(values).any():
                    value = float(np.nanmean(values))
                    ax.plot([-0.25, 1.25], [value, value], "-", color="k", lw=1.2, zorder=THEORY_Z, label="theory")
                    ax.plot([0.0], [value], "o", color="k", ms=5, zorder=THEORY_Z)
                elif "converged" in theory and not bool(theory["converged"].all()):
                    ax.text(0.0, 0.5, "did not\nconverge", transform=ax.get_xaxis_transform(), ha="center",
                            va="center", color="C3", fontsize=7)
            if sim is not None and name in sim:
                y = np.atleast_1d(sim[name].values)
                ax.plot(1.0 + np.linspace(-0.12, 0.12, len(y)) * (len(y) > 1), y, "o", ms=3, color="C0", alpha=0.35,
                        zorder=BAND_Z)
                finite = y[np.isfinite(y)]
                if finite.size:
                    sem = finite.std(ddof=1) / np.sqrt(finite.size) if finite.size > 1 else 0.0
                    ax.errorbar([1.0], [finite.mean()], yerr=[sem], fmt="s", ms=5, color="C0", capsize=3,
                                zorder=SIMULATION_Z, label=f"simulation, {seed_count(sim)} seeds: mean ± 1 s.e.")
            ax.set(xlim=(-0.5, 1.5), xticks=[0, 1], xlabel="result", ylabel=name)
            ax.set_xticklabels(ticks, fontsize=7)
        source_legend(fig, *axes[0])
        if title:
            fig.suptitle(title, fontsize=9)
    return fig


def save(fig, path) -> None:
    """Write a figure, cropped to what is drawn (titles and legends outside the axes included), and close it."""
    fig.savefig(path, bbox_inches="tight")
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
                 hue: str | None = None, ylabel: str = "", title: str = "", logy: bool = True,
                 theory_label: str = "theory (d → ∞)", simulation_label: str = "simulation",
                 nominal: xr.DataArray | None = None, nominal_label: str = "theory from the nominal start"):
    """A one-parameter sweep: theory as lines, simulation as seed means with standard errors, against x.

    theory has dimensions (x[, hue]), or (x) when it does not depend on hue; simulation (x[, hue], seed).
    One color per value of hue. `nominal` (x): a second theory, drawn as a dashed black line (e.g. the
    theory from the scenarios' nominal start where points have no theory of their own). `logy`: a log
    y axis where the values are positive and span more than a factor of 10."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 3.4), constrained_layout=True)
        source = next(da for da in (simulation, theory, nominal) if da is not None)
        groups = list(source[hue].values) if hue and hue in source.dims else [None]
        if nominal is not None:
            ax.plot(nominal[x].values, nominal.values, "--", color="k", lw=1.0, label=nominal_label)
        if theory is not None and (hue is None or hue not in theory.dims):
            ax.plot(theory[x].values, theory.values, "-", marker=".", ms=3, color="k", lw=1.2, label=theory_label)
        for c, value in enumerate(groups):
            color, name = f"C{c % 10}", "" if value is None else f"{hue} = {value}"
            if theory is not None and value is not None and hue in theory.dims:
                th = theory.sel({hue: value})
                ax.plot(th[x].values, th.values, "-", marker=".", ms=3, color=color, lw=1.2,
                        label=f"{theory_label}, {name}")
            if simulation is not None:
                sim = simulation if value is None else simulation.sel({hue: value})
                n = sim.count("seed")
                mean, sem = sim.mean("seed"), sim.std("seed") / np.sqrt(np.maximum(n - 1, 1))
                ax.errorbar(sim[x].values, mean.values, yerr=sem.values, fmt="o", ms=3, color=color, capsize=2,
                            label=f"{simulation_label}, {name}" if name else simulation_label)
        shown = np.concatenate([np.ravel(da.values) for da in (simulation, theory, nominal) if da is not None])
        shown = shown[np.isfinite(shown)]
        if logy and shown.size and shown.min() > 0 and shown.max() > 10 * shown.min():
            ax.set_yscale("log")
        if _geometric(source[x].values):
            ax.set_xscale("log")
        ax.set(xlabel=x, ylabel=ylabel)
        ax.legend(fontsize=7)
        if title:
            ax.set_title(title, fontsize=7)
    return fig


def _edges(positions: np.ndarray, log: bool) -> np.ndarray:
    """The edges of the cells centred on `positions` (increasing): midpoints, geometric ones on a log axis."""
    p = np.log(positions) if log else np.asarray(positions, float)
    if len(p) == 1:
        edges = np.array([p[0] - 0.5, p[0] + 0.5])
    else:
        mid = (p[1:] + p[:-1]) / 2
        edges = np.concatenate([[2 * p[0] - mid[0]], mid, [2 * p[-1] - mid[-1]]])
    return np.exp(edges) if log else edges


def _crossings(values: np.ndarray, positions: np.ndarray, levels, log_values: bool, log_axis: bool):
    """Where a 1-d series (values at positions along a continuous axis) crosses each level, by linear
    interpolation between neighbouring grid points (in log where the values or the axis are drawn in log).
    Returns (level, position) pairs."""
    v = np.log(values) if log_values else values
    p = np.log(positions) if log_axis else np.asarray(positions, float)
    out = []
    for level in levels:
        target = np.log(level) if log_values else level
        for i in range(len(v) - 1):
            a, b = v[i], v[i + 1]
            if np.isfinite(a) and np.isfinite(b) and a != b and min(a, b) <= target <= max(a, b):
                at = p[i] + (target - a) / (b - a) * (p[i + 1] - p[i])
                out.append((level, float(np.exp(at) if log_axis else at)))
    return out


def phase_diagram(values: xr.DataArray, x: str, y: str, contours: xr.DataArray | None = None, levels=None,
                  boundary: xr.DataArray | None = None, label: str = "", title: str = "", log: bool = True,
                  discrete=(), unconverged: xr.DataArray | None = None, points: xr.DataArray | None = None,
                  points_label: str = "simulation"):
    """A two-parameter sweep as a heat map of `values` over (x, y), one cell per grid point, with theory lines
    on top: `contours` (a DataArray on the same grid) at `levels`, dashed, and `boundary` (a boolean
    DataArray, e.g. where the theory diverges) drawn along the cell edges between its True and False cells.

    `discrete`: the axes (of x, y) that take separate values only (integers such as K, categories): ticks at
    their values, and the theory never interpolated between them: its level crossings along the other axis
    are drawn within each cell, or, with both axes discrete, its value is written in each cell.
    `unconverged` (boolean, same grid): the points whose theory (a fixed point) did not converge, crossed out.
    `points` (a DataArray over (x, y) on a grid of its own, numeric axes): values drawn on top as discs in the
    same colours, so that a point that disagrees with the field around it stands out; NaN points are left out.

    **Returns:** a matplotlib Figure; ValueError for `points` on a categorical axis."""
    from matplotlib.colors import LogNorm

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.8, 3.8), constrained_layout=True)
        z = values.transpose(y, x).values.astype(float)
        positive = z[np.isfinite(z) & (z > 0)]
        norm = LogNorm(positive.min(), positive.max()) if log and positive.size else None
        axes = {}
        for name in (x, y):
            at, labels = _positions(values[name].values)
            scale = labels is None and _geometric(at)
            axes[name] = {"at": at, "labels": labels, "log": scale, "edges": _edges(at, scale),
                          "discrete": name in discrete or labels is not None}
        X, Y = axes[x], axes[y]
        mesh = ax.pcolormesh(X["edges"], Y["edges"], np.ma.masked_invalid(z), norm=norm, shading="flat",
                             cmap="viridis")
        fig.colorbar(mesh, ax=ax, label=label)
        cz = None if contours is None else contours.transpose(y, x).values.astype(float)
        if cz is not None and np.isfinite(cz).any():
            finite = cz[np.isfinite(cz)]
            if levels is None:
                levels = np.linspace(finite.min(), finite.max(), 6)[1:-1]
            if not (X["discrete"] or Y["discrete"]):
                if min(cz.shape) >= 2:
                    c = ax.contour(X["at"], Y["at"], np.ma.masked_invalid(cz), levels=levels, colors="w",
                                   linewidths=0.8, linestyles="--")
                    ax.clabel(c, fontsize=6, fmt="%.2g")
            elif X["discrete"] and Y["discrete"]:  # no axis to interpolate along: the theory's value in each cell
                for i, j in zip(*np.nonzero(np.isfinite(cz))):
                    ax.text(X["at"][j], Y["at"][i], f"{cz[i, j]:.2g}", ha="center", va="center", fontsize=6,
                            color="w")
            else:  # the theory's level crossings along the continuous axis, within each cell of the discrete one
                across, along = (X, Y) if X["discrete"] else (Y, X)
                log_values = bool(norm is not None and (finite > 0).all())
                for k, (lo, hi) in enumerate(zip(across["edges"][:-1], across["edges"][1:])):
                    middle = np.sqrt(lo * hi) if across["log"] else (lo + hi) / 2
                    series = cz[:, k] if across is X else cz[k, :]
                    for level, at in _crossings(series, along["at"], levels, log_values, along["log"]):
                        if across is X:
                            ax.plot((lo, hi), (at, at), "--", color="w", lw=0.8)
                            ax.annotate(f"{level:.2g}", (middle, at), fontsize=6, color="w", ha="center",
                                        va="bottom")
                        else:
                            ax.plot((at, at), (lo, hi), "--", color="w", lw=0.8)
                            ax.annotate(f"{level:.2g}", (at, middle), fontsize=6, color="w", ha="left",
                                        va="center")
        if boundary is not None:
            b = boundary.transpose(y, x).fillna(False).values.astype(bool)
            xe, ye = X["edges"], Y["edges"]
            segments = [((xe[j + 1], xe[j + 1]), (ye[i], ye[i + 1])) for i in range(b.shape[0])
                        for j in range(b.shape[1] - 1) if b[i, j] != b[i, j + 1]]
            segments += [((xe[j], xe[j + 1]), (ye[i + 1], ye[i + 1])) for i in range(b.shape[0] - 1)
                         for j in range(b.shape[1]) if b[i, j] != b[i + 1, j]]
            for sx, sy in segments:
                ax.plot(sx, sy, "-", color="k", lw=2, solid_capstyle="butt")
        if points is not None:
            if X["labels"] is not None or Y["labels"] is not None:
                raise ValueError("points: a categorical axis has no positions to draw points at")
            p = points.transpose(y, x)
            py, px = np.meshgrid(p[y].values, p[x].values, indexing="ij")
            shown = np.isfinite(p.values)
            ax.scatter(px[shown], py[shown], c=p.values[shown], norm=mesh.norm, cmap=mesh.cmap, s=36,
                       edgecolors="w", linewidths=0.9, zorder=3, label=points_label)
            ax.legend(loc="best", fontsize=6)
        if unconverged is not None and bool(unconverged.any()):
            u = unconverged.transpose(y, x).fillna(False).values.astype(bool)
            i, j = np.nonzero(u)
            ax.plot(X["at"][j], Y["at"][i], "x", color="C3", ms=6, mew=1.2, ls="none",
                    label="theory did not converge")
            ax.legend(loc="best", fontsize=6)
        for a, set_ticks, set_scale, set_lim in ((X, ax.set_xticks, ax.set_xscale, ax.set_xlim),
                                                 (Y, ax.set_yticks, ax.set_yscale, ax.set_ylim)):
            if a["log"]:
                set_scale("log")
            if a["discrete"]:
                set_ticks(a["at"], a["labels"] or [f"{v:g}" for v in a["at"]], minor=False)
                set_ticks([], minor=True)
            set_lim(a["edges"][0], a["edges"][-1])
        ax.set(xlabel=x, ylabel=y)
        if title:
            ax.set_title(title, fontsize=7)
    return fig
