"""The standard figure of a linear diffusion model: spectra, losses over diffusion time, and KL against N/d."""
from __future__ import annotations

import json

import numpy as np

from hild.core import lazy
from hild.families.diffusion.theory import kl_expected
from hild.plot import STYLE, THEORY_Z, plt, readable_log

xr = lazy.module("xarray")


def _first(da: xr.DataArray, seed):
    """The training set `seed` of a per-seed result (a fixed training set's theory has no seed)."""
    return da.sel(seed=seed) if "seed" in da.dims else da


def kl_law_axes(ax, d: int, ratios=None):
    """E[KL]/d against N/d (Wishart law, N > d) and the line (d + 3)/(4N), on log-log axes.

    **Arguments:** `ax`: the axes; `d` (>= 1); `ratios`: the N/d drawn (default a range above 1).

    **Returns:** None (draws on ax)."""
    r = np.geomspace(1 + 1 / d, 100, 200) if ratios is None else np.asarray(ratios)
    N = np.unique(np.maximum(np.round(r * d).astype(int), d + 1))
    ax.plot(N / d, kl_expected(d, N) / d, "k-", lw=1.0, label=r"$E\,$KL$/d$ (Wishart, $c\to0$)")
    ax.plot(N / d, (d + 3) / (4 * N), "k:", lw=1.0, label=r"$(d+3)/(4N)$")
    ax.set(xscale="log", yscale="log", xlabel="N / d", ylabel="KL / d")
    readable_log(ax, "x")


def figure(theory: xr.Dataset | None, simulation: xr.Dataset | None = None, seed: int | None = None,
           title: str = ""):
    """Three panels for one scenario (training set `seed`, default the first; either dataset may be None):
    (a) true, empirical and generated spectra (theory line, simulation dots);
    (b) train and test loss against diffusion step t (theory lines, simulation Monte Carlo dots);
    (c) KL/d of this scenario (theory, simulation) on the Wishart law of E[KL]/d against N/d.

    **Arguments:** `theory`, `simulation`: the scenario's Datasets or None; `seed`: the training set drawn;
    `title`.

    **Returns:** a matplotlib Figure."""
    ref = theory if theory is not None else simulation
    seeds = simulation if simulation is not None else ref
    seed = int(seeds.seed.values[0]) if seed is None and "seed" in seeds.coords else seed
    d, N = ref.sizes["mode"], int(json.loads(ref.attrs["params"])["N"])
    rank = np.arange(1, d + 1)
    sim = {} if simulation is None else simulation
    th = {} if theory is None else theory
    with plt.rc_context(STYLE):
        fig, (a, b, c) = plt.subplots(1, 3, figsize=(11, 3.2), constrained_layout=True)
        a.plot(rank, ref.lambda_true, "k--", lw=1.0, label=r"true $\Sigma$")
        a.plot(rank, _first(ref.lambda_hat, seed), color="0.6", lw=1.0, label=r"empirical $\Sigma_0$")
        if "spectrum_generated" in th:
            a.plot(rank, _first(theory.spectrum_generated, seed), color="C0", lw=1.2, zorder=THEORY_Z,
                   label="generated (theory)")
        if "spectrum_generated" in sim:
            a.plot(rank, _first(simulation.spectrum_generated, seed), "o", color="C0", ms=2.5,
                   label="generated (simulation)")
        a.set(xlabel="rank", ylabel="eigenvalue", yscale="log", xscale="log" if d > 20 else "linear",
              title=f"d = {d}, N = {N}" + (f", training set {seed}" if seed is not None else ""))
        readable_log(a)
        a.legend(fontsize=7)
        for name, color in (("loss_train", "C2"), ("loss_test", "C3")):
            if name in th:
                b.plot(theory.t, _first(theory[name], seed), color=color, lw=1.2, zorder=THEORY_Z,
                       label=name.replace("_", " "))
            if name in sim:
                da = _first(simulation[name], seed)
                t = da.t.values
                idx = np.unique(np.searchsorted(t, np.geomspace(t[0], t[-1], 30)).clip(0, len(t) - 1))
                b.plot(t[idx], da.values[idx], "o", color=color, ms=2.5,
                       label=None if name in th else f"{name.replace('_', ' ')} (Monte Carlo)")
        b.set(xlabel="diffusion step t", ylabel=r"$E\|\epsilon-\epsilon_\theta\|^2$", xscale="log", yscale="log",
              title="lines: theory, dots: Monte Carlo")
        b.legend(fontsize=7)
        kl_law_axes(c, d)
        if "kl" in th:
            c.plot([N / d], [float(theory.kl.mean()) / d], "s", color="C0", ms=8, mfc="none", mew=1.2,
                   label="this scenario (theory)")
        if "kl" in sim:
            c.errorbar([N / d], [float(simulation.kl.mean()) / d], yerr=[float(simulation.kl_sem.mean()) / d],
                       fmt="o", color="C1", ms=3, capsize=2, label="simulation (± standard error)")
        c.axvline(1.0, color="0.7", lw=0.8, label="N = d")
        c.legend(fontsize=7)
        if title:
            fig.suptitle(title, fontsize=9)
    return fig
