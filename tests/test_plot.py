"""The shared run figures (hild.plot): theory lines above the simulation's seed mean and band, legends that
give the size and the seeds, and diverged runs drawn up to the blow-up with a visible mark."""
import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection

from hild.core.divergence import flag
from hild.plot import along_axis, trajectories

T = np.linspace(0.0, 10.0, 51)


def _committee_like(seeds: int = 3, diverged_at=None, per_seed_theory: bool = False):
    """A simulation and a theory shaped as the committee's (eg, R over k, m; Q over k, k2), d = 200; seeds
    whose entry of `diverged_at` is a number blow up there (flagged as hild.core.divergence does)."""
    rng = np.random.default_rng(0)
    base = 0.3 * np.exp(-T / 3) + 0.01
    ramp = 0.4 * (1 - np.exp(-T / 2))
    eg = base + 0.002 * rng.standard_normal((seeds, T.size))
    R = ramp[None, :, None, None] + 0.01 * rng.standard_normal((seeds, T.size, 2, 2))
    Q = ramp[None, :, None, None] * np.eye(2) + 0.01 * rng.standard_normal((seeds, T.size, 2, 2))
    coords = {"seed": np.arange(seeds), "t": T}
    sim = xr.Dataset({"eg": (("seed", "t"), eg), "R": (("seed", "t", "k", "m"), R),
                      "Q": (("seed", "t", "k", "k2"), Q)}, coords=coords,
                     attrs={"size": "d", "d": 200, "seeds": list(range(seeds))})
    at = diverged_at if diverged_at is not None else [None] * seeds
    bad = xr.DataArray(np.array([[a is not None and t >= a for t in T] for a in at]), dims=("seed", "t"))
    sim = flag(sim, "t", bad)
    theory = xr.Dataset({"eg": ("t", base), "R": (("t", "k", "m"), np.broadcast_to(ramp[:, None, None], (T.size, 2, 2))),
                         "Q": (("t", "k", "k2"), ramp[:, None, None] * np.eye(2))}, coords={"t": T})
    if per_seed_theory:
        theory = theory.expand_dims(seed=np.arange(seeds)).transpose("seed", ...)
    theory = flag(theory, "t", xr.zeros_like(theory.eg, dtype=bool))
    return theory, sim


def _bands(ax) -> list:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def _texts(fig) -> str:
    return " | ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " | " + \
        " | ".join(t.get_text() for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
                   for t in legend.get_texts())


def test_trajectories_draw_theory_above_one_mean_line_and_one_band_per_variable():
    theory, sim = _committee_like()
    fig = trajectories(theory, sim)
    ax_e, ax_o = fig.axes
    # the error panel: one band, one thin mean line with sparse markers, the theory above both
    (band,) = _bands(ax_e)
    sim_line, th_line = ax_e.lines
    assert sim_line.get_linestyle() == "-" and sim_line.get_linewidth() < th_line.get_linewidth()
    assert sim_line.get_markevery() > 1  # sparse markers, not one dot per recorded point
    assert th_line.get_zorder() > sim_line.get_zorder() > band.get_zorder()
    np.testing.assert_allclose(th_line.get_ydata(), theory.eg.values)
    np.testing.assert_allclose(sim_line.get_ydata(), sim.eg.mean("seed").values)
    # the order parameters: R_11 .. R_22, Q_11, Q_12, Q_22, each with its band, and its theory drawn on top
    assert len(_bands(ax_o)) == 7
    assert len(ax_o.lines) == 14
    assert min(line.get_zorder() for line in ax_o.lines if line.get_markevery() is None) > \
        max(band.get_zorder() for band in _bands(ax_o))
    # the size and the number of seeds are in the legend, and what the band is
    text = _texts(fig)
    assert "d = 200" in text and "3 seeds" in text and "1 sd" in text


def test_each_seeds_own_theory_gives_a_band_of_the_deviations():
    """A theory started from each seed's state (a seed dimension) turns the band into the spread of the
    simulation about it, and the legend says so."""
    theory, sim = _committee_like(per_seed_theory=True)
    shifted = theory.copy()
    shifted["eg"] = theory.eg + 0.05 * xr.DataArray(np.arange(3.0), dims="seed")  # starts far apart
    sim = sim.copy()
    sim["eg"] = sim.eg + 0.05 * xr.DataArray(np.arange(3.0), dims="seed")
    fig = trajectories(shifted, sim)
    (band,) = _bands(fig.axes[0])
    width = np.ptp(band.get_paths()[0].vertices[:, 1])  # the band spans its lowest to highest point
    assert width < 0.3 + 0.02  # the seeds' shifts (sd 0.05) are not in it
    assert "each seed's own theory" in _texts(fig)


def test_a_run_diverged_at_once_is_drawn_with_finite_limits_and_a_mark():
    """Every seed diverged at the first recorded step after t = 0: the point at t = 0 is drawn, the x-range
    runs past the blow-up, and a dashed line and a text say where it diverged."""
    theory, sim = _committee_like(diverged_at=[T[1]] * 3)
    fig = trajectories(theory, sim)
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        assert np.isfinite([lo, hi]).all() and lo <= 0 and hi >= T[1]
        marks = [line for line in ax.lines if np.allclose(line.get_xdata(), T[1])]
        assert marks and marks[0].get_linestyle() == "--"
    assert f"simulation diverged at t = {T[1]:.3g} (3/3 runs)" in _texts(fig)


def test_a_partly_diverged_simulation_draws_the_surviving_seeds():
    theory, sim = _committee_like(diverged_at=[None, 2.0, None])
    fig = trajectories(theory, sim)
    sim_line = fig.axes[0].lines[0]
    np.testing.assert_allclose(sim_line.get_ydata(), sim.eg.isel(seed=[0, 2]).mean("seed").values)
    text = _texts(fig)
    assert "2 of 3 seeds" in text and "simulation diverged at t = 2 (1/3 runs)" in text


def test_a_diverged_theory_is_marked_and_its_finite_part_drawn():
    theory, sim = _committee_like()
    blown = flag(theory, "t", xr.DataArray(T >= 4.0, dims="t"))
    fig = trajectories(blown, sim)
    th_line = fig.axes[0].lines[1]
    assert np.isfinite(th_line.get_ydata()).sum() == int((T < 4.0).sum())
    assert "theory diverged at t = 4" in _texts(fig)


@pytest.mark.parametrize("diverged_at", [None, [T[1]] * 3])
def test_along_axis_draws_bands_theory_on_top_and_divergence(diverged_at):
    theory, sim = _committee_like(diverged_at=diverged_at)
    theory, sim = theory[["eg", "diverged", "t_diverged"]], sim[["eg", "diverged", "t_diverged"]]
    fig = along_axis(theory, sim, "t")
    (ax,) = fig.axes
    (band,) = _bands(ax)
    sim_line, th_line = ax.lines[:2]
    assert th_line.get_zorder() > sim_line.get_zorder() > band.get_zorder()
    assert "d = 200" in _texts(fig) and "3 seeds" in _texts(fig)
    if diverged_at:
        assert ax.get_xlim()[1] >= T[1] and "simulation diverged at t" in _texts(fig)
