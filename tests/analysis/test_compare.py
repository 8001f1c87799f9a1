"""hild.compare: errors of the seed mean against theory, and finite-size scaling."""
import numpy as np
import pytest
import xarray as xr

from hild import compare, finite_size
from hild.analysis.compare import fit_power_law
from hild.families.online import Committee

T = np.linspace(0, 1, 11)


def _sim(values, diverged=None):
    values = np.asarray(values, float)
    ds = xr.Dataset({"eg": (("seed", "t"), values)}, coords={"seed": np.arange(len(values)), "t": T})
    if diverged is not None:
        ds["diverged"] = ("seed", np.asarray(diverged))
    return ds


def test_error_of_the_seed_mean_is_measured_exactly():
    theory = xr.Dataset({"eg": ("t", np.ones(11))}, coords={"t": T})
    sim = _sim([np.full(11, 1.1), np.full(11, 1.3)])
    c = compare(theory, sim)
    assert c.summary["eg"]["max_abs"] == pytest.approx(0.2)
    assert c.summary["eg"]["max_rel"] == pytest.approx(0.2)
    np.testing.assert_allclose(c.errors["eg_sem"].values, 0.1)  # std 0.1414 / sqrt 2
    assert c.seeds_used == 2 and c.seeds_diverged == 0


def test_exact_agreement_without_spread_has_z_zero_and_a_gap_without_spread_none():
    theory = xr.Dataset({"v": ("t", np.ones(11)), "eg": ("t", np.ones(11))}, coords={"t": T})
    sim = _sim([np.ones(11), np.ones(11)]).assign(v=(("seed", "t"), np.ones((2, 11))))
    sim["eg"] = sim["eg"] + 0.5
    summary = compare(theory, sim).summary
    assert summary["v"]["max_in_sem"] == 0.0  # a fixed second layer: no spread, no error
    assert np.isnan(summary["eg"]["max_in_sem"])  # an error that no spread measures has no z


def test_diverged_seeds_are_left_out_and_counted():
    theory = xr.Dataset({"eg": ("t", np.ones(11))}, coords={"t": T})
    sim = _sim([np.ones(11), np.full(11, np.nan)], diverged=[False, True])
    c = compare(theory, sim)
    assert c.summary["eg"]["max_abs"] == 0 and c.seeds_used == 1 and c.seeds_diverged == 1
    with pytest.raises(ValueError, match="diverged"):
        compare(theory, _sim([np.full(11, np.nan)], diverged=[True]))


def test_theory_is_interpolated_to_simulation_times():
    theory = xr.Dataset({"eg": ("t", np.linspace(0, 2, 101))}, coords={"t": np.linspace(0, 1, 101)})
    sim = _sim([2 * T])
    assert compare(theory, sim).summary["eg"]["max_abs"] < 1e-12


def test_power_law_fit_recovers_the_exponent():
    d = np.array([100, 200, 400, 800])
    gamma, stderr, A = fit_power_law(d, 3.0 * d ** -0.5)
    assert gamma == pytest.approx(-0.5) and A == pytest.approx(3.0) and stderr < 1e-10


def test_finite_size_gap_shrinks_with_d():
    """The seed-mean error of a real SGD run against its d -> infinity theory shrinks as d grows."""
    start = {"Q": 0.3 * np.eye(2), "R": np.array([[0.2, 0.0], [0.05, 0.1]])}
    scenario = Committee(K=2, M=2, lr=0.5)
    theory = scenario.theory(t_max=10, n_points=11, init=start)
    fs = finite_size(theory, lambda d: scenario.simulate(d=d, seeds=4, t_max=10, n_points=11, init=start),
                     ds=[100, 400, 1600])
    assert fs.gap.sel(d=1600) < fs.gap.sel(d=100)
    assert -1.5 < fs.exponent < -0.2  # fluctuations ~ d^-1/2, bias ~ d^-1
